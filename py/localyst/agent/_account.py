"""What the model reads of a cell: a compact text account, never image data.

The kernel knows no model: it hands back the cell's result (``CellResult.as_dict()``, as the
app receives it), and this is where the loop turns that into the tool result it sends.
"""

from __future__ import annotations

import base64
from typing import Any

from ..kernel.core._truncate import truncate_middle
from ..protocol import BOKEH_MIME, PLOTLY_MIME, TABLE_MIME

IMAGE_MIMES = ("image/png", "image/jpeg", "image/svg+xml")
QUIET = "(the cell ran and printed nothing)"


def result_for_model(result: dict[str, Any], limit: int = 4000) -> str:
    """The text the model gets for a cell: what it printed and showed (images as a note),
    the traceback, the files it wrote; long text is cut in the middle to about ``limit``."""
    error = result.get("error")
    trace = truncate_middle(error["traceback"], limit // 2) if error else ""
    body = truncate_middle(_describe_outputs(result), max(limit - len(trace), limit // 2))
    parts = [p for p in (body.rstrip("\n"), trace.rstrip("\n"), _describe_files(result.get("files") or [])) if p]
    return "\n".join(parts) if parts else QUIET


def _describe_outputs(result: dict[str, Any]) -> str:
    lines: list[str] = []
    shown = {"figure": 0, "image": 0}
    for out in result.get("outputs", []):
        if out["kind"] == "stream":
            text = out.get("text") or ""
            lines.append(f"[stderr]\n{text}" if out.get("name") == "stderr" else text)
            if not text.endswith("\n"):
                lines.append("\n")
            continue
        summary = _describe_bundle(out, shown)
        if out["kind"] == "result":
            summary = f"Out[{result.get('execution_count')}]: {summary}"
        lines.append(summary + "\n")
    return "".join(lines)


def _describe_bundle(out: dict[str, Any], shown: dict[str, int]) -> str:
    data = out.get("data") or {}
    plain = str(data.get("text/plain", ""))
    if TABLE_MIME in data:
        return plain
    if BOKEH_MIME in data:
        return "[interactive Bokeh plot shown to the user]"
    if PLOTLY_MIME in data:
        return f"[interactive {plain} shown to the user]"
    for mime in IMAGE_MIMES:
        if mime in data:
            kind = "figure" if (out.get("metadata") or {}).get("source") == "matplotlib" else "image"
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
