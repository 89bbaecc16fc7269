"""The app worker's handle on the kernel worker (site/kernel-worker.js): run cells there,
interrupt them, and restart the worker when a cell will not stop or the kernel dies.

It talks to the worker through a ``Port`` (kernel/_port.py: a Web Worker in the browser, a
fake one in tests); the agent loop sees it as a ``KernelLike``. The files the kernel should
have (the person's, and those code wrote once they are kept) are remembered here too, so
that a fresh kernel gets them back.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Awaitable, Callable
from typing import Any

from ... import protocol
from ..core._packages import importable_packages
from ._port import Connect, Port, WorkerPort

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


LOCK = "pyodide/pyodide-lock.json"  # the site's own lock: what cells can import


class RemoteKernel:
    """One kernel worker at a time; ``restart()`` replaces it with a fresh one."""

    def __init__(
        self,
        script: str = "kernel-worker.js",
        *,
        time_limit: float = TIME_LIMIT,
        grace: float = GRACE,
        on_status: Callable[[str], None] = lambda text: None,
        on_startup: Callable[[protocol.Startup], None] = lambda startup: None,
        connect: Connect = WorkerPort,
        read_packages: Callable[[], Awaitable[list[str]]] | None = None,
    ) -> None:
        self.script = script
        self.connect = connect
        self._read_packages = read_packages or site_packages
        self.time_limit = time_limit
        self.grace = grace
        self.on_status = on_status
        self.on_startup = on_startup
        self.packages: list[str] = []  # from the site's lock, never from the kernel
        self.files: dict[str, Any] = {}  # path -> bytes or a browser File/Blob: mounted again after a restart
        self.restarts = 0
        self.dropped = 0  # messages from the kernel that were not of the protocol
        self._ids = itertools.count(1)
        self._pending: dict[int, tuple[asyncio.Future, OnOutput | None]] = {}
        self._started: dict[int, asyncio.Future] = {}
        self._fetches: dict[int, asyncio.Future] = {}
        self._port: Port | None = None
        self._ready: asyncio.Future | None = None
        self._watchdog: asyncio.TimerHandle | None = None
        self._restarting: asyncio.Future | None = None

    @property
    def interruptible(self) -> bool:
        """Whether a running cell can be stopped without losing the namespace (needs isolation)."""
        return self._port is not None and self._port.interruptible

    def start(self) -> None:
        self._ready = asyncio.get_event_loop().create_future()
        port: Port | None = None

        def hear(fields: Any, payload: Any) -> None:
            if port is None or port is self._port:  # a replaced worker's last words are not heard
                self._on_message(fields, payload)

        port = self._port = self.connect(self.script, hear)

    async def ready(self) -> None:
        if self._ready is None:
            self.start()
        if not self.packages:
            self.packages = await self._read_packages()
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
        if self._port is not None:
            self._port.interrupt()
        if self._watchdog is None and self._pending:
            loop = asyncio.get_event_loop()
            self._watchdog = loop.call_later(self.grace, self._restart_if_busy)

    def _restart_if_busy(self) -> None:
        self._watchdog = None
        if self._pending:
            self._begin_restart("The cell did not stop when interrupted.")

    def close(self) -> None:
        """Let the worker go for good (a recipe run's kernel, when the next run replaces it)."""
        if self._port is not None:
            self._port.close()
            self._port = None

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
        """Replace the worker with a fresh one and mount the files again. One restart at a
        time: a second reason that comes while one is under way (the time limit and the
        interrupt's watchdog can both fire) waits for that one instead of starting another."""
        await asyncio.shield(self._begin_restart(reason))

    def _begin_restart(self, reason: str) -> asyncio.Future:
        if self._restarting is None or self._restarting.done():
            self._restarting = asyncio.ensure_future(self._restart(reason))
        return self._restarting

    async def _restart(self, reason: str) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
        if self._port is not None:
            self._port.close()
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
            self._post(self._file_message(path, data))

    async def _request(self, message: dict) -> protocol.FileReply:
        """Send a file request and wait for its (checked) answer."""
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

    async def get_file_js(self, path: str, escape_formulas: bool = False) -> Any:
        """The same, left in JavaScript (a Uint8Array) for handing to the page; with
        ``escape_formulas``, a copy for spreadsheets whose formula-like text is escaped."""
        return (await self._request({"type": "get-file", "path": path, "escape_formulas": escape_formulas})).bytes

    async def figure_svg(self, figure: str) -> Any:
        """A figure the kernel showed (its metadata's "figure"), as SVG (a Uint8Array)."""
        return (await self._request({"type": "figure-svg", "figure": figure})).bytes

    async def zip_outputs(self) -> Any:
        """Every file the code wrote under outputs/, as one ZIP (a Uint8Array)."""
        return (await self._request({"type": "zip-outputs"})).bytes

    async def list_files(self) -> list[dict]:
        """Every file under /data: path, size and mtime."""
        return (await self._request({"type": "list-files"})).files

    async def inspect_file(self, path: str) -> dict:
        """Whether a file can be used ({"problem": ...} if not) and a bounded look inside."""
        return (await self._request({"type": "inspect-file", "path": path})).info

    async def extract_zip(self, path: str) -> list[str]:
        """Unpack an archive into a folder beside it; the paths of the files it held."""
        return (await self._request({"type": "extract-zip", "path": path})).files

    async def scan_files(self, limits: dict[str, int]) -> list[dict[str, Any]]:
        """What the files are, previewed within ``limits`` (agent/_scan.py)."""
        return (await self._request({"type": "scan-files", "limits": limits})).files

    async def delete_file(self, path: str) -> None:
        await self._request({"type": "delete-file", "path": path})
        self.files.pop(path, None)

    async def rename_file(self, path: str, to: str) -> str:
        """Rename a file; returns its new path (relative to /data)."""
        renamed = (await self._request({"type": "rename-file", "path": path, "to": to})).to
        if path in self.files:
            self.files[renamed] = self.files.pop(path)
        return renamed

    async def put_file(self, path: str, data: Any) -> int:
        """Give the kernel a file under /data, as bytes or a browser File/Blob (which is
        remembered, not read, so a restart mounts it again at no cost). Returns its size."""
        self.files[path] = data
        return int((await self._request(self._file_message(path, data))).size)

    def keep(self, path: str, data: Any) -> None:
        """Remember a file the kernel already has (one code wrote, now kept in storage), so
        that a restart mounts it again; ``None`` forgets it (it is gone from the kernel)."""
        if data is None:
            self.files.pop(path, None)
        else:
            self.files[path] = data

    @staticmethod
    def _file_message(path: str, data: Any) -> dict:
        if isinstance(data, (bytes, bytearray, memoryview)):
            return {"type": "put-file", "path": path, "bytes": data}
        return {"type": "put-file", "path": path, "blob": data}

    def _post(self, message: dict) -> None:
        assert self._port is not None
        self._port.post(message)

    def _on_message(self, fields: Any, payload: Any) -> None:
        if fields is None:  # the worker died: ``payload`` says how
            self._begin_restart(f"The kernel crashed ({payload}).")
            return
        try:
            message = protocol.parse_kernel_message(fields, payload)
        except protocol.Malformed as exc:  # the kernel runs untrusted code: what it forges is dropped
            self.dropped += 1
            waiting = self._fetches.get(exc.id) if exc.id is not None else None
            if waiting is not None and not waiting.done():
                waiting.set_exception(FileNotFoundError(f"the kernel's answer could not be read ({exc})"))
            return
        self._dispatch(message)

    def _dispatch(self, message: Any) -> None:
        """Act on one checked message (see protocol/_kernel.py for what each means)."""
        if isinstance(message, protocol.Ready):
            if not self._ready.done():
                self._ready.set_result(None)
                self.on_startup(message.startup)
            self.on_status(message.status)
        elif isinstance(message, protocol.Failed):
            self.on_status(f"could not start: {message.message}")
            if not self._ready.done():
                self._ready.set_exception(RuntimeError(f"The Python kernel could not start: {message.message}"))
        elif isinstance(message, protocol.Status):
            self.on_status(message.text)
        elif isinstance(message, protocol.Started):
            started = self._started.get(message.id)
            if started is not None and not started.done():
                started.set_result(None)
        elif isinstance(message, protocol.Output):
            entry = self._pending.get(message.id)
            if entry and entry[1] is not None:
                entry[1](message.output)
        elif isinstance(message, protocol.Result):
            entry = self._pending.get(message.id)
            if entry and not entry[0].done():
                entry[0].set_result(message.result)
        elif isinstance(message, protocol.FileReply):
            future = self._fetches.get(message.id)
            if future is not None and not future.done():
                if message.type == "file-error":
                    future.set_exception(FileNotFoundError(message.problem))
                else:
                    future.set_result(message)
        elif isinstance(message, protocol.Error) and message.id is not None:
            waiting = self._fetches.get(message.id)
            if waiting is not None and not waiting.done():  # a file request the kernel could not handle
                waiting.set_exception(FileNotFoundError(message.message))
            elif self._pending.get(message.id):
                self._begin_restart(f"The kernel failed: {message.message}.")



async def site_packages() -> list[str]:
    """The packages cells can import, from the site's own lock (the kernel is not asked:
    what it says goes into the model's instructions)."""
    import js

    response = await js.fetch(LOCK)
    if not response.ok:
        return []
    return sorted(set(importable_packages(json.loads(await response.text())).values()))
