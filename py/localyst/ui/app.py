"""The Localyst page: settings, the kernel and files beside a chat whose turns run code."""

from __future__ import annotations

import asyncio
import sys
import time
from functools import partial
from typing import Any, AsyncIterator

import panel as pn
import param
from panel.util import edit_readonly

from ..agent import CodeFinished
from ..kernel.core._intake import BIG_FILE_BYTES
from ..kernel.client import RemoteKernel
from ..protocol import Early, ModelFile, PageAction, Restore, SaveSvg
from ..render import escape, size_text
from ..session import Agents, Conversation, Waiting
from ..transcript import make_recipe, notebook_json, provenance, to_html_report, to_recipe, to_script, turns
from ._behaviour import BehaviourPanel
from ._settings import SettingsPanel
from ._styles import APP_CSS, HEADER_CSS
from ._files import FILES_CSS, OUTPUTS, FilesPanel, kind_of, safe_name
from ._feed import map_what_the_page_shows
from ._keeper import Keeper
from ._message import Chat, Message
from ._tasks import background
from ._markdown import lock_down_markdown
from ._page import kernel_startup, save, site_origin
from ._recipes import RECIPE_FIGURE, RecipePanel
from ._turn import Deferred, TurnView

ASSISTANT = "Assistant"
USER = "You"
NOTICE = "Localyst"
MESSAGE_PARAMS = {"show_reaction_icons": False, "show_copy_icon": False}
#: Messages kept live on each side of those on screen. The chat is a virtualised feed: a
#: message further away leaves the page's document (every structural change walks all of
#: it) and is drawn again as it scrolls back in, widgets and all.
LIVE_MESSAGES = 4
#: Turns of a stored conversation drawn at a time: the last ones when it opens, then as
#: many more each time the person scrolls to the top.
EARLIER_AT_ONCE = 4
INTERNET_WARNING = (
    "<p class='ly-problem'>Code the model writes can now send anything in this tab, your files included, "
    "to any server, and a file you open can tell it to. The kernel restarted (variables are gone). "
    "Turn this off when done; a reload turns it off.</p>"
)
WELCOME = (
    "**Welcome to Localyst.** Choose an endpoint and a model on the left, then ask away. "
    "Messages go only to the endpoint you choose; nothing else leaves this tab."
)


