"""Where the figures of an answer came from, read from the record: each cell's output up
to that answer, and what the person and the code gave. Computed whenever an answer is
drawn, never stored: a record kept before this existed shows its marks too."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..agent import result_for_model
from ..agent._figures import Ledger, Tie, code_of
from ..protocol import TABLE_MIME
from ..render import Mark, escape
from ._record import Transcript

#: Enough for any output the page keeps (streams are cut far below it by the kernel).
WHOLE = 10_000_000
UNCOMPUTED = "Not computed: no output of the code in this conversation holds this number."
SHOWN_CODE = 80  # characters of the code's line a computed figure's title names


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
    """The numbers in the cells of the cell's tables and their sizes, which the page shows
    (the model reads only the tables' text)."""
    tables = [output["data"][TABLE_MIME] for output in entry["outputs"] if TABLE_MIME in output.get("data", {})]
    return [
        value
        for table in tables
        for value in [*table["shape"], *(value for row in table["rows"] for value in row)]
        if isinstance(value, (int, float)) and not isinstance(value, bool)
    ]


#: The markup of one figure, given its tie and the cell it came from (None: not computed);
#: the figure's text in it must be escaped.
Wrap = Callable[[Tie, Source | None], str]


def marker(found: Provenance, wrap: Wrap) -> Mark:
    """Marks the figures of a piece of the answer of ``found.turn`` with ``wrap``; the
    text between them is escaped."""

    def mark(text: str) -> str:
        parts, at = [], 0
        for tie in found.ledger.ties(text):
            parts.append(escape(text[at : tie.figure.start]))
            parts.append(wrap(tie, None if tie.computed is None else found.sources[tie.computed.source]))
            at = tie.figure.end
        parts.append(escape(text[at:]))
        return "".join(parts)

    return mark


def origin(found: Provenance, tie: Tie, source: Source) -> str:
    """Where a computed figure came from, said for the person (as plain text)."""
    where = "" if source.turn == found.turn else " of an earlier answer"
    shown = tie.computed.text if tie.computed is not None else ""
    return f"From the output of a cell{where}: {_line(source.code)} → {shown}."


def _line(code: str) -> str:
    """The code's last line (where a result is printed, usually), shortened."""
    lines = [line.strip() for line in code.strip().splitlines() if line.strip()]
    last = lines[-1] if lines else ""
    last = last if len(last) <= SHOWN_CODE else last[: SHOWN_CODE - 1] + "…"
    return ("… " if len(lines) > 1 else "") + last
