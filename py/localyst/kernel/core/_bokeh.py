"""Bokeh models and Panel objects as standalone JSON that the page embeds live."""

from __future__ import annotations

import logging
import sys
from typing import Any

from ...protocol import BOKEH_MIME


def bokeh_root(obj: Any) -> Any | None:
    """The Bokeh model to embed for `obj`, or None if it is neither Bokeh nor Panel."""
    model = sys.modules.get("bokeh.model")
    if model is not None and isinstance(obj, model.Model):
        return obj
    viewable = sys.modules.get("panel.viewable")
    if viewable is not None and isinstance(obj, viewable.Viewable):
        return obj.get_root()
    return None


def bokeh_bundle(obj: Any, root: Any) -> dict[str, Any]:
    """The bundle with `json_item(root)`.

    Bokeh warns, on every Panel widget, that Python callbacks do not run in standalone
    output; that is known here (the page only draws the object), so the warning is muted.
    """
    from bokeh.embed import json_item

    logger = logging.getLogger("bokeh.embed.util")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        item = json_item(root)
    finally:
        logger.setLevel(level)
    return {"text/plain": repr(obj), BOKEH_MIME: item}