class LocalystApp:
    """Owns the widgets of one page and the kernel handle; the conversation is ``session``
    (session/), which it renders and to which it sends the person's actions."""

    def __init__(self, search: str = "") -> None:
        self.settings = SettingsPanel(search, site_origin())
        self.settings.on_key = self._on_key
        self.kernel = RemoteKernel(on_status=self._on_kernel_status, on_startup=kernel_startup)
        self.kernel_status = pn.pane.HTML("", margin=(0, 10))
        self.restart = pn.widgets.Button(name="Restart kernel", icon="refresh", button_type="light")
        self.restart.on_click(self._on_restart)
        self.internet = pn.widgets.Checkbox(name="Let code use the internet (this visit only)", margin=(5, 10))
        self.internet_warning = pn.pane.HTML("", stylesheets=[FILES_CSS], margin=(0, 10))
        self.internet.param.watch(self._on_internet, "value")
        self.time_limit = pn.widgets.IntInput(
            name="Time limit per cell (seconds)",
            value=int(self.kernel.time_limit),
            start=1,
            end=24 * 3600,
            placeholder="seconds",
            sizing_mode="stretch_width",
        )
        self.time_limit.param.watch(self._on_time_limit, "value")
        self.files = FilesPanel(self.kernel, ask=self._ask_about, save=save, on_change=self._on_files_changed)
        self.session = Conversation(self.kernel)
        self.exports = [
            self._export_button("Notebook (.ipynb)", "notebook"),
            self._export_button("Script (.py)", "file-code"),
            self._export_button("Report (.html)", "file-text"),
            self._export_button("Recipe (.py)", "repeat"),
        ]
        self.recipes = RecipePanel(self._recipe_kernel, self._file_data, self._post_recipe_run, self._show_latest)
        self.files.on_listed = self.recipes.files_listed
        self.behaviour = BehaviourPanel()
        self._view: TurnView | None = None  # the turn being answered: where "Confirm before running" asks
        self.agents = Agents(self.kernel)
        self.chat = Chat(
            callback=self._respond,
            callback_user=ASSISTANT,
            callback_avatar="A",
            user=USER,
            avatar="Y",
            callback_exception="summary",
            placeholder_text="Thinking…",
            show_rerun=False,
            show_undo=False,
            show_clear=False,
            sizing_mode="stretch_both",
            widgets=pn.chat.ChatAreaInput(
                placeholder="Ask about your data… (Enter to send, Shift+Enter for a new line)"
            ),
            message_params=MESSAGE_PARAMS,
            load_buffer=LIVE_MESSAGES,
            css_classes=["localyst-chat"],
        )
        self.chat.send(WELCOME, user=NOTICE, avatar="L", respond=False)
        self._stored_turns: list = []  # the turns of the conversation shown when it was opened
        self._first_shown = 0  # the first of them that has messages in the chat
        map_what_the_page_shows(self.chat._chat_log)
        self.chat._chat_log.param.watch(self.let_go_of_far_answers, "visible_range")
        self.answering = False
        self.keeper = Keeper(self)
        self.replay_button = pn.widgets.Button(
            name="Run the conversation's code again", icon="player-play", button_type="light", sizing_mode="stretch_width"
        )
        self.replay_button.on_click(self._on_replay)
        self.replay_status = pn.pane.HTML("", margin=(0, 10))
        for widget in (self.settings.base_url, self.settings.model, self.time_limit, *self.behaviour.widgets()):
            widget.param.watch(self._on_setting, "value")
        self._starting: asyncio.Future | None = None
        if sys.platform == "emscripten":
            self._on_kernel_status("starting…")
            self.kernel.start()
            self._starting = background(self._start())

    async def _start(self) -> None:
        """Bring back what the last visit kept: its settings (or keep the link's) first, so
        that a message sent at once goes where it should, then its work."""
        self.apply_settings(await self.keeper.open_store())
        if self.settings.chosen_in_link:
            self._on_setting(None)
        kept = await self.keeper.kept_key()
        if kept and not self.settings.api_key.value:
            self.settings.restore_key(kept)
        else:  # a key typed while the store was opening
            self._on_key()
        await self.keeper.bring_back()

    def _on_key(self) -> None:
        """Keep the key on this device, or forget it, as the person chose."""
        if self.keeper.store is not None:
            background(self.keeper.keep_key(self.settings.kept_key()))

    def apply_settings(self, settings: dict) -> None:
        """Take kept settings (a link's own choice of endpoint and model wins)."""
        self._restoring = True
        try:
            self.settings.restore(settings.get("connection", {}))
            self.behaviour.restore(settings.get("behaviour", {}))
            if settings.get("time_limit"):
                self.time_limit.value = int(settings["time_limit"])
        finally:
            self._restoring = False

    _restoring = False

    def _on_setting(self, _event) -> None:
        if not self._restoring and self.keeper.store is not None:
            settings = {
                "connection": self.settings.remembered(),
                "behaviour": self.behaviour.remembered(),
                "time_limit": self.time_limit.value,
            }
            background(self.keeper.save_settings(settings))

    def show_conversation(self, session: Conversation) -> None:
        """Draw a conversation in the chat, in one change of the page: its last turns, with
        the earlier ones made as the person scrolls up to them (a chat message is dozens of
        Panel objects), and each answer built when the feed first draws it. A reload costs
        the screenful, not the history."""
        self.session = session
        self._stored_turns = turns(session.transcript)
        self._first_shown = max(0, len(self._stored_turns) - EARLIER_AT_ONCE)
        self.chat.objects = [self._top_message(), *self._turn_messages(self._first_shown, len(self._stored_turns))]
        self._show_latest()  # where the conversation goes on
        self.replay_status.object = ""

    def _top_message(self) -> Message:
        if not self._first_shown:
            return Message(WELCOME, user=NOTICE, avatar="L", **MESSAGE_PARAMS)
        count = self._first_shown
        return Message(
            f"*{count} earlier turn{'s' if count > 1 else ''} of this conversation: scroll up to see them.*",
            user=NOTICE, avatar="L", **MESSAGE_PARAMS,
        )

    def _turn_messages(self, start: int, end: int) -> list[Message]:
        messages = []
        for number in range(start, end):
            messages.append(Message(self._stored_turns[number].question, user=USER, avatar="Y", **MESSAGE_PARAMS))
            answer = Deferred(partial(self._stored_answer, self.session, number))
            messages.append(Message(answer, user=ASSISTANT, avatar="A", **MESSAGE_PARAMS))
        return messages

    def _show_earlier(self) -> None:
        """The person scrolled to the top of a conversation drawn from its last turns: the
        turns before them come in above, and what they see stays where it is."""
        feed = self.chat._chat_log
        start = max(0, self._first_shown - EARLIER_AT_ONCE)
        earlier = self._turn_messages(start, self._first_shown)
        self._first_shown = start
        first, last = feed.visible_range
        with param.parameterized.batch_call_watchers(feed):
            feed.objects = [self._top_message(), *earlier, *feed.objects[1:]]
            with edit_readonly(feed):
                feed.visible_range = (first + len(earlier), last + len(earlier))

    def _stored_answer(self, session: Conversation, number: int) -> pn.viewable.Viewable:
        """Answer ``number`` of the conversation, drawn from its record."""
        view = self._turn_view(number)
        found = turns(session.transcript)
        for event in found[number].events if number < len(found) and session is self.session else []:
            view.handle(event)
        view.mark(provenance(session.transcript, number))
        return view.panel

    def _show_latest(self) -> None:
        """Scroll the chat to its latest message, and again until the page says it is on
        screen: outputs that finish drawing after the scroll (charts, tables) push it down,
        and the feed draws only what is near what the page says it shows."""
        self._to_latest = True
        self.chat._chat_log.scroll_to_latest()

    _to_latest = False

    def let_go_of_far_answers(self, *_event) -> None:
        """Put answers far from the screen back in their record (made again as they come
        back): the cost of every later change then does not grow with the conversation.
        Not while a turn runs; the feed's objects change once, and only far from the screen."""
        feed = self.chat._chat_log  # the chat's virtualised Feed (Panel 1.8)
        if self._to_latest and feed.visible_range:
            # The page reports the last message it shows; a range that ends past the last
            # index is the feed's own guess while it scrolls, not the page's word.
            shown_last = feed.visible_range[1]
            if shown_last < len(feed.objects) - 1:
                feed.scroll_to_latest()
                return
            if shown_last == len(feed.objects) - 1:
                self._to_latest = False
        if feed.visible_range and feed.visible_range[0] == 0 and self._first_shown:
            self._show_earlier()
        if self.answering:
            return
        objects = list(feed.objects)
        buffer = feed.load_buffer
        if feed.visible_range:
            first, last = feed.visible_range
            near = range(first - 2 * buffer, last + 2 * buffer + 1)
        else:  # never scrolled: the feed shows the latest
            near = range(len(objects) - 3 * buffer, len(objects))
        changed = False
        # Not the last message: a new last one makes the feed jump to the latest.
        for index, message in enumerate(objects[:-1]):
            answer = message.object
            if index not in near and isinstance(answer, Deferred) and answer.releasable:
                objects[index] = Message(
                    answer.remade(), user=message.user, avatar=message.avatar, timestamp=message.timestamp, **MESSAGE_PARAMS
                )
                changed = True
        if changed:
            feed.objects = objects

    def files_changed(self) -> None:
        """The files differ from what the model last heard of."""
        self.session.files_changed = True

    def _on_kernel_status(self, text: str) -> None:
        shown = text or "ready"
        if not text and self.kernel.online:
            shown += " · code may use the internet"
        if not text and not self.kernel.interruptible:
            shown += " (Stop cannot interrupt code: the page is not isolated)"
        self.kernel_status.object = f"<p class='ly-hint'>Python kernel: {escape(shown)}</p>"
        if not text:  # ready, perhaps after a restart that lost the outputs: list the files again
            background(self.files.refresh())

    async def add_files(self, files: list[tuple[str, int, Any]]) -> None:
        """Put the person's files into the kernel's data folder: (name, size, File or bytes).

        Names are cut to a bare name; no size is refused: a big file (BIG_FILE_BYTES) is read
        where it is on the person's disk, and not kept for the next visit (they are told);
        the model hears of the new files, and how to read big ones, with the next message."""
        problems = []
        for name, size, data in files:
            clean = safe_name(name)
            if not clean:
                problems.append(f"{name!r} is not a usable file name; it was not added.")
            else:
                try:
                    await self.kernel.put_file(clean, data)
                    if size > BIG_FILE_BYTES:
                        problems.append(
                            f"{clean} is {size_text(size)}: it is read where it is on your disk, and is not "
                            "kept for your next visit (add it again then)."
                        )
                    elif not isinstance(data, (bytes, bytearray)):
                        await self.keeper.keep_file(clean, data, size)
                    problem = (await self.kernel.inspect_file(clean)).get("problem")
                except FileNotFoundError as exc:
                    problems.append(f"{clean} could not be added: {exc}")
                else:
                    self.files_changed()
                    if problem:
                        problems.append(f"{clean}: {problem}")
        self.files.say("\n".join(problems))
        await self.files.refresh()
        await self.keeper.sync_files()

    def _on_files_changed(self) -> None:
        self.files_changed()
        background(self.keeper.sync_files())

    def _export_button(self, label: str, icon: str) -> pn.widgets.Button:
        button = pn.widgets.Button(name=label, icon=icon, button_type="light", sizing_mode="stretch_width", margin=(2, 10))
        button.on_click(lambda _event: self.export(label))
        return button

    def export(self, label: str) -> None:
        """Save the conversation so far as a notebook, a script, a report or a recipe."""
        stamp = time.strftime("%Y-%m-%d %H.%M")
        title = f"Localyst analysis {stamp}"
        if label.startswith("Recipe"):
            self.save_recipe(stamp)
        elif label.startswith("Notebook"):
            save(f"{title}.ipynb", notebook_json(self.session.transcript, title), "application/x-ipynb+json")
        elif label.startswith("Script"):
            save(f"{title}.py", to_script(self.session.transcript), "text/x-python")
        else:
            save(f"{title}.html", to_html_report(self.session.transcript, title=title), "text/html")

    def save_recipe(self, stamp: str) -> None:
        """The conversation's code that worked, with the person's files it reads as its inputs."""
        transcript = self.session.transcript
        question = next((e["text"] for e in transcript.entries if e["kind"] == "user"), "")
        title = " ".join(question.split())[:120] or f"Localyst recipe {stamp}"
        mine = {path: kind_of(path) for path in self.files.rows if not path.startswith(OUTPUTS)}
        recipe = make_recipe(transcript, title, mine)
        if not recipe.cells:
            self.recipes.say("Nothing to save as a recipe yet: no code of this conversation has run without failing.", problem=True)
            return
        save(f"Localyst recipe {stamp}.py", to_recipe(recipe), "text/x-python")

    def _recipe_kernel(self) -> RemoteKernel:
        """A kernel of its own for a recipe run, off the network, with this page's time limit."""
        kernel = RemoteKernel(time_limit=self.kernel.time_limit)
        kernel.start()
        return kernel

    async def _file_data(self, path: str) -> Any:
        """One of the person's files, as the page holds it (a File is not read) or from the kernel."""
        data = self.kernel.files.get(path)
        return data if data is not None else await self.kernel.get_file(path)

    def _post_recipe_run(self, panel: pn.viewable.Viewable) -> None:
        self.chat.send(panel, user="Recipe", avatar="R", respond=False)
        self._show_latest()

    async def page_action(self, action: PageAction) -> None:
        """Actions of buttons drawn as HTML (saving a chart as SVG, restoring a backup, a
        model file for the page), and
        what the first screen took while Python started."""
        if isinstance(action, Early):
            await self.take_early(action.question, action.draft, list(action.files))
        elif isinstance(action, Restore):
            await self.keeper.restore(action.file)
        elif isinstance(action, ModelFile):
            await self.settings.in_page.keep_file(action.name, action.size, action.file)
        elif isinstance(action, SaveSvg):
            try:
                drawn_by = self.recipes if action.figure.startswith(RECIPE_FIGURE) else self.kernel
                save(action.name, await drawn_by.figure_svg(action.figure), "image/svg+xml")
            except FileNotFoundError as exc:
                self.files.say(f"The chart could not be saved as SVG: {exc}")

    async def take_early(self, question: str, draft: str, files: list[tuple[str, int, Any]]) -> None:
        """The files, then the question, the person gave the first screen, once the kept
        settings and key are back (so the question goes where they chose); or their draft."""
        if self._starting is not None:
            await asyncio.wait([self._starting])
        if files:
            await self.add_files(files)
        if question:
            self.chat.send(question, user=USER, avatar="Y")
        elif draft:
            self.chat.active_widget.value_input = draft

    async def _ask_about(self, path: str) -> None:
        self.chat.send(f"Tell me about the file `{path}`: what it holds, and anything that stands out.", user=USER, avatar="Y")

    def _on_time_limit(self, event) -> None:
        if event.new:
            self.kernel.time_limit = float(event.new)

    async def _on_internet(self, event) -> None:
        self.internet_warning.object = INTERNET_WARNING if event.new else ""
        self.internet.disabled = True  # until the kernel under the new policy is up
        try:
            await self.kernel.allow_internet(event.new)
        finally:
            self.internet.disabled = False

    async def _on_restart(self, _event) -> None:
        await self.kernel.restart("The kernel was restarted on request.")

    async def _approve(self, cell_id: str, code: str) -> bool:
        return self._view is not None and await self._view.approve(cell_id, code)

    async def _respond(self, contents: Any, user: str, instance: pn.chat.ChatInterface) -> AsyncIterator[Any]:
        endpoint = self.settings.endpoint()
        problem = self.settings.missing(endpoint)
        if problem:
            yield {"user": NOTICE, "avatar": "L", "object": problem}
            return
        # The person asked: the chat shows the latest, however far up they were, so that the
        # feed (which draws only what is near the screen) draws the question and its answer.
        self._show_latest()
        self.session.ask(str(contents))
        number = self._last_turn()
        await self.keeper.save()  # kept before it is sent
        view = self._turn_view(number)
        answer = Deferred(None, view.panel)
        yield answer
        failed_silently: bool | None = None  # None: stopped
        try:
            failed_silently = await self._run_turn(endpoint, view)
        finally:  # answered, failed or stopped: from now on the record can draw it again
            view.mark(provenance(self.session.transcript, number))
            if failed_silently is not True:
                answer.make = partial(self._stored_answer, self.session, number)
        if failed_silently:
            yield {"user": NOTICE, "avatar": "L", "object": view.panel}

    async def _run_turn(self, endpoint, view: TurnView) -> bool:
        """Answer the conversation's last message into ``view``. True when the turn failed
        before anything was shown, so the page should present it as a notice, not an answer."""
        self._view = view

        def on_event(event: Any) -> None:
            if isinstance(event, Waiting):
                view.wait(event.text)
                return
            view.handle(event)
            self.keeper.save_soon()
            if isinstance(event, CodeFinished) and event.result.get("files"):
                background(self.files.refresh())

        self.answering = True
        try:
            ended = await self.session.run_turn(self.agents.agent(endpoint, self.behaviour.options(), self._approve), on_event)
        except asyncio.CancelledError:
            view.add_notice("Stopped.")
            raise
        finally:
            self.answering = False
            background(self._after_turn())
        if ended.reason == "error" and ended.problem is not None:
            failed_silently = view.empty
            view.add_problem(ended.problem.title, ended.problem.detail)
            if ended.problem.retryable:
                view.offer_retry(self._retry)
            return failed_silently
        if ended.reason != "answered":
            view.add_notice(ended.message)
        return False

    async def _after_turn(self) -> None:
        self.let_go_of_far_answers()
        await self.keeper.save()
        await self.files.refresh()
        await self.keeper.sync_files()

    async def _on_replay(self, _event) -> None:
        """Run the code that succeeded before, in order, to rebuild the variables; stop at an error."""
        code = self.session.replayable_code()
        self.replay_button.disabled = True
        try:
            for number, cell in enumerate(code, 1):
                self.replay_status.object = f"<p class='ly-hint'>Running cell {number} of {len(code)}…</p>"
                error = (await self.kernel.run(cell)).get("error")
                if error:
                    self.replay_status.object = (
                        f"<p class='ly-hint'>Stopped at cell {number} of {len(code)}: "
                        f"{escape(error['ename'])}: {escape(str(error['evalue'])[:200])}</p>"
                    )
                    return
            self.replay_status.object = f"<p class='ly-hint'>Ran {len(code)} cells again: the variables are back.</p>"
            self.session.replayed()
        finally:
            self.replay_button.disabled = False

    def _turn_view(self, turn: int | None = None) -> TurnView:
        return TurnView(download=self.files.download, run_edited=self._run_edited, turn=turn)

    async def _run_edited(self, code: str, cell) -> dict:
        """Run code the person edited; the model hears about it with their next message."""
        result = await self.kernel.run(code, cell.add_output)
        self.session.edited_run(code, result)
        background(self.keeper.save())
        if result.get("files"):
            for item in result["files"]:
                cell.attach_file(item, self.files.download)
            await self.files.refresh()
        return result

    async def _retry(self) -> None:
        """Ask again: forget what the failed turn added after the person's message, run anew."""
        self.session.forget_failed_answer()
        number = self._last_turn()
        view = self._turn_view(number)
        self.chat.send(view.panel, user=ASSISTANT, avatar="A", respond=False)
        try:
            await self._run_turn(self.settings.endpoint(), view)
        finally:
            view.mark(provenance(self.session.transcript, number))

    def _last_turn(self) -> int:
        """The place in the conversation (from 0) of the person's last message."""
        return sum(1 for entry in self.session.transcript.entries if entry["kind"] == "user") - 1

    def view(self) -> pn.viewable.Viewable:
        header = pn.pane.HTML(
            '<div class="ly-header"><img src="icon.svg" alt="" width="28" height="28">'
            "<span class='ly-title'>Localyst</span>"
            "<span class='ly-sub'>private code interpreter · your files never leave this tab</span></div>",
            sizing_mode="stretch_width",
            margin=0,
            stylesheets=[HEADER_CSS],
        )
        body = pn.Row(
            self.settings.view(
                pn.pane.HTML("<h3 class='ly-side-title'>Conversations</h3>", margin=(10, 10, 0, 10)),
                self.keeper.list.view(),
                pn.pane.HTML("<h3 class='ly-side-title'>Python</h3>", margin=(10, 10, 0, 10)),
                self.kernel_status,
                self.time_limit,
                self.restart,
                self.internet,
                self.internet_warning,
                self.replay_button,
                self.replay_status,
                pn.pane.HTML("<h3 class='ly-side-title'>Files</h3>", margin=(10, 10, 0, 10)),
                self.files.view(),
                pn.pane.HTML("<h3 class='ly-side-title'>Keep the analysis</h3>", margin=(10, 10, 0, 10)),
                *self.exports,
                pn.pane.HTML("<h3 class='ly-side-title'>Run a recipe</h3>", margin=(10, 10, 0, 10)),
                self.recipes.view(),
                self.behaviour.view(),
            ),
            pn.Column(self.chat, sizing_mode="stretch_both", css_classes=["ly-main"]),
            sizing_mode="stretch_both",
            css_classes=["ly-body"],
        )
        return pn.Column(header, body, sizing_mode="stretch_both", css_classes=["ly-page"], stylesheets=[APP_CSS])


def build_app(search: str = "") -> LocalystApp:
    """The app for one visit; ``search`` is the page's query string."""
    pn.extension("tabulator", notifications=False)
    lock_down_markdown()
    return LocalystApp(search)

