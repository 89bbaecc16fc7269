"""Images: their size from the header alone, and a small PNG of them to look at."""

from __future__ import annotations

import base64
import io
import os
import struct
import warnings
from typing import Any

from ._messages import IntakeError, require

THUMBNAIL_PIXELS = 256  # the longer side of the preview
#: Pillow's own default for Image.MAX_IMAGE_PIXELS, for when Pillow is not loaded yet.
PILLOW_MAX_IMAGE_PIXELS = int(1024 * 1024 * 1024 // 4 // 3)
_JPEG_SIZE_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}  # SOF0..SOF15
_JPEG_MAX_SEGMENTS = 1000


def max_pixels() -> int | None:
    """The most pixels Pillow opens without calling the image a decompression bomb."""
    try:
        from PIL import Image
    except ImportError:
        return PILLOW_MAX_IMAGE_PIXELS
    return Image.MAX_IMAGE_PIXELS


def image_size(path: str | os.PathLike[str], fmt: str) -> tuple[int, int] | None:
    """(width, height) read from the header, without decoding any pixel; None if unreadable."""
    with open(path, "rb") as f:
        if fmt == "jpeg":
            return _jpeg_size(f)
        head = f.read(30)
    try:
        if fmt == "png":
            return struct.unpack(">II", head[16:24])
        if fmt == "gif":
            return struct.unpack("<HH", head[6:10])
        if fmt == "webp":
            return _webp_size(head)
    except struct.error:
        return None
    return None


def _webp_size(head: bytes) -> tuple[int, int] | None:
    chunk = head[12:16]
    if chunk == b"VP8 ":  # lossy: 14-bit sizes after the frame tag and start code
        width, height = struct.unpack("<HH", head[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L":  # lossless: 14 bits each, minus one, after a signature byte
        bits = int.from_bytes(head[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X":  # extended: 24-bit canvas sizes, minus one
        return int.from_bytes(head[24:27], "little") + 1, int.from_bytes(head[27:30], "little") + 1
    return None


def _jpeg_size(f: Any) -> tuple[int, int] | None:
    """Walk the segments to the first start-of-frame, seeking past the rest."""
    f.seek(2)
    for _ in range(_JPEG_MAX_SEGMENTS):
        marker = f.read(2)
        while marker[:1] == b"\xff" and marker[1:2] == b"\xff":  # fill bytes
            marker = marker[1:] + f.read(1)
        if len(marker) < 2 or marker[0] != 0xFF:
            return None
        if marker[1] in _JPEG_SIZE_MARKERS:
            segment = f.read(7)
            if len(segment) < 7:
                return None
            height, width = struct.unpack(">HH", segment[3:7])
            return width, height
        if marker[1] in (0xD9, 0xDA):  # end of image, or scan data: no frame header came first
            return None
        if marker[1] == 0x01 or 0xD0 <= marker[1] <= 0xD8:  # markers without a length
            continue
        length = f.read(2)
        if len(length) < 2:
            return None
        f.seek(struct.unpack(">H", length)[0] - 2, os.SEEK_CUR)
    return None


def image_preview(path: str | os.PathLike[str], fmt: str) -> dict[str, Any]:
    """Size, mode and frames, and a PNG thumbnail (base64) no larger than THUMBNAIL_PIXELS."""
    image_module = require("PIL.Image", f"reading {fmt.upper()} images", "pillow")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", image_module.DecompressionBombWarning)
            with image_module.open(path) as image:
                found = {"width": image.width, "height": image.height, "mode": image.mode,
                         "frames": getattr(image, "n_frames", 1)}
                image.draft("RGB", (THUMBNAIL_PIXELS, THUMBNAIL_PIXELS))  # JPEG: decode at a smaller scale
                image.thumbnail((THUMBNAIL_PIXELS, THUMBNAIL_PIXELS))
                if image.mode not in ("1", "L", "LA", "P", "RGB", "RGBA"):
                    image = image.convert("RGBA")
                buffer = io.BytesIO()
                image.save(buffer, format="PNG")
    except (image_module.DecompressionBombWarning, image_module.DecompressionBombError) as exc:
        raise IntakeError(f"{os.path.basename(path)} has too many pixels to open safely ({exc})") from None
    except OSError as exc:
        raise IntakeError(f"{os.path.basename(path)} could not be decoded as {fmt.upper()}: {exc}") from None
    found["thumbnail"] = base64.b64encode(buffer.getvalue()).decode("ascii")
    found["thumbnail_size"] = list(image.size)
    return found
