"""What the loop tells its UI, in the order things happen during a turn.

A turn is: RequestSent, then the model's AssistantText and CodeDelta events as they
stream, UsageReport, then for each piece of code CodeStarted, KernelOutput…, CodeFinished;
then the next RequestSent (the model continues), and so on until TurnEnded.

A cell's ``cell_id`` is the loop's own, unique within a turn ("cell-<step>-<index>", or
"fenced-<step>-<block>"); the model's tool-call ids only answer its calls, since some
endpoints repeat them or send none.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Union

from ..llm import Problem

EndReason = Literal["answered", "step_limit", "failure_limit", "token_limit", "stopped", "error"]


@dataclass(frozen=True)
class RequestSent:
    """The exact payload of one model request, so the person can see what left the page."""

    step: int
    messages: list[dict[str, Any]]
    tools: list[dict[str, Any]] | None


@dataclass(frozen=True)
class AssistantText:
    """A piece of the model's reply text (in fenced mode it includes the code blocks)."""

    delta: str


@dataclass(frozen=True)
class CodeDelta:
    """A run_python call growing as the model writes it: ``code`` is everything so far."""

    cell_id: str
    code: str


@dataclass(frozen=True)
class CodeStarted:
    """The code is complete and goes to the kernel. ``source`` is "fenced" when it came from
    a ```python block of the reply text (the text events already showed it)."""

    cell_id: str
    code: str
    source: Literal["tool", "fenced"] = "tool"


@dataclass(frozen=True)
class KernelOutput:
    """One output of the running cell: an ``Output.as_dict()`` from the kernel."""

    cell_id: str
    output: dict[str, Any]


@dataclass(frozen=True)
class CodeFinished:
    """The cell ended; ``result`` is the kernel's CellResult dict (``error`` None on success)."""

    cell_id: str
    result: dict[str, Any]


@dataclass(frozen=True)
class Notice:
    """Something the person should know about the turn, e.g. older outputs left out."""

    text: str


@dataclass(frozen=True)
class UsageReport:
    """Tokens of one model request; ``estimated`` when the endpoint reported none."""

    prompt: int
    completion: int
    total: int
    estimated: bool = False


@dataclass(frozen=True)
class TurnEnded:
    """Always the last event. ``message`` is the answer for "answered", else a plain
    sentence saying why the turn stopped; ``problem`` is set for "error"."""

    reason: EndReason
    message: str
    problem: Problem | None = None


Event = Union[RequestSent, AssistantText, CodeDelta, CodeStarted, KernelOutput, CodeFinished, Notice, UsageReport, TurnEnded]
