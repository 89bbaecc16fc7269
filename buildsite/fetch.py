"""Pinned downloads and the cache that keeps them: nothing is used before its sha256
matches pins.toml, whether it was just downloaded or has sat in the cache for months."""

from __future__ import annotations

import json
import os
import shutil
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import BuildError, log
from .files import sha256_file


def cache_dir() -> Path:
    """The download cache, outside the repository: $LOCALYST_CACHE or ~/.cache/localyst."""
    return Path(os.environ.get("LOCALYST_CACHE") or Path.home() / ".cache" / "localyst").expanduser()


def http_get(url: str, dest: Path, timeout: float = 120) -> None:
    """Download url to dest (atomically: a partial download never sits at dest)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + f".part-{os.getpid()}")
    req = urllib.request.Request(url, headers={"User-Agent": "localyst-build/1"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp, open(tmp, "wb") as fh:
            shutil.copyfileobj(resp, fh, 1 << 20)
        os.replace(tmp, dest)
    except (urllib.error.URLError, OSError) as exc:
        tmp.unlink(missing_ok=True)
        raise BuildError(f"download failed: {url}: {exc}") from exc


def http_get_json(url: str, timeout: float = 60) -> Any:
    """A registry's JSON answer (tools/update_pins.py reads PyPI and npm with it)."""
    req = urllib.request.Request(url, headers={"User-Agent": "localyst-build/1", "Accept": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        return json.load(resp)


@dataclass
class Artifact:
    """One pinned download."""
    name: str
    version: str
    url: str
    sha256: str
    file: str = ""

    def __post_init__(self):
        if not self.file:
            self.file = self.url.rsplit("/", 1)[-1]


def fetch(art: Artifact, offline: bool) -> Path:
    """The cached, verified file for a pinned artifact (downloading it unless offline)."""
    path = cache_dir() / "downloads" / art.file
    if not path.exists():
        if offline:
            raise BuildError(f"missing from the download cache (--offline): {art.file} "
                             f"({art.name} {art.version}, {art.url}); expected at {path}")
        log(f"  downloading {art.file}")
        http_get(art.url, path)
        got = sha256_file(path)
        if got != art.sha256:
            bad = path.with_name(path.name + ".rejected")
            os.replace(path, bad)
            raise BuildError(f"sha256 mismatch for {art.file} (downloaded from {art.url}): "
                             f"pins.toml says {art.sha256}, got {got}; kept as {bad.name}")
        return path
    got = sha256_file(path)
    if got != art.sha256:
        raise BuildError(f"sha256 mismatch for {art.file} in the download cache ({path}): "
                         f"pins.toml says {art.sha256}, got {got}; delete the file to download it again")
    return path
