"""Glue between Panel's pyodide-worker protocol and the Localyst app.

app-worker.js calls these three functions; the main thread only renders the Bokeh
document that ``render`` returns and exchanges JSON patches with ``apply_patch``.
"""

from __future__ import annotations

from typing import Any, Callable


async def render(search: str) -> tuple[str, str, str]:
    """Build the app into a fresh document and return it as (docs_json, render_items, root_ids)."""
    from panel.io.pyodide import init_doc, write_doc

    from .app import build_app

    init_doc()
    build_app(search).servable()
    return await write_doc()


def link(send_patch: Callable[..., Any]) -> None:
    """Start forwarding document changes made in Python to the page."""
    from panel.io.pyodide import _link_docs_worker
    from panel.io.state import state

    _link_docs_worker(state.curdoc, send_patch, setter="js")


def apply_patch(patch: Any) -> None:
    """Apply a change the person made in the page to the Python-side document."""
    from panel.io.pyodide import _convert_json_patch
    from panel.io.state import state

    state.curdoc.apply_json_patch(_convert_json_patch(patch), setter="js")
