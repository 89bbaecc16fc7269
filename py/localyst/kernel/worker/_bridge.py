"""The kernel worker's Python side: what each message means, and what goes back.

site/kernel-worker.js only loads Pyodide and this package, then hands every message
over (converted to Python: dicts, lists, memoryviews) and posts what `send` is given.
Keeping the protocol here means it is tested under Node without a browser.

Messages in (from the worker's owner):
    {type: "run", id, code}
    {type: "put-file", id?, path, bytes}      bytes: ArrayBuffer or Uint8Array
    {type: "put-file", id?, path, blob}       blob: a File or Blob: over _intake.BIG_FILE_BYTES mounted
                                              where it is (read-only, read lazily), else copied out of the heap
    {type: "get-file", id, path, escape_formulas?}  escape_formulas: a copy of a CSV/TSV/XLSX whose
                                              formula-like text cells are escaped (see _formulas)
    {type: "zip-outputs", id}                 every file under outputs/, as one ZIP
    {type: "delete-file", id, path}
    {type: "rename-file", id, path, to}
    {type: "list-files", id}
    {type: "inspect-file", id, path}          is the file usable, and a bounded look inside
    {type: "extract-zip", id, path}           unpack an archive into a folder named after it
    {type: "figure-svg", id, figure}          a shown figure (metadata.figure) as SVG, as a "file"
    {type: "scan-files", id, limits}          what the files are, previewed within limits (_intake.scan)
The JavaScript handles the rest itself: `{type: "interrupt-buffer", buffer}` (a
SharedArrayBuffer for pyodide.setInterruptBuffer; the worker zeroes it before each run, so
an interrupt written while no cell ran stops nothing), and it sends `{type: "failed",
message}` if start-up fails, `{type: "error", id, message}` if a message could not be handled.

Messages out (protocol/_kernel.py defines them for the receiving side, and checks them):
    {type: "ready", status, startup}          Python is up; the status line while the common
                                              packages load ("" when none); how it started
                                              ({path: "restored" | "plain", reason}, site/boot.js)
    {type: "status", text}                    e.g. "loading pandas…"; "" when done
    {type: "started", id}                     the cell's code begins (its time limit starts)
    {type: "output", id, output}              one Output.as_dict(), while the cell runs
    {type: "result", id, result}              CellResult.as_dict(), always last for an id
    {type: "file-put", id, path, size}
    {type: "file", id, path, bytes}           bytes: a Uint8Array (transferred)
    {type: "file-error", id, path, message}
    {type: "file-deleted", id, path}
    {type: "file-renamed", id, path, to}
    {type: "files", id, files: [{path, size, mtime}]}   mtime in seconds since the epoch
    {type: "inspected", id, path, info}       info: _intake.preview()'s dict, or {problem}
    {type: "extracted", id, path, files: [...]}
    {type: "scanned", id, files: [...]}       _intake.scan()'s entries
"""

from __future__ import annotations

import importlib
import io
import json
import sys
import zipfile
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from ..core import _figures, _formulas, _intake
from ..core._kernel import Kernel
from ..core._packages import importable_packages, missing_modules

#: Loaded and imported right after start-up, before any cell: nearly every analysis uses
#: them, and the person is still typing. Package name -> module to import.
WARM_UP = {"numpy": "numpy", "pandas": "pandas", "matplotlib": "matplotlib.pyplot"}

#: Where files over _intake.BIG_FILE_BYTES are mounted, one folder each; /data holds a link to each.
MOUNTS = "/mnt/files"

#: Posts one message: its JSON text, and a JS Uint8Array to attach as `bytes` (or None).
Send = Callable[[str, Any], None]


