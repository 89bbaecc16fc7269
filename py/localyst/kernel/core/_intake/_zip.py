"""ZIP archives: what they hold, whether unpacking them is safe, and unpacking them.

Everything is judged from the central directory, before a byte is inflated. The sizes it
declares are binding: zipfile stops each member at its declared size and then fails its
CRC check, so an archive cannot unpack to more than was checked here.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import zipfile
from pathlib import Path
from typing import Any

from ._messages import IntakeError, size_text

#: Unpacked files live in the page's memory, beside everything the analysis needs.
MAX_UNPACKED_BYTES = 1_000_000_000
#: Real data compresses 3-20 times; ZIP bombs compress a thousand times and more.
MAX_RATIO = 100
RATIO_FROM_BYTES = 10_000_000  # smaller archives may compress as well as they like
MAX_MEMBERS = 10_000
MAX_LISTED = 200  # members listed in a preview
# Characters no portable file name has; in a page or a prompt they could pass for markup.
_UNSAFE_CHARACTERS = re.compile(r'[<>:"|?*\x00-\x1f\x7f]')


def problem(path: str | os.PathLike[str]) -> str | None:
    """Why the archive cannot be unpacked here, or None."""
    name = os.path.basename(path)
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        return f"{name} is not a readable ZIP archive ({exc})"
    unpacked = sum(m.file_size for m in members)
    packed = sum(m.compress_size for m in members)
    if len(members) > MAX_MEMBERS:
        return f"{name} holds {len(members):,} files; at most {MAX_MEMBERS:,} are unpacked here"
    if unpacked > MAX_UNPACKED_BYTES:
        return (f"{name} would unpack to {size_text(unpacked)}, more than the "
                f"{size_text(MAX_UNPACKED_BYTES)} this page can hold")
    if unpacked > RATIO_FROM_BYTES and unpacked > MAX_RATIO * max(packed, 1):
        return (f"{name} would unpack to {size_text(unpacked)} from {size_text(packed)} "
                f"({unpacked // max(packed, 1):,} times as much): it looks like a ZIP bomb")
    for member in members:
        reason = _unsafe(member)
        if reason:
            return f"{name} holds a file that cannot be unpacked safely: {reason}"
    if any(m.flag_bits & 0x1 for m in members):
        return f"{name} is password-protected"
    return None


def _unsafe(member: zipfile.ZipInfo) -> str | None:
    name = _member_name(member)
    shown = name[:120]
    if name.startswith("/") or re.match(r"[A-Za-z]:", name):
        return f"“{shown}” has an absolute path"
    if ".." in name.split("/"):
        return f"“{shown}” points outside the folder it would be unpacked into"
    if stat.S_ISLNK(member.external_attr >> 16):
        return f"“{shown}” is a symbolic link"
    if _UNSAFE_CHARACTERS.search(name):
        return f"“{shown}” has characters a file name should not have"
    return None


def _member_name(member: zipfile.ZipInfo) -> str:
    return member.filename.replace("\\", "/")  # some Windows tools write backslashes


def contents(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The files in the archive (the first MAX_LISTED) with their sizes, and the totals."""
    with zipfile.ZipFile(path) as archive:
        files = [m for m in archive.infolist() if not m.is_dir()]
    return {
        "members": [{"path": _member_name(m), "size": m.file_size, "packed": m.compress_size}
                    for m in files[:MAX_LISTED]],
        "member_count": len(files),
        "unpacked_size": sum(m.file_size for m in files),
    }


def extract_zip(path: str | os.PathLike[str], dest: str | os.PathLike[str]) -> list[str]:
    """Unpack every file into ``dest`` and return their paths relative to it.

    The whole archive is refused (IntakeError, nothing written) if any member has an absolute
    path, climbs out with ``..``, is a link, has characters a file name should not have, or if
    it is a ZIP bomb. Existing files of the same name are replaced.
    """
    reason = problem(path)
    if reason:
        raise IntakeError(reason)
    root = Path(dest).resolve()
    written: list[Path] = []
    try:
        with zipfile.ZipFile(path) as archive:
            for member in archive.infolist():
                target = (root / _member_name(member)).resolve()
                if not target.is_relative_to(root):  # e.g. through a link already in dest
                    raise IntakeError(f"“{member.filename}” would be unpacked outside {root}")
                if member.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                with archive.open(member) as source, open(target, "wb") as out:
                    written.append(target)
                    shutil.copyfileobj(source, out, 1 << 20)
    except zipfile.BadZipFile as exc:
        _remove(written)
        raise IntakeError(f"{os.path.basename(path)} is damaged: {exc}") from None
    except BaseException:
        _remove(written)
        raise
    return [p.relative_to(root).as_posix() for p in written]


def _remove(paths: list[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)
