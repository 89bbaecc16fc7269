"""build.py: pins and verification, the site lock, the outside-reference scan,
reproducibility, and the development server.

The first build of a session uses the normal download cache ($LOCALYST_CACHE or
~/.cache/localyst) and may download (~100 MB from PyPI and npm on an empty cache); every
other build here runs --offline from that cache (or from a tampered copy of it).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import subprocess
import sys
import threading
import urllib.request
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from buildsite import BuildError, bytecode, paths  # noqa: E402
from buildsite.assemble import build  # noqa: E402
from buildsite.bundle import BUNDLE_FILE, BUNDLE_ROOT, FONT_CACHE_VERSIONS, INDEX_FILE, SHARED_LIBS, left_out  # noqa: E402
from buildsite.fetch import cache_dir  # noqa: E402
from buildsite.lock import closure  # noqa: E402
from buildsite.official import PYODIDE_CORE  # noqa: E402
from buildsite.paths import pyproject_version  # noqa: E402
from buildsite.pins import load_pins  # noqa: E402
from buildsite.precache import APP_PACKAGES, BUILD_ID_TOKEN, PRECACHE_FILE, starting_packages, startup_files  # noqa: E402
from buildsite.scan import TEXT_SUFFIXES, scan_site  # noqa: E402
from buildsite.serve import make_server  # noqa: E402
from buildsite.sources import LOCALYST_DEPENDS  # noqa: E402
from buildsite.vendor import BOKEH_JS, PLOTLY_JS, PLOTLY_REWRITES  # noqa: E402
from packaging.utils import canonicalize_name  # noqa: E402
from pyodide_lock import PyodideLockSpec  # noqa: E402


def run_build(out: Path, *args: str, cache: Path | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    if cache is not None:
        env["LOCALYST_CACHE"] = str(cache)
    return subprocess.run([sys.executable, str(REPO / "build.py"), "--out", str(out), *args],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=900)


def tree(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """One build with the normal cache (downloads what is missing)."""
    out = tmp_path_factory.mktemp("build") / "site"
    r = run_build(out)
    assert r.returncode == 0, r.stdout + r.stderr
    return out


@pytest.fixture(scope="module")
def site_lock(site) -> dict:
    return json.loads((site / "pyodide" / "pyodide-lock.json").read_text())


@pytest.fixture(scope="module")
def official_lock() -> dict:
    import tarfile
    pins = load_pins()
    tgz = cache_dir() / "downloads" / pins.pyodide.file
    with tarfile.open(tgz) as tf:
        return json.load(tf.extractfile("package/pyodide-lock.json"))


@pytest.fixture()
def cache_copy(site, tmp_path) -> Path:
    """A copy of the (warm) download cache made of hard links (or copies): tamper with a file
    only through ``replace_with_tampered`` so the real cache is never written through."""
    src, dst = cache_dir(), tmp_path / "cache"
    for p in sorted(src.rglob("*")):
        if p.is_file() and ".part-" not in p.name and not p.name.endswith(".rejected"):
            target = dst / p.relative_to(src)
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(p, target)
            except OSError:
                shutil.copy2(p, target)
    return dst


def replace_with_tampered(path: Path, offset: int = 1000) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0xFF
    path.unlink()                  # break the hard link first
    path.write_bytes(bytes(data))


# ---------------------------------------------------------------------------------------
# verification
# ---------------------------------------------------------------------------------------

def test_tampered_official_wheel_is_refused(cache_copy, tmp_path):
    pins = load_pins()
    name = next(f for f in pins.official_files if f.startswith("six-"))
    target = cache_copy / "official" / f"pyodide-{pins.pyodide.version}" / name
    assert target.exists()
    replace_with_tampered(target)
    r = run_build(tmp_path / "site", "--offline", cache=cache_copy)
    assert r.returncode != 0
    assert name in r.stderr and "official pyodide-lock.json" in r.stderr, r.stderr
    assert not (tmp_path / "site").exists(), "a failed build must not leave an output folder"


def test_tampered_pypi_wheel_is_refused(cache_copy, tmp_path):
    pins = load_pins()
    art = next(w for w in pins.wheels if w.name == "sniffio")
    replace_with_tampered(cache_copy / "downloads" / art.file)
    r = run_build(tmp_path / "site", "--offline", cache=cache_copy)
    assert r.returncode != 0
    assert art.file in r.stderr and "pins.toml" in r.stderr, r.stderr


def test_tampered_npm_tarball_is_refused(cache_copy, tmp_path):
    pins = load_pins()
    replace_with_tampered(cache_copy / "downloads" / pins.tabler.file, offset=5000)
    r = run_build(tmp_path / "site", "--offline", cache=cache_copy)
    assert r.returncode != 0
    assert pins.tabler.file in r.stderr, r.stderr


def test_offline_names_the_missing_artifact(cache_copy, tmp_path):
    pins = load_pins()
    art = next(w for w in pins.wheels if w.name == "idna")
    (cache_copy / "downloads" / art.file).unlink()
    r = run_build(tmp_path / "site", "--offline", cache=cache_copy)
    assert r.returncode != 0
    assert art.file in r.stderr and "--offline" in r.stderr, r.stderr


def test_every_pin_is_complete():
    pins = load_pins()
    arts = [pins.pyodide, pins.provisa, pins.tabler, pins.plotly_js, pins.wllama, *pins.wheels, *pins.sdists]
    for a in arts:
        assert a.name and a.version and a.url.startswith("https://") and len(a.sha256) == 64, a
    assert set(pins.pyodide_files) == set(PYODIDE_CORE)
    assert len(pins.official_files) == 38
    names = [canonicalize_name(w.name) for w in pins.wheels]
    assert len(names) == len(set(names))
    assert "httpx2-jsfetch" in names and "jiter-pupy" in names
    jsfetch = next(w for w in pins.wheels if w.name == "httpx2-jsfetch")
    assert jsfetch.version != "0.0.0"
    pydantic = next(w for w in pins.wheels if w.name == "pydantic")
    assert pydantic.version.startswith("1.10.")


# ---------------------------------------------------------------------------------------
# the output
# ---------------------------------------------------------------------------------------

def test_layout(site):
    for n in PYODIDE_CORE + ["pyodide-lock.json"]:
        assert (site / "pyodide" / n).is_file(), n
    for n in BOKEH_JS:
        assert (site / "vendor" / "bokeh" / n).is_file(), n
    dist = site / "vendor" / "panel" / "1.8.10" / "dist"
    assert (dist / "panel.min.js").is_file()
    assert (dist / "css" / "chat_interface.css").is_file()
    assert (dist / "bundled" / "theme" / "default.css").is_file()
    assert (dist / "bundled" / "datatabulator" / "tabulator-tables@6.3.1" / "dist" / "js" / "tabulator.min.js").is_file()
    assert (dist / "bundled" / "datatabulator" / "luxon" / "build" / "global" / "luxon.min.js").is_file()
    assert (site / "vendor" / "tabler-icons" / "fonts" / "tabler-icons.woff2").is_file()
    for p in (REPO / "site").rglob("*"):
        if p.is_file():
            assert (site / p.relative_to(REPO / "site")).is_file(), p
    assert not list(site.rglob("*.map")), "source maps are not shipped"


def test_bokeh_points_at_the_site(site):
    js = (site / "vendor" / "bokeh" / "bokeh.min.js").read_text()
    assert "cdn.jsdelivr.net" not in js
    assert 'url("${o._url}/fonts/tabler-icons.woff2")' in js or "/fonts/tabler-icons.woff2" in js
    assert '"vendor/tabler-icons"' in js
    assert "Tabler Icons 1.68.0" in js


def test_plotly_js_is_the_one_the_plotly_wheel_expects_served_from_the_site(site):
    """The pinned plotly.js is the version the pinned plotly wheel was made for; the site
    serves it with its CDN addresses rewritten, and keeps it for offline use."""
    from tools.update_pins import plotly_js_version

    pins = load_pins()
    plotly = next(w for w in pins.wheels if w.name == "plotly")
    assert pins.plotly_js.name == "plotly.js-dist-min"
    assert plotly_js_version(cache_dir() / "downloads" / plotly.file) == pins.plotly_js.version
    js = (site / PLOTLY_JS).read_text()
    assert f"v{pins.plotly_js.version}" in js[:400]
    for old, new in PLOTLY_REWRITES:
        assert old not in js and new in js
    precache = json.loads((site / PRECACHE_FILE).read_text())["precache"]
    assert PLOTLY_JS in precache
    assert "plotly" not in (site / "index.html").read_text(), "the page must not load plotly.js at start-up"
    with zipfile.ZipFile(site / "pyodide" / plotly.file) as shipped:
        names = shipped.namelist()
    assert "plotly/package_data/plotly.min.js" in names and "plotly/express/__init__.py" in names
    assert not [n for n in names if "labextension" in n or "widgetbundle" in n], "plotly's JupyterLab extension is shipped"


def test_wllama_is_vendored_to_run_in_a_worker_and_reach_no_model_hub(site):
    folder = site / "vendor" / "wllama"
    js = (folder / "index.js").read_text()
    assert "huggingface.co" not in js and "document.baseURI" not in js
    assert "new URL(relativePath, self.location.href)" in js
    for build in ("single-thread", "multi-thread"):
        assert (folder / build / "wllama.wasm").read_bytes()[:4] == b"\0asm", build


def test_build_id_is_filled_in(site):
    for p in site.rglob("*"):
        if p.is_file() and p.suffix in TEXT_SUFFIXES:
            assert BUILD_ID_TOKEN not in p.read_text("utf-8", "replace"), p
    templated = [p for p in (REPO / "site").rglob("*") if p.is_file() and BUILD_ID_TOKEN.encode() in p.read_bytes()]
    if templated:
        rel = templated[0].relative_to(REPO / "site")
        before, _, after = templated[0].read_text().partition(BUILD_ID_TOKEN)
        text = (site / rel).read_text()
        assert text.startswith(before)
        build_id = text[len(before):len(text) - len(after)]
        assert len(build_id) == 12 and all(c in "0123456789abcdef" for c in build_id)


def test_precache_manifest(site, site_lock):
    """precache.json: the first visit's files, and the size and sha256 of every file, with
    paths relative to the site (it may be served under a sub-path)."""
    manifest = json.loads((site / PRECACHE_FILE).read_text())
    hashes = tree(site)
    del hashes[PRECACHE_FILE]
    assert manifest["files"] == {rel: {"size": (site / rel).stat().st_size, "sha256": digest} for rel, digest in hashes.items()}
    precache = manifest["precache"]
    assert precache == startup_files(site, PyodideLockSpec(**site_lock))
    assert set(precache) <= set(manifest["files"]) and PRECACHE_FILE not in precache
    wheel = lambda name: "pyodide/" + site_lock["packages"][name]["file_name"]  # noqa: E731
    for path in ["index.html", "loader.js", "sw.js", "boot.js", "snapshot-worker.js", "manifest.webmanifest", "icon.svg",
                 "icon-maskable.svg", "pyodide/pyodide.asm.wasm", "pyodide/pyodide-lock.json", BUNDLE_FILE, INDEX_FILE]:
        assert path in precache, path
    assert wheel("numpy") not in precache, "the packages a visit starts with come in the bundle"
    assert wheel("scipy") not in precache, "packages a cell loads on demand are kept when first used"
    # the service worker, the page and the workers' boot are of the build the manifest names
    for name in ("sw.js", "loader.js", "boot.js"):
        assert f'"{manifest["build"]}"' in (site / name).read_text(), name


def test_the_bundle_holds_the_starting_packages_as_their_wheels_do(site, site_lock):
    """pyodide/bundle.gz: every file of every starting package's wheel, byte for byte (but
    tests, sample data, Panel's JavaScript and the relabelled font cache), where its index says; each worker's
    extension modules, every one of its packages', a package's after its dependencies'."""
    index = json.loads((site / INDEX_FILE).read_text())
    data = gzip.decompress((site / BUNDLE_FILE).read_bytes())
    assert len(data) == index["size"] and hashlib.sha256(data).hexdigest() == index["sha256"]
    assert index["root"] == BUNDLE_ROOT
    lock = PyodideLockSpec(**site_lock)
    assert sorted(index["packages"]) == starting_packages(lock)
    files = {path: data[offset:offset + size] for path, offset, size in index["files"]}
    assert len(files) == len(index["files"]), "a path twice"
    owner = {}
    for name in index["packages"]:
        spec = lock.packages[name]
        with zipfile.ZipFile(site / "pyodide" / spec.file_name) as wheel:
            for info in wheel.infolist():
                if info.is_dir():
                    continue
                path = f"{SHARED_LIBS}/{Path(info.filename).name}" if spec.install_dir == "dynlib" else info.filename
                owner[path] = name
                if left_out(info.filename):
                    assert path not in files, path
                elif path == "matplotlib/fontlist.json":
                    cache = json.loads(files[path])
                    assert cache["_version"] == FONT_CACHE_VERSIONS[spec.version]
                    assert cache["ttflist"] == json.loads(wheel.read(info))["ttflist"]
                else:
                    assert files[path] == wheel.read(info), path
    assert set(files) <= set(owner)
    for gone in ("pandas/tests/__init__.pyc", "numpy/__init__.pyi", "panel/dist/panel.json", "numpy/_core/include/numpy/ndarrayobject.h"):
        assert left_out(gone) and gone not in files, gone
    for kept in ("matplotlib/mpl-data/fonts/ttf/DejaVuSans.ttf", "panel/dist/css/chat_message.css", "bokeh/core/_templates/file.html"):
        assert kept in files, kept
    app, kernel = (index["workers"][w]["dynlibs"] for w in ("app", "kernel"))
    assert set(kernel) == {p for p in files if p.endswith(".so") and owner[p] in set(closure(lock.packages, ["numpy", "pandas", "matplotlib"])) | {"localyst"}}
    assert set(app) == {p for p in files if p.endswith(".so") and owner[p] in closure(lock.packages, APP_PACKAGES)}
    for libs in (app, kernel):
        first = {owner[p]: i for i, p in reversed(list(enumerate(libs)))}
        for name, at in first.items():
            assert all(first[d] < at for d in lock.packages[name].depends if d in first), name
    assert app.index(f"{SHARED_LIBS}/libssl.so") < next(i for i, p in enumerate(app) if p.startswith("_ssl"))


