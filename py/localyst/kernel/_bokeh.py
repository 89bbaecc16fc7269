"""Bokeh models and Panel objects as standalone JSON that the page embeds live."""

from __future__ import annotations

import sys
from typing import Any

from ._outputs import BOKEH_MIME


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
    from bokeh.embed import json_item

    return {"text/plain": repr(obj), BOKEH_MIME: json_item(root)}
