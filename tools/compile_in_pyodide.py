"""Byte-compiles every .py under /work for the Python that runs it: Pyodide's, when run
by tools/pyodide_run.mjs (see tools/bytecode.py).

Each ``/work/<wheel>/<path>.py`` gets ``<path>.pyc`` beside it: a hash-based pyc that is
not checked against a source, compiled under the name it is installed as in
site-packages, so tracebacks name the real file. A module that does not compile (a
template, a file for another Python) is left as it is.
"""

import importlib.util
import sys
import sysconfig
from importlib._bootstrap_external import _code_to_hash_pyc
from pathlib import Path

ROOT = Path("/work")
SITE_PACKAGES = sysconfig.get_paths()["purelib"]

compiled = skipped = 0
for source in sorted(ROOT.rglob("*.py")):
    data = source.read_bytes()
    installed = "/".join((SITE_PACKAGES, *source.relative_to(ROOT).parts[1:]))
    try:
        code = compile(data, installed, "exec", dont_inherit=True)
    except (SyntaxError, ValueError):
        skipped += 1
        continue
    source.with_suffix(".pyc").write_bytes(_code_to_hash_pyc(code, importlib.util.source_hash(data), checked=False))
    compiled += 1
print(f"compiled {compiled} modules for Python {sys.version.split()[0]}; left {skipped} as source")
