"""What left the machine: every model request of a turn, shown exactly as sent.

Each request is kept as the messages it held (the history's own message objects, which
are never changed once sent) and written out as JSON only while the card is open: the
JSON repeats the whole conversation, so making it per request would cost every step more
as the conversation grows."""

from __future__ import annotations

import json
from typing import Any

import panel as pn

from ..render import escape
from ._outputs import OUTPUT_CSS

SENT_CSS = OUTPUT_CSS + """
details { margin: 2px 0; }
summary { cursor: pointer; font-size: 13px; color: #24292f; }
"""


class SentLog:
    """A collapsed card listing the requests of one turn; their JSON appears when opened."""

    def __init__(self) -> None:
        self.requests: list[tuple[tuple[dict[str, Any], ...], list[dict[str, Any]] | None]] = []
        self.content = pn.pane.HTML("", sizing_mode="stretch_width", stylesheets=[SENT_CSS], margin=0)
        self.card = pn.Card(
            self.content, title="Sent to the model", collapsed=True, sizing_mode="stretch_width", visible=False, margin=(4, 0)
        )
        self.card.param.watch(self._on_toggle, "collapsed")

    def add(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None) -> None:
        self.requests.append((tuple(messages), tools))
        count = len(self.requests)
        self.card.title = f"Sent to the model ({count} request{'s' if count > 1 else ''})"
        self.card.visible = True
        if not self.card.collapsed:
            self._render()

    def _on_toggle(self, event) -> None:
        if event.new:
            self.content.object = ""
        else:
            self._render()

    def _render(self) -> None:
        self.content.object = "".join(
            f"<details><summary>Request {number}</summary><pre>{escape(_as_sent(messages, tools))}</pre></details>"
            for number, (messages, tools) in enumerate(self.requests, 1)
        )


def _as_sent(messages: tuple[dict[str, Any], ...], tools: list[dict[str, Any]] | None) -> str:
    return json.dumps({"messages": list(messages), "tools": tools}, indent=2, ensure_ascii=False)
