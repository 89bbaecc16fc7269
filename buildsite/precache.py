"""The page's own files, the build id and precache.json: what a first visit fetches (the
service worker keeps all of it, so the next visit works offline), and the size and sha256
of every file (so that a new build downloads only what changed)."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path, PurePosixPath

from pyodide_lock import PyodideLockSpec

from . import BuildError, paths
from .bundle import BUNDLE_FILE, INDEX_FILE
from .files import sha256_file, tree_hashes, write_file
from .lock import closure
from .official import PYODIDE_CORE
from .vendor import PLOTLY_JS

#: Packages the app worker loads at start-up; their closure in the site lock is what a
#: first visit downloads (besides the core files and the page's own scripts and styles).
APP_PACKAGES = ["localyst"]

#: Packages the kernel worker loads right after its start-up (``WARM_UP`` in
#: py/localyst/kernel/worker/_bridge.py; the kernel worker loads the localyst wheel itself by URL,
#: without LOCALYST_DEPENDS). A first visit downloads their closure too.
KERNEL_PACKAGES = ["numpy", "pandas", "matplotlib"]

BUILD_ID_TOKEN = "__BUILD_ID__"

#: The service worker's list of what to keep for offline use (written by write_precache).
PRECACHE_FILE = "precache.json"


def starting_packages(lock: PyodideLockSpec) -> list[str]:
    """The packages a visit loads at once: the closure of APP_PACKAGES and KERNEL_PACKAGES."""
    return closure(lock.packages, APP_PACKAGES + KERNEL_PACKAGES)


def copy_site(out: Path, lock: PyodideLockSpec) -> str:
    """Copy site/ into out and write the precache manifest (see write_precache).

    __BUILD_ID__ becomes a hash of the whole output (templates as they are in site/) and of
    the precache list: any change to what a visit loads or keeps makes a new build.
    """
    site_src = paths.SITE_SRC
    if not site_src.is_dir():
        raise BuildError("site/ is missing")
    token = BUILD_ID_TOKEN.encode()
    templated = []
    for p in sorted(site_src.rglob("*")):
        if not p.is_file() or "__pycache__" in p.parts or p.name.startswith(".#") or p.name.endswith("~"):
            continue
        rel = p.relative_to(site_src).as_posix()
        data = p.read_bytes()
        if (out / rel).exists() or rel == PRECACHE_FILE:
            raise BuildError(f"site/{rel} would overwrite a generated file")
        write_file(out / rel, data)
        if token in data:
            templated.append(rel)
    precache = startup_files(out, lock)
    hashes = tree_hashes(out)
    h = hashlib.sha256()
    for rel, digest in hashes.items():
        h.update(f"{rel}\0{digest}\n".encode())
    for rel in precache:
        h.update(f"precache\0{rel}\n".encode())
    build_id = h.hexdigest()[:12]
    for rel in templated:
        path = out / rel
        path.write_bytes(path.read_bytes().replace(token, build_id.encode()))
        hashes[rel] = sha256_file(path)
    write_precache(out, build_id, precache, hashes)
    return build_id


def write_precache(out: Path, build_id: str, precache: list[str], hashes: dict[str, str]) -> None:
    """precache.json, which site/sw.js reads: the build, the files a first visit loads (the
    service worker keeps them all, so the next visit works offline), and the size and sha256
    of every file of the site (a new build reuses what an older build's cache already holds
    unchanged, and downloads only the rest). Paths are relative to the site's folder."""
    manifest = {
        "build": build_id,
        "precache": precache,
        "files": {rel: {"size": (out / rel).stat().st_size, "sha256": digest} for rel, digest in hashes.items()},
    }
    (out / PRECACHE_FILE).write_text(json.dumps(manifest, indent=0) + "\n")


def startup_files(out: Path, lock: PyodideLockSpec) -> list[str]:
    """What a first visit fetches (relative paths), by definition:

    * the page's own files (everything copied from site/),
    * the Pyodide core files and the site lock,
    * the bundle of the closure of APP_PACKAGES and KERNEL_PACKAGES (buildsite/bundle.py),
    * the vendor files the page names in src=/href= (BokehJS, panel.min.js, ...), Panel's
      component stylesheets (css/) and its default design's (bundled/theme/native.css and
      default.css), and the Tabler woff2 font;
    * and plotly.js, which the page loads only when it first draws a plotly chart, but which
      the service worker keeps with the rest so that charts draw offline too.
    """
    files = set()
    for p in paths.SITE_SRC.rglob("*"):
        if p.is_file():
            files.add(p.relative_to(paths.SITE_SRC).as_posix())
    files |= {f"pyodide/{n}" for n in PYODIDE_CORE} | {"pyodide/pyodide-lock.json", BUNDLE_FILE, INDEX_FILE}
    index = out / "index.html"
    if index.exists():
        for m in re.finditer(r"""\b(?:src|href)\s*=\s*["']([^"'#?]+)""", index.read_text("utf-8", "replace")):
            ref = m.group(1)
            if not re.match(r"^[a-z]+:", ref) and (out / ref).is_file():
                files.add(PurePosixPath(ref).as_posix().lstrip("./"))
    for p in (out / "vendor" / "panel").rglob("*.css"):
        if "/dist/css/" in p.as_posix() or p.as_posix().endswith(("/bundled/theme/native.css", "/bundled/theme/default.css")):
            files.add(p.relative_to(out).as_posix())
    files.add("vendor/tabler-icons/fonts/tabler-icons.woff2")
    files.add("vendor/tabler-icons/tabler-icons.min.css")
    files.add(PLOTLY_JS)
    return sorted(f for f in files if (out / f).is_file())
