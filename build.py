#!/usr/bin/env python3
"""Assemble the Localyst static site into ``_site/`` (and serve it): the entry point of
the build, which lives in buildsite/ (its commands: buildsite/cli.py).

    python3 build.py                     build into _site/ (downloads what the cache lacks)
    python3 build.py --offline           build from the download cache only
    python3 build.py --out DIR           build somewhere else
    python3 build.py serve [--port 8000] [--host 127.0.0.1]
                                         build if needed, then serve the output folder

Build dependencies: the ``build`` extra of pyproject.toml (``packaging``, ``pyodide-lock``).
"""

import sys
import tomllib
from pathlib import Path

try:
    from buildsite.cli import main
except ModuleNotFoundError as exc:  # a Python without the build's dependencies
    if (exc.name or "").partition(".")[0] == "buildsite":
        raise
    with open(Path(__file__).resolve().parent / "pyproject.toml", "rb") as fh:
        needs = tomllib.load(fh)["project"]["optional-dependencies"]["build"]
    sys.exit(f"build.py needs {exc.name}: python3 -m pip install " + " ".join(f"'{n}'" for n in needs))

if __name__ == "__main__":
    sys.exit(main())
