"""Where in the repository the build reads from and writes to.

Steps read these as ``paths.SITE_SRC`` (not copies of their own), so that a test can point
the build at a snapshot of site/ or py/localyst/ by setting the one attribute here.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PINS_FILE = REPO / "pins.toml"
SITE_SRC = REPO / "site"
PY_SRC = REPO / "py" / "localyst"
PYPROJECT = REPO / "pyproject.toml"
TOOLS = REPO / "tools"
DEFAULT_OUT = REPO / "_site"


def pyproject_version() -> str:
    """Localyst's version, as pyproject.toml declares it (the localyst wheel's version)."""
    with open(PYPROJECT, "rb") as fh:
        return tomllib.load(fh)["project"]["version"]
