"""The conversation as a plain Python script that runs from top to bottom."""

from __future__ import annotations

from ._layout import OUTPUTS_SETUP, reading_order, uses_outputs_folder
from ._record import Entry, Transcript, outcome

HEADER = '''"""A conversation with Localyst, as a Python script.

Run it from the folder that holds the files it reads (python this_file.py): the code opens
them by their names, as it did in Localyst. Code that failed, was stopped or never ran is
kept as comments, so the script runs through; values that a cell showed as its last line
are not printed here.
"""
'''
NOT_RUN_HERE = {
    "failed": "This code failed ({error}), so it is kept as a comment:",
    "stopped": "This code was stopped before it finished, so it is kept as a comment:",
    "not run": "This code was written but never run:",
    "not a script": "This code ran in Localyst but is not valid in a plain script (top-level await?), so it is kept as a comment:",
}


def to_script(transcript: Transcript) -> str:
    """The questions and replies as comments, the code that worked as code, in order."""
    entries = reading_order(transcript.entries)
    parts = [HEADER]
    if uses_outputs_folder(entries):
        parts.append(OUTPUTS_SETUP)
    parts += (_part(entry) for entry in entries)
    return "\n".join(parts)


def _part(entry: Entry) -> str:
    kind = entry["kind"]
    if kind == "user":
        return _comment(f"You asked:\n{entry['text']}")
    if kind == "assistant":
        return _comment(entry["text"])
    if kind == "notice":
        return _comment(f"Note: {entry['text']}")
    code = entry["code"].rstrip() + "\n"
    done = outcome(entry)
    if done == "ok" and not _compiles(code):
        done = "not a script"
    heading = "# You edited this code and ran it yourself:\n" if entry["source"] == "edited" else ""
    if done == "ok":
        return heading + code
    error = entry["error"] or {}
    reason = NOT_RUN_HERE[done].format(error=f"{error.get('ename')}: {error.get('evalue')}")
    return heading + _comment(f"{reason}\n\n{code}")


def _comment(text: str) -> str:
    """Each line as a comment. splitlines() splits at every character Python ends a line
    at (a lone carriage return too), so no text can end its comment and become code."""
    lines = text.replace("\0", "").strip("\n").splitlines() or [""]
    return "".join(f"# {line}".rstrip() + "\n" for line in lines)


def _compiles(code: str) -> bool:
    try:
        compile(code, "<cell>", "exec")
    except (SyntaxError, ValueError):
        return False
    return True
