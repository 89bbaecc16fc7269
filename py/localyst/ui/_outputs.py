"""Turn one kernel output (a MIME bundle or a stream chunk) into a Panel component."""

from __future__ import annotations

import html
import itertools
from typing import Any

import panel as pn

TABLE_MIME = "application/vnd.localyst.table+json"
BOKEH_MIME = "application/vnd.localyst.bokeh+json"

OUTPUT_CSS = """
pre { margin: 0; padding: 6px 10px; background: #f6f8fa; border-radius: 6px; font-size: 12.5px;
  white-space: pre-wrap; word-break: break-word; max-height: 360px; overflow: auto; }
pre.stderr { background: #fff6e5; }
pre.error { background: #fdecec; color: #7a1717; }
"""


def preformatted_markup(text: str, kind: str = "") -> str:
    return f'<pre class="{kind}">{html.escape(text)}</pre>'


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
            titles={name: html.escape(name) for name in names},
            pagination="local",
            page_size=10,
            header_filters=True,
            disabled=True,
            sizing_mode="stretch_width",
        ),
        pn.pane.HTML(f"<small>{caption}</small>", margin=(0, 5)),
        sizing_mode="stretch_width",
        css_classes=["ly-table"],
    )


def bokeh(item: dict[str, Any]) -> pn.viewable.Viewable:
    """A live Bokeh (or Panel) object from the kernel, rebuilt from its standalone JSON."""
    from bokeh.document import Document

    document = Document.from_json(item["doc"])
    root = document.roots[0]
    document.remove_root(root)
    return pn.pane.Bokeh(root)


#: HTML from code is untrusted: it is shown in a frame that may not run scripts, reach the
#: network or touch the page (sandbox without allow-scripts/same-origin, and a CSP).
FRAME_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:"


def sandboxed_html(markup: str) -> pn.pane.HTML:
    document = f'<meta http-equiv="Content-Security-Policy" content="{FRAME_CSP}">{markup}'
    return pn.pane.HTML(
        f'<iframe sandbox="" srcdoc="{html.escape(document, quote=True)}" '
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


def image(encoded: str, mime: str, figure: str | None = None) -> pn.pane.HTML:
    """An image at its own size (up to the column's width), with a button that saves it: the
    page's loader finds the image beside the button, so its bytes travel only once. A
    matplotlib ``figure`` (its id in the kernel) can also be saved as SVG, drawn on request."""
    extension = "png" if mime == "image/png" else "jpg"
    stem = f"chart-{next(_images)}"
    buttons = f'<button type="button" data-action="save-image" data-name="{stem}.{extension}">Download {extension.upper()}</button>'
    if figure:
        buttons += (
            f' <button type="button" data-action="save-svg" data-figure="{html.escape(figure, quote=True)}" '
            f'data-name="{stem}.svg">Download SVG</button>'
        )
    return pn.pane.HTML(
        f'<figure><img src="data:{mime};base64,{encoded}" alt="{stem}"><figcaption>{buttons}</figcaption></figure>',
        stylesheets=[FIGURE_CSS],
        sizing_mode="stretch_width",
        margin=(2, 0),
    )


def bundle(data: dict[str, Any], metadata: dict[str, Any] | None = None) -> pn.viewable.Viewable:
    """The richest representation this page can show of one display bundle."""
    if TABLE_MIME in data:
        return table(data[TABLE_MIME])
    if BOKEH_MIME in data:
        return bokeh(data[BOKEH_MIME])
    if "image/png" in data:
        return image(data["image/png"], "image/png", (metadata or {}).get("figure"))
    if "image/jpeg" in data:
        return image(data["image/jpeg"], "image/jpeg")
    if "image/svg+xml" in data:
        return pn.pane.SVG(data["image/svg+xml"], max_width=760)
    if "text/markdown" in data:
        return pn.pane.Markdown(data["text/markdown"], sizing_mode="stretch_width")
    if "text/html" in data:
        return sandboxed_html(data["text/html"])
    return preformatted(str(data.get("text/plain", "")))


def output(item: dict[str, Any]) -> pn.viewable.Viewable:
    """A component for one Output dict from the kernel."""
    if item["kind"] == "stream":
        return preformatted(item["text"], "stderr" if item["name"] == "stderr" else "")
    return bundle(item["data"], item.get("metadata"))


def error(error: dict[str, Any]) -> pn.viewable.Viewable:
    return preformatted(error.get("traceback") or f"{error['ename']}: {error['evalue']}", "error")
