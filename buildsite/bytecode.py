"""Byte-compile the Python a site ships: without it every visit compiles Panel, Bokeh,
openai, pandas, ... from source, in WebAssembly, for seconds of its start.

The bytecode must be for the exact Python the browser runs (the build machine's may be
another), so the site's own Pyodide makes it, under Node: tools/pyodide_run.mjs runs
tools/compile_in_pyodide.py, which uses the standard library's py_compile. This module
prepares the sources, puts the results back into the wheels, and caches them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path, PurePosixPath

from pyodide_lock import PackageSpec

from . import BuildError, paths
from .fetch import cache_dir
from .files import sha256_file
from .target import TARGET_PYTHON
from .wheels import rewrite_wheel, wheel_members


def node() -> str | None:
    """The Node.js to run Pyodide with, if there is one."""
    return shutil.which("node")


def byte_compile(pyo: Path, packages: dict[str, PackageSpec], names: list[str], pyodide_version: str) -> str:
    """Swap the named packages' wheels in pyo for byte-compiled ones and give their lock
    entries the new sha256; localyst keeps its sources beside its bytecode. Compiled wheels
    are cached by the sha256 of the wheel they come from. Returns what was done, for the log."""
    cache = cache_dir() / "bytecode" / f"pyodide-{pyodide_version}"
    cached = {n: cache / f"{sha256_file(pyo / packages[n].file_name)}-{packages[n].file_name}" for n in names}
    todo = {packages[n].file_name: wheel_members(pyo / packages[n].file_name) for n in names if not cached[n].exists()}
    said = ""
    runner = node()
    if todo and runner is None:
        return "skipped: Node.js is not installed, so the site ships sources (a slower start)"
    if todo:
        keep = {packages["localyst"].file_name} if "localyst" in names else set()
        compiled, said = _compile_members(runner, pyo, todo, keep, f"cpython-{TARGET_PYTHON.major}{TARGET_PYTHON.minor}")
        by_file = {packages[n].file_name: n for n in names}
        for file_name, members in compiled.items():
            dest = cached[by_file[file_name]]
            part = dest.with_name(f"{dest.name}.part-{os.getpid()}")
            rewrite_wheel(part, members)
            os.replace(part, dest)  # whole or not at all: another build may be reading the cache
    for n in names:
        shutil.copyfile(cached[n], pyo / packages[n].file_name)
        packages[n].sha256 = sha256_file(pyo / packages[n].file_name)
    done = f"{len(todo)} compiled now ({said}), the rest from the cache" if todo else "all from the cache"
    return f"{len(names)} wheels: {done}"


def _compile_members(
    runner: str, pyodide_dir: Path, wheels: dict[str, dict[str, bytes]], keep_source: set[str], cache_tag: str
) -> tuple[dict[str, dict[str, bytes]], str]:
    """The members of each wheel (file name -> {archive path: bytes}) with their modules
    compiled: ``x.py`` becomes ``x.pyc`` in its place, or, for the wheels in
    ``keep_source``, stays beside ``__pycache__/x.<cache_tag>.pyc`` (tracebacks then show
    its lines); and what the compiler said."""
    with tempfile.TemporaryDirectory(prefix="localyst-pyc-") as tmp:
        work = Path(tmp)
        for wheel, members in wheels.items():
            for name, data in members.items():
                if name.endswith(".py"):
                    target = work / wheel / name
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(data)
        done = subprocess.run(
            [runner, str(paths.TOOLS / "pyodide_run.mjs"), str(pyodide_dir), str(work),
             str(paths.TOOLS / "compile_in_pyodide.py")],
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise BuildError(f"Pyodide could not byte-compile the wheels: {done.stderr.strip()[-2000:]}")
        compiled = {
            wheel: _with_bytecode(members, work / wheel, wheel in keep_source, cache_tag)
            for wheel, members in wheels.items()
        }
        return compiled, done.stdout.strip()


def _with_bytecode(members: dict[str, bytes], compiled: Path, keep_source: bool, cache_tag: str) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for name, data in members.items():
        pyc = compiled / (name[:-3] + ".pyc") if name.endswith(".py") else None
        if pyc is None or not pyc.exists():
            out[name] = data
        elif keep_source:
            path = PurePosixPath(name)
            out[name] = data
            out[str(path.parent / "__pycache__" / f"{path.stem}.{cache_tag}.pyc")] = pyc.read_bytes()
        else:
            out[name[:-3] + ".pyc"] = pyc.read_bytes()
    return out
