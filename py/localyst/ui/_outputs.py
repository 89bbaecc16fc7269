"""Turn one kernel output (a MIME bundle or a stream chunk) into a Panel component."""

from __future__ import annotations

import itertools
from typing import Any

import panel as pn

from ..protocol import BOKEH_MIME, PLOTLY_MIME, TABLE_MIME, UNSHOWABLE, clean_output, is_base64
from ..render import Refused, clean_html, escape, safe_bokeh
from ._actions import action_button
from ._page import need_plotly

OUTPUT_CSS = """
pre { margin: 0; padding: 6px 10px; background: #f6f8fa; border-radius: 6px; font-size: 12.5px;
  white-space: pre-wrap; word-break: break-word; max-height: 360px; overflow: auto; }
pre.stderr { background: #fff6e5; }
pre.error { background: #fdecec; color: #7a1717; }
p.unshowable { margin: 2px 0; color: #7a5300; font-size: 12.5px; }
"""


def preformatted_markup(text: str, kind: str = "") -> str:
    return f'<pre class="{kind}">{escape(text)}</pre>'


def preformatted(text: str, kind: str = "") -> pn.pane.HTML:
    return pn.pane.HTML(preformatted_markup(text, kind), sizing_mode="stretch_width", stylesheets=[OUTPUT_CSS], margin=(2, 0))


def table(spec: dict[str, Any]) -> pn.viewable.Viewable:
    import pandas as pd

    frame = pd.DataFrame(spec["rows"], columns=[str(c) for c in spec["columns"]])
    if spec.get("index") is not None:
        frame.index = spec["index"]
        if spec.get("index_name"):
            frame.index.name = str(spec["index_name"])
    rows, cols = spec["shape"]
    caption = f"{rows:,} rows × {cols:,} columns"
    if spec.get("truncated"):
        caption += f" · showing the first {len(frame):,} rows"
    # Tabulator sets column titles as HTML: names from the data are escaped to show as text.
    names = [*frame.columns, *([frame.index.name] if frame.index.name else [])]
    return pn.Column(
        pn.widgets.Tabulator(
            frame,
            titles={name: escape(name) for name in names},
            pagination="local",
            page_size=10,
            header_filters=True,
            disabled=True,
            sizing_mode="stretch_width",
        ),
        pn.pane.HTML(f"<small>{escape(caption)}</small>", margin=(0, 5)),
        sizing_mode="stretch_width",
        css_classes=["ly-table"],
    )


def bokeh(item: dict[str, Any], plain: str) -> pn.viewable.Viewable:
    """A live Bokeh plot from the kernel, if it holds only what the allow-list takes
    (render/_bokeh.py); else the plot's text, saying why it is not drawn."""
    try:
        return pn.pane.Bokeh(safe_bokeh(item))
    except Refused as exc:
        return unshowable(f"This plot is not drawn: {exc}.", plain)


#: plotly.js settings the page chooses (a figure that sets its own is refused where it is
#: received): no "Produced with Plotly" link, no Chart Studio buttons, no server to send to.
PLOTLY_CONFIG = {
    "displaylogo": False,
    "showLink": False,
    "showSendToCloud": False,
    "showEditInChartStudio": False,
    "plotlyServerURL": "",
    "linkText": "",
    "responsive": True,
}


class _FigureJson(pn.pane.Plotly):
    """Panel's plotly pane, drawing a checked figure's JSON as it is: Panel would rebuild the
    figure with the plotly package, which the app worker does not load (the kernel made it)."""

    @staticmethod
    def _to_figure(obj: Any) -> Any:
        return obj

    @classmethod
    def _plotly_json_wrapper(cls, fig: Any) -> dict[str, Any]:
        return {"data": fig["data"], "layout": fig["layout"], "frames": fig.get("frames", [])}


def plotly(figure: dict[str, Any]) -> pn.viewable.Viewable:
    """A live plotly chart, drawn by the site's plotly.js (loaded on the first one) from a
    figure ``protocol`` checked against its allow-list."""
    need_plotly()
    height = figure["layout"].get("height")
    return _FigureJson(
        figure,
        config=PLOTLY_CONFIG,
        sizing_mode="stretch_width",
        height=height if isinstance(height, int) and 100 <= height <= 2000 else 420,
        margin=(2, 0),
    )


