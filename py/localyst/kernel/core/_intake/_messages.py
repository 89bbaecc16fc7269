"""How intake explains itself: one error type, the missing-reader message, sizes in words."""

from __future__ import annotations

import importlib
from types import ModuleType


class IntakeError(ValueError):
    """A file that cannot be read or unpacked; ``str()`` is the explanation, ready to show."""


def require(module: str, purpose: str, package: str | None = None) -> ModuleType:
    """Import a reader, or say which package is missing: the kernel cannot install one."""
    try:
        return importlib.import_module(module)
    except ImportError:
        name = package or module.partition(".")[0]
        raise IntakeError(f"{purpose} needs {name}, which this site does not ship") from None


def size_text(size: int) -> str:
    """Bytes in words, as a file manager shows them (decimal units)."""
    if size < 1000:
        return f"{size:,} bytes"
    if size < 1000**2:
        return f"{size / 1000:.1f} KB"
    if size < 1000**3:
        return f"{size / 1000**2:.1f} MB"
    return f"{size / 1000**3:.1f} GB"
