"""Byte-compiles every .py under /work for the Python that runs it: Pyodide's, when run
by tools/pyodide_run.mjs (see buildsite/bytecode.py).

Each ``/work/<wheel>/<path>.py`` gets ``<path>.pyc`` beside it: a hash-based pyc that is
not checked against a source (``py_compile``'s UNCHECKED_HASH), compiled under the name it
is installed as in site-packages, so tracebacks name the real file. A module that does not
compile (a template, a file for another Python) is left as it is.
"""

import py_compile
import sys
import sysconfig
from pathlib import Path

ROOT = Path("/work")
SITE_PACKAGES = sysconfig.get_paths()["purelib"]

compiled = skipped = 0
for source in sorted(ROOT.rglob("*.py")):
    installed = "/".join((SITE_PACKAGES, *source.relative_to(ROOT).parts[1:]))
    try:
        py_compile.compile(str(source), cfile=str(source.with_suffix(".pyc")), dfile=installed, doraise=True,
                           invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
    except py_compile.PyCompileError:
        skipped += 1
        continue
    compiled += 1
print(f"compiled {compiled} modules for Python {sys.version.split()[0]}; left {skipped} as source")
