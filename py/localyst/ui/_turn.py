"""One assistant turn on screen: text, code as it is written, its outputs, and what was sent."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Awaitable, Callable
from pathlib import PurePosixPath

import panel as pn

from ..agent import (
    AssistantText,
    CodeDelta,
    CodeFinished,
    CodeStarted,
    Event,
    KernelOutput,
    Notice,
    RequestSent,
    TurnEnded,
    UsageReport,
)
from . import _outputs

#: Larger outputs are not embedded in the page as downloads (they would travel as base64).
MAX_DOWNLOAD = 50 * 1024 * 1024

FetchFile = Callable[[str], Awaitable[bytes]]

TURN_CSS = """
.ly-status { color: #5b6878; font-size: 12px; }
.ly-notice { color: #7a5300; font-size: 13px; }
"""


def fenced(code: str) -> str:
    fence = "````" if "```" in code else "```"
    return f"{fence}python\n{code}\n{fence}"


#: Runs code the person edited, shows its outputs in the given cell, and returns its result.
RunEdited = Callable[[str, "CodeCell"], Awaitable[dict]]


class CodeCell:
    """A collapsible card: the code (copy it, or edit and run it again), a status line, and
    the outputs of running it."""

    def __init__(self, code: str = "", run_edited: RunEdited | None = None) -> None:
        self.source = code
        self.code = pn.pane.Markdown(fenced(code), sizing_mode="stretch_width", margin=0)
        self.status = pn.pane.HTML("<span class='ly-status'>writing…</span>", stylesheets=[TURN_CSS], margin=(0, 5))
        self.outputs = pn.Column(sizing_mode="stretch_width", margin=0)
        self.editor = pn.widgets.TextAreaInput(value=code, auto_grow=True, max_rows=30, sizing_mode="stretch_width", visible=False)
        copy = pn.widgets.Button(name="Copy", icon="copy", button_type="light", margin=(0, 4))
        copy.js_on_click(args={"editor": self.editor}, code="navigator.clipboard.writeText(editor.value)")
        self.edit = pn.widgets.Button(name="Edit and run", icon="pencil", button_type="light", margin=(0, 4))
        self.run = pn.widgets.Button(name="Run", icon="player-play", button_type="primary", margin=(0, 4), visible=False)
        self._run_edited = run_edited
        self.edit.on_click(self._on_edit)
        self.run.on_click(self._on_run)
        self.actions = pn.Row(copy, self.edit, self.run, margin=0, visible=False)
        self.card = pn.Card(
            self.code,
            self.editor,
            self.actions,
            self.status,
            self.outputs,
            title="Python",
            collapsible=True,
            sizing_mode="stretch_width",
            css_classes=["ly-code"],
            margin=(4, 0),
        )

    def set_code(self, code: str) -> None:
        self.source = code
        self.code.object = fenced(code)
        self.editor.value = code

    def _on_edit(self, _event) -> None:
        self.editor.visible = self.run.visible = True
        self.code.visible = self.edit.visible = False

    async def _on_run(self, _event) -> None:
        if self._run_edited is None:
            return
        self.run.disabled = True
        self.set_code(self.editor.value)
        self.outputs.clear()
        self.set_status("running…")
        try:
            result = await self._run_edited(self.source, self)
            self.finish(result)
        finally:
            self.run.disabled = False

    def set_status(self, text: str) -> None:
        self.status.object = f"<span class='ly-status'>{text}</span>"

    def finish(self, result: dict) -> None:
        self.actions.visible = self._run_edited is not None
        error = result.get("error")
        duration = result.get("duration") or 0.0
        if error:
            self.outputs.append(_outputs.error(error))
            self.set_status(f"✗ {error['ename']} after {duration:.2f} s")
        else:
            self.set_status(f"✓ ran in {duration:.2f} s")

    async def attach_file(self, item: dict, fetch: FetchFile) -> None:
        """A download button for a file the cell wrote."""
        name = PurePosixPath(item["path"]).name
        if item["size"] > MAX_DOWNLOAD:
            self.outputs.append(pn.pane.HTML(f"<small>wrote {item['path']} ({item['size']:,} bytes)</small>"))
            return
        try:
            data = await fetch(item["path"])
        except FileNotFoundError as exc:
            self.outputs.append(pn.pane.HTML(f"<small>wrote {item['path']}, which cannot be read now: {exc}</small>"))
            return
        self.outputs.append(
            pn.widgets.FileDownload(
                io.BytesIO(data),
                filename=name,
                label=f"Download {name} ({item['size']:,} bytes)",
                button_type="light",
                icon="download",
                margin=(4, 0),
            )
        )


class TurnView:
    """Renders the agent's events for one turn into a Panel column, in order."""

    def __init__(self, fetch_file: FetchFile | None = None, run_edited: RunEdited | None = None) -> None:
        self.fetch_file = fetch_file
        self.run_edited = run_edited
        self.body = pn.Column(sizing_mode="stretch_width", margin=0)
        self.waiting = pn.pane.HTML("", stylesheets=[TURN_CSS], margin=(0, 5))
        self.usage = pn.pane.HTML("", stylesheets=[TURN_CSS], margin=(0, 5))
        self.sent = pn.Column(sizing_mode="stretch_width", margin=0)
        self.sent_card = pn.Card(
            self.sent, title="Sent to the model", collapsed=True, sizing_mode="stretch_width", visible=False, margin=(4, 0)
        )
        self.panel = pn.Column(self.body, self.waiting, self.usage, self.sent_card, sizing_mode="stretch_width", margin=0)
        self._text: pn.pane.Markdown | None = None
        self._text_value = ""
        self._cells: dict[str, CodeCell] = {}
        self._tokens = [0, 0]
        self.ended: TurnEnded | None = None

    @property
    def empty(self) -> bool:
        return not self.body.objects

    def wait(self, text: str) -> None:
        """A line saying what the turn is waiting for ('' when nothing)."""
        self.waiting.object = f"<span class='ly-status'>{text}</span>" if text else ""

    def handle(self, event: Event) -> None:
        self.wait("waiting for the model…" if isinstance(event, (RequestSent, CodeFinished)) else "")
        if isinstance(event, AssistantText):
            if self._text is None:
                self._text_value = ""
                self._text = pn.pane.Markdown("", sizing_mode="stretch_width", margin=0)
                self.body.append(self._text)
            self._text_value += event.delta
            self._text.object = self._text_value
        elif isinstance(event, CodeDelta):
            self._cell(event.call_id).set_code(event.code)
        elif isinstance(event, CodeStarted):
            if event.source == "fenced":
                self._cell(event.call_id).card.collapsed = True
            cell = self._cell(event.call_id)
            cell.set_code(event.code)
            cell.set_status("running…")
        elif isinstance(event, KernelOutput):
            self._cell(event.call_id).outputs.append(_outputs.output(event.output))
        elif isinstance(event, CodeFinished):
            cell = self._cell(event.call_id)
            cell.finish(event.result)
            if self.fetch_file is not None:
                for item in event.result.get("files") or []:
                    asyncio.ensure_future(cell.attach_file(item, self.fetch_file))
        elif isinstance(event, Notice):
            self.add_notice(event.text)
        elif isinstance(event, UsageReport):
            self._tokens[0] += event.prompt
            self._tokens[1] += event.completion
            about = "about " if event.estimated else ""
            self.usage.object = (
                f"<span class='ly-status'>tokens: {about}{self._tokens[0]:,} sent · {self._tokens[1]:,} received</span>"
            )
        elif isinstance(event, RequestSent):
            self._text = None
            self.sent_card.visible = True
            self.sent_card.title = f"Sent to the model ({event.step} request{'s' if event.step > 1 else ''})"
            payload = {"messages": event.messages, "tools": event.tools}
            self.sent.append(
                pn.Card(
                    _outputs.preformatted(json.dumps(payload, indent=2, ensure_ascii=False)),
                    title=f"Request {event.step}",
                    collapsed=True,
                    sizing_mode="stretch_width",
                )
            )
        elif isinstance(event, TurnEnded):
            self.ended = event

    def add_problem(self, title: str, detail: str) -> None:
        self.body.append(pn.pane.Markdown(f"**{title}**\n\n{detail}", sizing_mode="stretch_width"))

    def offer_retry(self, retry: Callable[[], Awaitable[None]]) -> None:
        button = pn.widgets.Button(name="Retry", icon="refresh", button_type="primary", margin=(4, 0))

        async def clicked(_event) -> None:
            button.disabled = True
            await retry()

        button.on_click(clicked)
        self.body.append(button)

    def add_notice(self, text: str) -> None:
        self.body.append(pn.pane.Markdown(f"*{text}*", css_classes=["ly-notice"], sizing_mode="stretch_width"))

    def _cell(self, call_id: str) -> CodeCell:
        if call_id not in self._cells:
            self._text = None
            self._cells[call_id] = CodeCell(run_edited=self.run_edited)
            self.body.append(self._cells[call_id].card)
        return self._cells[call_id]
