"""The sidebar's list of conversations: start a new one, find one by its text, open,
rename or delete it. It only shows and asks; the app does the storing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import panel as pn

from ..render import escape
from ._actions import action_button
from ._files import FILES_CSS, clock

Act = Callable[[str], Awaitable[None]]


class ConversationList:
    """New, search, and one row per stored conversation (the current one marked)."""

    def __init__(
        self,
        on_open: Act,
        on_new: Callable[[], Awaitable[None]],
        on_rename: Callable[[str, str], Awaitable[None]],
        on_delete: Act,
        on_backup: Callable[[], Awaitable[None]],
        words: Callable[[dict[str, Any]], Awaitable[str]],
    ) -> None:
        self.on_open, self.on_new, self.on_rename, self.on_delete = on_open, on_new, on_rename, on_delete
        self.backup = pn.widgets.Button(name="Back up everything", icon="database-export", button_type="light", margin=(2, 10))

        async def backup(_event) -> None:
            await on_backup()

        self.backup.on_click(backup)
        self.new = pn.widgets.Button(name="New conversation", icon="plus", button_type="light", sizing_mode="stretch_width", margin=(2, 10))
        self.new.on_click(self._on_new)
        self.search = pn.widgets.TextInput(placeholder="Search conversations", sizing_mode="stretch_width", margin=(2, 10))
        self.search.param.watch(self._on_search, "value_input")
        self._read_words = words
        self.rows = pn.Column(sizing_mode="stretch_width", margin=(0, 6))
        self.status = pn.pane.HTML("", sizing_mode="stretch_width", stylesheets=[FILES_CSS], margin=(0, 10))
        self.question = pn.Column(sizing_mode="stretch_width", margin=0)  # a question that waits for the person
        self.records: list[dict[str, Any]] = []
        self.current = ""
        self._searchable: dict[str, tuple[float, str]] = {}  # id: (updated, words)

    def view(self) -> pn.viewable.Viewable:
        restore = pn.pane.HTML(
            action_button("restore-backup", "Restore a backup…", "ly-link"),
            stylesheets=[FILES_CSS],
            margin=(2, 10),
        )
        return pn.Column(
            self.new,
            self.search,
            self.rows,
            self.status,
            self.question,
            pn.Row(self.backup, restore, margin=0),
            sizing_mode="stretch_width",
            margin=0,
        )

    def show(self, records: list[dict[str, Any]], current: str) -> None:
        self.records, self.current = records, current
        self._draw()

    def say(self, text: str, problem: bool = False) -> None:
        css = "ly-problem" if problem else "ly-hint"
        self.status.object = f"<p class='{css}'>{escape(text)}</p>" if text else ""

    def ask(self, question: pn.viewable.Viewable | None) -> None:
        """Show a question under the status (one at a time), or take it away."""
        self.question.objects = [question] if question is not None else []

    def _draw(self) -> None:
        query = (self.search.value_input or "").strip().lower()
        shown = [r for r in self.records if not query or query in self._words(r)]
        self.rows.objects = [self._row(record) for record in shown] or [
            pn.pane.HTML("<p class='ly-hint'>No conversation matches.</p>", stylesheets=[FILES_CSS])
        ]

    async def _on_search(self, _event) -> None:
        """Read what the search looks in, for the conversations not yet read, then filter:
        the title and what a person reads of each, never the data inside it (an image's
        base64 would match nearly any short query). Kept per version of the record, since
        the search runs on every keystroke."""
        if (self.search.value_input or "").strip():
            for record in list(self.records):
                if self._searchable.get(record["id"], (None, ""))[0] != record["updated"]:
                    self._searchable[record["id"]] = (record["updated"], f"{record['title']}\n{await self._read_words(record)}".lower())
        self._draw()

    def _words(self, record: dict[str, Any]) -> str:
        """The words last read (a save since then is read with the next keystroke)."""
        return self._searchable.get(record["id"], (None, record["title"].lower()))[1]

    def _row(self, record: dict[str, Any]) -> pn.viewable.Viewable:
        current = record["id"] == self.current
        title = pn.widgets.Button(
            name=record["title"][:60], button_type="primary" if current else "light", sizing_mode="stretch_width", margin=(1, 2),
            description=f"changed {clock(record['updated'], date=True)}",
        )
        rename = pn.widgets.ButtonIcon(icon="pencil", description="Rename", size="1em", margin=(6, 2))
        delete = pn.widgets.ButtonIcon(icon="trash", description="Delete", size="1em", margin=(6, 2))
        row = pn.Column(pn.Row(title, rename, delete, sizing_mode="stretch_width", margin=0), sizing_mode="stretch_width", margin=0)

        async def opened(_event) -> None:
            if not current:
                await self.on_open(record["id"])

        def renaming(_event) -> None:
            field = pn.widgets.TextInput(value=record["title"], sizing_mode="stretch_width", margin=(0, 4))

            async def renamed(event) -> None:
                await self.on_rename(record["id"], event.new)

            field.param.watch(renamed, "value")
            row.append(field)

        async def deleted(_event) -> None:
            await self.on_delete(record["id"])

        title.on_click(opened)
        rename.on_click(renaming)
        delete.on_click(deleted)
        return row

    async def _on_new(self, _event) -> None:
        await self.on_new()
