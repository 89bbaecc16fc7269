"""Fixtures shared by every kind of test: the built site."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def built_site() -> Path:
    """The site as build.py assembles it (built once per session; the download cache makes it quick).

    Set LOCALYST_SITE to test an already-built folder instead.
    """
    given = os.environ.get("LOCALYST_SITE")
    if given:
        return Path(given)
    out = REPO / "_site"
    subprocess.run([sys.executable, str(REPO / "build.py"), "--out", str(out)], check=True, cwd=REPO)
    return out
