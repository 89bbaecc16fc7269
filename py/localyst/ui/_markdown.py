"""Markdown that cannot script the page or reach outside it.

Everything the app shows as Markdown (the model's text, code output's ``text/markdown``,
messages, restored conversations) may carry what a hostile file told the model to write.
So every Markdown pane renders with raw HTML off (tags show as text), links only to
http(s), mailto or the page itself, opening in a new tab without a handle on this one,
and images as a placeholder naming their address: fetching one would tell its server
that, and when, the conversation reached it.
"""

from __future__ import annotations

import html
from typing import Any
from urllib.parse import urlsplit

import panel as pn

LINK_SCHEMES = ("", "http", "https", "mailto")


def _allowed_link(url: str) -> bool:
    return urlsplit(url.strip()).scheme.lower() in LINK_SCHEMES


def _link_open(self: Any, tokens: list, idx: int, options: Any, env: Any) -> str:
    token = tokens[idx]
    token.attrSet("target", "_blank")
    token.attrSet("rel", "noopener noreferrer")
    return self.renderToken(tokens, idx, options, env)


def _image(self: Any, tokens: list, idx: int, options: Any, env: Any) -> str:
    token = tokens[idx]
    alt = self.renderInlineAsText(token.children or [], options, env)
    src = token.attrGet("src") or ""
    label = f"{alt} — " if alt else ""
    return (
        f"<span class='ly-blocked-image' title='Images are not loaded from elsewhere'>"
        f"[image not loaded: {html.escape(label)}{html.escape(src)}]</span>"
    )


def safe_rendering(md: Any) -> None:
    """A markdown-it plugin: the link and image rules above."""
    md.validateLink = _allowed_link
    md.add_render_rule("link_open", _link_open)
    md.add_render_rule("image", _image)


def lock_down_markdown() -> None:
    """Make the safe rendering every Markdown pane's default, Panel's chat messages included."""
    pn.pane.Markdown.renderer = "markdown-it"
    pn.pane.Markdown.renderer_options = {"html": False}
    pn.pane.Markdown.plugins = [safe_rendering]
