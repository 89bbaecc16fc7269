"""The kernel: one persistent namespace that runs cells and reports what they produced."""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import io
import os
import sys
import time
import types
from collections.abc import Awaitable, Generator, Iterator, Mapping
from pathlib import Path
from typing import Any

from . import _display, _figures, _import_patches
from ._capture import OnOutput, OutputRecorder, StreamWriter
from ._display import display, metadata_for, mime_bundle
from ._execute import compile_cell, is_coroutine_code
from ._files import changed_files, snapshot
from ._outputs import CellResult, Output
from ._packages import unavailable_message
from ._traceback import describe_error

STREAM_LIMIT = 20_000

# A cell as a generator: it yields each coroutine a top-level `await` produced, is sent
# the coroutine's value (or has its exception thrown in), and returns the CellResult.
# One body of code then serves both the synchronous and the asynchronous way to run.
CellSteps = Generator[Awaitable[Any], Any, CellResult]


def default_data_dir() -> Path:
    """The person's files: /data in the browser, the current directory elsewhere."""
    return Path("/data") if sys.platform == "emscripten" else Path.cwd()


class Kernel:
    """Runs cells in one namespace that persists between them, like IPython's.

    The data folder becomes the working directory (and is importable); files that cells
    write to the outputs folder are reported. `available` maps the import names of the
    packages the site ships to their package names; with it, a failed import of anything
    else explains what the kernel can use.
    """

    def __init__(
        self,
        data_dir: str | os.PathLike[str] | None = None,
        outputs_dir: str | os.PathLike[str] | None = None,
        *,
        stream_limit: int = STREAM_LIMIT,
        available: Mapping[str, str] | None = None,
    ) -> None:
        self.data_dir = Path(data_dir) if data_dir is not None else default_data_dir()
        self.outputs_dir = Path(outputs_dir) if outputs_dir is not None else self.data_dir / "outputs"
        self.outputs_dir.mkdir(parents=True, exist_ok=True)
        os.chdir(self.data_dir)
        if str(self.data_dir) not in sys.path:
            sys.path.insert(0, str(self.data_dir))
        self.stream_limit = stream_limit
        self.available = dict(available or {})
        self.execution_count = 0
        self.module = types.ModuleType("__main__")
        self.namespace: dict[str, Any] = self.module.__dict__
        self.namespace.update(__builtins__=builtins, display=display)
        self._stdout = StreamWriter("stdout", sys.stdout)
        self._stderr = StreamWriter("stderr", sys.stderr)
        _figures.use_kernel_backend()
        _import_patches.install()

    def run(self, code: str, *, on_output: OnOutput | None = None) -> CellResult:
        """Run a cell to the end and return what it produced.

        Top-level `await` runs on a fresh event loop, so this is for CPython; a caller that
        has an event loop running (Pyodide's worker) uses run_async.
        """
        steps = self._cell(code, on_output)
        sent: Any = None
        thrown: BaseException | None = None
        while True:
            try:
                awaitable = steps.send(sent) if thrown is None else steps.throw(thrown)
            except StopIteration as done:
                return done.value
            try:
                sent, thrown = asyncio.run(awaitable), None  # type: ignore[arg-type]
            except BaseException as exc:  # handed to the cell, which reports it
                sent, thrown = None, exc

    async def run_async(self, code: str, *, on_output: OnOutput | None = None) -> CellResult:
        """Run a cell whose top-level `await`s run on the caller's event loop."""
        steps = self._cell(code, on_output)
        sent: Any = None
        thrown: BaseException | None = None
        while True:
            try:
                awaitable = steps.send(sent) if thrown is None else steps.throw(thrown)
            except StopIteration as done:
                return done.value
            try:
                sent, thrown = await awaitable, None
            except BaseException as exc:  # handed to the cell, which reports it
                sent, thrown = None, exc

    def _cell(self, code: str, on_output: OnOutput | None) -> CellSteps:
        self.execution_count += 1
        count = self.execution_count
        recorder = OutputRecorder(on_output, self.stream_limit)
        before = snapshot(self.outputs_dir)
        start = time.perf_counter()
        error = None
        with self._attached(recorder):
            try:
                cell = compile_cell(code, f"<cell-{count}>")
                value = None
                for step in cell.steps:
                    value = eval(step, self.namespace)
                    if is_coroutine_code(step):
                        value = yield value
                if cell.shows_last:
                    self._show_result(value, recorder)
            except GeneratorExit:
                raise
            except BaseException as exc:  # the kernel outlives SystemExit and interrupts too
                error = self._describe(exc)
            try:
                _figures.show_open_figures(display)
            except BaseException as exc:  # an interrupt may land while a figure renders
                error = error or self._describe(exc)
        recorder.finish()
        files = changed_files(before, snapshot(self.outputs_dir), self.data_dir)
        return CellResult(count, recorder.outputs, error, time.perf_counter() - start, files)

    def _show_result(self, value: Any, recorder: OutputRecorder) -> None:
        """The last expression's value, shown as IPython's Out[n] (None shows nothing)."""
        if value is None:
            return
        self.namespace["_"] = value
        recorder.publish(Output("result", data=mime_bundle(value), metadata=metadata_for(value)))

    def _describe(self, exc: BaseException) -> dict[str, str]:
        error = describe_error(exc)
        if isinstance(exc, ModuleNotFoundError) and exc.name and self.available:
            module = exc.name.partition(".")[0]
            if module not in self.available:
                error["evalue"] = unavailable_message(module, self.available.values())
                error["traceback"] = error["traceback"].rstrip("\n") + "\n" + error["evalue"] + "\n"
        return error

    @contextlib.contextmanager
    def _attached(self, recorder: OutputRecorder) -> Iterator[None]:
        """Route the standard streams, display() and `__main__` to this cell; undo it all after.

        Standard input is empty: nobody is there to type, so input() fails at once.
        """
        saved = sys.stdin, sys.stdout, sys.stderr, sys.modules.get("__main__"), _display.publish
        self._stdout.recorder = self._stderr.recorder = recorder
        sys.stdin, sys.stdout, sys.stderr = io.StringIO(), self._stdout, self._stderr
        sys.modules["__main__"] = self.module
        _display.publish = recorder.publish
        try:
            yield
        finally:
            self._stdout.recorder = self._stderr.recorder = None
            sys.stdin, sys.stdout, sys.stderr, main, _display.publish = saved
            if main is not None:
                sys.modules["__main__"] = main
