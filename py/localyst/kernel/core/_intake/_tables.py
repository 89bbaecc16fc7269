"""The first rows of every table a file holds, read without reading the rest of it.

Each reader returns a list of tables: ``{"name", "columns": [[name, dtype], ...],
"column_count", "rows", "first_rows": [[value, ...], ...], "head"}``. ``rows`` is None
when counting would mean reading the whole file.
"""

from __future__ import annotations

import json
import os
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from .._tables import json_value
from ._messages import IntakeError, require

COUNT_ROWS_UP_TO = 50 * 1024 * 1024  # counting lines reads the file: only for modest ones
TYPE_ROWS = 100  # rows read to guess the dtypes (more than are shown: 5 rows mislead)
MAX_TABLES = 20  # sheets or database tables previewed
MAX_CELL_CHARS = 200
COLUMN_WIDTH = 40
_JSON_CHUNK_CHARS = 64 * 1024
_JSON_MAX_RECORD_CHARS = 1024 * 1024  # a first record longer than this is not a table row


@dataclass(frozen=True)
class Bounds:
    """How much of each table a preview shows."""

    rows: int = 5
    columns: int = 30
    head_chars: int = 1200


def table(frame: Any, bounds: Bounds, *, name: str | None = None, rows: int | None = None,
          column_count: int | None = None) -> dict[str, Any]:
    shown = frame.head(bounds.rows)
    return {
        "name": name,
        "columns": [[str(c), str(t)] for c, t in frame.dtypes.items()][: bounds.columns],
        "column_count": frame.shape[1] if column_count is None else column_count,
        "rows": rows,
        "first_rows": [[_cell(v) for v in row[: bounds.columns]] for row in shown.itertuples(index=False, name=None)],
        "head": shown.to_string(max_cols=bounds.columns, max_colwidth=COLUMN_WIDTH)[: bounds.head_chars]
        if len(shown) else "(no rows)",
    }


def _cell(value: Any) -> Any:
    value = json_value(value)
    return value[:MAX_CELL_CHARS] if isinstance(value, str) else value


def _pandas(purpose: str) -> Any:
    return require("pandas", purpose)


def count_lines(path: str | os.PathLike[str]) -> int | None:
    """Lines in the file (a last line without a newline counts), if it is small enough."""
    if os.path.getsize(path) > COUNT_ROWS_UP_TO:
        return None
    lines, last = 0, b"\n"
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            lines, last = lines + chunk.count(b"\n"), chunk[-1:]
    return lines + (last != b"\n")


def delimited(path: str, info: dict[str, Any], bounds: Bounds) -> list[dict[str, Any]]:
    pd = _pandas("reading CSV files")
    frame = pd.read_csv(path, sep=info["delimiter"], encoding=info["encoding"], encoding_errors="replace",
                        header=0 if info["header"] else None, decimal=info["decimal"], nrows=TYPE_ROWS)
    rows = None if info["encoding"].startswith("utf-16") else count_lines(path)
    if rows is not None and info["header"]:
        rows = max(rows - 1, 0)
    return [table(frame, bounds, rows=rows)]


def excel(path: str, info: dict[str, Any], bounds: Bounds) -> list[dict[str, Any]]:
    """Every sheet (up to MAX_TABLES), from one opening of the workbook."""
    fmt = info["format"]
    engine = "openpyxl" if fmt == "xlsx" else "xlrd"
    require(engine, f"reading .{fmt} files")
    pd = _pandas(f"reading .{fmt} files")
    tables = []
    with pd.ExcelFile(path, engine=engine) as book:
        for sheet in book.sheet_names[:MAX_TABLES]:
            frame = pd.read_excel(book, sheet_name=sheet, nrows=TYPE_ROWS)
            rows = _sheet_rows(book.book, sheet, engine)
            tables.append(table(frame, bounds, name=sheet, rows=None if rows is None else max(rows - 1, 0)))
    return tables


def _sheet_rows(book: Any, sheet: str, engine: str) -> int | None:
    """The rows the sheet says it has (openpyxl reads its stored dimensions, if any)."""
    if engine == "xlrd":
        return book.sheet_by_name(sheet).nrows
    return book[sheet].max_row


def json_records(path: str, info: dict[str, Any], bounds: Bounds) -> list[dict[str, Any]] | None:
    """A JSON array of objects as a table; None for any other JSON (it is shown as text)."""
    first = _first_records(path, info["encoding"], TYPE_ROWS)
    if first is None:
        return None
    records, complete = first
    pd = _pandas("reading JSON tables")
    return [table(pd.DataFrame.from_records(records), bounds, rows=len(records) if complete else None)]


