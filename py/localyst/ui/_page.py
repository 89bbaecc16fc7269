"""Messages from the app worker to the page's loader (site/loader.js) that are not part
of the Bokeh document: handing the person a file to save."""

from __future__ import annotations

from typing import Any


def save(name: str, data: Any, mime: str = "application/octet-stream") -> None:
    """Offer ``data`` (bytes, text, or a JS Uint8Array/Blob, which is not copied) as a
    download named ``name``."""
    import js
    from pyodide.ffi import to_js

    if isinstance(data, str):
        data = data.encode()
    if isinstance(data, (bytes, bytearray, memoryview)):
        data = to_js(bytes(data))
    message = {"type": "download", "name": name, "data": data, "mime": mime}
    js.postMessage(to_js(message, dict_converter=js.Object.fromEntries))
