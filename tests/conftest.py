"""Fixtures shared by every kind of test: the built site."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site as build.py assembles it, built once per run (the download cache makes it
    quick): with several workers (pytest-xdist), the first builds it and the others wait.

    Set LOCALYST_SITE to test an already-built folder instead.
    """
    given = os.environ.get("LOCALYST_SITE")
    if given:
        return Path(given)
    out = REPO / "_site"
    base = tmp_path_factory.getbasetemp()
    run = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base  # the workers share the parent
    with open(run / "built_site.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        built = run / "built_site.done"
        if not built.exists():
            subprocess.run([sys.executable, str(REPO / "build.py"), "--out", str(out)], check=True, cwd=REPO)
            built.touch()
    return out
