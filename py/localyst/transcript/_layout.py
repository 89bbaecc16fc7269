"""What the exports share: the entries in reading order, and the outputs folder.

In fenced mode the reply text holds the ```python blocks that ran, and their code entries
come after the whole reply. Shown as recorded, each piece of code would appear twice; here
the reply is cut at each block that ran, and that block's code entry takes its place.
"""

from __future__ import annotations

import re

from ._record import Entry

# The kernel makes this folder for the files code writes; a re-run must make it too.
OUTPUTS_SETUP = 'import os\n\nos.makedirs("outputs", exist_ok=True)  # Localyst made this folder for the files the code writes\n'

_OPENING_FENCE = r"^ {0,3}(`{3,}|~{3,})[^\n]*\n"
_CLOSING_FENCE = r"(?:^ {0,3}\1[ \t]*(?:\n|\Z)|\Z)"


def reading_order(entries: list[Entry]) -> list[Entry]:
    """The entries, with fenced code lifted out of the reply text that contained it."""
    ordered: list[Entry] = []
    reply: str | None = None  # the rest of the last reply text, not yet placed
    for entry in entries:
        if entry["kind"] == "code" and entry["source"] == "fenced" and reply is not None:
            block = _block(reply, entry["code"])
            if block is not None:
                _add_text(ordered, reply[: block.start()])
                reply = reply[block.end() :]
            ordered.append(entry)
        elif entry["kind"] == "notice" and entry["reason"] is None:  # said while the reply's code ran
            ordered.append(entry)
        else:
            if reply is not None:
                _add_text(ordered, reply)
                reply = None
            if entry["kind"] == "assistant":
                reply = entry["text"]
            else:
                ordered.append(entry)
    if reply is not None:
        _add_text(ordered, reply)
    return ordered


def _block(text: str, code: str) -> re.Match[str] | None:
    """The fenced block whose content is exactly ``code`` (as the agent extracted it)."""
    return re.search(_OPENING_FENCE + re.escape(code) + _CLOSING_FENCE, text, re.MULTILINE)


def _add_text(ordered: list[Entry], text: str) -> None:
    if text.strip():
        ordered.append({"kind": "assistant", "text": text.strip("\n")})


def uses_outputs_folder(entries: list[Entry]) -> bool:
    return any("outputs" in entry["code"] for entry in entries if entry["kind"] == "code")
