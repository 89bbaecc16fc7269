"""Describing the person's files for the model, from inside the kernel, where the files
and pandas are.

The app asks the kernel for a scan (a ``scan-files`` message: localyst.kernel.core._intake.scan
run where the files are, within the limits below, which are the prompt's) when the files
change, and keeps the result in its Environment: a scan per turn would cost a kernel round
trip and a read of every file each time. The scan is not a cell: it takes no execution
count, and what the kernel answers is a checked message (protocol/_kernel.py), not text.
"""

from __future__ import annotations

from typing import Any, Protocol

from ._environment import MAX_COLUMNS, MAX_FILES_LISTED, MAX_HEAD_CHARS, FileInfo

#: How much the scan looks at: enough for the system prompt, never the whole file.
SCAN_LIMITS = {"max_files": MAX_FILES_LISTED, "budget": 10_000, "rows": 5, "columns": MAX_COLUMNS, "head_chars": MAX_HEAD_CHARS}


class Scanner(Protocol):
    async def scan_files(self, limits: dict[str, int]) -> list[dict[str, Any]]:
        """``_intake.scan``'s entries for the data folder, within ``limits``."""
        ...


async def scan_files(kernel: Scanner) -> tuple[FileInfo, ...]:
    """The files under the kernel's data folder (outputs left out), tables previewed."""
    return file_infos(await kernel.scan_files(SCAN_LIMITS))


def file_infos(found: list[dict[str, Any]]) -> tuple[FileInfo, ...]:
    return tuple(
        FileInfo(
            f["path"],
            f["size"],
            f["mime"],
            rows=f.get("rows"),
            columns=tuple((name, dtype) for name, dtype in f.get("columns", ())),
            column_count=f.get("column_count", 0),
            head=f.get("head"),
        )
        for f in found
    )
