"""The conversation as one self-contained HTML file to read, keep or send.

Everything in it comes from the model or from code, so everything is escaped; the file
has no script and loads nothing: images travel as data: URIs, and a Content Security
Policy forbids any other load, should anything slip through. HTML that code displayed
is shown in a sandboxed frame, never mixed into the page. The figures of each answer are
marked as in the chat: one a cell's output holds names that cell when pointed at (the file
links nowhere, not even within itself), one no output holds is marked "not computed".
"""

from __future__ import annotations

import base64
import re
from html import escape
from collections.abc import Iterator
from typing import Any

from ..agent._figures import Tie
from ..protocol import BOKEH_MIME, PLOTLY_MIME, TABLE_MIME
from ..render import clean_html
from ._html import markdown_html, table_html
from ._layout import reading_order
from ._provenance import UNCOMPUTED, Provenance, Source, Wrap, marker, origin, provenance
from ._record import Entry, Transcript, outcome

#: The report runs no script, so a plotly chart is kept as the kernel's matplotlib copy of it
#: (for scatter, line, bar and histogram traces) or, for other charts, as a note.
PLOTLY_COPY = "<p class='files'>A static copy of an interactive plotly chart, drawn with matplotlib.</p>"
PLOTLY_STAND_IN = "An interactive plotly chart: not kept in this report, which runs no script"
POLICY = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
POLICY_META = f'<meta http-equiv="Content-Security-Policy" content="{POLICY}">'
BASE64 = re.compile(r"[A-Za-z0-9+/]+={0,2}")
STATES = {
    "ok": "",
    "failed": "failed",
    "stopped": "stopped before it finished",
    "not run": "written, never run",
}
CSS = """
body { margin: 0; background: #f6f7f9; color: #1f2328; font: 15px/1.55 system-ui, -apple-system, "Segoe UI", sans-serif; }
main { max-width: 58rem; margin: 0 auto; padding: 1.5rem 1rem 4rem; }
h1 { font-size: 1.6rem; margin: 0 0 1.5rem; }
.question { margin: 2rem 0 1rem; padding: .75rem 1rem; background: #e8f0fe; border-radius: 8px; }
.question h2 { font-size: .8rem; text-transform: uppercase; letter-spacing: .05em; color: #4a5a78; margin: 0 0 .25rem; }
.plain { white-space: pre-wrap; overflow-wrap: anywhere; }
.answer { margin: .75rem 0; overflow-wrap: anywhere; }
.notice { margin: .75rem 0; padding: .5rem .75rem; background: #fff8e1; border-left: 3px solid #e0a800; }
.cell { margin: .75rem 0; background: #fff; border: 1px solid #d8dde3; border-radius: 8px; overflow: hidden; }
.cell-head { padding: .3rem .75rem; font-size: .8rem; color: #59636e; background: #f0f2f5; border-bottom: 1px solid #d8dde3; }
.cell.failed .cell-head, .cell.stopped .cell-head { color: #a40e26; }
.cell-body { padding: .5rem .75rem; }
pre { margin: .4rem 0; padding: .5rem .75rem; overflow-x: auto; font: 13px/1.45 ui-monospace, "SF Mono", Menlo, Consolas, monospace; white-space: pre-wrap; overflow-wrap: anywhere; }
pre.code { background: #f6f8fa; border-radius: 6px; }
pre.stderr, pre.error { background: #fff0f0; color: #8a1222; border-radius: 6px; }
.label { font-size: .8rem; color: #59636e; }
table { border-collapse: collapse; margin: .4rem 0; font-size: 13px; display: block; overflow-x: auto; }
caption { text-align: left; font-size: .8rem; color: #59636e; padding-bottom: .25rem; }
th, td { border: 1px solid #d8dde3; padding: .2rem .5rem; text-align: right; }
thead th { background: #f0f2f5; }
img { max-width: 100%; height: auto; }
iframe { width: 100%; height: 24rem; border: 1px solid #d8dde3; border-radius: 6px; background: #fff; }
.files, .image-ref { color: #59636e; font-size: .85rem; }
.figure { text-decoration: underline dotted #1f6feb; }
mark.uncomputed { background: #fff4e0; border-bottom: 2px dashed #a65300; }
mark.uncomputed sup { font-size: .7em; font-weight: 700; }
"""


