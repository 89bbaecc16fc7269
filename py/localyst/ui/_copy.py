"""A Copy button that writes its text to the clipboard in the page itself.

The clipboard wants a click in the page, and the app lives in a worker, so the copy must
happen in the browser. A ReactiveHTML script does it without registering a Panel link:
one js_on_click anywhere makes Panel walk the whole document on every later change.
"""

from __future__ import annotations

import param
from panel.reactive import ReactiveHTML

COPY_CSS = """
button { display: inline-flex; align-items: center; gap: 4px; font: inherit; font-size: 13px;
  padding: 3px 10px; border: 1px solid #d0d7de; border-radius: 4px; background: #f8f9fa; color: #24292f;
  cursor: pointer; }
button:hover { background: #eef1f4; }
"""


class CopyButton(ReactiveHTML):
    """Copies ``text`` when clicked; says so for a moment."""

    text = param.String(default="", doc="What a click copies.")

    _template = '<button type="button" id="button" onclick="${script(\'copy\')}">Copy</button>'

    _scripts = {
        "copy": """
          navigator.clipboard.writeText(data.text).then(() => {
            button.textContent = "Copied";
            setTimeout(() => { button.textContent = "Copy"; }, 1500);
          });
        """,
    }

    _stylesheets = [COPY_CSS]
