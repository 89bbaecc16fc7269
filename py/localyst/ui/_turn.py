"""One assistant turn on screen: text, code as it is written, its outputs, and what was sent."""

from __future__ import annotations

import asyncio
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
from ..kernel.core._formulas import SPREADSHEET_SUFFIXES
from ..protocol import clean_output, clean_result
from ..render import escape, fenced, visible
from ..transcript import Provenance
from . import _outputs
from ._buttons import once_button
from ._copy import copy_button, copy_markup
from ._figures import FIGURES_CSS, AnswerText, cell_key, marker
from ._sent import SentLog

#: Seconds between two renders of text or code that is still streaming.
RENDER_INTERVAL = 0.1

#: Saves a file from the kernel's data folder to the person's machine: (path, escape_formulas).
Download = Callable[[str, bool], Awaitable[None]]

TURN_CSS = """
.ly-status { color: #5b6878; font-size: 12px; }
.ly-notice { color: #7a5300; font-size: 13px; }
"""


#: Runs code the person edited, shows its outputs in the given cell, and returns its result.
RunEdited = Callable[[str, "CodeCell"], Awaitable[dict]]


class CodeCell:
    """A collapsible card: the code (copy it, or edit and run it again), a status line, and
    the outputs of running it. The editor is made on the first Edit: every component added
    to a live page costs a walk of the whole document."""

    def __init__(self, code: str = "", run_edited: RunEdited | None = None) -> None:
        self.source = code
        self.code = pn.pane.Markdown(fenced(code), sizing_mode="stretch_width", margin=0)
        self.status = pn.pane.HTML("", stylesheets=[TURN_CSS], margin=(0, 5))
        self.anchor = ""  # cell_key: how a figure's button finds this cell in the page
        self._status_text = ""
        self.set_status("writing…")
        self.outputs = pn.Column(sizing_mode="stretch_width", margin=0)
        self.copy = copy_button(code, margin=(0, 4))
        self.edit = pn.widgets.Button(name="Edit and run", icon="pencil", button_type="light", margin=(0, 4))
        self.editor: pn.widgets.TextAreaInput | None = None
        self.run: pn.widgets.Button | None = None
        self._run_edited = run_edited
        self._stream: tuple[str, str, pn.pane.HTML] | None = None  # the last stream chunk shown: (name, text, pane)
        self.edit.on_click(self._on_edit)
        self.actions = pn.Row(self.copy, self.edit, margin=0, visible=False)
        self.card = pn.Card(
            self.code,
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
        self.copy.object = copy_markup(code)
        if self.editor is not None:
            self.editor.value = code

    def _on_edit(self, _event) -> None:
        if self.editor is None:
            self.editor = pn.widgets.TextAreaInput(value=self.source, auto_grow=True, max_rows=30, sizing_mode="stretch_width")
            self.run = pn.widgets.Button(name="Run", icon="player-play", button_type="primary", margin=(0, 4))
            self.run.on_click(self._on_run)
            self.card.insert(1, self.editor)
            self.actions.append(self.run)
        self.editor.visible = self.run.visible = True
        self.code.visible = self.edit.visible = False

    async def _on_run(self, _event) -> None:
        if self._run_edited is None or self.editor is None or self.run is None:
            return
        self.run.disabled = True
        self.set_code(self.editor.value)
        self.clear_outputs()
        self.set_status("running…")
        try:
            result = await self._run_edited(self.source, self)
            self.finish(result)
        finally:
            self.run.disabled = False

    async def ask_to_run(self) -> bool:
        """Show Run / Don't run under the code and wait for the person's choice."""
        choice: asyncio.Future[bool] = asyncio.get_event_loop().create_future()
        run = pn.widgets.Button(name="Run it", icon="player-play", button_type="primary", margin=(0, 4))
        skip = pn.widgets.Button(name="Don't run", icon="ban", button_type="light", margin=(0, 4))
        run.on_click(lambda _event: choice.done() or choice.set_result(True))
        skip.on_click(lambda _event: choice.done() or choice.set_result(False))
        ask = pn.Row(run, skip, margin=0)
        self.card.collapsed = False
        self.card.insert(1, ask)
        self.set_status("waiting for you: run this code?")
        try:
            approved = await choice
        finally:
            self.card.remove(ask)
        self.set_status("running…" if approved else "not run: you declined it")
        return approved

    def add_output(self, item: dict) -> None:
        """Show one kernel output; a stream chunk continues the previous one of the same stream."""
        item = clean_output(item)
        if item["kind"] == "stream" and self._stream is not None and self._stream[0] == item["name"]:
            name, text, pane = self._stream
            self._stream = (name, text + item["text"], pane)
            pane.object = _outputs.preformatted_markup(self._stream[1], "stderr" if name == "stderr" else "")
            return
        pane = _outputs.output(item)
        self._stream = (item["name"], item["text"], pane) if item["kind"] == "stream" else None
        self.outputs.append(pane)

    def clear_outputs(self) -> None:
        self._stream = None
        self.outputs.clear()

    def set_status(self, text: str) -> None:
        self._status_text = text
        anchor = f" data-ly-cell='{escape(self.anchor)}'" if self.anchor else ""
        self.status.object = f"<span class='ly-status'{anchor}>{escape(text)}</span>"

    def set_anchor(self, anchor: str) -> None:
        self.anchor = anchor
        self.set_status(self._status_text)

    def finish(self, result: dict) -> dict:
        """Show how the run ended (the result is checked again: it may come from storage)."""
        self.actions.visible = self._run_edited is not None
        result = clean_result(result)
        error = result["error"]
        duration = result["duration"]
        if error:
            self._stream = None
            self.outputs.append(_outputs.error(error))
            self.set_status(f"✗ {error['ename']} after {duration:.2f} s")
        else:
            self.set_status(f"✓ ran in {duration:.2f} s")
        return result

    def attach_file(self, item: dict, download: Download) -> None:
        """A button that saves a file the cell wrote (read from the kernel when clicked);
        for a file a spreadsheet opens, a second one saves a copy with formulas as text."""
        path = item["path"]
        name = visible(PurePosixPath(path).name)
        buttons = [self._download_button(f"Download {name} ({item['size']:,} bytes)", lambda: download(path, False))]
        if path.lower().endswith(SPREADSHEET_SUFFIXES):
            buttons.append(self._download_button("For a spreadsheet: formulas as text", lambda: download(path, True), "shield-check"))
        self.outputs.append(pn.Row(*buttons, margin=0) if len(buttons) > 1 else buttons[0])

    @staticmethod
    def _download_button(label: str, save: Callable[[], Awaitable[None]], icon: str = "download") -> pn.widgets.Button:
        button = pn.widgets.Button(name=label, button_type="light", icon=icon, margin=(4, 4, 4, 0))

        async def clicked(_event) -> None:
            await save()

        button.on_click(clicked)
        return button


class _Throttle:
    """Coalesces fast repeated updates (text and code as they stream) into at most one
    render per interval: each one re-renders the whole text and travels to the page."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._due: dict[str, Callable[[], None]] = {}
        self._timer: asyncio.TimerHandle | None = None

    def schedule(self, key: str, render: Callable[[], None]) -> None:
        self._due[key] = render
        if self._timer is None:
            try:
                self._timer = asyncio.get_running_loop().call_later(self.interval, self.flush)
            except RuntimeError:  # no event loop (tests in CPython): render now
                self.flush()

    def flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        due, self._due = self._due, {}
        for render in due.values():
            render()


class Deferred(pn.Column):
    """An answer in the chat that can be made again from the record: drawn the first time
    the page shows it, and let go of (``remade()``) once it is far from the screen, so that
    the answers off screen are neither Bokeh models nor Panel objects that every change of
    the page walks through."""

    def __init__(self, make: Callable[[], pn.viewable.Viewable] | None, content: pn.viewable.Viewable | None = None) -> None:
        super().__init__(*([content] if content is not None else []), sizing_mode="stretch_width", margin=0)
        self.make = make  # None while the turn runs: it cannot be made again yet

    @property
    def releasable(self) -> bool:
        """Holds a drawn answer that the record can make again."""
        return self.make is not None and bool(self.objects)

    def remade(self) -> Deferred:
        """A new, empty one that will make the same answer when drawn."""
        return Deferred(self.make)

    def _get_model(self, doc, root=None, parent=None, comm=None):
        if not self.objects and self.make is not None:
            self.objects = [self.make()]
        return super()._get_model(doc, root, parent, comm)


class TurnView:
    """Renders the agent's events for one turn into a Panel column, in order.

    Adding a component to a live page costs a walk of the whole document, so a hidden
    code cell is made ready while each model request is out, and the first code the
    model writes fills it instead of adding one.

    ``turn`` is the answer's place in the conversation (counted from 0): the figures of
    its text find their cells by it once ``mark`` is called."""

    def __init__(self, download: Download | None = None, run_edited: RunEdited | None = None, turn: int | None = None) -> None:
        self.download = download
        self.run_edited = run_edited
        self.body = pn.Column(sizing_mode="stretch_width", margin=0)
        self.waiting = pn.pane.HTML("", stylesheets=[TURN_CSS], margin=(0, 5))
        self.usage = pn.pane.HTML("", stylesheets=[TURN_CSS], margin=(0, 5))
        self.sent = SentLog()
        self.panel = pn.Column(self.body, self.waiting, self.usage, self.sent.card, sizing_mode="stretch_width", margin=0)
        self.turn = turn
        self._text: AnswerText | None = None
        self._texts: list[AnswerText] = []
        self._text_value = ""
        self._cells: dict[str, CodeCell] = {}
        self._spare: CodeCell | None = None
        self._throttle = _Throttle(RENDER_INTERVAL)
        self._tokens = [0, 0]
        self.ended: TurnEnded | None = None

    @property
    def empty(self) -> bool:
        return not any(obj.visible for obj in self.body.objects)

    def wait(self, text: str) -> None:
        """A line saying what the turn is waiting for ('' when nothing)."""
        self.waiting.object = f"<span class='ly-status'>{escape(text)}</span>" if text else ""

    def handle(self, event: Event) -> None:
        if not isinstance(event, (AssistantText, CodeDelta)):
            self._throttle.flush()
        self.wait("waiting for the model…" if isinstance(event, (RequestSent, CodeFinished)) else "")
        if isinstance(event, AssistantText):
            self._text_value = self._text_value + event.delta if self._text is not None else event.delta
            if self._text is None:
                self._text = AnswerText(self._text_value, stylesheets=[FIGURES_CSS], sizing_mode="stretch_width", margin=0)
                self._texts.append(self._text)
                self._add(self._text)
            else:
                text, value = self._text, self._text_value
                self._throttle.schedule("text", lambda: setattr(text, "object", value))
        elif isinstance(event, CodeDelta):
            fresh = event.cell_id not in self._cells
            cell = self._cell(event.cell_id)
            if fresh:
                cell.set_code(event.code)
            else:
                self._throttle.schedule(event.cell_id, lambda: cell.set_code(event.code))
        elif isinstance(event, CodeStarted):
            cell = self._cell(event.cell_id)
            if event.source == "fenced":
                cell.card.collapsed = True
            cell.set_code(event.code)
            cell.set_status("running…")
        elif isinstance(event, KernelOutput):
            self._cell(event.cell_id).add_output(event.output)
        elif isinstance(event, CodeFinished):
            cell = self._cell(event.cell_id)
            result = cell.finish(event.result)
            if self.download is not None:
                for item in result["files"]:
                    cell.attach_file(item, self.download)
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
            self.sent.add(event.messages, event.tools)
            self._prepare_spare()
        elif isinstance(event, TurnEnded):
            self.ended = event
            self._drop_spare()

    def flush(self) -> None:
        """Render at once what is still waiting for the next throttled render."""
        self._throttle.flush()

    def mark(self, found: Provenance) -> None:
        """Mark the figures of the turn's text: with the cell each came from, or as not computed."""
        self._throttle.flush()
        mark = marker(found)
        for text in self._texts:
            text.mark = mark

    async def approve(self, cell_id: str, code: str) -> bool:
        """Ask the person whether a cell may run (the "Confirm before running" setting)."""
        self._throttle.flush()
        cell = self._cell(cell_id)
        cell.set_code(code)
        self.wait("")
        return await cell.ask_to_run()

    def add_problem(self, title: str, detail: str) -> None:
        self._add(pn.pane.Markdown(f"**{title}**\n\n{detail}", sizing_mode="stretch_width"))

    def offer_retry(self, retry: Callable[[], Awaitable[None]]) -> None:
        self._add(once_button("Retry", "refresh", retry, button_type="primary", margin=(4, 0)))

    def add_notice(self, text: str) -> None:
        self._add(pn.pane.Markdown(f"*{text}*", css_classes=["ly-notice"], sizing_mode="stretch_width"))

    def _add(self, component: pn.viewable.Viewable) -> None:
        """Append to the turn, keeping the hidden spare cell last."""
        if self._spare is not None:
            self.body.insert(len(self.body.objects) - 1, component)
        else:
            self.body.append(component)

    def _cell(self, cell_id: str) -> CodeCell:
        if cell_id not in self._cells:
            self._text = None
            if self._spare is not None:
                cell, self._spare = self._spare, None
                cell.card.visible = True
            else:
                cell = CodeCell(run_edited=self.run_edited)
                self.body.append(cell.card)
            if self.turn is not None:
                cell.set_anchor(cell_key(self.turn, len(self._cells)))
            self._cells[cell_id] = cell
        return self._cells[cell_id]

    def _prepare_spare(self) -> None:
        """Make the next code cell while the request is out, once the loop is free."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        loop.call_soon(self._make_spare)

    def _make_spare(self) -> None:
        if self._spare is None and self.ended is None:
            self._spare = CodeCell(run_edited=self.run_edited)
            self._spare.card.visible = False
            self.body.append(self._spare.card)

    def _drop_spare(self) -> None:
        if self._spare is not None:
            self.body.remove(self._spare.card)
            self._spare = None
