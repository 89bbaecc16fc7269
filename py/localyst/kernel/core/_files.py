"""Spotting the files a cell wrote to the outputs folder, without reading them."""

from __future__ import annotations

import mimetypes
import os
from pathlib import Path
from typing import Any

Snapshot = dict[str, tuple[int, int]]  # path -> (size, mtime_ns)


def snapshot(folder: Path) -> Snapshot:
    """Size and modification time of every file under `folder` (nothing if it is gone)."""
    found: Snapshot = {}
    for root, _dirs, names in os.walk(folder):
        for name in names:
            path = os.path.join(root, name)
            try:
                info = os.stat(path)
            except OSError:  # removed or a dangling link while we looked
                continue
            found[path] = (info.st_size, info.st_mtime_ns)
    return found


def changed_files(before: Snapshot, after: Snapshot, relative_to: Path) -> list[dict[str, Any]]:
    """The files created or modified between two snapshots, paths relative to the data folder."""
    changed = []
    for path, (size, mtime) in sorted(after.items()):
        if before.get(path) == (size, mtime):
            continue
        changed.append(
            {
                "path": Path(os.path.relpath(path, relative_to)).as_posix(),
                "size": size,
                "mime": mimetypes.guess_type(path)[0] or "application/octet-stream",
            }
        )
    return changed