def test_web_app_manifest(site):
    manifest = json.loads((site / "manifest.webmanifest").read_text())
    assert manifest["start_url"] == manifest["scope"] == "./" and manifest["display"] == "standalone"
    style = (site / "style.css").read_text()
    assert manifest["theme_color"] in style and manifest["background_color"] in style
    assert {icon["purpose"] for icon in manifest["icons"]} == {"any", "maskable"}
    for icon in manifest["icons"]:
        assert ":" not in icon["src"] and not icon["src"].startswith("/") and (site / icon["src"]).is_file(), icon
    head = (site / "index.html").read_text().split("</head>")[0]
    assert '<link rel="manifest" href="manifest.webmanifest">' in head
    assert f'<meta name="theme-color" content="{manifest["theme_color"]}">' in head


def test_no_outside_reference_in_the_output(site):
    assert scan_site(site) == []


def test_scanner_catches_injected_loads(tmp_path):
    (tmp_path / "a.html").write_text('<html><script src="https://cdn.jsdelivr.net/npm/x.js"></script></html>')
    (tmp_path / "b.css").write_text('@import url(https://example.org/theme.css);\nbody{color:red}')
    (tmp_path / "c.js").write_text('importScripts("https://example.org/w.js");')
    (tmp_path / "d.html").write_text('<link rel="stylesheet" href="//example.org/x.css">')
    (tmp_path / "e.css").write_text('@font-face{src:url("https://example.org/f.woff2")}')
    (tmp_path / "f.js").write_text('const s=document.createElement("script");s.src=`https://example.org/${v}.js`;')
    found = scan_site(tmp_path)
    files = {f.path for f in found}
    assert files == {"a.html", "b.css", "c.js", "d.html", "e.css", "f.js"}, found
    assert any("cdn.jsdelivr.net" in f.rule for f in found if f.path == "a.html")
    assert all(str(f).startswith(f.path + ": ") for f in found)   # reports file and offending text
    assert any("example.org/theme.css" in str(f) for f in found if f.path == "b.css")


