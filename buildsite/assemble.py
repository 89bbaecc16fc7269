"""The build itself: each step in order, into a staging folder that replaces the output
only once every step and check has passed (a failed build leaves no output folder)."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

from pyodide_lock import PackageSpec, PyodideLockSpec

from . import BuildError, log
from .bundle import write_bundle, worker_packages
from .bytecode import byte_compile
from .fetch import fetch
from .files import sha256_bytes, sha256_file, write_file
from .lock import check_lock, check_requirements, closure, lock_entry, write_lock
from .official import load_pyodide, official_files
from .pins import Pins, load_pins
from .precache import APP_PACKAGES, KERNEL_PACKAGES, copy_site, starting_packages, startup_files
from .scan import scan_site
from .sources import build_localyst_wheel, repack_sdist
from .vendor import SLIM_WHEELS, vendor, vendor_wllama
from .wheels import WheelInfo, read_pinned_wheel, slim_wheel


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
        write_file(pyo / n, data)

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
        info = read_pinned_wheel(path, art)
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
        info = repack_sdist(fetch(art, offline), art, pyo)
        infos[info.name] = info
        shas[info.name] = sha256_file(pyo / info.file_name)

    log("localyst wheel")
    info = build_localyst_wheel(pyo)
    infos["localyst"] = info
    shas["localyst"] = sha256_file(pyo / info.file_name)

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
        starting = [n for n in starting_packages(lock) if lock.packages[n].file_name.endswith(".whl")]
        log("  " + byte_compile(pyo, lock.packages, starting, pins.pyodide.version))
        write_lock(lock, pyo / "pyodide-lock.json")

    log("the bundle both workers start with (pre-unpacked packages)")
    index = write_bundle(out, lock, worker_packages(lock, APP_PACKAGES, KERNEL_PACKAGES))
    log(f"  {len(index['packages'])} packages, {len(index['files'])} files, {index['size']:,} bytes inflated")

    log("vendor: BokehJS, Panel, Tabler icons, plotly.js, wllama")
    bokeh = wheel_paths.get("bokeh")
    panel = wheel_paths.get("panel")
    if not bokeh or not panel:
        raise BuildError("pins.toml must pin the bokeh and panel wheels (they provide BokehJS and Panel's JS/CSS)")
    vendor(out, bokeh, panel, infos["panel"].version, fetch(pins.tabler, offline), fetch(pins.plotly_js, offline))
    vendor_wllama(out, fetch(pins.wllama, offline))

    log("site/")
    copy_site(out, lock)

    findings = scan_site(out)
    if findings:
        raise BuildError("the output refers to outside origins:\n  " + "\n  ".join(map(str, findings)))

    return summarize(out, lock)


def summarize(out: Path, lock: PyodideLockSpec) -> dict:
    """Sizes of the whole site and of a first visit, for the build's last lines."""
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
