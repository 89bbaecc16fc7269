"""What the model is told about where its code runs: packages, network, and the files."""

from __future__ import annotations

from dataclasses import dataclass

from ..kernel.core._intake._messages import size_text

MAX_FILES_LISTED = 50
MAX_PREVIEWS = 10  # files shown with columns and first rows; the rest by name only
MAX_COLUMNS = 30
MAX_HEAD_CHARS = 1200
MAX_FILES_CHARS = 12_000  # the whole file section, previews included
#: A file bigger than this is not read whole: pandas needs several times a CSV's size, and
#: the kernel has at most 4 GB of WebAssembly memory in all (benchmarks/big_files.py). The
#: model is told the size and how to read such a file in pieces.
STREAM_ABOVE_BYTES = 500_000_000

#: How to read a big file in pieces, by its MIME type; {path} is its name.
STREAM_RECIPES = {
    "text/csv": "for chunk in pd.read_csv({path!r}, chunksize=1_000_000, usecols=[...]): … "
                "(with the read options shown below, if any), combining each chunk's partial result",
    "text/tab-separated-values": "for chunk in pd.read_csv({path!r}, sep='\\t', chunksize=1_000_000, usecols=[...]): … "
                                 "combining each chunk's partial result",
    "application/vnd.apache.parquet": "for batch in pyarrow.parquet.ParquetFile({path!r}).iter_batches("
                                      "batch_size=1_000_000, columns=[...]): chunk = batch.to_pandas(); … "
                                      "(or read only the columns needed)",
    "application/jsonl": "for chunk in pd.read_json({path!r}, lines=True, chunksize=200_000): …",
    "application/vnd.sqlite3": "let SQLite do the work: sqlite3.connect({path!r}), aggregate in SQL, or "
                               "pd.read_sql(query, connection, chunksize=1_000_000)",
}


@dataclass(frozen=True)
class FileInfo:
    """One of the person's files. Tables carry ``columns`` ((name, dtype) pairs, perhaps
    only the first MAX_COLUMNS of ``column_count``), ``rows`` when known, and ``head``: the
    first rows as text. Other text files may carry ``head``, their beginning."""

    path: str
    size: int
    mime: str
    rows: int | None = None
    columns: tuple[tuple[str, str], ...] = ()
    column_count: int = 0
    head: str | None = None


@dataclass(frozen=True)
class Environment:
    packages: tuple[str, ...] = ()
    files: tuple[FileInfo, ...] = ()
    network: bool = False
    data_dir: str = "/data"
    outputs_dir: str = "/data/outputs"


def describe_files(files: tuple[FileInfo, ...]) -> str:
    """The file list for the system prompt, bounded whatever the files are."""
    if not files:
        return "(no files yet: the person has not added any)"
    lines: list[str] = []
    used = 0
    for number, info in enumerate(files[:MAX_FILES_LISTED]):
        entry = _describe(info, preview=number < MAX_PREVIEWS)
        if used + len(entry) > MAX_FILES_CHARS:
            entry = _describe(info, preview=False)
            if used + len(entry) > MAX_FILES_CHARS:
                lines.append(f"- … and {len(files) - number} more files (list them with Python)")
                break
        lines.append(entry)
        used += len(entry)
    else:
        if len(files) > MAX_FILES_LISTED:
            lines.append(f"- … and {len(files) - MAX_FILES_LISTED} more files (list them with Python)")
    return "\n".join(lines)


def _describe(info: FileInfo, *, preview: bool) -> str:
    shape = ""
    if info.columns:
        rows = f"{info.rows:,} rows × " if info.rows is not None else ""
        shape = f", {rows}{max(info.column_count, len(info.columns))} columns"
    line = f"- {info.path} ({size_text(info.size)}, {info.mime}{shape})" + streaming(info)
    if not preview:
        return line
    if info.columns:
        shown = ", ".join(f"{name} ({dtype})" for name, dtype in info.columns[:MAX_COLUMNS])
        hidden = max(info.column_count, len(info.columns)) - min(len(info.columns), MAX_COLUMNS)
        more = f", … {hidden} more" if hidden > 0 else ""
        line += f"\n  columns: {shown}{more}"
    if info.head:
        head = info.head if len(info.head) <= MAX_HEAD_CHARS else info.head[:MAX_HEAD_CHARS] + " …"
        label = "first rows" if info.columns else "beginning"
        line += f"\n  {label}:\n" + "\n".join("    " + row for row in head.splitlines())
    return line



def streaming(info: FileInfo) -> str:
    """For a big file, its size and how to read it in pieces (whole, it may not fit)."""
    if info.size <= STREAM_ABOVE_BYTES:
        return ""
    recipe = STREAM_RECIPES.get(info.mime, "open it and read it in pieces (f.read(64 * 1024 * 1024))")
    return (f"\n  this file is {size_text(info.size)}: reading it whole may not fit in this tab's memory (4 GB in all). "
            f"Read it in chunks: {recipe.format(path=info.path)}")
