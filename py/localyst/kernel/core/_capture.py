"""Recording a cell's output in order, streaming it to the caller while the cell runs."""

from __future__ import annotations

import io
from typing import Callable, TextIO

from ._outputs import Output
from ._truncate import omission_note

OnOutput = Callable[[Output], None]


class OutputRecorder:
    """Collects one cell's outputs and hands each to `on_output` as soon as it is complete.

    Consecutive writes to one stream are coalesced and sent when a line ends or the other
    stream (or a display) comes in, so a print loop costs one callback per line, not per
    write. Stream text past `stream_limit` characters is not sent while the cell runs: the
    last half of the limit is kept and sent at the end after a note saying how much was cut.
    """

    def __init__(self, on_output: OnOutput | None, stream_limit: int) -> None:
        self.outputs: list[Output] = []
        self._on_output = on_output
        self._head_room = stream_limit - stream_limit // 2
        self._tail_room = stream_limit // 2
        self._pending_name: str | None = None
        self._pending: list[str] = []
        self._tail: list[list[str]] = []  # [name, text] segments kept once the head is full
        self._tail_size = 0
        self._omitted = 0

    def write(self, name: str, text: str) -> None:
        if not text:
            return
        if self._head_room <= 0:
            self._keep_tail(name, text)
            return
        if name != self._pending_name:
            self._flush()
            self._pending_name = name
        fits = text[: self._head_room]
        self._pending.append(fits)
        self._head_room -= len(fits)
        if self._head_room == 0 or "\n" in fits:
            self._flush()
        if len(fits) < len(text):
            self._keep_tail(name, text[len(fits) :])

    def publish(self, output: Output) -> None:
        """Record a display (or result) after the stream text that came before it."""
        self._flush()
        self._release_tail()
        self._append(output)

    def finish(self) -> None:
        self._flush()
        self._release_tail()

    def _flush(self) -> None:
        if self._pending:
            self._append(Output("stream", name=self._pending_name, text="".join(self._pending)))
            self._pending = []

    def _keep_tail(self, name: str, text: str) -> None:
        if self._tail and self._tail[-1][0] == name:
            self._tail[-1][1] += text
        else:
            self._tail.append([name, text])
        self._tail_size += len(text)
        while self._tail_size > self._tail_room:
            excess = self._tail_size - self._tail_room
            first = self._tail[0]
            if len(first[1]) <= excess:
                self._tail.pop(0)
                cut = len(first[1])
            else:
                first[1] = first[1][excess:]
                cut = excess
            self._tail_size -= cut
            self._omitted += cut

    def _release_tail(self) -> None:
        if not self._tail:
            return
        if self._omitted:
            self._tail[0][1] = omission_note(self._omitted) + self._tail[0][1]
        for name, text in self._tail:
            self._append(Output("stream", name=name, text=text))
        self._tail, self._tail_size, self._omitted = [], 0, 0

    def _append(self, output: Output) -> None:
        last = self.outputs[-1] if self.outputs else None
        if output.kind == "stream" and last and last.kind == "stream" and last.name == output.name:
            self.outputs[-1] = Output("stream", name=output.name, text=(last.text or "") + (output.text or ""))
        else:
            self.outputs.append(output)
        if self._on_output is not None:
            self._on_output(output)


class StreamWriter(io.TextIOBase):
    """A file-like `sys.stdout`/`sys.stderr` that writes into whichever cell is running.

    Outside a cell it writes to the stream it replaced, so a logging handler created in
    one cell keeps working in the next one instead of writing into a finished cell.
    """

    def __init__(self, name: str, fallback: TextIO | None) -> None:
        self.name = name
        self.recorder: OutputRecorder | None = None
        self._fallback = fallback

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return "utf-8"

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return False

    def write(self, text: str) -> int:
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        if self.recorder is not None:
            self.recorder.write(self.name, text)
        elif self._fallback is not None:
            self._fallback.write(text)
        return len(text)