def _first_records(path: str, encoding: str, limit: int) -> tuple[list[dict[str, Any]], bool] | None:
    """Up to ``limit`` objects from the top-level array, decoded one by one as the text is
    read; and whether the array ended. None if the file is not an array of objects."""
    decoder = json.JSONDecoder()
    records: list[dict[str, Any]] = []
    with open(path, encoding=encoding, errors="replace") as f:
        text, position = f.read(_JSON_CHUNK_CHARS), 0
        started = False
        while len(records) < limit:
            while position < len(text) and text[position] in " \t\r\n" + ("," if started else ""):
                position += 1
            if position == len(text):
                more = f.read(_JSON_CHUNK_CHARS)
                if not more:
                    return None
                text, position = more, 0
                continue
            if not started:
                if text[position] != "[":
                    return None
                started, position = True, position + 1
                continue
            if text[position] == "]":
                return records, True
            try:
                value, position = decoder.raw_decode(text, position)
            except json.JSONDecodeError:
                more = f.read(_JSON_CHUNK_CHARS)
                if not more or len(text) - position > _JSON_MAX_RECORD_CHARS:
                    return None
                text, position = text[position:] + more, 0
                continue
            if not isinstance(value, dict):
                return None
            records.append(value)
    return records, False


def json_lines(path: str, info: dict[str, Any], bounds: Bounds) -> list[dict[str, Any]]:
    pd = _pandas("reading JSON Lines files")
    records = []
    with open(path, encoding=info["encoding"], errors="replace") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise IntakeError(f"line {number} of {info['name']} is not JSON: {exc}") from None
            if len(records) >= TYPE_ROWS:
                break
    if all(isinstance(r, dict) for r in records):
        frame = pd.DataFrame.from_records(records)
    else:
        frame = pd.DataFrame({"value": records})
    return [table(frame, bounds, rows=count_lines(path))]


def parquet(path: str, info: dict[str, Any], bounds: Bounds) -> list[dict[str, Any]]:
    """The first batch of the first columns; the row count and columns from the footer."""
    pq = require("pyarrow.parquet", "reading Parquet files", "pyarrow")
    source = pq.ParquetFile(path)
    schema = source.schema_arrow
    names = schema.names[: bounds.columns]
    first = next(source.iter_batches(batch_size=bounds.rows, columns=names), None)
    frame = (first if first is not None else schema.empty_table().select(names)).to_pandas()
    return [table(frame, bounds, rows=source.metadata.num_rows, column_count=len(schema.names))]


def sqlite(path: str, info: dict[str, Any], bounds: Bounds) -> list[dict[str, Any]]:
    """Every table (up to MAX_TABLES) with its declared column types, opened read-only."""
    sqlite3 = require("sqlite3", "reading SQLite databases")
    pd = _pandas("reading SQLite databases")
    count = info["size"] <= COUNT_ROWS_UP_TO  # COUNT(*) walks the whole table
    tables = []
    uri = Path(path).resolve().as_uri() + "?mode=ro"
    with closing(sqlite3.connect(uri, uri=True)) as connection:
        names = [row[0] for row in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        for name in names[:MAX_TABLES]:
            quoted = '"' + name.replace('"', '""') + '"'
            declared = [[row[1], row[2] or "(any)"] for row in connection.execute(f"PRAGMA table_info({quoted})")]
            try:
                cursor = connection.execute(f"SELECT * FROM {quoted} LIMIT ?", (bounds.rows,))
                frame = pd.DataFrame(cursor.fetchall(), columns=[d[0] for d in cursor.description])
                rows = connection.execute(f"SELECT COUNT(*) FROM {quoted}").fetchone()[0] if count else None
            except sqlite3.Error as exc:  # e.g. a virtual table whose module this build lacks
                tables.append({"name": name, "columns": declared[: bounds.columns], "column_count": len(declared),
                               "rows": None, "first_rows": [], "head": f"(could not read: {exc})"})
                continue
            found = table(frame, bounds, name=name, rows=rows, column_count=len(declared))
            found["columns"] = declared[: bounds.columns]
            tables.append(found)
    return tables


Reader = Callable[[str, dict[str, Any], Bounds], "list[dict[str, Any]] | None"]
READERS: dict[str, Reader] = {"csv": delimited, "tsv": delimited, "excel": excel, "json": json_records,
                              "jsonl": json_lines, "parquet": parquet, "sqlite": sqlite}