class Bridge:
    """One Kernel with its files under `data_dir`, driven by messages."""

    def __init__(self, send: Send, lock_text: str, startup: Mapping[str, Any] | None = None,
                 data_dir: str = "/data") -> None:
        self._send = send
        self.available = importable_packages(json.loads(lock_text))
        self.kernel = Kernel(data_dir=data_dir, available=self.available)
        self.data_dir = self.kernel.data_dir.resolve()
        self._mounted = 0  # folders under MOUNTS made so far
        self.startup = {"path": str((startup or {}).get("path", "plain")), "reason": str((startup or {}).get("reason") or "")}

    async def start(self) -> None:
        """Say the kernel is ready (the app may ask the model meanwhile), then load and import
        the common packages under one status line: cells and files wait for them. A kernel
        restored from its snapshot has them imported already."""
        warming = [p for p, module in WARM_UP.items() if p in self.available.values() and module not in sys.modules]
        status = f"loading {', '.join(warming)}…" if warming else ""
        self._post({"type": "ready", "status": status, "startup": self.startup})
        if not warming:
            return
        try:
            await _load_packages([p for p in warming if p not in _loaded_packages()])
            warm_up()
        finally:
            self._post({"type": "status", "text": ""})

    async def handle(self, message: Mapping[str, Any]) -> None:
        kind = message["type"]
        if kind == "run":
            await self._run(message["id"], message["code"])
        elif kind == "put-file":
            if "blob" in message:
                await self._put_blob(message.get("id"), message["path"], message["blob"])
            else:
                self._put_file(message.get("id"), message["path"], message["bytes"])
        elif kind == "get-file":
            await self._get_file(message["id"], message["path"], bool(message.get("escape_formulas")))
        elif kind == "zip-outputs":
            self._zip_outputs(message["id"])
        elif kind == "delete-file":
            self._file_op(message["id"], message["path"], None)
        elif kind == "rename-file":
            self._file_op(message["id"], message["path"], message["to"])
        elif kind == "list-files":
            self._post({"type": "files", "id": message["id"], "files": self._list()})
        elif kind == "inspect-file":
            await self._inspect(message["id"], message["path"])
        elif kind == "extract-zip":
            self._extract(message["id"], message["path"])
        elif kind == "figure-svg":
            self._figure_svg(message["id"], message["figure"])
        elif kind == "scan-files":
            await self._scan(message["id"], dict(message.get("limits") or {}))
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
        """A path under the data folder (relative to it, or absolute inside it). The last
        part is not followed if it is a link (a mounted file is one), but what a link leads
        to must be in the data folder or be a mounted file."""
        candidate = self.data_dir / path
        named = candidate.name not in ("", ".", "..")
        resolved = candidate.parent.resolve() / candidate.name if named else candidate.resolve()
        real = resolved.resolve()
        inside = real.is_relative_to(self.data_dir) or real.is_relative_to(MOUNTS)
        if not resolved.is_relative_to(self.data_dir) or resolved == self.data_dir or not inside:
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

    async def _put_blob(self, file_id: Any, path: str, blob: Any) -> None:
        """Give the file system a browser File: a big one mounted where it is (BIG_FILE_BYTES),
        a small one's bytes copied from the browser into the file system's own storage;
        never through a Python bytes object, never into the wasm heap."""
        try:
            target = self._file(path)
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.is_symlink():  # a mounted file is replaced, not written through
                self._forget(target)
            if int(blob.size) > _intake.BIG_FILE_BYTES:
                self._mounted += 1
                size = _mount_blob(str(target), f"{MOUNTS}/{self._mounted}", blob)
            else:
                size = _write_blob(str(target), await blob.arrayBuffer())
        except (OSError, ValueError) as exc:
            self._post({"type": "file-error", "id": file_id, "path": path, "message": str(exc)})
            return
        self._post({"type": "file-put", "id": file_id, "path": self._relative(target), "size": size})

    def _file_op(self, file_id: Any, path: str, to: str | None) -> None:
        """Delete ``path``, or rename it to ``to``; both must stay inside the data folder."""
        try:
            source = self._file(path)
            if not source.is_file():
                raise FileNotFoundError(f"there is no file {path!r}")
            if to is None:
                self._forget(source)
                reply = {"type": "file-deleted", "id": file_id, "path": path}
            else:
                target = self._file(to)
                if target.exists():
                    raise FileExistsError(f"a file named {to!r} exists already")
                target.parent.mkdir(parents=True, exist_ok=True)
                source.rename(target)
                reply = {"type": "file-renamed", "id": file_id, "path": path, "to": self._relative(target)}
        except (OSError, ValueError) as exc:
            self._post({"type": "file-error", "id": file_id, "path": path, "message": str(exc)})
            return
        self._post(reply)

    @staticmethod
    def _forget(path: Path) -> None:
        """Delete a file; for a mounted one, its link and its mount (the File is let go)."""
        mount = path.resolve().parent if path.is_symlink() else None
        path.unlink()
        if mount is not None and mount.is_relative_to(MOUNTS):
            _unmount(str(mount))

    async def _inspect(self, file_id: Any, path: str) -> None:
        try:
            target = self._file(path)
            await _intake.load_readers(target.parent)
            problem = _intake.check(target)
            info = {"problem": problem} if problem else _intake.preview(target, rows=10)
        except _intake.IntakeError as exc:
            info = {"problem": str(exc)}
        except (OSError, ValueError) as exc:
            self._post({"type": "file-error", "id": file_id, "path": path, "message": str(exc)})
            return
        self._post({"type": "inspected", "id": file_id, "path": path, "info": info})

    def _extract(self, file_id: Any, path: str) -> None:
        try:
            archive = self._file(path)
            folder = archive.with_suffix("") if archive.suffix else archive.with_name(archive.name + "-files")
            files = _intake.extract_zip(archive, folder)
        except (_intake.IntakeError, OSError, ValueError) as exc:
            self._post({"type": "file-error", "id": file_id, "path": path, "message": str(exc)})
            return
        self._post({"type": "extracted", "id": file_id, "path": path, "files": [self._relative(folder / f) for f in files]})

    async def _scan(self, file_id: Any, limits: dict[str, Any]) -> None:
        """The files under the data folder, described for the app (outputs left out)."""
        known = {name: int(limits[name]) for name in ("max_files", "budget", "rows", "columns", "head_chars") if name in limits}
        await _intake.load_readers(self.data_dir, max_files=known.get("max_files", 50))
        self._post({"type": "scanned", "id": file_id, "files": _intake.scan(self.data_dir, **known)})

    def _figure_svg(self, file_id: Any, figure: str) -> None:
        try:
            data = _figures.svg(figure)
        except KeyError as exc:
            self._post({"type": "file-error", "id": file_id, "path": figure, "message": str(exc.args[0])})
            return
        self._post({"type": "file", "id": file_id, "path": f"{figure}.svg"}, _to_js(data))

    def _list(self) -> list[dict[str, Any]]:
        found = []
        for path in sorted(self.data_dir.rglob("*")):
            if path.is_file():
                info = path.stat()
                found.append({"path": self._relative(path), "size": info.st_size, "mtime": info.st_mtime})
        return found

    def _zip_outputs(self, file_id: Any) -> None:
        outputs = self.data_dir / "outputs"
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(outputs.rglob("*")):
                if path.is_file():
                    archive.write(path, path.relative_to(outputs).as_posix())
        self._post({"type": "file", "id": file_id, "path": "outputs.zip"}, _to_js(buffer.getvalue()))

    async def _get_file(self, file_id: Any, path: str, escape_formulas: bool = False) -> None:
        try:
            target = self._file(path)
            if target.resolve().is_relative_to(MOUNTS):
                raise ValueError(f"{path} is a big file read where it is on your disk: it is not copied out again")
            if escape_formulas and target.suffix.lower() == ".xlsx":
                await self._load(["openpyxl"])
            data = _formulas.escaped_copy(target) if escape_formulas else target.read_bytes()
        except (OSError, ValueError) as exc:
            self._post({"type": "file-error", "id": file_id, "path": path, "message": str(exc)})
            return
        self._post({"type": "file", "id": file_id, "path": self._relative(target)}, _to_js(data))

    def _relative(self, path: Path) -> str:
        return path.relative_to(self.data_dir).as_posix()

    def _post(self, message: dict[str, Any], payload: Any = None) -> None:
        self._send(json.dumps(message, allow_nan=False), payload)


