"""Which plotly figures from the kernel the page draws: an allow-list of plain charts.

A plotly figure is JSON, but plotly.js acts on parts of it: map and geo traces fetch tiles,
styles and topojson from other sites, ``layout.images`` loads its sources, text may carry
``<a href>`` links (and ``style`` with ``url(...)``), and ``config`` decides what the page's
own buttons do (an "edit in Chart Studio" link, ``plotlyServerURL``). The kernel can put any
of these in a figure. So a figure passes only when its traces are of the types below, its
layout keys are on the list below, every string in it is free of links, scripts and URL
references, and images are inline data; a figure with ``config`` is refused (the page sets
its own). The kernel's template is cleaned rather than refused: plotly's stock templates
carry map and geo styling, which is dropped with the trace types it styles.
"""

from __future__ import annotations

import re
from typing import Any

#: Trace types drawn: cartesian, statistical, 3-D (WebGL, no fetching) and polar charts.
TRACES = frozenset(
    """
    scatter scattergl bar histogram histogram2d histogram2dcontour box violin heatmap contour
    pie funnel funnelarea waterfall candlestick ohlc image splom parcoords parcats sunburst
    treemap icicle indicator scatter3d surface mesh3d cone streamtube volume isosurface
    scatterpolar scatterpolargl barpolar scatterternary carpet scattercarpet contourcarpet table
    """.split()
)

#: Layout keys drawn (a number may follow those in SUBPLOTS: xaxis2, scene3, ...). Not here:
#: geo, mapbox and map (subplots that fetch), and anything plotly.js adds later.
LAYOUT = frozenset(
    """
    title font margin width height autosize paper_bgcolor plot_bgcolor colorway colorscale
    showlegend hovermode hoverlabel hoverdistance spikedistance clickmode dragmode separators
    barmode bargap bargroupgap barnorm barcornerradius boxmode boxgap boxgroupgap violinmode
    violingap violingroupgap funnelmode funnelgap funnelgroupgap waterfallmode waterfallgap
    waterfallgroupgap scattermode scattergap piecolorway extendpiecolors sunburstcolorway
    extendsunburstcolors treemapcolorway extendtreemapcolors iciclecolorway extendiciclecolors
    funnelareacolorway extendfunnelareacolors hiddenlabels annotations shapes images grid
    uniformtext modebar transition updatemenus sliders selections newshape newselection
    activeshape activeselection selectdirection template meta uirevision datarevision
    editrevision minreducedwidth minreducedheight hoversubplots calendar autotypenumbers
    annotationdefaults shapedefaults
    """.split()
)
SUBPLOTS = ("xaxis", "yaxis", "scene", "polar", "ternary", "legend", "coloraxis")
_SUBPLOT = re.compile(rf"(?:{'|'.join(SUBPLOTS)})[1-9][0-9]*")

#: Strings plotly.js would turn into links, script or loads (its text takes a little HTML:
#: ``<a href>`` makes a link; a ``style`` may hold ``url(...)``).
_UNSAFE = re.compile(r"<\s*/?\s*a\b|href|javascript\s*:|url\s*\(|<\s*(?:script|img|iframe|svg|style|link)\b", re.I)
#: plotly's typed arrays ({"dtype", "bdata", "shape"}): base64 is checked as base64, not as
#: text (it may spell anything, "href" included).
_DTYPES = frozenset("f8 f4 i1 u1 i2 u2 i4 u4".split())
_BASE64 = re.compile(r"[A-Za-z0-9+/]*={0,2}")
_SHAPE = re.compile(r"[0-9]{1,10}(?:, ?[0-9]{1,10}){0,3}")
_INLINE_IMAGE = re.compile(r"data:image/(?:png|jpeg|gif|webp);base64,[A-Za-z0-9+/]*={0,2}")
#: Bounds on one figure (nodes of its JSON tree, and depth).
MAX_NODES = 3_000_000
MAX_DEPTH = 40


class Refused(ValueError):
    """A figure the page does not draw; the message says why, for the person."""