def test_scanner_ignores_what_is_not_a_load(tmp_path):
    (tmp_path / "lib.js").write_text(
        '/*! lib v1 | (c) x | https://github.com/x/lib/blob/main/LICENSE */\n'
        'const ns="http://www.w3.org/2000/svg";throw new Error("see https://docs.bokeh.org/en/latest/");\n'
        'el.style.background=`url("data:image/svg+xml,%3Csvg xmlns=\'http://www.w3.org/2000/svg\'%3E")`;\n'
        'a.href="vendor/x.css";import("./local.js");')
    (tmp_path / "s.css").write_text('a{mask-image:url("data:image/svg+xml;utf8,<svg xmlns=\'http://www.w3.org/2000/svg\'/>")}'
                                    '@import url("chat_feed.css");')
    assert scan_site(tmp_path) == []


def test_build_refuses_an_outside_reference_in_site(tmp_path, monkeypatch, site):
    shell = tmp_path / "shell"
    shutil.copytree(REPO / "site", shell)
    (shell / "extra.html").write_text('<!doctype html><script src="https://unpkg.com/x@1/x.js"></script>')
    monkeypatch.setattr(paths, "SITE_SRC", shell)
    with pytest.raises(BuildError) as exc:
        build(tmp_path / "out", offline=True)
    assert "extra.html" in str(exc.value) and "unpkg.com" in str(exc.value)


