"""Keeping the person's work as it happens, and bringing it back: what the person sees
of it (session.Keeping does the keeping).

The person's message is stored before it goes to the model; the answer is stored as it
streams (at most a second behind) and when the turn ends; files as they come and as code
writes them; the settings when they change. On the next visit the latest conversation
comes back, an answer the page lost mid-way is marked, and its files are mounted again.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

from ..kernel.core._intake import BIG_FILE_BYTES
from ..render import size_text
from ..session import Conversation, Keeping
from ..store import Store, StoreError, backup, restore
from ..transcript import mark_interrupted
from ._conversations import ConversationList
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


class Keeper:
    """The app's memory as the person sees it: the list of conversations and what it says;
    the keeping itself (records, parts, holds) is session.Keeping."""

    def __init__(self, app: LocalystApp) -> None:
        self.app = app
        self.keeping = Keeping()
        self._timer: asyncio.TimerHandle | None = None
        self.list = ConversationList(self.open, self.new, self.rename, self.delete, self.backup, self.keeping.words)

    @property
    def store(self) -> Store | None:
        return self.keeping.store

    async def open_store(self) -> dict[str, Any]:
        """Open the store; the stored settings ({} when nothing can be kept)."""
        try:
            return await self.keeping.open_store()
        except StoreError as exc:
            self.list.say(f"Nothing can be kept in this browser ({exc}): your work lasts as long as this tab.", problem=True)
            return {}

    async def bring_back(self) -> None:
        """Open the latest conversation no other tab has open (waiting a moment for a page
        being reloaded to let go of it), or start a new one."""
        if self.store is None:
            return
        for number, record in enumerate(self.keeping.records):
            if await self.open(record["id"], restart=False, leave=False, wait=RELOAD_WAIT if number == 0 else 0.0):
                break
        else:
            await self.keeping.hold(self.keeping.record["id"])
            await self.save()
        await self.show_space()

    # ------------------------------------------------------------ saving

    async def save(self) -> None:
        """Store what changed of the current conversation now."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        try:
            written = await self.keeping.save(self.app.session)
        except StoreError as exc:
            self._failed(exc, "the conversation's latest changes")
            return
        if written:
            self._show_list()

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
                await self.store.save_file(self.keeping.record["id"], path, blob, size)
            except StoreError as exc:
                self._failed(exc, path)

    async def sync_files(self) -> None:
        """Make the stored files match the kernel's: store what code wrote, forget what is gone.

        What is stored, the kernel is told to keep: a restart mounts it again, so a file
        code wrote survives the kernel (and the next sync does not take it for deleted).
        A big file (BIG_FILE_BYTES) is not stored: it would be copied through the heaps."""
        if self.store is None:
            return
        import js

        kernel = self.app.kernel
        conversation = self.keeping.record["id"]
        try:
            listing = {info["path"]: info["size"] for info in await kernel.list_files()}
            stored = {str(f.path): int(f.size) for f in await self.store.files(conversation)}
            for path, size in listing.items():
                if stored.get(path) != size and size <= BIG_FILE_BYTES:
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
        self.list.say(f"Storage: {size_text(int(estimate.usage))} used of {size_text(int(estimate.quota))} available.")

    def _show_list(self) -> None:
        self.list.show(self.keeping.records, self.keeping.record["id"])

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
            self.keeping.records = await self.store.conversations()
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
        try:
            session = await self.keeping.read(conversation, self.app.kernel)
        except (ValueError, StoreError) as exc:
            self.list.say(f"That conversation could not be read: {exc}", problem=True)
            return False
        if not await self.keeping.hold(conversation, wait):
            self.list.say("That conversation is open in another tab: switch to that tab to go on with it.", problem=True)
            return False
        if leave:
            await self.save()
        self.keeping.show(conversation, session)
        interrupted = mark_interrupted(session.transcript)
        await self._mount(session, restart)
        if interrupted:
            await self.save()
        self._show_list()
        return True

    async def new(self) -> None:
        if not await self._leave():
            return
        await self._start_new()

    async def _start_new(self) -> None:
        self.keeping.start_new()
        await self.keeping.hold(self.keeping.record["id"])
        await self._mount(Conversation(self.app.kernel), restart=True)
        await self.save()

    async def rename(self, conversation: str, title: str) -> None:
        try:
            await self.keeping.rename(conversation, title)
        except StoreError as exc:
            self._failed(exc, "the new title")
            return
        if conversation == self.keeping.record["id"]:
            await self.save()
        self._show_list()

    async def delete(self, conversation: str) -> None:
        if conversation == self.keeping.record["id"] and self.app.answering:
            self.list.say("Stop the answer first: a conversation cannot be deleted while it runs.", problem=True)
            return
        try:
            deleted = await self.keeping.delete(conversation)
        except StoreError as exc:
            self._failed(exc, "the deletion")
            return
        if not deleted:
            self.list.say("That conversation is open in another tab: it was not deleted.", problem=True)
            return
        if conversation == self.keeping.record["id"]:
            await self._start_new()
        self._show_list()
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
        app.files.say("")  # what went wrong with a file of the conversation left
        if restart:
            app.kernel.files.clear()
            await app.kernel.restart("Another conversation was opened.")
        if self.store is not None:
            for stored in await self.store.files(self.keeping.record["id"]):
                await app.kernel.put_file(str(stored.path), stored.blob)
        app.files_changed()
        await app.files.refresh()
