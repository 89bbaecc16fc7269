"""Describing the person's files from inside the kernel, where the files and pandas are.

The caller runs ``SCAN_CODE`` as a cell (it is one kernel run, so it takes an execution
count) when the files change, and keeps the result in its Environment: a scan per turn
would cost a kernel round trip and a read of every file each time. The scan itself is
localyst.kernel._intake.scan, run where the files are.
"""

from __future__ import annotations

import json
from typing import Any

from ._environment import MAX_COLUMNS, MAX_HEAD_CHARS, MAX_FILES_LISTED, FileInfo
from ._kernel import KernelLike

MARKER = "__localyst_files__"
PREVIEW_ROWS = 5
PREVIEW_CHARS = 10_000  # the kernel cuts printed text at 20,000 characters

# Runs in the kernel's namespace, so its one name is deleted afterwards, whatever happens.
# localyst.kernel._intake does the work; what is printed stays well under the kernel's
# stream limit, as previews stop once PREVIEW_CHARS are used.
SCAN_CODE = f"""
import localyst.kernel._intake as __localyst_intake
try:
    await __localyst_intake.load_readers(".", max_files={MAX_FILES_LISTED})
    print({MARKER!r} + __import__("json").dumps(__localyst_intake.scan(
        ".", max_files={MAX_FILES_LISTED}, budget={PREVIEW_CHARS}, rows={PREVIEW_ROWS},
        columns={MAX_COLUMNS}, head_chars={MAX_HEAD_CHARS})))
finally:
    del __localyst_intake
"""


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
