"""The app's one seam to a kernel worker: post a message, interrupt, close; and hear back.

``RemoteKernel`` is written against ``Port`` so that it runs in CPython against a fake
worker (tests/test_remote_kernel.py); ``WorkerPort`` is the browser's: a Web Worker
running site/kernel-worker.js, with a SharedArrayBuffer to interrupt it when the page is
cross-origin isolated.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

#: Called with each message the worker posts, as plain Python fields and its binary
#: ``bytes`` apart (left in JavaScript), or with ``None, reason`` when the worker died.
Hear = Callable[[Any, Any], None]


class Port(Protocol):
    interruptible: bool  # whether interrupt() can stop a running cell (needs isolation)

    def post(self, message: dict[str, Any]) -> None: ...

    def interrupt(self) -> None: ...

    def close(self) -> None: ...


#: Opens a port to a fresh worker running ``script``, whose messages go to ``hear``.
Connect = Callable[[str, Hear], Port]


class WorkerPort:
    """A Web Worker: the one the app worker started ahead for this script, if there is one
    (``takeEarlyKernel``, see app-worker.js; what it said meanwhile is heard first), else a new one."""

    def __init__(self, script: str, hear: Hear) -> None:
        import js
        from pyodide.ffi import create_proxy

        self._hear = hear
        take = getattr(js, "takeEarlyKernel", None)
        early = take(script) if take is not None else None
        self._worker = early.worker if early is not None else js.Worker.new(script)
        self._handler = create_proxy(self._on_event)
        self._worker.onmessage = self._handler
        self._worker.onerror = self._handler
        self._buffer = None
        if getattr(js, "crossOriginIsolated", False):
            self._buffer = js.Int32Array.new(js.SharedArrayBuffer.new(4))
            self._worker.postMessage(_to_js({"type": "interrupt-buffer", "buffer": self._buffer.buffer}))
        self.interruptible = self._buffer is not None
        for event in list(early.messages) if early is not None else []:
            self._on_event(event)

    def post(self, message: dict[str, Any]) -> None:
        self._worker.postMessage(_to_js(message))

    def interrupt(self) -> None:
        if self._buffer is not None:
            import js

            js.Atomics.store(self._buffer, 0, 2)

    def close(self) -> None:
        self._worker.terminate()
        self._handler.destroy()

    def _on_event(self, event: Any) -> None:
        data = getattr(event, "data", None)
        if data is None:  # an error event: the worker is gone
            self._hear(None, str(getattr(event, "message", "") or "no details"))
        else:
            self._hear(*_plain(data))


def _to_js(message: dict[str, Any]) -> Any:
    import js
    from pyodide.ffi import to_js

    if isinstance(message.get("bytes"), (bytes, bytearray, memoryview)):
        message = {**message, "bytes": to_js(message["bytes"])}
    return to_js(message, dict_converter=js.Object.fromEntries)


def _plain(data: Any) -> tuple[Any, Any]:
    """A worker message as plain Python, with its binary ``bytes`` (a Uint8Array) kept apart
    and left in JavaScript: it may be a large file on its way to the page."""
    import js
    from pyodide.ffi import JsProxy

    if not isinstance(data, JsProxy) or js.Array.isArray(data) or not hasattr(data, "type"):
        return (data.to_py() if isinstance(data, JsProxy) else data), None
    fields: dict[str, Any] = {}
    payload = None
    for key in js.Object.keys(data):
        value = getattr(data, key)
        if key == "bytes":
            payload = value if isinstance(value, JsProxy) and js.ArrayBuffer.isView(value) else None
        else:
            fields[key] = value.to_py() if isinstance(value, JsProxy) else value
    return fields, payload
