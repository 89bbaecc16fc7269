"""A bounded look inside a file of any kind the person brings."""

from __future__ import annotations

import os
from typing import Any

from . import _zip
from ._check import problem
from ._detect import detect
from ._image import image_preview
from ._messages import IntakeError
from ._tables import READERS, Bounds

TEXT_CHARS = 4000  # the beginning of a text file


def preview(path: str | os.PathLike[str], *, rows: int = 5, columns: int = 30, head_chars: int = 1200) -> dict[str, Any]:
    """detect()'s fields plus what the file holds: ``tables`` (tables), ``text`` and
    ``truncated`` (text, and JSON that is not a list of records), the image's size, mode and
    ``thumbnail`` (images) or ``members`` (ZIP). Raises IntakeError when it cannot be read.
    """
    path = os.fspath(path)
    return look_inside(path, detect(path), Bounds(rows, columns, head_chars))


def look_inside(path: str, info: dict[str, Any], bounds: Bounds) -> dict[str, Any]:
    """preview(), given what detect() found."""
    kind = info["kind"]
    if info.get("encoding", "") is None:  # text that cannot be decoded: check() says why
        raise IntakeError(problem(path, info) or f"{info['name']} cannot be decoded")
    found = dict(info)
    tables = READERS[kind](path, info, bounds) if kind in READERS else None
    if tables is not None:
        found["tables"] = tables
    elif kind in ("json", "text"):
        found.update(_text(path, info["encoding"]))
    elif kind == "image":
        found.update(image_preview(path, info["format"]))
    elif kind == "zip":
        found.update(_zip.contents(path))
    return found


def _text(path: str, encoding: str) -> dict[str, Any]:
    with open(path, encoding=encoding, errors="replace") as f:
        text = f.read(TEXT_CHARS + 1)
    return {"text": text[:TEXT_CHARS], "truncated": len(text) > TEXT_CHARS}
