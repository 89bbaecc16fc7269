"""The figures of an answer on screen: each one some code computed is a button naming that
code and its output (a click shows the cell), each one no output holds is marked "not
computed". The marks are made from the record whenever an answer is drawn, from text
that is escaped piece by piece (render/_markdown.py hands over only plain text)."""

from __future__ import annotations

import html
import textwrap
from typing import Any

import panel as pn
import param

from ..render import Mark, escape
from ..transcript import Provenance
from ._actions import action_button

FIGURES_CSS = """
button.ly-figure { font: inherit; color: inherit; background: none; border: 0; border-bottom: 1px dotted #1f6feb;
  padding: 0; margin: 0; cursor: pointer; }
button.ly-figure:hover, button.ly-figure:focus-visible { background: #e7f0ff; outline: 1px solid #1f6feb; }
mark.ly-uncomputed { background: #fff4e0; color: inherit; border-bottom: 2px dashed #a65300; padding: 0 1px; }
mark.ly-uncomputed sup { font-size: .7em; font-weight: 700; margin-left: 1px; }
"""
UNCOMPUTED = "Not computed: no output of the code in this conversation holds this number."
SHOWN_CODE = 80  # characters of the code's line a computed figure's title names


def cell_key(turn: int, index: int) -> str:
    """How the page finds a cell: the ``index``-th code cell of turn ``turn``."""
    return f"{turn}-{index}"


def marker(found: Provenance) -> Mark:
    """Marks the figures of a piece of the answer of ``found.turn``."""

    def mark(text: str) -> str:
        parts, at = [], 0
        for tie in found.ledger.ties(text):
            figure = tie.figure
            parts.append(escape(text[at : figure.start]))
            if tie.computed is None:
                parts.append(f'<mark class="ly-uncomputed" title="{escape(UNCOMPUTED)}">{escape(figure.text)}<sup>?</sup></mark>')
            else:
                source = found.sources[tie.computed.source]
                where = "" if source.turn == found.turn else " of an earlier answer"
                title = f"From the output of a cell{where}: {_line(source.code)} → {tie.computed.text}. Click to show the cell."
                parts.append(action_button("show-cell", figure.text, "ly-figure", title, cell=cell_key(source.turn, source.index)))
            at = figure.end
        parts.append(escape(text[at:]))
        return "".join(parts)

    return mark


def _line(code: str) -> str:
    """The code's last line (where a result is printed, usually), shortened."""
    lines = [line.strip() for line in code.strip().splitlines() if line.strip()]
    last = lines[-1] if lines else ""
    last = last if len(last) <= SHOWN_CODE else last[: SHOWN_CODE - 1] + "…"
    return ("… " if len(lines) > 1 else "") + last


class AnswerText(pn.pane.Markdown):
    """The model's text in a turn; once ``mark`` is set, its figures are marked."""

    mark = param.Callable(default=None, doc="Turns plain text into marked HTML (``marker``).")

    _rename = {**pn.pane.Markdown._rename, "mark": None}
    _rerender_params = [*pn.pane.Markdown._rerender_params, "mark"]

    def _transform_object(self, obj: Any) -> dict[str, Any]:
        if self.mark is None or not isinstance(obj, str):
            return super()._transform_object(obj)
        parser = self._get_parser(self.renderer, tuple(self.plugins), self.hard_line_break, self.disable_anchors, **self.renderer_options)
        text = textwrap.dedent(obj) if self.dedent else obj
        return {"object": html.escape(parser.render(text, {"mark": self.mark}))}
