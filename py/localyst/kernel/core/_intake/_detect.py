"""What a file is, from its name and its first bytes, and how its text is written.

The first bytes win over the name: a Parquet file saved as ``data.csv`` is Parquet. The
name decides among the kinds that have no signature (CSV, JSON, plain text).
"""

from __future__ import annotations

import codecs
import csv
import mimetypes
import os
import re
import zipfile
from typing import Any

SAMPLE_BYTES = 64 * 1024  # enough lines to sniff a delimiter and guess an encoding
SNIFF_LINES = 50

#: Kinds whose content is text; the rest are recognised by their first bytes.
TEXT_KINDS = frozenset({"csv", "tsv", "json", "jsonl", "text"})
TABLE_KINDS = frozenset({"csv", "tsv", "excel", "json", "jsonl", "parquet", "sqlite"})

_SIGNATURES = (  # first bytes -> (kind, format)
    (b"\x89PNG\r\n\x1a\n", "image", "png"),
    (b"\xff\xd8\xff", "image", "jpeg"),
    (b"GIF87a", "image", "gif"),
    (b"GIF89a", "image", "gif"),
    (b"SQLite format 3\x00", "sqlite", "sqlite"),
    (b"PAR1", "parquet", "parquet"),
)
OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls, and also encrypted .xlsx
_ZIP = (b"PK\x03\x04", b"PK\x05\x06")
_WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")

_SUFFIX_KINDS = {".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".json": "json", ".geojson": "json",
                 ".jsonl": "jsonl", ".ndjson": "jsonl"}
_TEXT_SUFFIXES = frozenset(
    ".txt .text .md .markdown .rst .log .xml .yaml .yml .toml .ini .cfg .conf .env .html .htm "
    ".css .svg .ipynb .py .r .sql .sh .bash .js .mjs .ts .c .h .cpp .hpp .java .kt .go .rs .rb "
    ".php .jl .m .tex .bib .srt .vtt .properties".split()
)
#: Names that promise a binary format: a file without that format's first bytes is misnamed.
NAMED_FORMATS = {".parquet": "Parquet", ".xlsx": "Excel", ".xlsm": "Excel", ".xls": "Excel",
                 ".sqlite": "SQLite", ".sqlite3": "SQLite", ".db": "SQLite", ".png": "PNG",
                 ".jpg": "JPEG", ".jpeg": "JPEG", ".gif": "GIF", ".webp": "WebP", ".zip": "ZIP"}

_FORMAT_MIME = {
    "png": "image/png", "jpeg": "image/jpeg", "gif": "image/gif", "webp": "image/webp",
    "sqlite": "application/vnd.sqlite3", "parquet": "application/vnd.apache.parquet",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "xls": "application/vnd.ms-excel", "zip": "application/zip",
}
_KIND_MIME = {"csv": "text/csv", "tsv": "text/tab-separated-values", "json": "application/json",
              "jsonl": "application/jsonl", "text": "text/plain"}

