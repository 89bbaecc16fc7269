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

from ..agent._figures import Tie
from ..render import Mark, escape
from ..transcript import UNCOMPUTED, Provenance, Source, origin
from ..transcript import marker as marks
from ._actions import action_button

FIGURES_CSS = """
button.ly-figure { font: inherit; color: inherit; background: none; border: 0; border-bottom: 1px dotted #1f6feb;
  padding: 0; margin: 0; cursor: pointer; }
button.ly-figure:hover, button.ly-figure:focus-visible { background: #e7f0ff; outline: 1px solid #1f6feb; }
mark.ly-uncomputed { background: #fff4e0; color: inherit; border-bottom: 2px dashed #a65300; padding: 0 1px; }
mark.ly-uncomputed sup { font-size: .7em; font-weight: 700; margin-left: 1px; }
"""


def cell_key(turn: int, index: int) -> str:
    """How the page finds a cell: the ``index``-th code cell of turn ``turn``."""
    return f"{turn}-{index}"


def marker(found: Provenance) -> Mark:
    """Marks the figures of a piece of the answer of ``found.turn``: a button for each one a
    cell computed, a mark for each one none did."""

    def wrap(tie: Tie, source: Source | None) -> str:
        if source is None:
            return f'<mark class="ly-uncomputed" title="{escape(UNCOMPUTED)}">{escape(tie.figure.text)}<sup>?</sup></mark>'
        title = f"{origin(found, tie, source)} Click to show the cell."
        return action_button("show-cell", tie.figure.text, "ly-figure", title, cell=cell_key(source.turn, source.index))

    return marks(found, wrap)


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
