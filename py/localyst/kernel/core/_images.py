"""PIL images as PNG."""

from __future__ import annotations

import base64
import io
import sys
from typing import Any


def is_pil_image(obj: Any) -> bool:
    image_module = sys.modules.get("PIL.Image")
    return image_module is not None and isinstance(obj, image_module.Image)


def pil_bundle(image: Any) -> dict[str, Any]:
    buffer = io.BytesIO()
    try:
        image.save(buffer, format="PNG")
    except (OSError, ValueError):  # modes PNG cannot hold, such as CMYK or 32-bit float
        buffer = io.BytesIO()
        image.convert("RGBA").save(buffer, format="PNG")
    return {
        "text/plain": repr(image),
        "image/png": base64.b64encode(buffer.getvalue()).decode("ascii"),
    }
