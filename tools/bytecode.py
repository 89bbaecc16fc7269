"""Byte-compile the Python a site ships: without it every visit compiles Panel, Bokeh,
openai, pandas, ... from source, in WebAssembly, for seconds of its start.

The bytecode must be for the exact Python the browser runs, so the site's own Pyodide
makes it, under Node (tools/pyodide_run.mjs running tools/compile_in_pyodide.py). This
module only prepares the sources and puts the results back into the wheels' members.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path, PurePosixPath

TOOLS = Path(__file__).resolve().parent


def node() -> str | None:
    """The Node.js to run Pyodide with, if there is one."""
    return shutil.which("node")


def compile_members(
    pyodide_dir: Path, wheels: dict[str, dict[str, bytes]], keep_source: set[str], cache_tag: str
) -> tuple[dict[str, dict[str, bytes]], str]:
    """The members of each wheel (file name -> {archive path: bytes}) with their modules
    compiled: ``x.py`` becomes ``x.pyc`` in its place, or, for the wheels in
    ``keep_source``, stays beside ``__pycache__/x.<cache_tag>.pyc`` (tracebacks then show
    its lines); and what the compiler said. Raises RuntimeError if Pyodide could not compile."""
    runner = node()
    if runner is None:
        raise RuntimeError("Node.js is not installed")
    with tempfile.TemporaryDirectory(prefix="localyst-pyc-") as tmp:
        work = Path(tmp)
        for wheel, members in wheels.items():
            for name, data in members.items():
                if name.endswith(".py"):
                    target = work / wheel / name
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(data)
        done = subprocess.run(
            [runner, str(TOOLS / "pyodide_run.mjs"), str(pyodide_dir), str(work), str(TOOLS / "compile_in_pyodide.py")],
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise RuntimeError(f"Pyodide could not byte-compile the wheels: {done.stderr.strip()[-2000:]}")
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
