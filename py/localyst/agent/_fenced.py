"""Code carried in the reply's text: ```python blocks (endpoints without tool calling), and
run_python calls that small local models write as text instead of as tool calls."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from ._tools import RUN_PYTHON

#: Why code in the text did not run: the output limit ended the text inside it, or a call
#: naming run_python had code that could not be read.
Missed = Literal["", "cut", "unreadable"]

OUTPUT_PREFIX = "Output of the code above:"

# An opening fence at a line start (up to 3 spaces, as CommonMark allows) with its info
# string; the block ends at the next fence line of the same kind (``closed``), or at the
# end of the reply.
_BLOCK = re.compile(
    r"^ {0,3}(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^\n`]*)\n(?P<body>.*?)(?:(?P<closed>^ {0,3}(?P=fence)[ \t]*$)|\Z)",
    re.DOTALL | re.MULTILINE,
)
_PYTHON = re.compile(r"(?:python3?|py)\b", re.IGNORECASE)
# What models put in a block's info string, or no info at all, when the block is a call.
_CALL_INFO = re.compile(r"(?:json|tool_call|tool_code|function_call)?\s*$", re.IGNORECASE)
# Qwen's and Hermes' tool-call markup, when the server's template parser did not take it.
_TAGGED = re.compile(r"<tool_call>\s*(?P<body>.*?)\s*(?:(?P<closed></tool_call>)|\Z)", re.DOTALL)
# A call whose "code" is a Python triple-quoted string: not JSON, but its meaning is plain.
_TRIPLE_QUOTED = re.compile(r'"code"\s*:\s*(?P<q>"""|\'\'\')(?P<code>.*?)(?P=q)', re.DOTALL)
_NAMES_RUN_PYTHON = re.compile(r'"(?:name|function)"\s*:\s*"' + RUN_PYTHON + '"')


@dataclass(frozen=True)
class TextCode:
    """What the reply's text asks to run: ``blocks`` of code in order; ``form`` is "python"
    or "call" (a run_python call written as text); ``problem`` says why a block or call did
    not make it: "cut" (the output limit ended the text inside it) or "unreadable" (a call
    naming run_python whose code could not be read)."""

    blocks: list[str] = field(default_factory=list)
    form: str = ""
    problem: Missed = ""


def python_blocks(reply: str) -> list[str]:
    """The code of each python block, in order; blocks with only whitespace are skipped."""
    return python_code(reply).blocks


def python_code(reply: str, *, cut_off: bool = False) -> TextCode:
    """The reply's ```python blocks. With ``cut_off`` (the reply hit the output limit), a
    block the text ends inside is incomplete and left out."""
    blocks: list[str] = []
    problem: Missed = ""
    for match in _BLOCK.finditer(reply):
        if not _PYTHON.match(match["info"].strip()) or not match["body"].strip():
            continue
        if cut_off and match["closed"] is None:
            problem = "cut"
            continue
        blocks.append(match["body"])
    return TextCode(blocks, "python" if blocks else "", problem)


def code_in_text(reply: str, *, cut_off: bool = False) -> TextCode:
    """In tools mode, when the reply has no tool calls: the run_python calls written in its
    text (a ```json block, <tool_call> markup, or the whole reply as JSON, naming
    run_python), else its ```python blocks. Calls win: a model that wrote a call meant it
    to run, and its code may also be quoted in a python block for the person."""
    calls: list[str] = []
    problem: Missed = ""
    candidates = [(m["body"], m["closed"] is not None) for m in _TAGGED.finditer(reply)]
    candidates += [(m["body"], m["closed"] is not None) for m in _BLOCK.finditer(reply) if _CALL_INFO.fullmatch(m["info"])]
    if reply.lstrip().startswith("{"):  # the whole reply is the call, with no fence at all
        candidates.append((reply, reply.rstrip().endswith("}")))
    for body, closed in candidates:
        incomplete = cut_off and not closed
        code = None if incomplete else call_code(body)
        if code is not None and code.strip():
            calls.append(code)
        elif _NAMES_RUN_PYTHON.search(body):
            problem = "cut" if incomplete else "unreadable"
    if calls:
        return TextCode(calls, "call", problem)
    python = python_code(reply, cut_off=cut_off)
    return TextCode(python.blocks, python.form, python.problem or problem)


def call_code(text: str) -> str | None:
    """The code of a run_python call written as text, in any of the shapes models use:
    {"name": "run_python", "arguments": {...} or "..."}, "parameters" for "arguments", the
    same inside {"function": ...}, "function" for "name", raw newlines inside strings, or a
    triple-quoted "code"."""
    text = text.strip()
    try:
        parsed = json.loads(text, strict=False)  # strict=False: raw newlines in strings
    except ValueError:
        if not _NAMES_RUN_PYTHON.search(text):
            return None
        match = _TRIPLE_QUOTED.search(text)
        return match["code"] if match else None
    return _code_of_call(parsed)


def _code_of_call(parsed: Any) -> str | None:
    if not isinstance(parsed, dict):
        return None
    if isinstance(parsed.get("function"), dict):
        parsed = parsed["function"]
    if RUN_PYTHON not in (parsed.get("name"), parsed.get("function")):  # {"function": "run_python", ...} too
        return None
    arguments = parsed.get("arguments", parsed.get("parameters"))
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments, strict=False)
        except ValueError:
            return None
    code = arguments.get("code") if isinstance(arguments, dict) else None
    return code if isinstance(code, str) else None
