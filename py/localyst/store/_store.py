"""What Localyst keeps in the browser: conversations, their files, and the settings.

A conversation is stored as one small record (title, times, how many parts) and its parts:
part n holds, as JSON text, the transcript of what the conversation gained from its n-th
question on, and the messages the model is sent that it gained then. A turn changes only the last part, so a
save writes that and the record, not the whole conversation again. (Records of an earlier
version hold the whole transcript and history inline; they are read as one part.) Each
file is a Blob under (conversation id, path)."""

from __future__ import annotations

import json
import math
import time
import uuid
from dataclasses import dataclass
from typing import Any

from ._idb import Database

#: The highest string key a path can have: the end of one conversation's range of files.
LAST = "\uffff"
#: Higher than any part's index: the end of one conversation's range of parts (a float:
#: a Python int this big would become a BigInt, which is no IndexedDB key).
LAST_PART = math.inf


@dataclass(frozen=True)
class Part:
    """One stored part of a conversation: a transcript record ("" when empty) and a JSON list of messages."""

    transcript: str
    history: str


def file_record(conversation: str, path: str, blob: Any, size: int) -> dict[str, Any]:
    return {"conversation": conversation, "path": path, "blob": blob, "size": size, "mtime": time.time()}


KEY_RECORD = "api-key"


def settings_record(settings: dict[str, Any]) -> dict[str, Any]:
    return {"key": "settings", "value": json.dumps(settings)}


def new_conversation(title: str = "New conversation") -> dict[str, Any]:
    now = time.time()
    return {"id": uuid.uuid4().hex, "title": title, "created": now, "updated": now, "parts": 0}


class Store:
    """The app's storage, over one IndexedDB database."""

    def __init__(self, db: Database) -> None:
        self.db = db

    @classmethod
    async def open(cls, name: str = "localyst") -> Store:
        return cls(await Database.open(name))

    # ------------------------------------------------------------ conversations

    async def conversations(self) -> list[dict[str, Any]]:
        """Every conversation, the most recently changed first."""
        found = [record.to_py() for record in await self.db.get_all("conversations")]
        return sorted(found, key=lambda record: record["updated"], reverse=True)

    async def save_conversation(self, record: dict[str, Any], parts: dict[int, Part] | None = None) -> None:
        """Store the record and the parts given (by index); parts past ``record["parts"]``
        are deleted. A record without "parts" is one of an earlier version, kept inline."""
        count = record.get("parts")
        meta = {key: value for key, value in record.items() if count is None or key not in ("transcript", "history")}
        stored = [
            {"conversation": record["id"], "index": index, "transcript": part.transcript, "history": part.history}
            for index, part in sorted((parts or {}).items())
        ]
        await self.db.write(
            {"conversations": [{**meta, "updated": time.time()}], "parts": stored},
            ranges={"parts": [([record["id"], count or 0], [record["id"], LAST_PART])]},
        )

    async def parts(self, record: dict[str, Any]) -> list[Part]:
        """What a conversation holds, part by part (one part for a record kept inline)."""
        if record.get("parts") is None:
            return [Part(record.get("transcript") or "", record.get("history") or "[]")]
        found = await self.db.get_all("parts", [record["id"], 0], [record["id"], LAST_PART])
        return [Part(str(part.transcript), str(part.history)) for part in found]

    async def delete_conversation(self, conversation: str) -> None:
        files = await self.db.get_all("files", [conversation, ""], [conversation, LAST])
        keys = [[conversation, str(f.path)] for f in files]
        await self.db.write(
            deletes={"conversations": [conversation], "files": keys},
            ranges={"parts": [([conversation, 0], [conversation, LAST_PART])]},
        )

    # ------------------------------------------------------------ files

    async def files(self, conversation: str) -> list[Any]:
        """The stored files of a conversation: JS objects with path, size, mtime and blob."""
        return await self.db.get_all("files", [conversation, ""], [conversation, LAST])

    async def save_file(self, conversation: str, path: str, blob: Any, size: int) -> None:
        await self.db.write({"files": [file_record(conversation, path, blob, size)]})

    async def delete_files(self, conversation: str, paths: list[str]) -> None:
        if paths:
            await self.db.write(deletes={"files": [[conversation, path] for path in paths]})

    # ------------------------------------------------------------ settings

    async def settings(self) -> dict[str, Any]:
        record = await self.db.get("settings", "settings")
        return json.loads(record.value) if record is not None else {}

    async def save_settings(self, settings: dict[str, Any]) -> None:
        await self.db.write({"settings": [settings_record(settings)]})

    # A key the person chose to keep: its own record, so backups (which take the "settings"
    # record) never carry it.

    async def kept_key(self) -> dict[str, str] | None:
        record = await self.db.get("settings", KEY_RECORD)
        return json.loads(record.value) if record is not None else None

    async def keep_key(self, kept: dict[str, str] | None) -> None:
        """Keep ``{"key", "origin"}``, or forget the kept key (None)."""
        if kept is None:
            await self.db.write(deletes={"settings": [KEY_RECORD]})
        else:
            await self.db.write({"settings": [{"key": KEY_RECORD, "value": json.dumps(kept)}]})