def unshowable(reason: str, raw: str) -> pn.viewable.Viewable:
    """What could not be shown, and why, with its raw text."""
    return pn.Column(
        pn.pane.HTML(f'<p class="unshowable">{escape(reason)}</p>', stylesheets=[OUTPUT_CSS], margin=(2, 0)),
        preformatted(raw),
        sizing_mode="stretch_width",
        margin=0,
    )


#: HTML from code is untrusted: it is cleaned (render/_html.py) and shown in a frame that may
#: not run scripts, reach the network or touch the page (sandbox without allow-scripts or
#: same-origin, and a CSP).
FRAME_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:"


def sandboxed_html(markup: str) -> pn.pane.HTML:
    document = f'<meta http-equiv="Content-Security-Policy" content="{FRAME_CSP}">{clean_html(markup)}'
    return pn.pane.HTML(
        f'<iframe sandbox="" srcdoc="{escape(document)}" '
        'style="width:100%;min-height:80px;height:240px;border:1px solid #dde3ea;border-radius:6px;background:#fff"></iframe>',
        sizing_mode="stretch_width",
        margin=(2, 0),
    )


FIGURE_CSS = """
figure { margin: 4px 0; }
img { display: block; max-width: min(100%, 640px); height: auto; border-radius: 4px; }
figcaption button { font: inherit; font-size: 12px; margin-top: 2px; padding: 2px 8px; border: 1px solid #d0d7de;
  border-radius: 4px; background: #f8f9fa; color: #24292f; cursor: pointer; }
"""

_images = itertools.count(1)


def image(encoded: str, mime: str, figure: str | None = None) -> pn.viewable.Viewable:
    """An image at its own size (up to the column's width), with a button that saves it: the
    page's loader finds the image beside the button, so its bytes travel only once. A
    matplotlib ``figure`` (its id in the kernel) can also be saved as SVG, drawn on request."""
    if not is_base64(encoded):
        return unshowable("This image could not be shown: its data is not base64.", str(encoded)[:200])
    extension = "png" if mime == "image/png" else "jpg"
    stem = f"chart-{next(_images)}"
    buttons = action_button("save-image", f"Download {extension.upper()}", name=f"{stem}.{extension}")
    if figure:
        buttons += " " + action_button("save-svg", "Download SVG", figure=figure, name=f"{stem}.svg")
    return pn.pane.HTML(
        f'<figure><img src="data:{mime};base64,{encoded}" alt="{stem}"><figcaption>{buttons}</figcaption></figure>',
        stylesheets=[FIGURE_CSS],
        sizing_mode="stretch_width",
        margin=(2, 0),
    )


def bundle(data: dict[str, Any], metadata: dict[str, Any] | None = None) -> pn.viewable.Viewable:
    """The richest representation this page can show of one (checked) display bundle."""
    metadata = metadata or {}
    plain = str(data.get("text/plain", ""))
    if UNSHOWABLE in metadata:
        return unshowable(f"This output could not be shown: {metadata[UNSHOWABLE]}.", plain)
    if TABLE_MIME in data:
        return table(data[TABLE_MIME])
    if BOKEH_MIME in data:
        return bokeh(data[BOKEH_MIME], plain)
    if PLOTLY_MIME in data:
        return plotly(data[PLOTLY_MIME])
    if "image/png" in data:
        return image(data["image/png"], "image/png", metadata.get("figure"))
    if "image/jpeg" in data:
        return image(data["image/jpeg"], "image/jpeg")
    if "image/svg+xml" in data:
        return pn.pane.SVG(data["image/svg+xml"], max_width=760)
    if "text/markdown" in data:
        return pn.pane.Markdown(data["text/markdown"], sizing_mode="stretch_width")
    if "text/html" in data:
        return sandboxed_html(data["text/html"])
    return preformatted(plain)


def output(item: Any) -> pn.viewable.Viewable:
    """A component for one output, from the kernel or from storage: checked first, and
    never an exception (what cannot be drawn says so, with its raw text)."""
    item = clean_output(item)
    try:
        if item["kind"] == "stream":
            return preformatted(item["text"], "stderr" if item["name"] == "stderr" else "")
        return bundle(item["data"], item["metadata"])
    except Exception as exc:  # a checked output that still fails to draw: say so, keep the turn
        return unshowable(f"This output could not be shown ({type(exc).__name__}).", str(item["data"].get("text/plain", "")))


def error(error: dict[str, Any]) -> pn.viewable.Viewable:
    return preformatted(error["traceback"], "error")
