"""What a cell produced, as the page accepts it: a fixed set of MIME types with checked shapes.

The kernel makes these dicts (``kernel/_outputs.py``), but code in the kernel can forge
any message, and stored conversations and backups can hold anything. So each output is
checked field by field; what the page cannot show safely is dropped, and an output with
nothing left becomes a visible "could not be shown" carrying its raw text, never an
exception that stops a turn, a save or a reload.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from ._plotly import Refused, clean_plotly

TABLE_MIME = "application/vnd.localyst.table+json"
BOKEH_MIME = "application/vnd.localyst.bokeh+json"
#: Jupyter's own MIME type for a plotly figure ({"data": [...], "layout": {...}}).
PLOTLY_MIME = "application/vnd.plotly.v1+json"
#: Metadata key of an output that could not be shown: its value says why.
UNSHOWABLE = "unshowable"

TEXT_MIMES = ("text/plain", "text/markdown", "text/html", "image/svg+xml")
BASE64_MIMES = ("image/png", "image/jpeg")
#: Upper bounds on what one output may carry (characters): a cell's streams are already
#: cut by the kernel far below these; anything larger is not from the kernel's own code.
MAX_TEXT = 4_000_000
MAX_IMAGE = 60_000_000
MAX_TABLE_CELLS = 200_000
RAW_SHOWN = 2_000

_BASE64 = re.compile(r"[A-Za-z0-9+/]*={0,2}")
_FIGURE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def is_base64(value: Any) -> bool:
    """Whether ``value`` is base64 text, and so safe inside a ``data:`` URL."""
    return isinstance(value, str) and _BASE64.fullmatch(value) is not None


class Invalid(ValueError):
    """One field is not of the shape the page accepts (the message says which)."""


def _text(value: Any, what: str, limit: int = MAX_TEXT) -> str:
    if not isinstance(value, str):
        raise Invalid(f"{what} is not text")
    if len(value) > limit:
        raise Invalid(f"{what} is over {limit:,} characters")
    return value


def _count(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise Invalid(f"{what} is not a whole number ≥ 0")
    return value


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise Invalid(f"{what} is not a number ≥ 0")
    return float(value)


def _cell(value: Any, what: str) -> Any:
    """One table cell: a scalar JSON value (the kernel turns everything else into text)."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    raise Invalid(f"{what} holds a {type(value).__name__}, not a plain value")


def _table(spec: Any) -> dict[str, Any]:
    if not isinstance(spec, dict):
        raise Invalid("the table is not an object")
    columns = spec.get("columns")
    rows = spec.get("rows")
    shape = spec.get("shape")
    if not isinstance(columns, list) or not isinstance(rows, list):
        raise Invalid("the table's columns or rows are not lists")
    if not isinstance(shape, list) or len(shape) != 2:
        raise Invalid("the table's shape is not [rows, columns]")
    if len(columns) * max(len(rows), 1) > MAX_TABLE_CELLS:
        raise Invalid("the table is larger than a preview")
    clean_rows = []
    for number, row in enumerate(rows):
        if not isinstance(row, list) or len(row) != len(columns):
            raise Invalid(f"row {number} does not have one value per column")
        clean_rows.append([_cell(v, f"row {number}") for v in row])
    index = spec.get("index")
    if index is not None:
        if not isinstance(index, list) or len(index) != len(rows):
            raise Invalid("the table's index does not have one value per row")
        index = [_cell(v, "the index") for v in index]
    name = spec.get("index_name")
    dtypes = spec.get("dtypes", [])
    if not isinstance(dtypes, list) or not all(isinstance(t, str) and len(t) < 100 for t in dtypes):
        raise Invalid("the table's column types are not names")
    return {  # in the order the kernel writes them, so that a stored record reads back the same
        "columns": [str(_cell(c, "a column name")) for c in columns],
        "dtypes": dtypes,
        "index_name": None if name is None else _text(str(_cell(name, "the index name")), "the index name", 1000),
        "index": index,
        "rows": clean_rows,
        "shape": [_count(shape[0], "the row count"), _count(shape[1], "the column count")],
        "truncated": bool(spec.get("truncated")),
    }


def _bokeh(item: Any) -> dict[str, Any]:
    """Only the outline here; what the document may hold is checked where it is drawn
    (``render.safe_bokeh``), against an allow-list of model types."""
    if not isinstance(item, dict) or not isinstance(item.get("doc"), dict) or not isinstance(item.get("root_id"), str):
        raise Invalid("the Bokeh item has no document")
    return {"target_id": None, "root_id": item["root_id"], "doc": item["doc"], "version": str(item.get("version", ""))[:40]}


def _plotly(figure: Any) -> dict[str, Any]:
    """The whole check is here, not where it is drawn: the figure is plain JSON, and the
    notebook export keeps it for Jupyter to draw too (see ``_plotly.py`` for what passes)."""
    try:
        return clean_plotly(figure)
    except Refused as exc:
        raise Invalid(f"the plotly chart is not drawn: {exc}") from None


