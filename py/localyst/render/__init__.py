"""One place for how untrusted content meets the page: the Bokeh allow-list, escaping,
visible names, code fences and sizes. Used by the UI and the exports alike."""

from ._bokeh import ALLOWED as BOKEH_ALLOWED
from ._bokeh import Refused, safe_bokeh
from ._html import clean_html
from ._markdown import Mark, marked_text, safe_links, safe_rendering
from ._text import escape, fenced, visible

# Sizes read the same everywhere: the kernel words its own messages with this function (it
# runs without render's dependencies), the page and the prompt with it too.
from ..kernel.core._intake._messages import size_text

__all__ = ["BOKEH_ALLOWED", "Refused", "Mark", "clean_html", "escape", "fenced", "marked_text", "safe_bokeh", "safe_links", "safe_rendering", "size_text", "visible"]
