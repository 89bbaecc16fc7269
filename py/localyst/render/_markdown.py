"""Markdown that cannot script the page or reach outside it (a markdown-it plugin).

Everything shown as Markdown (the model's text, code output's ``text/markdown``, messages,
restored conversations, the HTML report) may carry what a hostile file told the model to
write. Raw HTML is turned off where the renderer is made; this plugin lets links go only
to http(s) or mailto addresses, opening in a new tab without a handle on this one, and
shows images as a placeholder naming their address: fetching one would tell its server
that, and when, the conversation reached it. A link without a scheme is not the page's
own: ``//host/…`` goes to another host (it is written out as https://host/…), and a
relative one such as ``?base_url=…`` would reopen Localyst with settings of the writer's
choosing, so it stays text.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from ._text import escape

LINK_SCHEMES = ("http", "https", "mailto")

#: Turns a piece of plain text into the HTML that shows it marked; escapes all of it.
Mark = Callable[[str], str]


def _outside(url: str) -> str:
    """The address a link really goes to: a protocol-relative one made explicit."""
    url = url.strip()
    return "https:" + url if url.startswith("//") else url


def _allowed_link(url: str) -> bool:
    return urlsplit(_outside(url)).scheme.lower() in LINK_SCHEMES


def _link_open(self: Any, tokens: list, idx: int, options: Any, env: Any) -> str:
    token = tokens[idx]
    token.attrSet("href", _outside(token.attrGet("href") or ""))
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
        f"[image not loaded: {escape(label)}{escape(src)}]</span>"
    )


def _text(self: Any, tokens: list, idx: int, options: Any, env: Any) -> str:
    mark = env.get("mark") if isinstance(env, dict) else None
    if mark is None or _in_link(tokens, idx):
        return escape(tokens[idx].content)
    return mark(tokens[idx].content)


def _in_link(tokens: list, idx: int) -> bool:
    """Whether the inline token ``idx`` is a link's text (its address may hold numbers)."""
    for token in reversed(tokens[:idx]):
        if token.type in ("link_open", "link_close"):
            return token.type == "link_open"
    return False


def marked_text(md: Any) -> None:
    """Hand the text outside code and links to ``env["mark"]``, when a renderer is given one."""
    md.add_render_rule("text", _text)


def safe_links(md: Any) -> None:
    """The link rules above (for renderers that show images their own way)."""
    md.validateLink = _allowed_link
    md.add_render_rule("link_open", _link_open)


def safe_rendering(md: Any) -> None:
    """The link rules and the image placeholder."""
    safe_links(md)
    md.add_render_rule("image", _image)
    marked_text(md)
