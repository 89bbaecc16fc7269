"""Spreadsheet formula injection: a CSV or XLSX that code writes may carry text from a
hostile file, and a spreadsheet runs a cell that starts with = + - or @ as a formula (which
can fetch URLs or run commands). pandas' writers are wrapped so such text cells, and such
column names, are written with a leading apostrophe, which spreadsheets show as text.
``escape_formulas=False`` in the call writes them as they are.
"""

from __future__ import annotations

import functools
from types import ModuleType
from typing import Any, Callable

RISKY = ("=", "+", "-", "@", "\t", "\r")


def escape_cell(value: Any) -> Any:
    return "'" + value if isinstance(value, str) and value.startswith(RISKY) else value


def escaped(data: Any) -> Any:
    """A copy of a DataFrame or Series whose risky text cells and labels are escaped (or
    ``data`` itself when nothing needs it)."""
    import pandas as pd

    frame = data.to_frame() if isinstance(data, pd.Series) else data
    text = [c for c in frame.columns if frame[c].dtype == object or pd.api.types.is_string_dtype(frame[c].dtype)]
    risky_cells = any(frame[c].map(lambda v: escape_cell(v) is not v).any() for c in text)
    risky_labels = any(escape_cell(c) is not c for c in frame.columns)
    if not (risky_cells or risky_labels):
        return data
    frame = frame.copy()
    for column in text:
        frame[column] = frame[column].map(escape_cell)
    frame.columns = [escape_cell(c) for c in frame.columns]
    return frame.iloc[:, 0].rename(frame.columns[0]) if isinstance(data, pd.Series) else frame


def _guarded(write: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(write)
    def guarded(self: Any, *args: Any, escape_formulas: bool = True, **kwargs: Any) -> Any:
        return write(escaped(self) if escape_formulas else self, *args, **kwargs)

    guarded.__localyst_guarded__ = True  # type: ignore[attr-defined]
    return guarded


def guard_writers(generic: ModuleType) -> None:
    """Wrap NDFrame.to_csv and to_excel (pandas.core.generic), once."""
    for name in ("to_csv", "to_excel"):
        write = getattr(generic.NDFrame, name)
        if not getattr(write, "__localyst_guarded__", False):
            setattr(generic.NDFrame, name, _guarded(write))
