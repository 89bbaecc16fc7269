"""Whether a file can be used at all, and if not, a message that says why and what to do."""

from __future__ import annotations

import os
from typing import Any

from . import _zip
from ._detect import NAMED_FORMATS, OLE2, TEXT_KINDS, detect, looks_binary, read_sample
from ._image import image_size, max_pixels

#: Above this size a file the person adds is big: the kernel mounts it where it is (read-only,
#: its bytes read from the browser's File only where code reads them) instead of copying it,
#: and it is not kept for the next visit. No size is refused: a chunked read of a file of
#: any size fits, and a whole read of one too big for the 4 GB of WebAssembly memory ends in
#: a MemoryError (benchmarks/big_files.py, README "How big a file").
BIG_FILE_BYTES = 128 * 1024 * 1024


def check(path: str | os.PathLike[str]) -> str | None:
    """Why the file cannot be used, or None when it can."""
    return problem(path, detect(path))


def problem(path: str | os.PathLike[str], info: dict[str, Any]) -> str | None:
    """check(), given what detect() found."""
    name, size, kind = info["name"], info["size"], info["kind"]
    suffix = os.path.splitext(name)[1].lower()
    if size == 0:
        return f"{name} is empty"
    if kind in TEXT_KINDS:
        if looks_binary(read_sample(path)):
            return f"{name} holds binary data, not text: it may be another kind of file renamed to {suffix or 'text'}"
        if info["encoding"] is None:
            return f"{name} is in no text encoding that could be recognised; save it again as UTF-8"
    if kind == "zip":
        return _zip.problem(path)
    if kind == "image":
        return _image_problem(path, name, info["format"])
    if kind == "unknown" and suffix in NAMED_FORMATS:
        if suffix in (".xlsx", ".xlsm") and read_sample(path, len(OLE2)) == OLE2:
            return f"{name} is password-protected: save a copy without a password"
        return f"{name} is not a {NAMED_FORMATS[suffix]} file, whatever its name says"
    return None


def _image_problem(path: str | os.PathLike[str], name: str, fmt: str) -> str | None:
    limit = max_pixels()
    size = image_size(path, fmt)
    if limit is None or size is None or size[0] * size[1] <= limit:
        return None
    width, height = size
    return (f"{name} is {width:,} × {height:,} pixels ({width * height / 1e6:,.0f} megapixels), more than "
            f"the {limit / 1e6:,.0f} megapixels Pillow opens safely")
