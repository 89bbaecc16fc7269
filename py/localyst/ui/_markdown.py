"""Every Markdown pane of the app, Panel's chat messages included, renders safely: raw
HTML off, and render/_markdown.py's rules for links and images."""

from __future__ import annotations

import panel as pn

from ..render import safe_rendering


def lock_down_markdown() -> None:
    """Make the safe rendering every Markdown pane's default."""
    pn.pane.Markdown.renderer = "markdown-it"
    pn.pane.Markdown.renderer_options = {"html": False}
    pn.pane.Markdown.plugins = [safe_rendering]
