"""The kernel worker's Python side: what each message means, and what goes back.

site/kernel-worker.js only loads Pyodide and this package, then hands every message
over (converted to Python: dicts, lists, memoryviews) and posts what `send` is given.
Keeping the protocol here means it is tested under Node without a browser.

Messages in (from the worker's owner):
    {type: "run", id, code}
    {type: "put-file", id?, path, bytes}      bytes: ArrayBuffer or Uint8Array
    {type: "get-file", id, path}
The JavaScript handles the rest itself: `{type: "interrupt-buffer", buffer}` (a
SharedArrayBuffer for pyodide.setInterruptBuffer; the worker zeroes it before each run, so
an interrupt written while no cell ran stops nothing), and it sends `{type: "failed",
message}` if start-up fails, `{type: "error", id, message}` if a message could not be handled.

Messages out:
    {type: "ready", packages: [...]}          the site packages cells can import
    {type: "status", text}                    e.g. "loading pandas…"; "" when done
    {type: "started", id}                     the cell's code begins (its time limit starts)
    {type: "output", id, output}              one Output.as_dict(), while the cell runs
    {type: "result", id, result}              CellResult.as_dict(), always last for an id
    {type: "file-put", id, path, size}
    {type: "file", id, path, bytes}           bytes: a Uint8Array (transferred)
    {type: "file-error", id, path, message}
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from ._kernel import Kernel
from ._packages import missing_modules

#: Loaded and imported right after start-up, before any cell: nearly every analysis uses
#: them, and the person is still typing. Package name -> module to import.
WARM_UP = {"numpy": "numpy", "pandas": "pandas", "matplotlib": "matplotlib.pyplot"}

#: Posts one message: its JSON text, and a JS Uint8Array to attach as `bytes` (or None).
Send = Callable[[str, Any], None]


def importable_packages(lock: Mapping[str, Any]) -> dict[str, str]:
    """Import name -> package name for every entry of a pyodide-lock.json that has imports
    (packages, and standard-library modules Pyodide ships apart, such as sqlite3).

    localyst itself is left out: it is the kernel, already loaded.
    """
    available: dict[str, str] = {}
    for name, entry in lock["packages"].items():
        if name != "localyst":
            for module in entry["imports"]:
                available[module] = name
    return available


class Bridge:
    """One Kernel with its files under `data_dir`, driven by messages."""

    def __init__(self, send: Send, lock_text: str, data_dir: str = "/data") -> None:
        self._send = send
        self.available = importable_packages(json.loads(lock_text))
        self.kernel = Kernel(data_dir=data_dir, available=self.available)
        self.data_dir = self.kernel.data_dir.resolve()

    async def start(self) -> None:
        """Say the kernel is ready, then warm up the common packages."""
        self._post({"type": "ready", "packages": sorted(set(self.available.values()))})
        await self._load([p for p in WARM_UP if p in self.available.values()])
        for module in WARM_UP.values():
            try:
                importlib.import_module(module)
            except ImportError:  # not shipped: cells get the kernel's explanation instead
                continue

    async def handle(self, message: Mapping[str, Any]) -> None:
        kind = message["type"]
        if kind == "run":
            await self._run(message["id"], message["code"])
        elif kind == "put-file":
            self._put_file(message.get("id"), message["path"], message["bytes"])
        elif kind == "get-file":
            self._get_file(message["id"], message["path"])
        else:
            raise ValueError(f"the kernel worker does not understand a {kind!r} message")

    async def _run(self, cell_id: Any, code: str) -> None:
        await self._load(missing_modules(code, self.available).packages)
        self._post({"type": "started", "id": cell_id})
        result = await self.kernel.run_async(
            code, on_output=lambda output: self._post({"type": "output", "id": cell_id, "output": output.as_dict()})
        )
        self._post({"type": "result", "id": cell_id, "result": result.as_dict()})

    async def _load(self, packages: Iterable[str]) -> None:
        """Load site packages a cell is about to import (one status line while it lasts)."""
        wanted = [p for p in packages if p not in _loaded_packages()]
        if not wanted:
            return
        self._post({"type": "status", "text": f"loading {', '.join(wanted)}…"})
        try:
            await _load_packages(wanted)
        finally:
            self._post({"type": "status", "text": ""})

    def _file(self, path: str) -> Path:
        """A path under the data folder (relative to it, or absolute inside it)."""
        resolved = (self.data_dir / path).resolve()
        if not resolved.is_relative_to(self.data_dir) or resolved == self.data_dir:
            raise ValueError(f"{path!r} is not a file under {self.data_dir}")
        return resolved

    def _put_file(self, file_id: Any, path: str, data: memoryview) -> None:
        try:
            target = self._file(path)
            target.parent.mkdir(parents=True, exist_ok=True)
            size = target.write_bytes(data)
        except (OSError, ValueError) as exc:
            self._post({"type": "file-error", "id": file_id, "path": path, "message": str(exc)})
            return
        self._post({"type": "file-put", "id": file_id, "path": self._relative(target), "size": size})

    def _get_file(self, file_id: Any, path: str) -> None:
        try:
            target = self._file(path)
            data = target.read_bytes()
        except (OSError, ValueError) as exc:
            self._post({"type": "file-error", "id": file_id, "path": path, "message": str(exc)})
            return
        self._post({"type": "file", "id": file_id, "path": self._relative(target)}, _to_js(data))

    def _relative(self, path: Path) -> str:
        return path.relative_to(self.data_dir).as_posix()

    def _post(self, message: dict[str, Any], payload: Any = None) -> None:
        self._send(json.dumps(message, allow_nan=False), payload)


# The Pyodide-only pieces, imported when used so that this module imports anywhere.

def _loaded_packages() -> set[str]:
    import pyodide_js

    return set(pyodide_js.loadedPackages.object_keys())


async def _load_packages(packages: list[str]) -> None:
    """pyodide.loadPackage, by site-lock name; a package that fails to load is not fatal
    here: the cell's import then fails and says so."""
    import pyodide_js
    from pyodide.ffi import to_js

    await pyodide_js.loadPackage(to_js(packages))


def _to_js(data: bytes) -> Any:
    from pyodide.ffi import to_js

    return to_js(data)
