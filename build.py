#!/usr/bin/env python3
"""Assemble the Localyst static site into ``_site/`` (and serve it): the entry point of
the build, which lives in buildsite/ (its commands: buildsite/cli.py).

    python3 build.py                     build into _site/ (downloads what the cache lacks)
    python3 build.py --offline           build from the download cache only
    python3 build.py --out DIR           build somewhere else
    python3 build.py serve [--port 8000] [--host 127.0.0.1]
                                         build if needed, then serve the output folder

Build dependencies: the ``build`` extra of pyproject.toml (``packaging``, ``pyodide-lock``).
A Python without them runs this again in the repository's ``.venv``, installing them there
first: the README's one command must work on a fresh machine, whose own Python may refuse
``pip install`` (PEP 668).
"""

import os
import subprocess
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent
VENV = REPO / ".venv"
AGAIN = "LOCALYST_BUILD_IN_VENV"  # set when this runs again in .venv: never a second time


def run_again_in_venv(missing: str) -> None:
    """Run this command in .venv, made and given the build extra first if need be."""
    python = VENV / "bin" / "python"
    if os.environ.get(AGAIN):
        sys.exit(f"build.py needs {missing}, which {VENV.name}/ still lacks after installing the build's dependencies")
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    if subprocess.run([str(python), "-c", "import buildsite.cli"], cwd=REPO, capture_output=True).returncode:
        with open(REPO / "pyproject.toml", "rb") as fh:
            needs = tomllib.load(fh)["project"]["optional-dependencies"]["build"]
        print(f"build.py needs {missing}: installing {', '.join(needs)} into {VENV.name}/", file=sys.stderr)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *needs], check=True)
    os.execve(python, [str(python), __file__, *sys.argv[1:]], {**os.environ, AGAIN: "1"})


try:
    from buildsite.cli import main
except ModuleNotFoundError as exc:  # a Python without the build's dependencies
    if (exc.name or "").partition(".")[0] == "buildsite":
        raise
    run_again_in_venv(exc.name or "a module")

if __name__ == "__main__":
    sys.exit(main())
