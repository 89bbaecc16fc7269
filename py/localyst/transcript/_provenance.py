"""Where the figures of an answer came from, read from the record: each cell's output up
to that answer, and what the person and the code gave. Computed whenever an answer is
drawn, never stored: a record kept before this existed shows its marks too."""

from __future__ import annotations

from dataclasses import dataclass

from ..agent import result_for_model
from ..agent._figures import Ledger, code_of
from ..protocol import TABLE_MIME
from ._record import Transcript

#: Enough for any output the page keeps (streams are cut far below it by the kernel).
WHOLE = 10_000_000


@dataclass(frozen=True)
class Source:
    """A cell whose output a figure came from: the ``index``-th code cell of turn ``turn``."""

    turn: int
    index: int
    code: str


@dataclass(frozen=True)
class Provenance:
    """The ledger of one answer's turn; ``sources[i]`` is the cell of the ledger's output ``i``."""

    turn: int
    ledger: Ledger
    sources: list[Source]


def provenance(transcript: Transcript, turn: int) -> Provenance:
    """What the figures of turn ``turn`` (counted from 0) may have come from: the outputs of
    every cell of that turn and the turns before it, as the model reads them, with the
    numbers of their tables; given: the person's messages, the code, the answers' code."""
    outputs: list[str] = []
    tables: list[list[float]] = []
    sources: list[Source] = []
    given: list[str] = []
    number, index = -1, 0
    for entry in transcript.entries:
        if entry["kind"] == "user":
            number, index = number + 1, 0
            if number > turn:
                break
            given.append(entry["text"])
        elif entry["kind"] == "assistant":
            given.append(code_of(entry["text"]))
        elif entry["kind"] == "code" and number >= 0:
            given.append(entry["code"])
            if entry["state"] != "written":
                outputs.append(result_for_model(entry, WHOLE))
                tables.append(_table_numbers(entry))
                sources.append(Source(number, index, entry["code"]))
            index += 1
    return Provenance(turn, Ledger(outputs, given, tables), sources)


def _table_numbers(entry: dict) -> list[float]:
    """The numbers in the cells of the cell's tables (the model reads only their text)."""
    return [
        value
        for output in entry["outputs"]
        for row in (output.get("data", {}).get(TABLE_MIME) or {}).get("rows", [])
        for value in row
        if isinstance(value, (int, float)) and not isinstance(value, bool)
    ]
