"""Keeping conversations in this browser as they happen, without any view.

The conversation shown is saved in parts (store/): a save writes its record and the parts
changed since the last one, which is the last part and, once, the part a new question
sealed. This tab holds a lock on the conversation it shows, so that two tabs never write
the same one. What goes wrong is raised (StoreError, ValueError) for the UI to word.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..store import Part, Store, StoreError, new_conversation, try_hold
from ..transcript import readable_text
from ._conversation import Conversation, SessionKernel

TITLE_CHARS = 60
UNTITLED = "New conversation"


class Keeping:
    """The store, the record of the conversation shown, and every other record."""

    def __init__(self) -> None:
        self.store: Store | None = None
        self.record: dict[str, Any] = new_conversation(UNTITLED)
        self.records: list[dict[str, Any]] = []  # the most recently changed first
        self._stored = False  # whether self.record is in the store as it is
        self._sealed = 0  # the parts before this index are stored as they are
        self._last: Part | None = None  # the last part as it was stored
        self._release: Callable[[], None] = lambda: None  # this tab's hold on its conversation

    async def open_store(self) -> dict[str, Any]:
        """Open the store and read the records; the stored settings. On StoreError nothing
        can be kept, and every later call keeps nothing."""
        try:
            self.store = await Store.open()
            settings = await self.store.settings()
            self.records = await self.store.conversations()
        except StoreError:
            self.store = None
            raise
        return settings

    # ------------------------------------------------------------ the conversation shown

    def title(self, session: Conversation) -> str:
        """Its title: the one given, else the start of its first question."""
        title = self.record["title"]
        if title == UNTITLED:
            first = next((e["text"] for e in session.transcript.entries if e["kind"] == "user"), "")
            title = " ".join(first.split())[:TITLE_CHARS] or title
        return title

    async def save(self, session: Conversation) -> bool:
        """Store what changed of the conversation shown (all of it, or, on a full disk, none
        of it); whether anything was written."""
        count = len(session.starts)
        parts = session.parts(self._sealed)
        record = {key: value for key, value in self.record.items() if key not in ("transcript", "history")}
        record.update(title=self.title(session), parts=count)
        unchanged = self._stored and record == self.record and self._sealed == count - 1 and parts[-1] == self._last
        self.record = record
        if self.store is None or unchanged:
            return False
        await self.store.save_conversation(record, dict(enumerate(parts, self._sealed)))
        self._sealed, self._last, self._stored = count - 1, parts[-1], True
        self.remember(record)
        return True

    def remember(self, record: dict[str, Any]) -> None:
        self.records = [record] + [r for r in self.records if r["id"] != record["id"]]

    def find(self, conversation: str) -> dict[str, Any]:
        return next(r for r in self.records if r["id"] == conversation)

    async def read(self, conversation: str, kernel: SessionKernel) -> Conversation:
        """A stored conversation (ValueError or StoreError when it cannot be read)."""
        parts = await self.store.parts(self.find(conversation)) if self.store is not None else []
        return Conversation.from_parts(kernel, parts)

    def show(self, conversation: str, session: Conversation) -> None:
        """The conversation read is now the one shown (its hold taken). A record of the
        earlier, inline kind is written whole, in parts, with its next save."""
        self.record = self.find(conversation)
        inline = self.record.get("parts") is None
        self._stored, self._sealed, self._last = True, 0 if inline else len(session.starts) - 1, None

    def start_new(self) -> None:
        """A new conversation is shown (stored with its first save)."""
        self.record = new_conversation(UNTITLED)
        self._stored, self._sealed, self._last = False, 0, None

    async def hold(self, conversation: str, wait: float = 0.0) -> bool:
        """Take this tab's hold on a conversation, letting go of the one before; False when
        another tab holds it (after ``wait`` seconds)."""
        release = await try_hold(_lock(conversation), wait)
        if release is None:
            return False
        self._release()
        self._release = release
        return True

    # ------------------------------------------------------------ the others

    async def rename(self, conversation: str, title: str) -> None:
        """Give a conversation a title (blank or spaces: nothing changes)."""
        title = " ".join(title.split())[:TITLE_CHARS]
        if not title:
            return
        if conversation == self.record["id"]:
            self.record = {**self.record, "title": title}
            self._stored = False
            return
        record = self.find(conversation)
        record["title"] = title
        if self.store is not None:
            await self.store.save_conversation(record)

    async def delete(self, conversation: str) -> bool:
        """Forget a conversation and its files; False when another tab holds it."""
        elsewhere = None
        if conversation != self.record["id"]:
            elsewhere = await try_hold(_lock(conversation))
            if elsewhere is None:
                return False
        try:
            if self.store is not None:
                await self.store.delete_conversation(conversation)
        finally:
            if elsewhere is not None:
                elsewhere()
        self.records = [r for r in self.records if r["id"] != conversation]
        return True

    async def words(self, record: dict[str, Any]) -> str:
        """What a search of the conversations reads of one: its words, not its data."""
        if self.store is None:
            return ""
        try:
            return readable_text([part.transcript for part in await self.store.parts(record)])
        except StoreError:
            return ""


def _lock(conversation: str) -> str:
    return f"localyst-conversation-{conversation}"
