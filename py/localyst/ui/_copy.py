"""A Copy button that writes its text to the clipboard in the page itself.

The clipboard wants a click in the page, and the app lives in a worker, so the copy must
happen in the browser. The button is plain HTML with ``data-action="copy"``, handled by
site/loader.js: no Panel link (one js_on_click anywhere makes Panel walk the whole document
on every later change) and no Bokeh model of its own.
"""

from __future__ import annotations

import panel as pn

from ._actions import action_button

COPY_CSS = """
button { display: inline-flex; align-items: center; gap: 4px; font: inherit; font-size: 13px;
  padding: 3px 10px; border: 1px solid #d0d7de; border-radius: 4px; background: #f8f9fa; color: #24292f;
  cursor: pointer; }
button:hover { background: #eef1f4; }
"""


def copy_button(text: str, **params) -> pn.pane.HTML:
    """A button that copies ``text`` when clicked; the loader says so on it for a moment."""
    return pn.pane.HTML(copy_markup(text), stylesheets=[COPY_CSS], **params)


def copy_markup(text: str) -> str:
    """The button's HTML, for changing what it copies (``pane.object = copy_markup(...)``)."""
    return action_button("copy", "Copy", text=text)