def clean_plotly(figure: Any) -> dict[str, Any]:
    """The figure as the page draws it ({"data", "layout"} and maybe "frames"), its template
    cleaned; ``Refused`` if anything in it is off the lists."""
    if not isinstance(figure, dict) or not isinstance(figure.get("data", []), list) or not isinstance(figure.get("layout", {}), dict):
        raise Refused("it is not a plotly figure (data and layout)")
    extra = sorted(set(figure) - {"data", "layout", "frames"})
    if extra:
        raise Refused(f"it sets {', '.join(map(str, extra[:4]))}, which the page decides itself" if "config" in extra
                      else f"it holds {', '.join(map(str, extra[:4]))}, which is not part of a figure")
    _check_strings(figure)
    clean = {"data": _traces(figure.get("data", [])), "layout": _layout(figure.get("layout", {}))}
    if "frames" in figure:
        if not isinstance(figure["frames"], list) or not all(isinstance(f, dict) for f in figure["frames"]):
            raise Refused("its frames are not a list of frames")
        clean["frames"] = [
            {**frame, **({"data": _traces(frame["data"])} if "data" in frame else {}), **({"layout": _layout(frame["layout"])} if "layout" in frame else {})}
            for frame in figure["frames"]
        ]
    return clean


def _traces(traces: Any) -> list[Any]:
    if not isinstance(traces, list) or not all(isinstance(t, dict) for t in traces):
        raise Refused("its traces are not a list of objects")
    kinds = sorted({str(t.get("type", "scatter")) for t in traces} - TRACES)
    if kinds:
        raise Refused(f"it holds {', '.join(kinds[:4])} traces, which fetch from other sites or are not on the page's list")
    for trace in traces:
        if trace.get("type") == "image" and "source" in trace:
            _inline_image(trace["source"])
    return traces


def _layout(layout: Any, *, template: bool = False) -> dict[str, Any]:
    """The layout checked key by key; a template's layout loses what is off the list instead."""
    if not isinstance(layout, dict):
        raise Refused("its layout is not an object")
    kept = {}
    for key, value in layout.items():
        if key not in LAYOUT and not _SUBPLOT.fullmatch(key) and key not in SUBPLOTS:
            if template:
                continue
            raise Refused(f"its layout sets {str(key)[:40]!r}, which is not on the page's list")
        if key == "template":
            if template:
                continue
            value = _template(value)
        elif key == "images":
            if not isinstance(value, list):
                raise Refused("its layout images are not a list")
            for image in value:
                _inline_image(image.get("source") if isinstance(image, dict) else None)
        kept[key] = value
    return kept


def _template(template: Any) -> dict[str, Any]:
    """A template's trace defaults for the listed types only, and its layout cleaned."""
    if not isinstance(template, dict):
        raise Refused("its template is not an object")
    data = template.get("data", {})
    if not isinstance(data, dict):
        raise Refused("its template's trace defaults are not an object")
    return {"data": {kind: value for kind, value in data.items() if kind in TRACES}, "layout": _layout(template.get("layout", {}), template=True)}


def _inline_image(source: Any) -> None:
    if not isinstance(source, str) or _INLINE_IMAGE.fullmatch(source) is None:
        raise Refused("it shows an image that is not inline data (it would be fetched)")


def _check_strings(figure: Any) -> None:
    """Every key and string in the figure, walked without recursion (a kernel can send any depth)."""
    stack = [(figure, 0)]
    nodes = 0
    while stack:
        value, depth = stack.pop()
        nodes += 1
        if nodes > MAX_NODES or depth > MAX_DEPTH:
            raise Refused("it is larger or deeper than a chart")
        if isinstance(value, str):
            if _UNSAFE.search(value):
                raise Refused(f"its text {value[:60]!r} holds a link, a script or an address")
        elif isinstance(value, dict) and "bdata" in value:
            _typed_array(value)
        elif isinstance(value, dict):
            for key, item in value.items():
                stack.append((key, depth + 1))
                stack.append((item, depth + 1))
        elif isinstance(value, list):
            stack.extend((item, depth + 1) for item in value)
        elif not (value is None or isinstance(value, (bool, int, float))):
            raise Refused(f"it holds a {type(value).__name__}, which is not JSON")


def _typed_array(array: dict[str, Any]) -> None:
    if (
        set(array) - {"dtype", "bdata", "shape"}
        or array.get("dtype") not in _DTYPES
        or not isinstance(array["bdata"], str)
        or _BASE64.fullmatch(array["bdata"]) is None
        or ("shape" in array and not (isinstance(array["shape"], str) and _SHAPE.fullmatch(array["shape"])))
    ):
        raise Refused("it holds an array that is not plotly's typed array")
