"""Messages from the app worker to the page's loader (site/loader.js) that are not part
of the Bokeh document: handing the person a file to save, and how the kernel started."""

from __future__ import annotations

from typing import Any

from ..protocol import Startup


def save(name: str, data: Any, mime: str = "application/octet-stream") -> None:
    """Offer ``data`` (bytes, text, or a JS Uint8Array/Blob, which is not copied) as a
    download named ``name``."""
    from pyodide.ffi import to_js

    if isinstance(data, str):
        data = data.encode()
    if isinstance(data, (bytes, bytearray, memoryview)):
        data = to_js(bytes(data))
    _post({"type": "download", "name": name, "data": data, "mime": mime})


def site_origin() -> str:
    """This site's origin (the app worker's, which is the page's), or '' outside a browser."""
    try:
        import js
    except ImportError:
        return ""
    return str(js.location.origin)


def kernel_startup(startup: Startup) -> None:
    """Tell the page how the kernel's Python started (window.localyst.startup.kernel): the
    page makes the kernel's snapshot when it was not restored from one."""
    _post({"type": "startup", "worker": "kernel", "path": startup.path, "reason": startup.reason})


def _post(message: dict[str, Any]) -> None:
    import js
    from pyodide.ffi import to_js

    js.postMessage(to_js(message, dict_converter=js.Object.fromEntries))
