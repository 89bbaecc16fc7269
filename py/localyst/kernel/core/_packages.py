"""Which packages a cell needs, so the worker can load the ones the site ships first."""

from __future__ import annotations

import ast
import importlib.util
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any


def imports_of(code: str) -> set[str]:
    """Top-level names of the modules `code` imports anywhere (`import a.b` gives "a").

    Relative imports are the person's own modules, not packages; code that does not
    parse imports nothing (running it will report the syntax error).
    """
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return set()
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.partition(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.partition(".")[0])
    return names


#: Modules that pandas imports only inside a reader or writer: code calling one of these
#: needs them loaded without ever importing them itself.
IMPLIED_BY_CALLS = {
    "read_excel": ("openpyxl", "xlrd"),
    "to_excel": ("openpyxl",),
    "ExcelFile": ("openpyxl", "xlrd"),
    "ExcelWriter": ("openpyxl",),
    "read_parquet": ("pyarrow",),
    "to_parquet": ("pyarrow",),
    "read_feather": ("pyarrow",),
    "read_sql": ("sqlite3",),
    "to_sql": ("sqlite3",),
}


def implied_modules(code: str) -> set[str]:
    """Modules the pandas calls in ``code`` import behind its back."""
    found: set[str] = set()
    for call, modules in IMPLIED_BY_CALLS.items():
        if call in code:
            found.update(modules)
    return found


@dataclass(frozen=True)
class MissingModules:
    """`packages`: site packages to load before running; `unknown`: modules nobody provides."""

    packages: list[str]
    unknown: list[str]


def missing_modules(code: str, available: Mapping[str, str]) -> MissingModules:
    """Sort the modules `code` imports that are not importable yet.

    `available` maps import names to the names of the packages the site ships
    (`{"sklearn": "scikit-learn", "PIL": "pillow", ...}`, from pyodide-lock.json).
    """
    packages: set[str] = set()
    unknown: set[str] = set()
    implied = implied_modules(code)
    for name in imports_of(code) | implied:
        if name in sys.modules or importlib.util.find_spec(name) is not None:
            continue
        if name in available:
            packages.add(available[name])
        elif name not in implied:  # an optional reader the site lacks: pandas will say so
            unknown.add(name)
    return MissingModules(sorted(packages), sorted(unknown))


def unavailable_message(module: str, available_packages: Iterable[str]) -> str:
    """The explanation given (to the person and the model) for a module the site lacks."""
    names = ", ".join(sorted(set(available_packages), key=str.lower)) or "the standard library only"
    return (
        f"No module named '{module}'. This browser kernel can use: {names}; "
        "it cannot install packages from the internet."
    )


def importable_packages(lock: Mapping[str, Any]) -> dict[str, str]:
    """Import name -> package name for every entry of a pyodide-lock.json that has imports
    (packages, and standard-library modules Pyodide ships apart, such as sqlite3).

    localyst itself is left out: it is the kernel, already loaded.
    """
    available: dict[str, str] = {}
    for name, entry in lock["packages"].items():
        if name != "localyst":
            for module in entry["imports"]:
                available[module] = name
    return available
