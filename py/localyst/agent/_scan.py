"""Describing the person's files from inside the kernel, where the files and pandas are.

The caller runs ``SCAN_CODE`` as a cell (it is one kernel run, so it takes an execution
count) when the files change, and keeps the result in its Environment: a scan per turn
would cost a kernel round trip and a pandas read per file each time.
"""

from __future__ import annotations

import json
from typing import Any

from ._environment import MAX_COLUMNS, MAX_HEAD_CHARS, MAX_FILES_LISTED, FileInfo
from ._kernel import KernelLike

MARKER = "__localyst_files__"
PREVIEW_ROWS = 5
COUNT_ROWS_UP_TO = 50 * 1024 * 1024  # counting lines reads the file: only for modest ones
PREVIEW_CHARS = 10_000  # the kernel cuts printed text at 20,000 characters

# Runs in the kernel's namespace, so everything lives inside functions that are deleted
# afterwards. Only the first rows are ever parsed, and what is printed stays well under the
# kernel's stream limit: previews stop once PREVIEW_CHARS are used.
SCAN_CODE = f'''
def __localyst_scan():
    import json, mimetypes, os
    root = os.getcwd()
    outputs = os.path.join(root, "outputs")
    found, room = [], {PREVIEW_CHARS}
    for folder, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and os.path.join(folder, d) != outputs)
        for name in sorted(names):
            path = os.path.join(folder, name)
            if name.startswith(".") or not os.path.isfile(path) or len(found) > {MAX_FILES_LISTED}:
                continue
            info = {{"path": os.path.relpath(path, root), "size": os.path.getsize(path),
                     "mime": mimetypes.guess_type(name)[0] or "application/octet-stream"}}
            if room > 0:
                try:
                    info.update(__localyst_preview(path, name.lower(), info["size"]))
                except Exception as exc:
                    info["head"] = f"(could not preview: {{type(exc).__name__}}: {{str(exc)[:200]}})"
                room -= len(json.dumps(info))
            found.append(info)
    return found

def __localyst_preview(path, name, size):
    import pandas as pd
    def table(frame, rows):
        columns = [[str(c), str(t)] for c, t in frame.dtypes.items()]
        head = frame.head({PREVIEW_ROWS}).to_string(max_cols={MAX_COLUMNS}, max_colwidth=40)
        return {{"columns": columns[:{MAX_COLUMNS}], "column_count": len(columns), "rows": rows,
                 "head": head[:{MAX_HEAD_CHARS}]}}
    if name.endswith((".csv", ".tsv")):
        rows = None
        if size <= {COUNT_ROWS_UP_TO}:
            lines, last = 0, b"\\n"
            with open(path, "rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    lines, last = lines + chunk.count(b"\\n"), chunk[-1:]
            rows = max(lines + (last != b"\\n") - 1, 0)  # less the header line
        sep = "\\t" if name.endswith(".tsv") else None
        return table(pd.read_csv(path, sep=sep, engine="python", nrows={PREVIEW_ROWS}), rows)
    if name.endswith(".parquet"):
        import pyarrow.parquet as pq
        source = pq.ParquetFile(path)
        first = next(source.iter_batches(batch_size={PREVIEW_ROWS}), None)
        frame = first.to_pandas() if first is not None else source.schema_arrow.empty_table().to_pandas()
        return table(frame, source.metadata.num_rows)
    if name.endswith((".xlsx", ".xls")):
        return table(pd.read_excel(path, nrows={PREVIEW_ROWS}), None)
    if name.endswith((".txt", ".md", ".json", ".jsonl", ".xml", ".yaml", ".yml", ".log")):
        with open(path, encoding="utf-8", errors="replace") as f:
            return {{"head": f.read({MAX_HEAD_CHARS // 2})}}
    return {{}}

print("{MARKER}" + __import__("json").dumps(__localyst_scan()))
del __localyst_scan, __localyst_preview
'''


async def scan_files(kernel: KernelLike) -> tuple[FileInfo, ...]:
    """The files under the kernel's data folder (outputs left out), tables previewed."""
    result = await kernel.run(SCAN_CODE, None)
    if result.get("error"):
        raise RuntimeError(f"scanning the files failed: {result['error'].get('evalue', '')}")
    printed = "".join(o.get("text") or "" for o in result.get("outputs", []) if o.get("name") == "stdout")
    return parse_scan(printed)


def parse_scan(printed: str) -> tuple[FileInfo, ...]:
    line = next((line for line in printed.splitlines() if line.startswith(MARKER)), None)
    if line is None:
        raise RuntimeError("scanning the files printed no file list")
    found: list[dict[str, Any]] = json.loads(line[len(MARKER) :])
    return tuple(
        FileInfo(
            f["path"],
            f["size"],
            f["mime"],
            rows=f.get("rows"),
            columns=tuple((name, dtype) for name, dtype in f.get("columns", ())),
            column_count=f.get("column_count", 0),
            head=f.get("head"),
        )
        for f in found
    )
