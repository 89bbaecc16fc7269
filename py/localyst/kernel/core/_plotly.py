"""plotly figures as the standard Jupyter plotly MIME bundle, with a static picture for the
exports when matplotlib can draw the figure faithfully."""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

from ...protocol import PLOTLY_MIME

#: Trace types the static picture draws; a figure with any other gets no picture (the
#: exports then say so) rather than a picture that leaves part of it out.
DRAWN = ("scatter", "scattergl", "bar", "histogram")


def is_plotly(obj: Any) -> bool:
    """Whether ``obj`` is a plotly figure (without importing plotly)."""
    base = sys.modules.get("plotly.basedatatypes")
    return base is not None and isinstance(obj, base.BaseFigure)


def plotly_bundle(fig: Any) -> dict[str, Any]:
    """The figure's data and layout as plain JSON (arrays as plotly's base64 typed arrays),
    a one-line text for the model and the logs, and a PNG when ``static_picture`` can draw it.
    No ``config``: the page sets its own."""
    import plotly.io

    spec = json.loads(plotly.io.to_json(fig, validate=False, engine="json"))
    figure = {"data": spec.get("data", []), "layout": spec.get("layout", {})}
    if spec.get("frames"):
        figure["frames"] = spec["frames"]
    return {"text/plain": describe(fig), PLOTLY_MIME: figure, **static_picture(fig)}


def describe(fig: Any) -> str:
    """'plotly figure: 2 bar traces, "Sales by month"' (the repr prints every number)."""
    kinds: dict[str, int] = {}
    for trace in fig.data:
        kinds[trace.type] = kinds.get(trace.type, 0) + 1
    traces = ", ".join(f"{n} {kind} trace{'s' if n > 1 else ''}" for kind, n in kinds.items()) or "no traces"
    title = fig.layout.title.text
    return f"plotly figure: {traces}" + (f", {json.dumps(title, ensure_ascii=False)}" if title else "")


def static_picture(fig: Any) -> dict[str, Any]:
    """A PNG of a figure of scatter, line, bar and histogram traces, drawn with matplotlib
    from the figure's own data (the kernel has no kaleido, so plotly cannot draw one itself);
    {} for any other figure, or if drawing fails."""
    if not _drawable(fig):
        return {}
    from matplotlib.figure import Figure  # not pyplot: the cell's own figures are not touched

    from . import _figures

    figure = Figure(figsize=(7, 4.2))
    try:
        _draw(fig, figure.subplots())
        return {"image/png": _figures.figure_bundle(figure)["image/png"]}
    except Exception:  # the live chart still shows; only the exports go without a picture
        logging.getLogger(__name__).warning("no static picture of a plotly figure", exc_info=True)
        return {}


def _drawable(fig: Any) -> bool:
    """Whether ``_draw`` shows all of the figure's data as plotly would: one pair of axes,
    the trace types it knows, histograms that count one variable, bars without a base."""
    for trace in fig.data:
        if trace.type not in DRAWN or trace.xaxis not in (None, "x") or trace.yaxis not in (None, "y"):
            return False
        if trace.type == "histogram" and (trace.histfunc or trace.histnorm or (trace.x is None) == (trace.y is None)):
            return False
        if trace.type == "bar" and trace.base is not None:
            return False
        if trace.type in ("scatter", "scattergl") and trace.y is None:
            return False
    return bool(fig.data)


def _draw(fig: Any, axes: Any) -> None:
    layout = fig.layout
    horizontal = [t for t in fig.data if t.type == "bar" and t.orientation == "h"]
    bars = [t for t in fig.data if t.type == "bar"]
    categories = _categories(bars, "y" if horizontal else "x")
    bottoms: dict[tuple[Any, bool], float] = {}
    width = 0.8 / (len(bars) if layout.barmode == "group" else 1)
    for number, trace in enumerate(fig.data):
        colour = trace.marker.color if isinstance(trace.marker.color, str) else None
        label = trace.name or None
        if trace.type == "histogram":
            axes.hist(list(trace.x if trace.x is not None else trace.y), bins=trace.nbinsx or "auto", color=colour, label=label,
                      alpha=0.8, orientation="vertical" if trace.x is not None else "horizontal")
        elif trace.type == "bar":
            where, size = (trace.y, trace.x) if trace.orientation == "h" else (trace.x, trace.y)
            where = list(range(len(size))) if where is None else list(where)
            positions = [categories.index(w) if categories else w for w in where]
            if layout.barmode == "group":
                positions = [p - 0.4 + width * (bars.index(trace) + 0.5) for p in positions]
            # "relative" (plotly express's default) stacks negative values down, apart from the positive
            keys = [(p, layout.barmode in (None, "relative") and float(v) < 0) for p, v in zip(positions, size)]
            base = [bottoms.get(k, 0.0) if layout.barmode in (None, "stack", "relative") else 0.0 for k in keys]
            draw = axes.barh if trace.orientation == "h" else axes.bar
            draw(positions, list(size), width if layout.barmode == "group" else 0.8, base, color=colour, label=label)
            for k, b, v in zip(keys, base, size):
                bottoms[k] = b + float(v)
        else:
            x = list(range(len(trace.y))) if trace.x is None else list(trace.x)
            mode = trace.mode or ("lines" if len(x) > 20 else "lines+markers")
            style = ("-" if "lines" in mode else "") + ("o" if "markers" in mode else "")
            axes.plot(x, list(trace.y), style or "o", color=colour, label=label, markersize=4)
        if categories:
            (axes.set_yticks if horizontal else axes.set_xticks)(range(len(categories)), [str(c) for c in categories])
    for axis, scale in ((layout.xaxis, axes.set_xscale), (layout.yaxis, axes.set_yscale)):
        if axis.type == "log":
            scale("log")
    axes.set_title(layout.title.text or "")
    axes.set_xlabel(layout.xaxis.title.text or "")
    axes.set_ylabel(layout.yaxis.title.text or "")
    if sum(1 for t in fig.data if t.name) > 1:
        axes.legend(title=layout.legend.title.text or None)


def _categories(bars: list[Any], axis: str) -> list[Any]:
    """The categories bars stand on, in first-seen order; [] when they stand on numbers."""
    seen: list[Any] = []
    for trace in bars:
        for value in getattr(trace, axis) if getattr(trace, axis) is not None else ():
            if isinstance(value, str) and value not in seen:
                seen.append(value)
    return seen
