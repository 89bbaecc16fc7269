"""Text from the kernel, the model or a file, made safe to show: escaped for HTML, with
invisible direction controls made visible, and fenced so that no backtick run ends it."""

from __future__ import annotations

import html
import re

#: Controls that reorder or hide what follows them: a right-to-left override turns
#: "report\u202Etxt.exe" into what reads as "reportexe.txt".
_BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def escape(value: object) -> str:
    """``value`` as HTML text (and attribute value): the one way untrusted text meets markup."""
    return html.escape(str(value), quote=True)


def visible(name: str) -> str:
    """A name with each direction control shown as its code point, e.g. ``⟨U+202E⟩``."""
    return _BIDI.sub(lambda found: f"⟨U+{ord(found.group()):04X}⟩", name)


def fenced(code: str, language: str = "python") -> str:
    """A Markdown code block that holds ``code`` whole: its fence is longer than any run
    of backticks inside, so the code cannot close it and continue as prose."""
    fence = "`" * max(3, max(map(len, re.findall("`+", code)), default=0) + 1)
    return f"{fence}{language}\n{code.rstrip()}\n{fence}"
