"""The tool the model calls, and reading its code from the arguments, complete or not."""

from __future__ import annotations

import json
import re
from typing import Any

RUN_PYTHON = "run_python"

TOOLS: list[dict[str, Any]] = [
    {
        "type": "function",
        "function": {
            "name": RUN_PYTHON,
            "description": (
                "Run Python in the person's persistent session (variables persist between calls). "
                "Returns printed output, the value of the last expression, the traceback if it failed, "
                "and a note for each figure or file produced."
            ),
            "parameters": {
                "type": "object",
                "properties": {"code": {"type": "string", "description": "The Python code to run."}},
                "required": ["code"],
            },
        },
    }
]

# The raw body of the "code" string so far: any run of non-quote, non-backslash characters
# and escape pairs. The regex engine does the scan, so a long call streamed in many small
# fragments stays cheap.
_CODE_VALUE = re.compile(r'"code"\s*:\s*"((?:[^"\\]|\\.)*)', re.DOTALL)
_UNFINISHED_ESCAPE = re.compile(r"\\u[0-9a-fA-F]{0,3}$")  # the regex above never ends on a lone backslash


def code_from_arguments(arguments: str) -> str | None:
    """The code of a complete run_python call, or None if the arguments are not JSON with a
    "code" string (cut-off code is never run: the model is told instead)."""
    try:
        parsed = json.loads(arguments)
    except ValueError:
        return None
    code = parsed.get("code") if isinstance(parsed, dict) else None
    return code if isinstance(code, str) else None


def partial_code(arguments: str) -> str | None:
    """The code written so far in a run_python call still streaming, or None before it starts."""
    match = _CODE_VALUE.search(arguments)
    if match is None:
        return None
    raw = _trim_unfinished_escape(match.group(1))
    try:
        return json.loads(f'"{raw}"')
    except ValueError:
        return None


def _trim_unfinished_escape(raw: str) -> str:
    """Drop a \\u escape cut short by the stream (unless its backslash is itself escaped)."""
    match = _UNFINISHED_ESCAPE.search(raw)
    if match is None:
        return raw
    backslashes = len(raw[: match.start() + 1]) - len(raw[: match.start() + 1].rstrip("\\"))
    return raw[: match.start()] if backslashes % 2 == 1 else raw
