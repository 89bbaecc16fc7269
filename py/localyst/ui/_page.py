"""Messages from the app worker to the page's loader (site/loader.js) that are not part
of the Bokeh document: handing the person a file to save, how the kernel started, and that
plotly.js is needed."""

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


_plotly_asked = False


def need_plotly() -> None:
    """Have the page load plotly.js (4.8 MB, so not at start-up) before it draws what comes
    next: the loader holds the document's patches until the script has run. Once a visit."""
    global _plotly_asked
    if _plotly_asked:
        return
    try:
        _post({"type": "plotly"})
    except ImportError:  # no page: outside a browser (the CPython tests)
        return
    _plotly_asked = True


def _post(message: dict[str, Any]) -> None:
    import js
    from pyodide.ffi import to_js

    js.postMessage(to_js(message, dict_converter=js.Object.fromEntries))