def warm_up() -> None:
    """Import the common packages (already loaded), as a start and a snapshot both do."""
    for module in WARM_UP.values():
        try:
            importlib.import_module(module)
        except ImportError:  # not shipped: cells get the kernel's explanation instead
            continue


# The Pyodide-only pieces, imported when used so that this module imports anywhere.

def _loaded_packages() -> set[str]:
    import pyodide_js

    return set(pyodide_js.loadedPackages.object_keys())


async def _load_packages(packages: list[str]) -> None:
    """pyodide.loadPackage, by site-lock name; a package that fails to load is not fatal
    here: the cell's import then fails and says so."""
    if not packages:
        return
    import pyodide_js
    from pyodide.ffi import to_js

    await pyodide_js.loadPackage(to_js(packages))


def _write_blob(path: str, buffer: Any) -> int:
    """FS.writeFile with canOwn: the file system keeps the array itself, outside the wasm heap."""
    import js
    import pyodide_js
    from pyodide.ffi import to_js

    data = js.Uint8Array.new(buffer)
    pyodide_js.FS.writeFile(path, data, to_js({"canOwn": True}, dict_converter=js.Object.fromEntries))
    return int(data.length)


def _mount_blob(path: str, folder: str, blob: Any) -> int:
    """Mount a File read-only (WORKERFS: each read slices the File) and link ``path`` to it."""
    import js
    import pyodide_js
    from pyodide.ffi import to_js

    fs = pyodide_js.FS
    fs.mkdirTree(folder)
    name = Path(path).name
    options = to_js({"blobs": [{"name": name, "data": blob}]}, dict_converter=js.Object.fromEntries)
    fs.mount(fs.filesystems.WORKERFS, options, folder)
    fs.symlink(f"{folder}/{name}", path)
    return int(blob.size)


def _unmount(folder: str) -> None:
    import pyodide_js

    pyodide_js.FS.unmount(folder)
    pyodide_js.FS.rmdir(folder)


def _to_js(data: bytes) -> Any:
    from pyodide.ffi import to_js

    return to_js(data)
