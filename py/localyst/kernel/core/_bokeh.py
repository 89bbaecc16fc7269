"""Bokeh models and Panel objects as standalone JSON that the page embeds live."""

from __future__ import annotations

import logging
import sys
from typing import Any

from ...protocol import BOKEH_MIME


def bokeh_root(obj: Any) -> Any | None:
    """The Bokeh model to embed for `obj`, or None if it is not Bokeh, Panel or HoloViews
    (what hvplot returns): HoloViews objects are drawn by its Bokeh backend."""
    model = sys.modules.get("bokeh.model")
    if model is not None and isinstance(obj, model.Model):
        return obj
    dimension = sys.modules.get("holoviews.core.dimension")
    if dimension is not None and isinstance(obj, dimension.Dimensioned):
        import holoviews

        return holoviews.render(obj, backend="bokeh")
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


def static_picture(obj: Any) -> dict[str, Any]:
    """A PNG of a HoloViews object (by its matplotlib backend) for the exports, which
    cannot hold the live plot; {} for anything else, or if drawing it fails."""
    dimension = sys.modules.get("holoviews.core.dimension")
    if dimension is None or not isinstance(obj, dimension.Dimensioned):
        return {}
    import holoviews

    from . import _figures

    try:
        figure = holoviews.render(obj, backend="matplotlib")
    except Exception:  # the live plot still shows; only the exports go without a picture
        logging.getLogger(__name__).warning("no static picture of %s", type(obj).__name__, exc_info=True)
        return {}
    return {"image/png": _figures.figure_bundle(figure)["image/png"]}
