"""Keeping the person's work as it happens, and bringing it back.

The person's message is stored before it goes to the model; the answer is stored as it
streams (at most a second behind) and when the turn ends; files as they come and as code
writes them; the settings when they change. On the next visit the latest conversation
comes back, an answer the page lost mid-way is marked, and its files are mounted again.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..store import Store, StoreError, backup, new_conversation, restore, try_hold
from ..session import Conversation
from ..transcript import mark_interrupted, readable_text
from ._conversations import ConversationList
from ._files import human_size
from ._page import save
from ._restore import SettingsQuestion, proposed
from ._tasks import background

if TYPE_CHECKING:
    from .app import LocalystApp

#: Seconds between two saves of a turn that is still streaming.
SAVE_INTERVAL = 1.0
#: Seconds a reloaded page waits for its own conversation, which the page before it may
#: still hold for a moment.
RELOAD_WAIT = 3.0
TITLE_CHARS = 60


class Keeper:
    """The app's memory: the current conversation's record, and every other one."""

    def __init__(self, app: LocalystApp) -> None:
        self.app = app
        self.store: Store | None = None
        self.record: dict[str, Any] = new_conversation()
        self.records: list[dict[str, Any]] = []
        self._timer: asyncio.TimerHandle | None = None
        self._release: Callable[[], None] = lambda: None  # this tab's hold on its conversation
        self._stored = False  # whether self.record is in the store as it is
        self._sealed = 0  # the parts before this one are stored as they are (only the last part changes)
        self._last: Any = None  # the last part as it was stored
        self.list = ConversationList(self.open, self.new, self.rename, self.delete, self.backup, self.words)

    async def open_store(self) -> dict[str, Any]:
        """Open the store; the stored settings ({} when nothing can be kept)."""
        try:
            self.store = await Store.open()
            settings = await self.store.settings()
            self.records = await self.store.conversations()
        except StoreError as exc:
            self.store = None
            self.list.say(f"Nothing can be kept in this browser ({exc}): your work lasts as long as this tab.", problem=True)
            return {}
        return settings

    async def bring_back(self) -> None:
        """Open the latest conversation no other tab has open (waiting a moment for a page
        being reloaded to let go of it), or start a new one."""
        if self.store is None:
            return
        for number, record in enumerate(self.records):
            if await self.open(record["id"], restart=False, leave=False, wait=RELOAD_WAIT if number == 0 else 0.0):
                break
        else:
            await self._hold(self.record["id"])
            await self.save()
        await self.show_space()

    # ------------------------------------------------------------ saving

    def _title(self) -> str:
        title = self.record["title"]
        if title == "New conversation":
            first = next((e["text"] for e in self.app.session.transcript.entries if e["kind"] == "user"), "")
            title = " ".join(first.split())[:TITLE_CHARS] or title
        return title

    async def save(self) -> None:
        """Store what changed of the current conversation now: its record and the parts
        from the first one not stored since it was last changed (all of that, or, on a
        full disk, none of it)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        session = self.app.session
        count = len(session.starts)
        parts = session.parts(self._sealed)
        record = {key: value for key, value in self.record.items() if key not in ("transcript", "history")}
        record.update(title=self._title(), parts=count)
        unchanged = self._stored and record == self.record and self._sealed == count - 1 and parts[-1] == self._last
        self.record = record
        if self.store is None or unchanged:
            return
        try:
            await self.store.save_conversation(record, dict(enumerate(parts, self._sealed)))
        except StoreError as exc:
            self._failed(exc, "the conversation's latest changes")
            return
        self._sealed, self._last, self._stored = count - 1, parts[-1], True
        self._remember(self.record)

    def save_soon(self) -> None:
        """Save within SAVE_INTERVAL (many events arrive per second while an answer streams)."""
        if self._timer is None and self.store is not None:
            self._timer = asyncio.get_event_loop().call_later(SAVE_INTERVAL, lambda: background(self.save()))

    async def keep_key(self, kept: dict[str, str] | None) -> None:
        """Keep the API key on this device (the person's explicit choice), or forget it."""
        if self.store is not None:
            try:
                await self.store.keep_key(kept)
            except StoreError as exc:
                self._failed(exc, "the key")

    async def kept_key(self) -> dict[str, str] | None:
        if self.store is None:
            return None
        try:
            return await self.store.kept_key()
        except StoreError:
            return None

    async def save_settings(self, settings: dict[str, Any]) -> None:
        if self.store is not None:
            try:
                await self.store.save_settings(settings)
            except StoreError as exc:
                self._failed(exc, "the settings")

    async def keep_file(self, path: str, blob: Any, size: int) -> None:
        """Store a file the person added, as the browser gave it (no copy through Python)."""
        if self.store is not None:
            try:
                await self.store.save_file(self.record["id"], path, blob, size)
            except StoreError as exc:
                self._failed(exc, path)

    async def sync_files(self) -> None:
        """Make the stored files match the kernel's: store what code wrote, forget what is gone.

        What is stored, the kernel is told to keep: a restart mounts it again, so a file
        code wrote survives the kernel (and the next sync does not take it for deleted)."""
        if self.store is None:
            return
        import js

        kernel = self.app.kernel
        conversation = self.record["id"]
        try:
            listing = {info["path"]: info["size"] for info in await kernel.list_files()}
            stored = {str(f.path): int(f.size) for f in await self.store.files(conversation)}
            for path, size in listing.items():
                if stored.get(path) != size:
                    blob = js.Blob.new([await kernel.get_file_js(path)])
                    try:
                        await self.store.save_file(conversation, path, blob, size)
                    except StoreError as exc:
                        self._failed(exc, path)
                        return
                    kernel.keep(path, blob)
            gone = [p for p in stored if p not in listing]
            await self.store.delete_files(conversation, gone)
            for path in gone:
                kernel.keep(path, None)
        except FileNotFoundError:  # the kernel was replaced meanwhile; the next sync catches up
            return
        except StoreError as exc:
            self._failed(exc, "the list of files")
            return
        await self.show_space()

    def _failed(self, exc: StoreError, what: str) -> None:
        if exc.name == "QuotaExceededError":
            text = f"The browser's storage is full: {what} could not be kept. Delete old conversations or files to make room."
        else:
            text = f"{what} could not be kept: {exc}"
        self.list.say(text, problem=True)

    async def show_space(self) -> None:
        import js

        try:
            estimate = await js.navigator.storage.estimate()
        except Exception:  # no StorageManager here: say nothing rather than guess
            return
        self.list.say(f"Storage: {human_size(int(estimate.usage))} used of {human_size(int(estimate.quota))} available.")

    async def words(self, record: dict[str, Any]) -> str:
        """What a search of the conversations reads of one (read from the store when searched)."""
        if self.store is None:
            return ""
        try:
            return readable_text([part.transcript for part in await self.store.parts(record)])
        except StoreError:
            return ""

    def _remember(self, record: dict[str, Any]) -> None:
        self.records = [record] + [r for r in self.records if r["id"] != record["id"]]
        self.list.show(self.records, self.record["id"])

    # ------------------------------------------------------------ backup

    async def backup(self) -> None:
        """Save everything kept as one file the person can take to another browser."""
        if self.store is None:
            return
        await self.save()
        try:
            data = await backup(self.store)
        except StoreError as exc:
            self.list.say(f"The backup could not be made: {exc}", problem=True)
            return
        save(f"localyst-backup-{time.strftime('%Y-%m-%d')}.zip", data, "application/zip")

    async def restore(self, file: Any) -> None:
        """Put a backup file's conversations and files back, then show the latest of them.

        Its settings are not applied: a crafted backup would move the endpoint the next
        question goes to. The person is shown what they would change, and decides."""
        if self.store is None or not await self._leave():
            return
        try:
            restored, settings = await restore(self.store, bytes((await file.arrayBuffer()).to_py()))
            self.records = await self.store.conversations()
        except (ValueError, StoreError) as exc:
            self.list.say(f"{file.name} was not restored (nothing in it was kept): {exc}", problem=True)
            return
        if restored:
            await self.open(max(restored, key=lambda record: record["updated"])["id"], leave=False)
        changed, changes = proposed(self.app, settings)
        count = len(restored)
        told = f"Restored {count} conversation{'s' if count != 1 else ''} from {file.name}. Its settings were not applied"
        if changes:
            self.list.say(f"{told}: see below what they would change.")
            self.list.ask(SettingsQuestion(file.name, changes, lambda: self._use_settings(changed), self._keep_settings).panel)
        else:
            self.list.say(f"{told}; none differs from yours.")
            self.list.ask(None)

    def _use_settings(self, changed: dict[str, Any]) -> None:
        """Apply what the person confirmed, and keep it as if they had set it by hand
        (apply_settings does not save: it is also how kept settings come back)."""
        self.app.apply_settings(changed)
        self.app._on_setting(None)
        self.list.ask(None)
        self.list.say("The backup's settings are in use.")

    def _keep_settings(self) -> None:
        self.list.ask(None)
        self.list.say("Your settings were kept.")

    # ------------------------------------------------------------ switching

    async def open(self, conversation: str, restart: bool = True, leave: bool = True, wait: float = 0.0) -> bool:
        """Show a stored conversation, with its files mounted in a fresh kernel; ``leave``
        saves the one shown now first (not when it is gone or was never shown). False when
        it is open in another tab (or this one cannot be left now)."""
        if self.app.answering:
            self.list.say("Stop the answer first: a conversation cannot be switched while it runs.", problem=True)
            return False
        record = next(r for r in self.records if r["id"] == conversation)
        try:
            parts = await self.store.parts(record) if self.store is not None else []
            session = Conversation.from_parts(self.app.kernel, parts)
        except (ValueError, StoreError) as exc:
            self.list.say(f"That conversation could not be read: {exc}", problem=True)
            return False
        if not await self._hold(conversation, wait):
            self.list.say("That conversation is open in another tab: switch to that tab to go on with it.", problem=True)
            return False
        if leave:
            await self.save()
        # A record of the earlier, inline kind is written in parts with its next save.
        self._stored, self._sealed, self._last = True, len(parts) - 1 if record.get("parts") is not None else 0, None
        interrupted = mark_interrupted(session.transcript)
        self.record = record
        await self._mount(session, restart)
        if interrupted:
            await self.save()
        self.list.show(self.records, self.record["id"])
        return True

    async def _hold(self, conversation: str, wait: float = 0.0) -> bool:
        """Take this tab's hold on a conversation (letting go of the one before)."""
        release = await try_hold(f"localyst-conversation-{conversation}", wait)
        if release is None:
            return False
        self._release()
        self._release = release
        return True

    async def new(self) -> None:
        if not await self._leave():
            return
        await self._start_new()

    async def _start_new(self) -> None:
        self.record = new_conversation()
        self._stored, self._sealed, self._last = False, 0, None
        await self._hold(self.record["id"])
        await self._mount(Conversation(self.app.kernel), restart=True)
        await self.save()

    async def rename(self, conversation: str, title: str) -> None:
        title = " ".join(title.split())[:TITLE_CHARS]
        if not title:
            return
        if conversation == self.record["id"]:
            self.record["title"] = title
            self._stored = False
            await self.save()
            return
        record = next(r for r in self.records if r["id"] == conversation)
        record["title"] = title
        if self.store is not None:
            await self.store.save_conversation(record)
        self.list.show(self.records, self.record["id"])

    async def delete(self, conversation: str) -> None:
        if conversation == self.record["id"] and self.app.answering:
            self.list.say("Stop the answer first: a conversation cannot be deleted while it runs.", problem=True)
            return
        elsewhere = None
        if conversation != self.record["id"]:
            elsewhere = await try_hold(f"localyst-conversation-{conversation}")
            if elsewhere is None:
                self.list.say("That conversation is open in another tab: it was not deleted.", problem=True)
                return
        if self.store is not None:
            await self.store.delete_conversation(conversation)
        if elsewhere is not None:
            elsewhere()
        self.records = [r for r in self.records if r["id"] != conversation]
        if conversation == self.record["id"]:
            await self._start_new()
        self.list.show(self.records, self.record["id"])
        await self.show_space()

    async def _leave(self) -> bool:
        """Save the current conversation before another is shown; not while it is answering."""
        if self.app.answering:
            self.list.say("Stop the answer first: a conversation cannot be switched while it runs.", problem=True)
            return False
        await self.save()
        return True

    async def _mount(self, session: Conversation, restart: bool) -> None:
        """Draw the conversation and give the kernel its files (a fresh kernel when switching)."""
        app = self.app
        app.show_conversation(session)
        if restart:
            app.kernel.files.clear()
            await app.kernel.restart("Another conversation was opened.")
        if self.store is not None:
            for stored in await self.store.files(self.record["id"]):
                await app.kernel.put_file(str(stored.path), stored.blob)
        app.files_changed()
        await app.files.refresh()
