"""Turn one kernel output (a MIME bundle or a stream chunk) into a Panel component."""

from __future__ import annotations

import base64
import html
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


def preformatted(text: str, kind: str = "") -> pn.pane.HTML:
    return pn.pane.HTML(
        f'<pre class="{kind}">{html.escape(text)}</pre>', sizing_mode="stretch_width", stylesheets=[OUTPUT_CSS], margin=(2, 0)
    )


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
    return pn.Column(
        pn.widgets.Tabulator(frame, pagination="local", page_size=10, disabled=True, sizing_mode="stretch_width"),
        pn.pane.HTML(f"<small>{caption}</small>", margin=(0, 5)),
        sizing_mode="stretch_width",
        css_classes=["ly-table"],
    )


def bundle(data: dict[str, Any]) -> pn.viewable.Viewable:
    """The richest representation this page can show of one display bundle."""
    if TABLE_MIME in data:
        return table(data[TABLE_MIME])
    if "image/png" in data:
        return pn.pane.PNG(base64.b64decode(data["image/png"]), sizing_mode="scale_width", max_width=760)
    if "image/jpeg" in data:
        return pn.pane.JPG(base64.b64decode(data["image/jpeg"]), sizing_mode="scale_width", max_width=760)
    if "image/svg+xml" in data:
        return pn.pane.SVG(data["image/svg+xml"], max_width=760)
    if "text/markdown" in data:
        return pn.pane.Markdown(data["text/markdown"], sizing_mode="stretch_width")
    return preformatted(str(data.get("text/plain", "")))


def output(item: dict[str, Any]) -> pn.viewable.Viewable:
    """A component for one Output dict from the kernel."""
    if item["kind"] == "stream":
        return preformatted(item["text"], "stderr" if item["name"] == "stderr" else "")
    return bundle(item["data"])


def error(error: dict[str, Any]) -> pn.viewable.Viewable:
    return preformatted(error.get("traceback") or f"{error['ename']}: {error['evalue']}", "error")
