"""The conversation as a Jupyter notebook (nbformat 4.5) that runs again on the same files.

The notebook is written as plain JSON: nbformat itself is not in the browser.
"""

from __future__ import annotations

import json
from typing import Any

from ..protocol import BOKEH_MIME, TABLE_MIME
from ..render import fenced
from ._html import table_html
from ._layout import OUTPUTS_SETUP, reading_order, uses_outputs_folder
from ._record import Entry, Transcript, outcome

# JupyterLab and nbclient carry on past a cell with this tag when it raises, so "Run all"
# gets through the cells that failed when they were first run.
RAISES = "raises-exception"
BOKEH_NOTE = "[an interactive Bokeh plot, not kept in the notebook]"
FILES_NOTE = (
    "To run this notebook again, put the files it reads in the folder that holds the notebook: "
    "the code opens them by their names, from the working directory, as it did in Localyst."
)
EDITED = "*You edited this code and ran it yourself:*"
NOT_RERUN = {
    "stopped": "This code was stopped before it finished, so it is not part of the notebook's code:",
    "not run": "This code was written but never run:",
}


def to_notebook(transcript: Transcript, *, title: str) -> dict[str, Any]:
    """The notebook as the dict nbformat would write: questions, replies and notices as
    Markdown, the code that ran as code cells with their outputs."""
    cells = [_markdown(f"# {title}\n\n{FILES_NOTE}")]
    entries = reading_order(transcript.entries)
    if uses_outputs_folder(entries):
        cells.append(_code(OUTPUTS_SETUP.rstrip("\n"), None, []))
    for entry in entries:
        cells += _cells(entry)
    for number, cell in enumerate(cells, 1):
        cell["id"] = f"cell-{number}"
    return {
        "cells": cells,
        "metadata": {
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python"},
            "title": title,
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def notebook_json(transcript: Transcript, title: str) -> str:
    """The .ipynb file's text."""
    return json.dumps(to_notebook(transcript, title=title), ensure_ascii=False, indent=1) + "\n"


def _cells(entry: Entry) -> list[dict[str, Any]]:
    kind = entry["kind"]
    if kind == "user":
        quoted = "\n".join(f"> {line}" for line in entry["text"].splitlines())
        return [_markdown(f"**You asked:**\n\n{quoted}")]
    if kind == "assistant":
        return [_markdown(entry["text"])]
    if kind == "notice":
        return [_markdown(f"**Note:** {entry['text']}")]
    done = outcome(entry)
    if done in NOT_RERUN:
        return [_markdown(f"{NOT_RERUN[done]}\n\n{fenced(entry['code'])}")]
    cell = _code(entry["code"], entry["execution_count"], _outputs(entry))
    if done == "failed":
        cell["metadata"]["tags"] = [RAISES]
    return [_markdown(EDITED), cell] if entry["source"] == "edited" else [cell]


def _markdown(text: str) -> dict[str, Any]:
    return {"cell_type": "markdown", "metadata": {}, "source": text}


def _code(source: str, execution_count: int | None, outputs: list[dict[str, Any]]) -> dict[str, Any]:
    return {"cell_type": "code", "execution_count": execution_count, "metadata": {}, "outputs": outputs, "source": source}


def _outputs(entry: Entry) -> list[dict[str, Any]]:
    outputs = []
    for output in entry["outputs"]:
        if output["kind"] == "stream":
            outputs.append({"output_type": "stream", "name": output["name"], "text": output["text"]})
            continue
        data = _bundle(output.get("data") or {})
        metadata = output.get("metadata") or {}
        if output["kind"] == "result":
            outputs.append({"output_type": "execute_result", "execution_count": entry["execution_count"], "data": data, "metadata": metadata})
        else:
            outputs.append({"output_type": "display_data", "data": data, "metadata": metadata})
    error = entry["error"]
    if error:
        outputs.append(
            {"output_type": "error", "ename": error["ename"], "evalue": error["evalue"], "traceback": error["traceback"].splitlines()}
        )
    return outputs


def _bundle(data: dict[str, Any]) -> dict[str, Any]:
    """A MIME bundle Jupyter can show: our table as an HTML table, no Bokeh item, and only
    text for the types that must be text. A plotly figure keeps Jupyter's own plotly MIME
    (JupyterLab draws it live) beside the kernel's static picture of it, if it made one."""
    bundle = {mime: value for mime, value in data.items() if _is_json_mime(mime) or isinstance(value, str)}
    if TABLE_MIME in bundle:
        bundle["text/html"] = table_html(bundle.pop(TABLE_MIME))
    if BOKEH_MIME in bundle:
        del bundle[BOKEH_MIME]
        bundle["text/plain"] = BOKEH_NOTE
    return bundle


def _is_json_mime(mime: str) -> bool:
    kind, _, subtype = mime.partition("/")
    return kind == "application" and (subtype == "json" or subtype.endswith("+json"))
