"""What a streamed chat completion yields, as small typed events."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union


@dataclass(frozen=True)
class TextDelta:
    """A piece of the answer's text."""

    text: str


@dataclass(frozen=True)
class ToolCallDelta:
    """A tool call growing: ``arguments`` is everything received so far for this index."""

    index: int
    id: str
    name: str
    arguments: str


@dataclass(frozen=True)
class ToolCall:
    """A complete tool call; ``arguments`` is the JSON text as the model wrote it."""

    id: str
    name: str
    arguments: str


@dataclass(frozen=True)
class Usage:
    prompt: int
    completion: int
    total: int


@dataclass(frozen=True)
class Finished:
    """The last event: why the model stopped ("stop", "tool_calls", "length", …)."""

    reason: str


Event = Union[TextDelta, ToolCallDelta, ToolCall, Usage, Finished]