def _bundle(data: Any) -> tuple[dict[str, Any], list[str]]:
    """The MIME types the page shows, checked; and what was wrong with each that failed
    its check (types this page does not show are left out without a word)."""
    if not isinstance(data, dict):
        raise Invalid("the display data is not an object")
    kept: dict[str, Any] = {}
    wrong: list[str] = []
    for mime, value in data.items():
        try:
            if mime in TEXT_MIMES:
                kept[mime] = _text(value, mime)
            elif mime in BASE64_MIMES:
                if not is_base64(_text(value, mime, MAX_IMAGE)):
                    raise Invalid(f"{mime} is not base64")
                kept[mime] = value
            elif mime == TABLE_MIME:
                kept[mime] = _table(value)
            elif mime == BOKEH_MIME:
                kept[mime] = _bokeh(value)
            elif mime == PLOTLY_MIME:
                kept[mime] = _plotly(value)
        except Invalid as exc:
            wrong.append(str(exc))
    return kept, wrong


def _metadata(metadata: Any) -> dict[str, Any]:
    """The metadata the page uses (in the order given); the rest is left out."""
    if not isinstance(metadata, dict):
        return {}
    kept: dict[str, Any] = {}
    for key, value in metadata.items():
        if key == "figure" and isinstance(value, str) and _FIGURE_ID.fullmatch(value):
            kept[key] = value
        elif key == "source" and value == "matplotlib":
            kept[key] = value
        elif key == UNSHOWABLE and isinstance(value, str):
            kept[key] = value[:500]
    return kept


def _raw(value: Any) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False, default=repr)
    except (TypeError, ValueError, RecursionError):
        try:
            text = repr(value)
        except RecursionError:
            text = f"(a {type(value).__name__} nested too deep to show)"
    return text[:RAW_SHOWN] + ("…" if len(text) > RAW_SHOWN else "")


def unshowable(reason: str, raw: Any) -> dict[str, Any]:
    """An output that says it could not be shown, and why, with a bounded look at the raw data."""
    return {"kind": "display", "data": {"text/plain": _raw(raw)}, "metadata": {UNSHOWABLE: reason[:500]}}


def clean_output(item: Any) -> dict[str, Any]:
    """One output as the page accepts it; never raises (a bad one comes back as ``unshowable``)."""
    try:
        if not isinstance(item, dict):
            raise Invalid("the output is not an object")
        kind = item.get("kind")
        if kind == "stream":
            name = item.get("name")
            if name not in ("stdout", "stderr"):
                raise Invalid("the stream is neither stdout nor stderr")
            return {"kind": "stream", "name": name, "text": _text(item.get("text"), "the stream's text")}
        if kind not in ("display", "result"):
            raise Invalid(f"{str(kind)[:40]!r} is not a kind of output")
        data, wrong = _bundle(item.get("data"))
        metadata = _metadata(item.get("metadata"))
        if wrong:  # shown as its text, saying what was wrong (the rest is not trusted either)
            raise Invalid("; ".join(wrong))
        if not data:
            raise Invalid("it holds nothing this page shows")
        return {"kind": kind, "data": data, "metadata": metadata}
    except Invalid as exc:
        return unshowable(str(exc), item)


def _error(error: Any) -> dict[str, str] | None:
    if error is None:
        return None
    if not isinstance(error, dict):
        raise Invalid("the error is not an object")
    ename = _text(error.get("ename", "Error"), "the error's name", 200)
    evalue = _text(error.get("evalue", ""), "the error's value")
    traceback = _text(error.get("traceback") or f"{ename}: {evalue}", "the traceback")
    return {"ename": ename, "evalue": evalue, "traceback": traceback}


def _file(item: Any) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise Invalid("a written file is not an object")
    return {
        "path": _text(item.get("path"), "a written file's path", 4096),
        "size": _count(item.get("size"), "a written file's size"),
        "mime": _text(item.get("mime", "application/octet-stream"), "a written file's type", 200),
    }


def clean_result(result: Any) -> dict[str, Any]:
    """A cell's result as the page accepts it; never raises. A result that is not even the
    outline of one becomes an error result saying so (the model and the person both see it)."""
    try:
        if not isinstance(result, dict):
            raise Invalid("the result is not an object")
        count = result.get("execution_count")
        outputs = result.get("outputs", [])
        files = result.get("files", [])
        if not isinstance(outputs, list) or not isinstance(files, list):
            raise Invalid("the result's outputs or files are not lists")
        return {
            "execution_count": None if count is None else _count(count, "the execution count"),
            "outputs": [clean_output(o) for o in outputs],
            "error": _error(result.get("error")),
            "duration": _number(result.get("duration", 0.0), "the duration"),
            "files": [_file(f) for f in files],
        }
    except Invalid as exc:
        message = f"The kernel sent a result this page cannot read: {exc}."
        return {
            "execution_count": None,
            "outputs": [unshowable(str(exc), result)],
            "error": {"ename": "BadResult", "evalue": message, "traceback": f"BadResult: {message}"},
            "duration": 0.0,
            "files": [],
        }
