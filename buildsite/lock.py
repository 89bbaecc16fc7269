"""The site lock (pyodide/pyodide-lock.json), through pyodide-lock's own models: the
official entries as Pyodide ships them plus an entry for every wheel the build adds,
checked closed and checked against every added wheel's requirements."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version
from pyodide_lock import PackageSpec, PyodideLockSpec

from . import BuildError
from .target import TARGET_PYTHON, active_requirements
from .wheels import WheelInfo


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


def closure(packages: Mapping[str, PackageSpec], roots: list[str]) -> list[str]:
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


def check_requirements(pk: Mapping[str, PackageSpec], infos: dict[str, WheelInfo], dep_map: dict[str, str]) -> dict[str, list[str]]:
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
