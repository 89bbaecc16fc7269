"""Loading, in Pyodide, the site packages that reading the person's files takes.

The kernel worker loads the packages a cell's own code imports; the readers here import
theirs inside functions, where it cannot see them, so a scan asks for them first.
"""

from __future__ import annotations

import os
import sys

from ._detect import SAMPLE_BYTES, kind_of, read_sample
from ._scan import files

#: Kind (or format) -> the modules its reader imports.
READER_MODULES = {
    "csv": ("pandas", "charset_normalizer"), "tsv": ("pandas", "charset_normalizer"),
    "json": ("pandas", "charset_normalizer"), "jsonl": ("pandas", "charset_normalizer"),
    "text": ("charset_normalizer",), "parquet": ("pandas", "pyarrow"), "sqlite": ("pandas", "sqlite3"),
    "image": ("PIL",), "xlsx": ("pandas", "openpyxl"), "xls": ("pandas", "xlrd"),
}


def reader_modules(root: str | os.PathLike[str] = "/data", *, max_files: int = 50) -> list[str]:
    """The modules the readers of the files under ``root`` import."""
    wanted: set[str] = set()
    for path in files(root, max_files):
        try:
            kind, fmt = kind_of(path, read_sample(path, SAMPLE_BYTES))
        except OSError:
            continue
        wanted.update(READER_MODULES.get(fmt or "", READER_MODULES.get(kind, ())))
    return sorted(wanted)


async def load_readers(root: str | os.PathLike[str] = "/data", *, max_files: int = 50) -> None:
    """Load the site packages those modules come from (nothing to do outside Pyodide, and
    modules the site does not ship are left for the readers to explain)."""
    modules = [m for m in reader_modules(root, max_files=max_files) if m not in sys.modules]
    if modules and sys.platform == "emscripten":
        import pyodide_js

        await pyodide_js.loadPackagesFromImports("\n".join(f"import {m}" for m in modules))
