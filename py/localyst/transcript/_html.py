"""HTML made from what the model and the code produced: every piece of it is escaped."""

from __future__ import annotations

from html import escape
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.token import Token

from ..render import Mark, marked_text, safe_links

# Raw HTML in Markdown comes out as text; links follow the page's rules (render/_markdown.py).
_MARKDOWN = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"]).use(safe_links).use(marked_text)


def _image_as_text(renderer: Any, tokens: list[Token], index: int, options: Any, env: Any) -> str:
    """A Markdown image becomes its description: an image from a URL would be fetched."""
    alt = "".join(child.content for child in tokens[index].children or [])
    return f"<span class='image-ref'>[image: {escape(alt)}]</span>"


_MARKDOWN.add_render_rule("image", _image_as_text)


def markdown_html(text: str, mark: Mark | None = None) -> str:
    """``text`` as HTML; ``mark``, if given, marks the figures of its plain text."""
    return _MARKDOWN.render(text, {"mark": mark} if mark is not None else None)


def table_html(table: dict[str, Any]) -> str:
    """A table output (the kernel's table MIME data) as an HTML table with a caption."""
    head = "".join(f"<th>{_cell(c)}</th>" for c in [table.get("index_name"), *table["columns"]])
    body = "".join(
        f"<tr><th>{_cell(label)}</th>{''.join(f'<td>{_cell(v)}</td>' for v in row)}</tr>"
        for label, row in zip(table["index"], table["rows"])
    )
    return f"<table class='dataframe'><caption>{escape(_shape(table))}</caption><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _shape(table: dict[str, Any]) -> str:
    rows, columns = table["shape"]
    text = f"{rows:,} rows × {columns:,} columns"
    if table.get("truncated"):
        text += f" (the first {len(table['rows']):,} rows and {len(table['columns']):,} columns shown)"
    return text


def _cell(value: Any) -> str:
    return "" if value is None else escape(str(value))