_BOMS = (  # longest first: the UTF-32 LE mark begins with the UTF-16 LE one
    (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"),
)
# C0 control bytes that text does not use (tab, newlines, form feed and escape it does).
_CONTROL_BYTES = bytes(b for b in range(32) if b not in b"\t\n\v\f\r\x1b")
_DELIMITERS = ",;\t|"
# 12, -3.5, 1,234.50, 12,5 (a decimal comma), 1e6, 45%; not dates, not "nan".
_COMMA_DECIMAL = re.compile(r"[+-]?\d+,\d+")
_POINT_DECIMAL = re.compile(r"[+-]?\d+\.\d+")
_NUMBER = re.compile(r"[+-]?(\d[\d,.' ]*|[.,]\d+)([eE][+-]?\d+)?%?")


def detect(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The file's kind and how to read it, from its name and first bytes only.

    Always: name, size, kind, mime. Images, Excel, Parquet, SQLite and ZIP add ``format``;
    text kinds add ``encoding`` (None when no encoding fits: binary or broken); CSV and TSV
    add ``delimiter``, ``header`` (bool) and ``decimal``.
    """
    path = os.fspath(path)
    name = os.path.basename(path)
    size = os.path.getsize(path)
    sample = read_sample(path)
    kind, fmt = kind_of(path, sample)
    info: dict[str, Any] = {"name": name, "size": size, "kind": kind, "mime": _mime(name, kind, fmt)}
    if fmt is not None:
        info["format"] = fmt
    if kind in TEXT_KINDS:
        complete = size <= len(sample)
        encoding = None if looks_binary(sample) else guess_encoding(sample, complete=complete)
        info["encoding"] = encoding
        if kind in ("csv", "tsv") and encoding is not None:
            info.update(sniff(decode(sample, encoding, complete=complete), kind, complete=complete))
    return info


def read_sample(path: str | os.PathLike[str], size: int = SAMPLE_BYTES) -> bytes:
    with open(path, "rb") as f:
        return f.read(size)


def kind_of(path: str | os.PathLike[str], sample: bytes) -> tuple[str, str | None]:
    """(kind, format): the format names the binary layout when the first bytes gave one."""
    suffix = os.path.splitext(os.fspath(path))[1].lower()
    for signature, kind, fmt in _SIGNATURES:
        if sample.startswith(signature):
            return kind, fmt
    if sample[:4] == b"RIFF" and sample[8:12] == b"WEBP":
        return "image", "webp"
    if sample.startswith(OLE2):
        return ("excel", "xls") if suffix == ".xls" else ("unknown", None)
    if sample.startswith(_ZIP):
        is_workbook = suffix in _WORKBOOK_SUFFIXES or (suffix != ".zip" and _holds_workbook(path))
        return ("excel", "xlsx") if is_workbook else ("zip", "zip")
    if suffix in _SUFFIX_KINDS:
        return _SUFFIX_KINDS[suffix], None
    if suffix in _TEXT_SUFFIXES:
        return "text", None
    if suffix in NAMED_FORMATS or not sample or looks_binary(sample):
        return "unknown", None
    try:  # a file without a known suffix (README, Makefile) is text if it is UTF-8
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
    except UnicodeDecodeError:
        return "unknown", None
    return "text", None


def looks_binary(sample: bytes) -> bool:
    """NUL bytes, or many control bytes, do not occur in text (UTF-16 and -32 aside)."""
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_BE)):
        return False
    if b"\x00" in sample:
        return True
    controls = len(sample) - len(sample.translate(None, _CONTROL_BYTES))
    return controls > len(sample) * 0.05


def guess_encoding(sample: bytes, *, complete: bool = True) -> str | None:
    """The encoding that reads ``sample``: a byte-order mark, UTF-8, else charset-normalizer's
    guess (None when nothing reads it), else cp1252 or latin-1 where it is missing.

    ``complete``: the sample is the whole file, so it may not end inside a character.
    """
    for mark, name in _BOMS:
        if sample.startswith(mark):
            return name
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=complete)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        import charset_normalizer
    except ImportError:
        try:
            sample.decode("cp1252")
            return "cp1252"
        except UnicodeDecodeError:
            return "latin-1"
    best = charset_normalizer.from_bytes(sample).best()
    return None if best is None else codecs.lookup(best.encoding).name


def decode(sample: bytes, encoding: str, *, complete: bool = True) -> str:
    return codecs.getincrementaldecoder(encoding)(errors="replace").decode(sample, final=complete)


def sniff(text: str, kind: str, *, complete: bool = True) -> dict[str, Any]:
    """The delimiter (csv.Sniffer, else the most regular candidate); whether the first row
    is a header (it is unless it holds numbers: column names rarely are); and the decimal
    mark (a comma where the delimiter is not one and most decimals are written 12,5)."""
    lines = text.splitlines()
    if not complete:
        lines = lines[:-1]  # the sample may end inside a line
    lines = [line for line in lines[:SNIFF_LINES] if line.strip()]
    default = "\t" if kind == "tsv" else ","
    delimiter = _sniffed(lines) or _most_regular(lines) or default
    rows = list(csv.reader(lines, delimiter=delimiter))
    cells = [cell.strip() for row in rows[1:] for cell in row]
    commas = sum(_COMMA_DECIMAL.fullmatch(cell) is not None for cell in cells)
    points = sum(_POINT_DECIMAL.fullmatch(cell) is not None for cell in cells)
    return {
        "delimiter": delimiter,
        "header": not any(_is_number(cell) for cell in (rows[0] if rows else [])),
        "decimal": "," if delimiter != "," and commas > points else ".",
    }


def _sniffed(lines: list[str]) -> str | None:
    try:
        delimiter = csv.Sniffer().sniff("\n".join(lines), delimiters=_DELIMITERS).delimiter
    except csv.Error:
        return None
    return delimiter if lines and delimiter in lines[0] else None


def _most_regular(lines: list[str]) -> str | None:
    """The candidate found the same number of times on every line, most often; else the
    one the first line has most of."""
    if not lines:
        return None
    counts = {d: [line.count(d) for line in lines] for d in _DELIMITERS}
    regular = [d for d, found in counts.items() if found[0] > 0 and len(set(found)) == 1]
    if regular:
        return max(regular, key=lambda d: counts[d][0])
    best = max(_DELIMITERS, key=lambda d: counts[d][0])
    return best if counts[best][0] > 0 else None


def _is_number(cell: str) -> bool:
    return _NUMBER.fullmatch(cell.strip()) is not None


def _holds_workbook(path: str | os.PathLike[str]) -> bool:
    try:
        with zipfile.ZipFile(path) as archive:
            return "xl/workbook.xml" in archive.namelist()
    except (zipfile.BadZipFile, OSError):
        return False


def _mime(name: str, kind: str, fmt: str | None) -> str:
    if fmt in _FORMAT_MIME:
        return _FORMAT_MIME[fmt]
    return mimetypes.guess_type(name)[0] or _KIND_MIME.get(kind) or "application/octet-stream"
