"""Cutting long text down to a limit while keeping its beginning and its end."""

from __future__ import annotations


def omission_note(count: int) -> str:
    """The visible line that stands where text was cut out."""
    return f"\n… [{count:,} characters omitted] …\n"


def truncate_middle(text: str, limit: int) -> str:
    """Keep the head and the tail of `text` (the end of a log or a traceback matters most)."""
    if len(text) <= limit:
        return text
    head = limit // 2
    tail = limit - head
    return text[:head] + omission_note(len(text) - head - tail) + text[len(text) - tail :]
