"""Wheels the build makes from source: pure wheels from the pinned sdists of MarkupSafe
and PyYAML (PyPI has no pure wheel of either), and the localyst wheel from py/localyst/."""

from __future__ import annotations

import re
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from . import BuildError, paths
from .fetch import Artifact
from .files import tar_members
from .wheels import WheelInfo, parse_metadata, read_wheel, write_wheel

#: What the ``localyst`` wheel needs in the browser (site-lock names).
LOCALYST_DEPENDS = ["panel", "bokeh", "openai", "httpx2", "httpx2-jsfetch", "jiter-pupy", "pydantic", "ssl"]


def repack_sdist(sdist: Path, art: Artifact, out_dir: Path) -> WheelInfo:
    """Build a pure-Python wheel from a pinned sdist (MarkupSafe, PyYAML).

    Only the import package's .py files (and py.typed / .pyi) are taken: both projects fall
    back to pure Python when their C accelerator (_speedups / _yaml) cannot be imported.
    """
    members = tar_members(sdist)
    root = sorted({n.split("/", 1)[0] for n in members})[0]
    pkginfo = members[f"{root}/PKG-INFO"].decode("utf-8")
    meta = parse_metadata(pkginfo)
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
    return read_wheel(out_dir / file_name)


def build_localyst_wheel(out_dir: Path) -> WheelInfo:
    """The localyst wheel from py/localyst/: every file except caches and compiled files.
    Its requirements are LOCALYST_DEPENDS (the wheel itself declares none)."""
    version = paths.pyproject_version()
    files = {}
    for p in sorted(paths.PY_SRC.rglob("*")):
        if not p.is_file():
            continue
        rel = p.relative_to(paths.PY_SRC.parent).as_posix()
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
    info = read_wheel(out_dir / file_name)
    info.requires = [Requirement(d) for d in LOCALYST_DEPENDS]
    return info
