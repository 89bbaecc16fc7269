"""What a cell produced, in a shape that crosses the worker boundary as plain JSON."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal


@dataclass(frozen=True)
class Output:
    """One piece of cell output, in the order it was produced.

    kind "stream": `name` is "stdout" or "stderr" and `text` holds the text.
    kind "display": `data` is a MIME bundle from display() or a figure.
    kind "result": `data` is the MIME bundle of the cell's last expression.
    """

    kind: Literal["stream", "display", "result"]
    name: str | None = None
    text: str | None = None
    data: dict[str, Any] | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        if self.kind == "stream":
            return {"kind": "stream", "name": self.name, "text": self.text}
        return {"kind": self.kind, "data": self.data, "metadata": self.metadata}


@dataclass
class CellResult:
    """Everything one run of a cell produced; `as_dict()` is what the page receives."""

    execution_count: int
    outputs: list[Output] = field(default_factory=list)
    error: dict[str, str] | None = None
    duration: float = 0.0
    files: list[dict[str, Any]] = field(default_factory=list)

    @property
    def stdout(self) -> str:
        return "".join(o.text or "" for o in self.outputs if o.kind == "stream" and o.name == "stdout")

    @property
    def stderr(self) -> str:
        return "".join(o.text or "" for o in self.outputs if o.kind == "stream" and o.name == "stderr")

    def as_dict(self) -> dict[str, Any]:
        return {
            "execution_count": self.execution_count,
            "outputs": [o.as_dict() for o in self.outputs],
            "error": self.error,
            "duration": self.duration,
            "files": self.files,
        }

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), allow_nan=False)
