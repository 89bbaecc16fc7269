"""Glue between Panel's pyodide-worker protocol and the Localyst app.

app-worker.js calls these functions; the main thread only renders the Bokeh document
that ``render`` returns, exchanges JSON patches with ``apply_patch``, and hands over the
files the person drops, pastes or picks with ``receive_files``.
"""

from __future__ import annotations

import logging
from typing import Any, Callable

from ..protocol import Malformed, page_files, parse_page_action

log = logging.getLogger(__name__)
_app: Any = None  # the LocalystApp of this page, once rendered


async def render(search: str) -> tuple[str, str, str]:
    """Build the app into a fresh document and return it as (docs_json, render_items, root_ids)."""
    from panel.io.pyodide import init_doc, write_doc

    from . import _actions
    from .app import build_app

    global _app
    _actions.new_token()
    init_doc()
    _app = build_app(search)
    _app.view().servable()
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


async def receive_files(files: Any) -> None:
    """The person's files (a JS array of File objects, not read yet) into the kernel."""
    await _app.add_files(list(page_files(files)))


async def page_action(action: Any) -> None:
    """A button the app drew as plain HTML was clicked (see data-action in loader.js), or the
    first screen hands over what the person gave it while Python started."""
    try:
        parsed = parse_page_action(action.to_py(depth=1))
    except Malformed as exc:
        log.warning("a page action was dropped: %s", exc)
        return
    await _app.page_action(parsed)
