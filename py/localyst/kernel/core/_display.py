"""`display()` and the MIME bundles of objects, as IPython would show them."""

from __future__ import annotations

import base64
import inspect
import json
from typing import Any, Callable

from . import _bokeh, _figures, _images, _plotly, _tables
from ._outputs import Output
from ._truncate import truncate_middle

TEXT_LIMIT = 20_000

# The receiver of displays for the cell that is running; the kernel sets it around a cell.
publish: Callable[[Output], None] | None = None

# `_repr_*_` methods, as IPython looks for them; binary image data arrives as bytes.
REPR_METHODS = {
    "text/html": "_repr_html_",
    "text/markdown": "_repr_markdown_",
    "image/svg+xml": "_repr_svg_",
    "image/png": "_repr_png_",
    "image/jpeg": "_repr_jpeg_",
    "text/latex": "_repr_latex_",
    "application/json": "_repr_json_",
}


def display(*objs: Any, **_ipython_options: Any) -> None:
    """Show each object as rich output of the running cell, one display per object.

    IPython's keyword options (`metadata`, `display_id`, ...) are accepted and ignored,
    so code written for Jupyter runs unchanged.
    """
    for obj in objs:
        bundle = mime_bundle(obj)
        if publish is None:  # no cell is running: say what it is, at least
            print(bundle["text/plain"])
        else:
            publish(Output("display", data=bundle, metadata=metadata_for(obj)))


def metadata_for(obj: Any) -> dict[str, Any]:
    """A figure's metadata names it, so it can be saved as SVG later."""
    return {**_figures.FIGURE_METADATA, "figure": _figures.keep(obj)} if _figures.is_figure(obj) else {}


def mime_bundle(obj: Any) -> dict[str, Any]:
    """The ways `obj` can be shown, keyed by MIME type; always has "text/plain"."""
    if _tables.is_table(obj):
        return _tables.table_bundle(obj)
    if _figures.is_figure(obj):
        bundle = _figures.figure_bundle(obj)
        _figures.forget(obj)
        return bundle
    if _images.is_pil_image(obj):
        return _images.pil_bundle(obj)
    if _plotly.is_plotly(obj):
        return _plotly.plotly_bundle(obj)
    root = _bokeh.bokeh_root(obj)
    if root is not None:
        return {**_bokeh.bokeh_bundle(obj, root), **_bokeh.static_picture(obj)}
    bundle = {} if inspect.isclass(obj) else _repr_bundle(obj)
    bundle.setdefault("text/plain", _plain(obj))
    return bundle


def _repr_bundle(obj: Any) -> dict[str, Any]:
    bundle: dict[str, Any] = {}
    method = _repr_method(obj, "_repr_mimebundle_")
    if method is not None:
        produced = _call(method, include=None, exclude=None)
        if isinstance(produced, tuple):  # (data, metadata)
            produced = produced[0]
        if isinstance(produced, dict):
            bundle.update((mime, _encoded(mime, data)) for mime, data in produced.items())
    for mime, name in REPR_METHODS.items():
        method = _repr_method(obj, name)
        if mime in bundle or method is None:
            continue
        data = _call(method)
        if isinstance(data, tuple):  # (data, metadata)
            data = data[0]
        bundle[mime] = _encoded(mime, data)
    return {mime: data for mime, data in bundle.items() if data is not None}


def _repr_method(obj: Any, name: str) -> Callable[..., Any] | None:
    try:
        method = getattr(obj, name, None)
    except Exception:  # a broken property must not break the display
        return None
    return method if callable(method) else None


def _call(method: Callable[..., Any], **kwargs: Any) -> Any:
    """A repr method's answer, or None if it fails (as IPython, the other formats still show)."""
    try:
        return method(**kwargs)
    except Exception:
        return None


def _encoded(mime: str, data: Any) -> Any:
    """Data that survives JSON: images as base64 text; None for what JSON cannot hold."""
    if isinstance(data, bytes):
        if mime.startswith("image/") and mime != "image/svg+xml":
            return base64.b64encode(data).decode("ascii")
        return data.decode("utf-8", "replace")
    if data is None or isinstance(data, str):
        return data
    try:
        json.dumps(data, allow_nan=False)
    except (TypeError, ValueError):
        return None
    return data


def _plain(obj: Any) -> str:
    try:
        text = repr(obj)
    except Exception as exc:
        text = f"<{type(obj).__name__} object: repr() failed with {type(exc).__name__}: {exc}>"
    return truncate_middle(text, TEXT_LIMIT)