def test_second_offline_build_is_identical(site, tmp_path, monkeypatch):
    # Build twice from one snapshot of site/ and py/localyst/, so that someone editing the
    # working tree meanwhile cannot make the two differ.
    shutil.copytree(REPO / "site", tmp_path / "snap" / "site")
    shutil.copytree(REPO / "py" / "localyst", tmp_path / "snap" / "localyst",
                    ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(paths, "SITE_SRC", tmp_path / "snap" / "site")
    monkeypatch.setattr(paths, "PY_SRC", tmp_path / "snap" / "localyst")
    build(tmp_path / "one", offline=True)
    build(tmp_path / "two", offline=True)
    a, b = tree(tmp_path / "one"), tree(tmp_path / "two")
    assert a.keys() == b.keys()
    assert [k for k in a if a[k] != b[k]] == []
    generated = lambda t: {k for k in t if k.startswith(("pyodide/", "vendor/"))}  # noqa: E731
    assert generated(a) == generated(tree(site))


def test_without_node_the_build_ships_sources_and_says_so(cache_copy, tmp_path, monkeypatch, capsys):
    shutil.rmtree(cache_copy / "bytecode", ignore_errors=True)
    monkeypatch.setenv("LOCALYST_CACHE", str(cache_copy))
    monkeypatch.setattr(bytecode, "node", lambda: None)
    build(tmp_path / "site", offline=True)
    assert "skipped: Node.js is not installed" in capsys.readouterr().out
    panel = zipfile.ZipFile(next((tmp_path / "site" / "pyodide").glob("panel-*.whl")))
    assert "panel/__init__.py" in panel.namelist() and not [n for n in panel.namelist() if n.endswith(".pyc")]


def test_offline_cli_build(site, tmp_path):
    r = run_build(tmp_path / "site", "--offline")
    assert r.returncode == 0, r.stderr
    assert "first visit:" in r.stdout and "downloading" not in r.stdout
    assert (tmp_path / "site" / "index.html").is_file()


# ---------------------------------------------------------------------------------------
# the site lock
# ---------------------------------------------------------------------------------------

def test_site_lock_validates(site):
    spec = PyodideLockSpec.from_json(site / "pyodide" / "pyodide-lock.json")
    spec.check_wheel_filenames()
    assert spec.info.version == "0.27.7" and spec.info.python == "3.12.7"


def test_site_lock_is_closed_and_matches_the_files(site, site_lock):
    pk = site_lock["packages"]
    for key, e in pk.items():
        assert key == canonicalize_name(key)
        for d in e["depends"]:
            assert canonicalize_name(d) in pk, f"{key} -> {d}"
        f = site / "pyodide" / e["file_name"]
        assert f.is_file(), e["file_name"]
        assert hashlib.sha256(f.read_bytes()).hexdigest() == e["sha256"], e["file_name"]
    shipped = {p.name for p in (site / "pyodide").iterdir() if p.suffix in (".whl", ".zip")} - {"python_stdlib.zip"}
    assert shipped == {e["file_name"] for e in pk.values()}


def test_official_entries_are_copied_as_is(site_lock, official_lock):
    """As is, but for the sha256 of the wheels the build byte-compiled."""
    pins = load_pins()
    by_file = {e["file_name"]: (k, e) for k, e in official_lock["packages"].items()}
    compiled = set(starting_wheels(site_lock))
    for f in pins.official_files:
        key, entry = by_file[f]
        if key in compiled:
            assert site_lock["packages"][key] == {**entry, "sha256": site_lock["packages"][key]["sha256"]}
            assert site_lock["packages"][key]["sha256"] != entry["sha256"]
        else:
            assert site_lock["packages"][key] == entry
    assert site_lock["info"] == official_lock["info"]
    for k in ("numpy", "pandas", "matplotlib", "scipy", "scikit-learn", "pillow", "pyarrow", "ssl", "micropip"):
        assert k in site_lock["packages"]


def test_added_entries(site_lock):
    pk = site_lock["packages"]
    loc = pk["localyst"]
    assert loc["file_name"] == f"localyst-{pyproject_version()}-py3-none-any.whl"
    assert set(loc["depends"]) == set(LOCALYST_DEPENDS)
    assert loc["imports"] == ["localyst"]
    assert "jiter-pupy" in pk["openai"]["depends"] and "jiter" not in pk
    assert pk["jiter-pupy"]["imports"] == ["jiter"]
    assert "httpx2-jsfetch" in pk["httpx2"]["depends"]
    assert "tornado" not in pk and "tornado" not in pk["bokeh"]["depends"]
    assert pk["pydantic"]["version"].startswith("1.10.")
    assert pk["markupsafe"]["file_name"].endswith("-py3-none-any.whl")
    assert pk["pyyaml"]["imports"] == ["yaml"]
    for e in pk.values():
        if e["install_dir"] == "site" and e["package_type"] == "package":
            assert e["imports"], e["name"]


def test_app_closure(site_lock):
    names = closure(PyodideLockSpec(**site_lock).packages, APP_PACKAGES)
    for n in ("localyst", "panel", "bokeh", "openai", "httpx2", "httpx2-jsfetch", "jiter-pupy", "pydantic",
              "ssl", "openssl", "numpy", "pandas", "markupsafe", "pyyaml", "typing-extensions"):
        assert n in names
    assert "scipy" not in names and "pyarrow" not in names


# ---------------------------------------------------------------------------------------
# wheels the build writes
# ---------------------------------------------------------------------------------------

def _check_record(whl: Path) -> zipfile.ZipFile:
    import base64
    import csv
    import io
    zf = zipfile.ZipFile(whl)
    record = next(n for n in zf.namelist() if n.count("/") == 1 and n.endswith(".dist-info/RECORD"))  # not a vendored one
    rows = list(csv.reader(io.StringIO(zf.read(record).decode())))
    listed = {r[0] for r in rows}
    assert listed == set(zf.namelist())
    for name, digest, size in rows:
        if name == record:
            continue
        data = zf.read(name)
        assert digest == "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        assert int(size) == len(data)
    assert all(i.date_time == (1980, 1, 1, 0, 0, 0) for i in zf.infolist())
    return zf


@pytest.mark.parametrize("prefix", ["markupsafe-", "pyyaml-"])
def test_repacked_sdists_are_pure(site, prefix):
    """Pure Python (they work in Pyodide: see the Node smoke test below)."""
    whl = next((site / "pyodide").glob(prefix + "*-py3-none-any.whl"))
    zf = _check_record(whl)
    assert not [n for n in zf.namelist() if n.endswith((".c", ".so", ".pyx", ".pyd"))]


def starting_wheels(lock: dict) -> list[str]:
    """The packages a visit loads at once (the app's and the kernel's warm-up closure)."""
    names = starting_packages(PyodideLockSpec(**lock))
    return [n for n in names if lock["packages"][n]["file_name"].endswith(".whl")]


def test_the_wheels_a_visit_starts_with_ship_bytecode(site, site_lock):
    """Modules as hash-based .pyc for Pyodide's Python 3.12 (its magic number), sources
    gone but for localyst's own, which keeps them beside its __pycache__."""
    magic_312 = (3531).to_bytes(2, "little") + b"\r\n"
    for name in starting_wheels(site_lock):
        zf = _check_record(site / "pyodide" / site_lock["packages"][name]["file_name"])
        names = zf.namelist()
        pycs = [n for n in names if n.endswith(".pyc")]
        assert pycs or not [n for n in names if n.endswith(".py")], name
        for n in pycs[:20]:
            header = zf.read(n)[:8]
            assert header[:4] == magic_312 and int.from_bytes(header[4:], "little") == 0b01, (name, n)
        if name == "localyst":
            assert "localyst/__init__.py" in names and "localyst/__pycache__/__init__.cpython-312.pyc" in names
        else:
            assert [n for n in names if n.endswith(".py")] == [], name


def test_localyst_and_slim_wheels(site):
    zf = _check_record(site / "pyodide" / f"localyst-{pyproject_version()}-py3-none-any.whl")
    assert "localyst/__init__.py" in zf.namelist()
    panel = _check_record(next((site / "pyodide").glob("panel-*.whl")))
    assert "panel/__init__.pyc" in panel.namelist()
    assert not [n for n in panel.namelist() if n.startswith("panel/dist/bundled/")]
    bokeh = _check_record(next((site / "pyodide").glob("bokeh-*.whl")))
    assert "bokeh/__init__.pyc" in bokeh.namelist()
    assert not [n for n in bokeh.namelist() if n.endswith(".js") and "_templates" not in n]


# ---------------------------------------------------------------------------------------
# serving
# ---------------------------------------------------------------------------------------

def test_server_mime_types(site):
    server = make_server(site, "127.0.0.1", 0)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    try:
        base = "http://127.0.0.1:%d/" % server.server_address[1]
        some_whl = next((site / "pyodide").glob("*.whl")).name
        expect = {
            "": "text/html",
            "index.html": "text/html",
            "pyodide/pyodide.asm.wasm": "application/wasm",
            "pyodide/pyodide.js": "text/javascript",
            "pyodide/pyodide.mjs": "text/javascript",
            "pyodide/pyodide-lock.json": "application/json",
            f"pyodide/{some_whl}": "application/zip",
            "pyodide/python_stdlib.zip": "application/zip",
            "vendor/panel/1.8.10/dist/css/chat_interface.css": "text/css",
            "vendor/tabler-icons/fonts/tabler-icons.woff2": "font/woff2",
        }
        for path, ctype in expect.items():
            with urllib.request.urlopen(base + path, timeout=10) as resp:
                assert resp.status == 200
                assert resp.headers["Content-Type"].split(";")[0] == ctype, path
                if path == "pyodide/pyodide.asm.wasm":
                    assert resp.read(4) == b"\0asm"
    finally:
        server.shutdown()
        server.server_close()


# ---------------------------------------------------------------------------------------
# the lock in the real runtime
# ---------------------------------------------------------------------------------------

NODE_SMOKE = r"""
// Panel imports js.XMLHttpRequest at import time; Node has none (browsers and workers do).
globalThis.XMLHttpRequest = class {};
const { loadPyodide } = await import(process.argv[2] + "/pyodide.mjs");
const py = await loadPyodide({ indexURL: process.argv[2] + "/", lockFileURL: process.argv[2] + "/pyodide-lock.json" });
const errors = [];
await py.loadPackage(["localyst"], { messageCallback: () => {}, errorCallback: (m) => errors.push(m) });
if (errors.length) { console.error(errors.join("\n")); process.exit(2); }
console.log(await py.runPythonAsync(`
import pyodide.ffi
pyodide.ffi.jsnull = getattr(pyodide.ffi, "jsnull", object())
import importlib
for m in ["localyst", "panel", "bokeh", "openai", "httpx2", "httpx2_jsfetch", "jiter", "pydantic",
          "markupsafe", "yaml", "jinja2", "ssl", "pandas"]:
    importlib.import_module(m)
import panel as pn, openai, pydantic, markupsafe, yaml, localyst, importlib.util
import markupsafe._native
assert pydantic.VERSION.startswith("1.10."), pydantic.VERSION
assert str(markupsafe.escape("<b>")) == "&lt;b&gt;" and yaml.safe_load("a: 1") == {"a": 1}
assert not yaml.__with_libyaml__
assert pn.__file__.endswith("__init__.pyc") and localyst.__file__.endswith("__init__.py")
assert open(localyst.__cached__, "rb").read(4) == importlib.util.MAGIC_NUMBER
pn.chat.ChatInterface()
"ok " + openai.__version__
`));
"""


@pytest.mark.pyodide
@pytest.mark.skipif(shutil.which("node") is None, reason="needs Node.js")
def test_app_closure_installs_and_imports_in_pyodide(site, tmp_path):
    """loadPackage(["localyst"]) from the site lock alone, in Pyodide 0.27.7 under Node:
    every file is found locally (a miss would try the CDN and fail: no network here)."""
    script = tmp_path / "smoke.mjs"
    script.write_text(NODE_SMOKE)
    r = subprocess.run(["node", str(script), str(site / "pyodide")], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert "ok 3." in r.stdout
