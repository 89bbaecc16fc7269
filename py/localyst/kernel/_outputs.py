"""What a cell produced, in a shape that crosses the worker boundary as plain JSON."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any, Literal

from ..protocol import BOKEH_MIME, TABLE_MIME
from ._truncate import truncate_middle

IMAGE_MIMES = ("image/png", "image/jpeg", "image/svg+xml")


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

    def for_model(self, limit: int = 4000) -> str:
        """A compact text account for the language model: text only, never image data."""
        error = truncate_middle(self.error["traceback"], limit // 2) if self.error else ""
        body = truncate_middle(_describe_outputs(self), max(limit - len(error), limit // 2))
        parts = [p for p in (body.rstrip("\n"), error.rstrip("\n"), _describe_files(self.files)) if p]
        return "\n".join(parts) if parts else "(the cell ran and printed nothing)"


def _describe_outputs(result: CellResult) -> str:
    lines: list[str] = []
    shown = {"figure": 0, "image": 0}
    for out in result.outputs:
        if out.kind == "stream":
            text = out.text or ""
            lines.append(f"[stderr]\n{text}" if out.name == "stderr" else text)
            if not text.endswith("\n"):
                lines.append("\n")
            continue
        summary = _describe_bundle(out, shown)
        if out.kind == "result":
            summary = f"Out[{result.execution_count}]: {summary}"
        lines.append(summary + "\n")
    return "".join(lines)


def _describe_bundle(out: Output, shown: dict[str, int]) -> str:
    data = out.data or {}
    plain = str(data.get("text/plain", ""))
    if TABLE_MIME in data:
        return plain
    if BOKEH_MIME in data:
        return "[interactive Bokeh plot shown to the user]"
    for mime in IMAGE_MIMES:
        if mime in data:
            kind = "figure" if out.metadata.get("source") == "matplotlib" else "image"
            shown[kind] += 1
            return f"[{kind} {shown[kind]}: {_image_size(mime, data[mime])}{_short_mime(mime)} shown to the user]"
    if "text/markdown" in data:
        return str(data["text/markdown"])
    rich = [m for m in data if m != "text/plain"]
    if rich:
        return f"{plain} [shown to the user as {', '.join(rich)}]"
    return plain


def _short_mime(mime: str) -> str:
    return {"image/png": "PNG", "image/jpeg": "JPEG", "image/svg+xml": "SVG"}[mime]


def _image_size(mime: str, data: Any) -> str:
    """'640×480 ' for a PNG (read from its header, not the whole image), else ''."""
    if mime != "image/png" or not isinstance(data, str):
        return ""
    try:
        header = base64.b64decode(data[:32])
    except ValueError:
        return ""
    if header[:8] != b"\x89PNG\r\n\x1a\n" or len(header) < 24:
        return ""
    width = int.from_bytes(header[16:20], "big")
    height = int.from_bytes(header[20:24], "big")
    return f"{width}×{height} "


def _describe_files(files: list[dict[str, Any]]) -> str:
    return "\n".join(f"[file written: {f['path']} ({f['size']:,} bytes, {f['mime']})]" for f in files)
