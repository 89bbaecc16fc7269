"""The packages both workers start with, pre-unpacked into one file (pyodide/bundle.gz)
with an index (pyodide/bundle.json), so that a visit mounts them instead of unpacking
dozens of wheels into the heap.

A worker inflates the file into a Blob and mounts it read-only with Emscripten's WORKERFS
(files are Blob slices, read when Python opens them) at BUNDLE_ROOT, which goes on sys.path.
Before the runtime starts it loads its list of extension modules (``dynlibs``), in the order
the index gives, in the making and in the restoring run of a memory snapshot alike: each
library then gets the same memory and function-table addresses, which the snapshot's heap
refers to (see site/boot.js).

The index:

    {"root": BUNDLE_ROOT, "size": bytes inflated, "sha256": of the inflated bytes,
     "packages": {lock name: version},          what pyodide.loadedPackages is told
     "files": [[path, offset, size], ...],      paths relative to the root
     "workers": {"app": {"dynlibs": [path, ...]}, "kernel": {...}}}

Shared libraries (install_dir "dynlib", e.g. openssl) sit under ``.libs/`` of the root.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import zipfile
from pathlib import Path, PurePosixPath

from pyodide_lock import PackageSpec, PyodideLockSpec

from . import BuildError
from .lock import closure

#: Where the workers mount the bundle (on sys.path, before site-packages).
BUNDLE_ROOT = "/localyst/bundle"
BUNDLE_FILE = "pyodide/bundle.gz"
INDEX_FILE = "pyodide/bundle.json"
SHARED_LIBS = ".libs"

#: Left out of the bundle: never read by the site or by analysis code. Tests and sample
#: data; Panel's compiled JavaScript and its model metadata, which the page gets from
#: vendor/ (Python reads dist/ only for CSS and for inline resources, which the site never
#: asks for). A wheel's ``.data`` folder (files for the install prefix) is left out too.
LEFT_OUT = ("/tests/", "/testing/tests/", "matplotlib/mpl-data/sample_data/",
            "/panel/dist/panel.json", "/panel/dist/panel.js", "/panel/dist/panel.min.js", "/panel/dist/lib/",
            "/numpy/_core/include/")
#: Files for type checkers and compilers, never for the interpreter.
LEFT_OUT_SUFFIXES = (".pyi", ".ts", ".pxd", ".pyx", ".h", ".c", ".cpp")

#: The font cache version each shipped matplotlib reads (``FontManager.__version__``).
#: Pyodide's matplotlib 3.8.4 ships a fontlist.json of the same entries labelled 390, which
#: 3.8.4 (330) rejects: it then rebuilds the cache on every start and writes it beside the
#: package, which the read-only bundle refuses. Relabelled here; a matplotlib not listed
#: stops the build, so that an update gets checked.
FONT_CACHE_VERSIONS = {"3.8.4": 330}


def write_bundle(out: Path, lock: PyodideLockSpec, workers: dict[str, list[str]]) -> dict:
    """Write the bundle of every package of ``workers`` (worker name -> the lock names it
    starts with, closures included) and its index; returns the index."""
    names = sorted({n for ns in workers.values() for n in ns})
    order = _dependency_order(lock.packages, names)
    blob = bytearray()
    files: list[list] = []
    dynlibs_of: dict[str, list[str]] = {}
    seen: set[str] = set()
    for name in order:
        spec = lock.packages[name]
        dynlibs_of[name] = []
        with zipfile.ZipFile(out / "pyodide" / spec.file_name) as wheel:
            for info in sorted(wheel.infolist(), key=lambda i: i.filename):
                if info.is_dir() or left_out(info.filename):
                    continue
                path = _bundle_path(spec, info.filename)
                if path in seen:
                    raise BuildError(f"{spec.file_name}: {path} is in two of the bundle's packages")
                seen.add(path)
                data = wheel.read(info)
                if path == "matplotlib/fontlist.json":
                    data = _font_cache(spec, data)
                files.append([path, len(blob), len(data)])
                blob += data
                if path.endswith(".so"):
                    dynlibs_of[name].append(path)
    index = {
        "root": BUNDLE_ROOT,
        "size": len(blob),
        "sha256": hashlib.sha256(blob).hexdigest(),
        "packages": {n: lock.packages[n].version for n in names},
        "files": files,
        "workers": {
            worker: {"dynlibs": [lib for n in order if n in set(ns) for lib in _shared_first(dynlibs_of[n])]}
            for worker, ns in sorted(workers.items())
        },
    }
    # mtime 0: the same packages give the same bytes, so an update reuses the cached file
    (out / BUNDLE_FILE).write_bytes(gzip.compress(bytes(blob), compresslevel=9, mtime=0))
    (out / INDEX_FILE).write_text(json.dumps(index, separators=(",", ":")) + "\n")
    return index


def left_out(member: str) -> bool:
    """Whether a wheel member stays out of the bundle (LEFT_OUT, LEFT_OUT_SUFFIXES, .data)."""
    return (member.split("/")[0].endswith(".data") or member.endswith(LEFT_OUT_SUFFIXES)
            or any(part in "/" + member for part in LEFT_OUT))


def _font_cache(spec: PackageSpec, data: bytes) -> bytes:
    if spec.version not in FONT_CACHE_VERSIONS:
        raise BuildError(f"matplotlib {spec.version}: add its FontManager.__version__ to FONT_CACHE_VERSIONS in buildsite/bundle.py")
    cache = json.loads(data)
    cache["_version"] = FONT_CACHE_VERSIONS[spec.version]
    return json.dumps(cache, indent=2).encode()


def _bundle_path(spec: PackageSpec, member: str) -> str:
    if spec.install_dir == "dynlib":
        return f"{SHARED_LIBS}/{PurePosixPath(member).name}"
    if spec.install_dir != "site":
        raise BuildError(f"{spec.file_name}: install_dir {spec.install_dir!r} cannot go in the bundle")
    return member


def _shared_first(libs: list[str]) -> list[str]:
    """A package's shared libraries before its extension modules, which may need them."""
    return sorted(libs, key=lambda p: (not p.startswith(SHARED_LIBS + "/"), p))


def _dependency_order(packages: dict[str, PackageSpec], names: list[str]) -> list[str]:
    """names, each after everything it depends on (ties by name): a library's dependencies
    are loaded before it."""
    done: list[str] = []
    placed: set[str] = set()

    def place(name: str, path: tuple[str, ...]) -> None:
        if name in placed:
            return
        if name in path:
            raise BuildError(f"the site lock has a dependency cycle: {' -> '.join(path + (name,))}")
        for dep in sorted(packages[name].depends):
            place(dep, path + (name,))
        placed.add(name)
        done.append(name)

    for name in names:
        place(name, ())
    return done


def worker_packages(lock: PyodideLockSpec, app: list[str], kernel: list[str]) -> dict[str, list[str]]:
    """What each worker starts with: the app the closure of its roots; the kernel the closure
    of its warm-up packages, and the localyst wheel alone (it imports only localyst.kernel)."""
    return {
        "app": closure(lock.packages, app),
        "kernel": sorted(set(closure(lock.packages, kernel)) | {"localyst"}),
    }
