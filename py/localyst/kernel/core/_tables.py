"""pandas DataFrames and Series as a compact text preview, JSON rows and HTML."""

from __future__ import annotations

import datetime
import math
import sys
from typing import Any

from ...protocol import TABLE_MIME

PREVIEW_ROWS = 10
PREVIEW_COLUMNS = 20
PREVIEW_COLUMN_WIDTH = 40
PREVIEW_LINE_WIDTH = 160
TABLE_ROWS = 1000
TABLE_COLUMNS = 200
JS_SAFE_INTEGER = 2**53 - 1  # larger integers lose digits in JavaScript, so they go as text


def is_table(obj: Any) -> bool:
    pandas = sys.modules.get("pandas")
    return pandas is not None and isinstance(obj, (pandas.DataFrame, pandas.Series))


def table_bundle(obj: Any) -> dict[str, Any]:
    """The MIME bundle of a DataFrame or Series (a Series shows as a one-column table)."""
    frame = obj.to_frame() if obj.ndim == 1 else obj
    shown = frame.iloc[:TABLE_ROWS, :TABLE_COLUMNS]
    return {
        "text/plain": preview(obj),
        TABLE_MIME: {
            "columns": [_label(c) for c in shown.columns],
            "dtypes": [str(t) for t in shown.dtypes],
            "index_name": _index_name(shown.index),
            "index": [_label(v) if isinstance(v, tuple) else json_value(v) for v in shown.index],
            "rows": [[json_value(v) for v in row] for row in shown.itertuples(index=False, name=None)],
            "shape": list(frame.shape),
            "truncated": shown.shape != frame.shape,
        },
        "text/html": shown.to_html(),
    }


def preview(obj: Any) -> str:
    """What the model reads: the shape, then the first rows, bounded in width."""
    rows = obj.shape[0]
    head = obj.head(PREVIEW_ROWS)
    if obj.ndim == 1:
        name = "" if obj.name is None else f" {obj.name!r}"
        title = f"Series{name}: {rows:,} values, dtype {obj.dtype}"
        body = head.to_string(max_rows=PREVIEW_ROWS)
    else:
        title = f"DataFrame: {rows:,} rows × {obj.shape[1]:,} columns"
        body = head.to_string(
            max_cols=PREVIEW_COLUMNS, max_colwidth=PREVIEW_COLUMN_WIDTH, line_width=PREVIEW_LINE_WIDTH
        )
    if rows > PREVIEW_ROWS:
        title += f" (first {PREVIEW_ROWS} shown)"
    return f"{title}\n{body}"


def json_value(value: Any) -> Any:
    """A cell value the page can show: JSON scalars, ISO dates, None for missing, else text."""
    pandas = sys.modules["pandas"]
    if value is None or value is pandas.NaT or value is pandas.NA:
        return None
    if isinstance(value, (bool, str)):
        return value
    if hasattr(value, "item") and not hasattr(value, "isoformat"):  # numpy scalars
        try:
            value = value.item()
        except (TypeError, ValueError):
            return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return None
        return value if math.isfinite(value) else str(value)
    if isinstance(value, (str, bool)):
        return value
    if isinstance(value, int):
        return value if abs(value) <= JS_SAFE_INTEGER else str(value)
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    return str(value)


def _label(column: Any) -> str:
    return " / ".join(map(str, column)) if isinstance(column, tuple) else str(column)


def _index_name(index: Any) -> str | None:
    names = [n for n in index.names if n is not None]
    return " / ".join(map(str, names)) if names else None
