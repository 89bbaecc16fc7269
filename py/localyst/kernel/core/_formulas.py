"""Spreadsheet formula injection, guarded where the person chooses it: on download.

A CSV or XLSX that code writes may carry text from a hostile file, and a spreadsheet runs
a cell that starts with = + - or @ as a formula (which can fetch URLs or run commands).
Code's own ``to_csv``/``to_excel`` write exactly what the code asked (the analysis may
need ``-5`` or ``+44 20 …`` as they are); the person can instead download a copy in which
every such text cell starts with an apostrophe, which spreadsheets show as text. Numbers
are left alone.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

RISKY = ("=", "+", "-", "@", "\t", "\r")
#: Files a spreadsheet opens, and so the ones an escaped copy is offered for.
SPREADSHEET_SUFFIXES = (".csv", ".tsv", ".xlsx")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def escape_cell(value: str) -> str:
    """A text cell as a spreadsheet should show it: as text, never run."""
    return "'" + value if value.startswith(RISKY) and not _is_number(value) else value


def escaped_copy(path: Path) -> bytes:
    """The bytes of a copy of the CSV, TSV or XLSX file at ``path`` whose risky text
    cells are escaped (formulas in a workbook become their text). ValueError for other files."""
    suffix = path.suffix.lower()
    if suffix in (".csv", ".tsv"):
        return _escaped_delimited(path, "\t" if suffix == ".tsv" else ",")
    if suffix == ".xlsx":
        return _escaped_workbook(path)
    raise ValueError(f"{path.name} is not a file a spreadsheet opens (CSV, TSV or XLSX)")


def _escaped_delimited(path: Path, delimiter: str) -> bytes:
    text = path.read_bytes().decode("utf-8-sig", errors="replace")
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
        writer.writerow([escape_cell(cell) for cell in row])
    return out.getvalue().encode("utf-8")


def _escaped_workbook(path: Path) -> bytes:
    import openpyxl

    book = openpyxl.load_workbook(path)
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and (cell.data_type == "f" or cell.value.startswith(RISKY)):
                    text = escape_cell(cell.value)
                    cell.value = text
                    cell.data_type = "s"  # a string, even when it was a formula
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