def to_html_report(transcript: Transcript, *, title: str) -> str:
    body = "\n".join(_entries(transcript))
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"{POLICY_META}\n"
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>{CSS}</style>\n</head>\n"
        f"<body>\n<main>\n<h1>{escape(title)}</h1>\n{body}\n</main>\n</body>\n</html>\n"
    )


def _entries(transcript: Transcript) -> Iterator[str]:
    """Each entry's HTML in reading order."""
    turn, found = -1, None
    for entry in reading_order(transcript.entries):
        kind = entry["kind"]
        if kind == "user":
            turn += 1
            found = provenance(transcript, turn)
            yield f"<section class='question'><h2>You asked</h2><div class='plain'>{escape(entry['text'])}</div></section>"
        elif kind == "assistant":
            yield f"<div class='answer'>{markdown_html(entry['text'], None if found is None else marker(found, _wrap(found)))}</div>"
        elif kind == "notice":
            yield f"<p class='notice'>{escape(entry['text'])}</p>"
        else:
            yield _cell(entry)


def _wrap(found: Provenance) -> Wrap:
    """A figure of the report: naming its cell, or marked as not computed."""

    def wrap(tie: Tie, source: Source | None) -> str:
        if source is None:
            return f"<mark class='uncomputed' title='{escape(UNCOMPUTED)}'>{escape(tie.figure.text)}<sup>?</sup></mark>"
        title = escape(origin(found, tie, source))
        return f"<span class='figure' title='{title}'>{escape(tie.figure.text)}</span>"

    return wrap


def _cell(entry: Entry) -> str:
    done = outcome(entry)
    head = ["Edited and run by you" if entry["source"] == "edited" else "Code"]
    if entry["execution_count"] is not None:
        head.append(f"In [{entry['execution_count']}]")
    if entry["duration"] is not None:
        head.append(f"{entry['duration']:.2f} s" if entry["duration"] >= 0.01 else "under 0.01 s")
    if STATES[done]:
        head.append(STATES[done])
    parts = [f"<pre class='code'><code>{escape(entry['code'])}</code></pre>"]
    parts += (_output(output, entry["execution_count"]) for output in entry["outputs"])
    if entry["error"]:
        parts.append(f"<pre class='error'>{escape(entry['error']['traceback'])}</pre>")
    parts += (f"<p class='files'>Wrote {escape(f['path'])} ({f['size']:,} bytes)</p>" for f in entry["files"])
    return (
        f"<div class='cell {done.replace(' ', '-')}'><div class='cell-head'>{escape(' · '.join(head))}</div>"
        f"<div class='cell-body'>{''.join(parts)}</div></div>"
    )


def _output(output: dict[str, Any], execution_count: int | None) -> str:
    if output["kind"] == "stream":
        return f"<pre class='{'stderr' if output['name'] == 'stderr' else 'stdout'}'>{escape(output['text'])}</pre>"
    shown = _bundle(output.get("data") or {})
    if output["kind"] == "result" and execution_count is not None:
        return f"<div class='label'>Out [{execution_count}]</div>{shown}"
    return shown


def _bundle(data: dict[str, Any]) -> str:
    """The richest form of a display this file can hold safely."""
    if isinstance(data.get(TABLE_MIME), dict):
        return table_html(data[TABLE_MIME])
    for mime in ("image/png", "image/jpeg"):
        value = data.get(mime)
        if isinstance(value, str) and BASE64.fullmatch(value):
            picture = f"<img alt='' src='data:{mime};base64,{value}'>"
            return picture + (PLOTLY_COPY if PLOTLY_MIME in data else "")
    if isinstance(data.get("image/svg+xml"), str):  # as an image, an SVG cannot run script
        encoded = base64.b64encode(data["image/svg+xml"].encode()).decode("ascii")
        return f"<img alt='' src='data:image/svg+xml;base64,{encoded}'>"
    if BOKEH_MIME in data:
        return "<p class='files'>An interactive Bokeh plot: not kept in this report.</p>"
    if PLOTLY_MIME in data:
        return f"<p class='files'>{PLOTLY_STAND_IN} ({escape(str(data.get('text/plain', '')))})</p>"
    if isinstance(data.get("text/markdown"), str):
        return f"<div class='answer'>{markdown_html(data['text/markdown'])}</div>"
    if isinstance(data.get("text/html"), str):
        document = escape(POLICY_META + clean_html(data["text/html"]), quote=True)
        return f"<iframe sandbox title='HTML output' srcdoc=\"{document}\"></iframe>"
    return f"<pre>{escape(str(data.get('text/plain', '')))}</pre>"
