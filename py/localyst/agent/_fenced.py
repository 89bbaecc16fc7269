"""For endpoints without tool calling: the ```python blocks of a reply are the code to run."""

from __future__ import annotations

import re

OUTPUT_PREFIX = "Output of the code above:"

# An opening fence at a line start (up to 3 spaces, as CommonMark allows), tagged python,
# py or python3; the block ends at the next fence line, or at the end of the reply.
_BLOCK = re.compile(
    r"^ {0,3}(`{3,}|~{3,})[ \t]*(?:python3?|py)\b[^\n]*\n(.*?)(?:^ {0,3}\1[ \t]*$|\Z)",
    re.DOTALL | re.MULTILINE | re.IGNORECASE,
)


def python_blocks(reply: str) -> list[str]:
    """The code of each python block, in order; blocks with only whitespace are skipped."""
    return [m.group(2) for m in _BLOCK.finditer(reply) if m.group(2).strip()]
