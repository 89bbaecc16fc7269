"""The app worker's handle on the kernel worker (site/kernel-worker.js): run cells there,
interrupt them, and restart the worker when a cell will not stop or the kernel dies.

Browser-only (it makes a JavaScript Worker); the agent loop sees it as a ``KernelLike``.
The person's files are kept here too, so that a fresh kernel gets them back.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from typing import Any

TIME_LIMIT = 120.0  # seconds a cell may run before it is interrupted
QUEUE_LIMIT = 300.0  # seconds a cell may wait to start (the kernel warming up, packages loading)
GRACE = 3.0  # seconds an interrupt has to land before the worker is replaced

OnOutput = Callable[[dict], None]


def lost_result(reason: str) -> dict:
    """A cell result for a cell whose kernel had to be replaced: the variables are gone."""
    message = f"{reason} The kernel was restarted: its variables are lost; the files in /data are kept."
    return {
        "execution_count": None,
        "outputs": [],
        "error": {"ename": "KernelRestarted", "evalue": message, "traceback": f"KernelRestarted: {message}"},
        "duration": 0.0,
        "files": [],
    }


#: The kernel's answers to file requests (see _bridge.py).
FILE_REPLIES = ("file", "file-put", "file-error", "file-deleted", "file-renamed", "files", "inspected", "extracted")


class RemoteKernel:
    """One kernel worker at a time; ``restart()`` replaces it with a fresh one."""

    def __init__(
        self,
        script: str = "kernel-worker.js",
        *,
        time_limit: float = TIME_LIMIT,
        grace: float = GRACE,
        on_status: Callable[[str], None] = lambda text: None,
    ) -> None:
        self.script = script
        self.time_limit = time_limit
        self.grace = grace
        self.on_status = on_status
        self.packages: list[str] = []
        self.files: dict[str, bytes] = {}
        self.restarts = 0
        self._ids = itertools.count(1)
        self._pending: dict[int, tuple[asyncio.Future, OnOutput | None]] = {}
        self._started: dict[int, asyncio.Future] = {}
        self._fetches: dict[int, asyncio.Future] = {}
        self._worker: Any = None
        self._handler: Any = None
        self._ready: asyncio.Future | None = None
        self._buffer: Any = None
        self._watchdog: asyncio.TimerHandle | None = None

    @property
    def interruptible(self) -> bool:
        """Whether a running cell can be stopped without losing the namespace (needs isolation)."""
        return self._buffer is not None

    def start(self) -> None:
        import js
        from pyodide.ffi import create_proxy

        self._ready = asyncio.get_event_loop().create_future()
        self._worker, said = self._new_worker()
        self._handler = create_proxy(self._on_message)
        self._worker.onmessage = self._handler
        self._worker.onerror = self._handler
        if getattr(js, "crossOriginIsolated", False):
            self._buffer = js.Int32Array.new(js.SharedArrayBuffer.new(4))
            self._post({"type": "interrupt-buffer", "buffer": self._buffer.buffer})
        for event in said:
            self._on_message(event)

    def _new_worker(self) -> tuple[Any, list]:
        """A worker for the script, and what it has said so far: the one its host started
        ahead, while this side loaded (``takeEarlyKernel``, see app-worker.js), or a new one."""
        import js

        take = getattr(js, "takeEarlyKernel", None)
        early = take(self.script) if take is not None else None
        if early is not None:
            return early.worker, list(early.messages)
        return js.Worker.new(self.script), []

    async def ready(self) -> None:
        if self._ready is None:
            self.start()
        await asyncio.shield(self._ready)

    async def run(self, code: str, on_output: OnOutput | None = None) -> dict:
        """Run one cell; past the time limit interrupt it, and past the grace replace the kernel."""
        await self.ready()
        call_id = next(self._ids)
        loop = asyncio.get_event_loop()
        future = loop.create_future()
        started = self._started[call_id] = loop.create_future()
        self._pending[call_id] = (future, on_output)
        self._post({"type": "run", "id": call_id, "code": code})
        try:
            # The limit counts from the moment the code starts, not while the kernel warms up.
            await asyncio.wait([future, started], timeout=QUEUE_LIMIT, return_when=asyncio.FIRST_COMPLETED)
            if not future.done() and not started.done():
                await self.restart("The kernel did not start the cell.")
            return await asyncio.wait_for(asyncio.shield(future), self.time_limit)
        except asyncio.TimeoutError:
            self.interrupt()
            try:
                return await asyncio.wait_for(asyncio.shield(future), self.grace)
            except asyncio.TimeoutError:
                await self.restart(f"The cell ran past the time limit of {self.time_limit:g} s and did not stop.")
                return await future
        finally:
            self._pending.pop(call_id, None)
            self._started.pop(call_id, None)

    def interrupt(self) -> None:
        """Ask the running cell to stop (KeyboardInterrupt); replace the kernel if it does not."""
        if self._buffer is not None:
            import js

            js.Atomics.store(self._buffer, 0, 2)
        if self._watchdog is None and self._pending:
            loop = asyncio.get_event_loop()
            self._watchdog = loop.call_later(self.grace, self._restart_if_busy)

    def _restart_if_busy(self) -> None:
        self._watchdog = None
        if self._pending:
            asyncio.ensure_future(self.restart("The cell did not stop when interrupted."))

    @property
    def online(self) -> bool:
        """Whether the code may use the network (the worker's policy, see site/sw.js)."""
        return self.script.endswith("?internet=1")

    async def allow_internet(self, allowed: bool) -> None:
        """A fresh worker whose policy lets its code reach the network, or not (variables go)."""
        self.script = self.script.split("?")[0] + ("?internet=1" if allowed else "")
        state = "may now use the internet" if allowed else "is off the network again"
        await self.restart(f"The kernel was restarted: code {state}.")

    async def restart(self, reason: str = "The kernel was restarted on request.") -> None:
        """Replace the worker with a fresh one and mount the files again."""
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
        if self._worker is not None:
            self._worker.terminate()
            self._handler.destroy()
        for future, _ in self._pending.values():
            if not future.done():
                future.set_result(lost_result(reason))
        self._pending.clear()
        for future in self._fetches.values():
            if not future.done():
                future.set_exception(FileNotFoundError("the kernel was restarted"))
        self.restarts += 1
        self.on_status("restarting the kernel…")
        self.start()
        await self.ready()
        for path, data in self.files.items():
            self._send_file(path, data)

    async def _request(self, message: dict) -> Any:
        """Send a file request and wait for its answer (the message, as a JsProxy)."""
        await self.ready()
        call_id = next(self._ids)
        future = asyncio.get_event_loop().create_future()
        self._fetches[call_id] = future
        self._post({**message, "id": call_id})
        try:
            return await future
        finally:
            self._fetches.pop(call_id, None)

    async def get_file(self, path: str) -> bytes:
        """The bytes of a file under /data (for example one a cell wrote to outputs/)."""
        return (await self._request({"type": "get-file", "path": path})).bytes.to_bytes()

    async def get_file_js(self, path: str) -> Any:
        """The same, left in JavaScript (a Uint8Array) for handing to the page."""
        return (await self._request({"type": "get-file", "path": path})).bytes

    async def figure_svg(self, figure: str) -> Any:
        """A figure the kernel showed (its metadata's "figure"), as SVG (a Uint8Array)."""
        return (await self._request({"type": "figure-svg", "figure": figure})).bytes

    async def zip_outputs(self) -> Any:
        """Every file the code wrote under outputs/, as one ZIP (a Uint8Array)."""
        return (await self._request({"type": "zip-outputs"})).bytes

    async def list_files(self) -> list[dict]:
        """Every file under /data: path, size and mtime."""
        return (await self._request({"type": "list-files"})).files.to_py()

    async def inspect_file(self, path: str) -> dict:
        """Whether a file can be used ({"problem": ...} if not) and a bounded look inside."""
        return (await self._request({"type": "inspect-file", "path": path})).info.to_py()

    async def extract_zip(self, path: str) -> list[str]:
        """Unpack an archive into a folder beside it; the paths of the files it held."""
        return (await self._request({"type": "extract-zip", "path": path})).files.to_py()

    async def delete_file(self, path: str) -> None:
        await self._request({"type": "delete-file", "path": path})
        self.files.pop(path, None)

    async def rename_file(self, path: str, to: str) -> str:
        """Rename a file; returns its new path (relative to /data)."""
        renamed = str((await self._request({"type": "rename-file", "path": path, "to": to})).to)
        if path in self.files:
            self.files[renamed] = self.files.pop(path)
        return renamed

    async def put_file(self, path: str, data: Any) -> int:
        """Give the kernel a file under /data, as bytes or a browser File/Blob (which is
        remembered, not read, so a restart mounts it again at no cost). Returns its size."""
        self.files[path] = data
        return int((await self._request(self._file_message(path, data))).size)

    def _send_file(self, path: str, data: Any) -> None:
        self._post(self._file_message(path, data))

    @staticmethod
    def _file_message(path: str, data: Any) -> dict:
        if isinstance(data, (bytes, bytearray, memoryview)):
            from pyodide.ffi import to_js

            return {"type": "put-file", "path": path, "bytes": to_js(data)}
        return {"type": "put-file", "path": path, "blob": data}

    def _post(self, message: dict) -> None:
        import js
        from pyodide.ffi import to_js

        self._worker.postMessage(to_js(message, dict_converter=js.Object.fromEntries))

    def _on_message(self, event: Any) -> None:
        data = getattr(event, "data", None)
        if data is None:  # a worker error event: the kernel is gone
            asyncio.ensure_future(self.restart(f"The kernel crashed ({getattr(event, 'message', 'no details')})."))
            return
        kind = data.type
        if kind == "ready":
            self.packages = list(data.packages.to_py())
            if not self._ready.done():
                self._ready.set_result(None)
            self.on_status(str(getattr(data, "status", "")))
        elif kind == "failed":
            self.on_status(f"could not start: {data.message}")
            if not self._ready.done():
                self._ready.set_exception(RuntimeError(f"The Python kernel could not start: {data.message}"))
        elif kind == "status":
            self.on_status(str(data.text))
        elif kind == "started":
            started = self._started.get(int(data.id))
            if started is not None and not started.done():
                started.set_result(None)
        elif kind == "output":
            entry = self._pending.get(int(data.id))
            if entry and entry[1] is not None:
                entry[1](data.output.to_py())
        elif kind == "result":
            entry = self._pending.get(int(data.id))
            if entry and not entry[0].done():
                entry[0].set_result(data.result.to_py())
        elif kind in FILE_REPLIES:
            future = self._fetches.get(int(data.id)) if getattr(data, "id", None) is not None else None
            if future is not None and not future.done():
                if kind == "file-error":
                    future.set_exception(FileNotFoundError(str(data.message)))
                else:
                    future.set_result(data)
        elif kind == "error" and getattr(data, "id", None) is not None:
            entry = self._pending.get(int(data.id))
            if entry:
                asyncio.ensure_future(self.restart(f"The kernel failed: {data.message}."))
