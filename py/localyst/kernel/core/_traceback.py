"""Tracebacks trimmed to the person's code: no kernel frames, long library runs folded."""

from __future__ import annotations

import traceback
CELL_PREFIX = "<cell-"
LIBRARY_FRAMES_KEPT = 3
#: Said with a MemoryError: what fits, and how to read a big file instead.
OUT_OF_MEMORY = ("out of memory: this tab's Python has 4 GB of memory in all. Read big files in chunks "
                 "(pd.read_csv(path, chunksize=1_000_000), ParquetFile(path).iter_batches()), only the columns "
                 "needed (usecols=, columns=), with smaller dtypes; and del frames no longer needed")


def describe_error(exc: BaseException) -> dict[str, str]:
    """The `CellResult.error` for an exception raised while a cell ran."""
    te = traceback.TracebackException.from_exception(exc)
    for part in _chain(te):
        part.stack = _TrimmedStack.of(part.stack)
    lines = list(te.format())
    evalue = str(exc)
    if isinstance(exc, KeyboardInterrupt):
        evalue = "Interrupted"
        lines[-1] = f"{type(exc).__name__}: {evalue}\n"
    elif isinstance(exc, MemoryError):
        evalue = f"{evalue} ({OUT_OF_MEMORY})" if evalue else OUT_OF_MEMORY
        lines[-1] = f"{type(exc).__name__}: {evalue}\n"
    return {"ename": type(exc).__name__, "evalue": evalue, "traceback": "".join(lines)}


def _chain(te: traceback.TracebackException) -> list[traceback.TracebackException]:
    """The exception with its causes, contexts and (exception group) members."""
    seen: list[traceback.TracebackException] = []
    todo = [te]
    while todo:
        part = todo.pop()
        if any(part is s for s in seen):
            continue
        seen.append(part)
        todo += [p for p in (part.__cause__, part.__context__) if p is not None]
        todo += getattr(part, "exceptions", None) or []
    return seen


def _is_cell(frame: traceback.FrameSummary) -> bool:
    return frame.filename.startswith(CELL_PREFIX)


class _TrimmedStack(traceback.StackSummary):
    """The frames from the first cell frame on; a run of more than LIBRARY_FRAMES_KEPT
    library frames shows only its last ones, after a line counting the rest."""

    folded: dict[int, int]  # frame index -> how many library frames were dropped before it

    @classmethod
    def of(cls, stack: traceback.StackSummary) -> _TrimmedStack:
        frames = list(stack)
        first_cell = next((i for i, f in enumerate(frames) if _is_cell(f)), len(frames))
        kept: list[traceback.FrameSummary] = []
        folded: dict[int, int] = {}
        run: list[traceback.FrameSummary] = []
        for frame in frames[first_cell:] + [None]:  # type: ignore[list-item]
            if frame is not None and not _is_cell(frame):
                run.append(frame)
                continue
            if len(run) > LIBRARY_FRAMES_KEPT:
                folded[len(kept)] = len(run) - LIBRARY_FRAMES_KEPT
                run = run[-LIBRARY_FRAMES_KEPT:]
            kept += run
            run = []
            if frame is not None:
                kept.append(frame)
        trimmed = cls(kept)
        trimmed.folded = folded
        return trimmed

    def format(self) -> list[str]:
        lines: list[str] = []
        start = 0
        for index in sorted(self.folded) + [len(self)]:
            lines += traceback.StackSummary.from_list(self[start:index]).format()
            if index in self.folded:
                lines.append(f"  … {self.folded[index]} frames in library code …\n")
            start = index
        return lines
