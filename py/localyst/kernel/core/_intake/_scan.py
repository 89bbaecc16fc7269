"""Every file in the data folder, described in a few lines each for the model."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

from ._check import problem
from ._detect import detect
from ._messages import IntakeError, size_text
from ._preview import look_inside
from ._tables import Bounds

OUTPUTS = "outputs"  # what the code wrote, not the person's files
LISTED_COLUMNS = 10  # per table, when a file holds several
LISTED_MEMBERS = 30


def files(root: str | os.PathLike[str], limit: int) -> Iterator[str]:
    """The person's files, sorted, hidden ones and the outputs folder left out; ``limit``
    + 1 at most, so that a caller can tell there are more."""
    root = os.path.abspath(root)
    outputs = os.path.join(root, OUTPUTS)
    count = 0
    for folder, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and os.path.join(folder, d) != outputs)
        for name in sorted(names):
            path = os.path.join(folder, name)
            if name.startswith(".") or not os.path.isfile(path):
                continue
            if count > limit:
                return
            count += 1
            yield path


def scan(root: str | os.PathLike[str] = "/data", *, max_files: int = 50, budget: int = 10_000,
         rows: int = 5, columns: int = 30, head_chars: int = 1200) -> list[dict[str, Any]]:
    """``{"path", "size", "mime", "kind"}`` for each file; a table adds ``rows``,
    ``columns`` ([name, dtype] pairs), ``column_count`` and ``head``, other files may add
    ``head``, and a file that cannot be used adds ``problem`` (its ``head`` says it too).

    Previews stop once the entries' JSON has used ``budget`` characters, so that what the
    kernel prints stays within its stream limit whatever the files are.
    """
    root = os.path.abspath(root)
    bounds = Bounds(rows, columns, head_chars)
    found: list[dict[str, Any]] = []
    room = budget
    for path in files(root, max_files):
        entry: dict[str, Any] = {"path": os.path.relpath(path, root).replace(os.sep, "/")}
        try:
            info = detect(path)
        except OSError as exc:
            entry.update(size=0, mime="application/octet-stream", kind="unknown", head=f"(could not be read: {exc})")
            found.append(entry)
            continue
        entry.update(size=info["size"], mime=info["mime"], kind=info["kind"])
        reason = problem(path, info)
        if reason:
            entry.update(problem=reason, head=f"(cannot be used: {reason})")
        elif room > 0:
            entry.update(_described(path, info, bounds))
        room -= len(json.dumps(entry))
        found.append(entry)
    return found


def _described(path: str, info: dict[str, Any], bounds: Bounds) -> dict[str, Any]:
    try:
        return summary(look_inside(path, info, bounds), bounds.head_chars)
    except IntakeError as exc:
        return {"head": f"(could not preview: {exc})"}
    except Exception as exc:  # one unreadable file must not hide the others
        return {"head": f"(could not preview: {type(exc).__name__}: {str(exc)[:200]})"}


def summary(shown: dict[str, Any], head_chars: int) -> dict[str, Any]:
    """A preview in scan()'s terms: one table's shape and first rows, or a few lines of text."""
    if "tables" in shown:
        tables = shown["tables"]
        word = "sheet" if shown["kind"] == "excel" else "table"
        if len(tables) != 1:
            return {"head": _several_tables(tables, word)[:head_chars]}
        (only,) = tables
        label = f'{word} "{only["name"]}":\n' if only["name"] is not None else _read_csv_hint(shown)
        return {"rows": only["rows"], "columns": only["columns"], "column_count": only["column_count"],
                "head": (label + only["head"])[:head_chars]}
    if "text" in shown:
        return {"head": shown["text"][: head_chars // 2]}
    if "thumbnail" in shown:
        frames = f", {shown['frames']} frames" if shown["frames"] > 1 else ""
        return {"head": f"{shown['format'].upper()} image, {shown['width']:,} × {shown['height']:,} pixels, "
                        f"mode {shown['mode']}{frames}"}
    if "members" in shown:
        return {"head": _members(shown)[:head_chars]}
    return {}


def _read_csv_hint(shown: dict[str, Any]) -> str:
    """How to read a CSV whose layout is not pandas' default, which the model would assume."""
    options = []
    if shown.get("delimiter", ",") != ",":
        options.append(f"sep={shown['delimiter']!r}")
    if shown.get("encoding", "utf-8") not in ("utf-8", "ascii"):
        options.append(f"encoding={shown['encoding']!r}")
    if shown.get("decimal", ".") != ".":
        options.append(f"decimal={shown['decimal']!r}")
    if not shown.get("header", True):
        options.append("header=None")
    return f"read with pandas.read_csv(path, {', '.join(options)})\n" if options else ""


def _several_tables(tables: list[dict[str, Any]], word: str) -> str:
    if not tables:
        return f"(no {word}s)"
    lines = [f"{len(tables)} {word}s:"]
    for table in tables:
        rows = f"{_count(table['rows'], 'row')} × " if table["rows"] is not None else ""
        names = ", ".join(f"{name} ({dtype})" for name, dtype in table["columns"][:LISTED_COLUMNS])
        more = ", …" if table["column_count"] > LISTED_COLUMNS else ""
        lines.append(f'- {word} "{table["name"]}": {rows}{_count(table["column_count"], "column")}: {names}{more}')
    for table in tables:
        lines += [f'first rows of "{table["name"]}":', table["head"]]
    return "\n".join(lines)


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}" + ("" if number == 1 else "s")


def _members(shown: dict[str, Any]) -> str:
    lines = [f"ZIP archive of {_count(shown['member_count'], 'file')}, {size_text(shown['unpacked_size'])} unpacked:"]
    lines += [f"{m['path']} ({size_text(m['size'])})" for m in shown["members"][:LISTED_MEMBERS]]
    if shown["member_count"] > LISTED_MEMBERS:
        lines.append(f"… and {shown['member_count'] - LISTED_MEMBERS:,} more")
    return "\n".join(lines)
