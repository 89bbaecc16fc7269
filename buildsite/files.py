"""Files on disk and their digests: what every step uses to verify and to write."""

from __future__ import annotations

import hashlib
import tarfile
from pathlib import Path


def sha256_file(path: Path) -> str:
    """The sha256 of a file, read in chunks (wheels and the wasm run to tens of MB)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def sha256_bytes(data: bytes) -> str:
    """The sha256 of bytes in memory (a member of an archive)."""
    return hashlib.sha256(data).hexdigest()


def tree_hashes(root: Path) -> dict[str, str]:
    """relative path -> sha256 for every file under root, sorted by path."""
    return {p.relative_to(root).as_posix(): sha256_file(p)
            for p in sorted(root.rglob("*")) if p.is_file()}


def write_file(path: Path, data: bytes) -> None:
    """Write data at path, making its folders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def tar_members(path: Path) -> dict[str, bytes]:
    """Every file in a tarball (an sdist, an npm package): archive path -> bytes."""
    out = {}
    with tarfile.open(path, "r:*") as tf:
        for m in tf.getmembers():
            if m.isfile():
                out[m.name] = tf.extractfile(m).read()
    return out
