"""One file that holds everything kept (conversations, their files, the settings), to
move it to another browser or keep it safe; and putting such a file back.

The file is a ZIP: ``backup.json`` (the records) and ``files/<conversation>/<path>``. The
API key is never in it: it is never stored in the first place.

A backup file is untrusted: anyone can craft one. Restoring it brings back conversations
and files, not trust: its settings (where messages go, whether cells wait for the person)
are checked and handed back, never written, so that the person can be asked first."""

from __future__ import annotations

import io
import json
import math
import re
import zipfile
from dataclasses import dataclass
from typing import Any

from ..transcript import Transcript
from ._store import LAST_PART, Store, file_record

FORMAT = "localyst-backup"
VERSION = 1

#: Bounds on what a backup may hold, so that a crafted one cannot swamp the page.
MAX_CONVERSATIONS = 10_000
MAX_TITLE = 200
MAX_RECORD_TEXT = 64_000_000  # a transcript or history, in characters (outputs are inline)
MAX_URL = 2048
MAX_NAME = 256  # a model, a behaviour label or a text value
MAX_BEHAVIOUR = 50
#: Seconds since 1970 a conversation can have been changed at (the year 5138 at most).
MAX_TIME = 1e11
CONVERSATION_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


@dataclass(frozen=True)
class Backup:
    """A backup file, read and checked; nothing in it is trusted yet.

    ``conversations`` are clean records (only the fields the store keeps); ``settings``
    has the shape the app keeps ({connection: {base_url, model}, behaviour: {label: value},
    time_limit}), with whatever did not fit dropped; ``files`` are the archive's members
    that belong to one of the conversations, as (conversation, path, member)."""

    conversations: list[dict[str, Any]]
    settings: dict[str, Any]
    files: list[tuple[str, str, zipfile.ZipInfo]]
    archive: zipfile.ZipFile


def read_backup(data: bytes) -> Backup:
    """Read and check a backup file; ValueError, saying what is wrong, if it is not one
    this page can restore whole."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        manifest = json.loads(archive.read("backup.json"))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise ValueError(f"this is not a Localyst backup ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ValueError("this is not a Localyst backup")
    if manifest.get("version") != VERSION:
        raise ValueError(f"this is a Localyst backup of version {manifest.get('version')!r}; this page reads version {VERSION}")
    conversations = _conversations(manifest.get("conversations"))
    known = {record["id"] for record in conversations}
    files = []
    for member in archive.infolist():
        parts = member.filename.split("/", 2)
        if len(parts) == 3 and parts[0] == "files" and parts[1] in known and not member.is_dir():
            files.append((parts[1], parts[2], member))
    return Backup(conversations, _settings(manifest.get("settings")), files, archive)


def _conversations(given: Any) -> list[dict[str, Any]]:
    if not isinstance(given, list):
        raise ValueError("its list of conversations is missing")
    if len(given) > MAX_CONVERSATIONS:
        raise ValueError(f"it holds {len(given):,} conversations, more than the {MAX_CONVERSATIONS:,} a backup may have")
    records, seen = [], set()
    for number, record in enumerate(given, 1):
        clean = _conversation(record, number)
        if clean["id"] in seen:
            raise ValueError(f"conversation {number} has the same id as an earlier one")
        seen.add(clean["id"])
        records.append(clean)
    return records


def _conversation(record: Any, number: int) -> dict[str, Any]:
    """The fields the store keeps of one conversation, each checked."""
    where = f"conversation {number}"
    if not isinstance(record, dict):
        raise ValueError(f"{where} is not a record")
    if not isinstance(record.get("id"), str) or not CONVERSATION_ID.fullmatch(record["id"]):
        raise ValueError(f"{where} has no usable id")
    for field, limit in (("title", MAX_TITLE), ("transcript", MAX_RECORD_TEXT), ("history", MAX_RECORD_TEXT)):
        if not isinstance(record.get(field), str):
            raise ValueError(f"{where} has no {field} text")
        if len(record[field]) > limit:
            raise ValueError(f"{where}'s {field} is longer than the {limit:,} characters a backup may hold")
    if record["transcript"] and not isinstance(_json(record["transcript"], where, "transcript"), dict):
        raise ValueError(f"{where}'s transcript is not a transcript record")
    if not isinstance(_json(record["history"], where, "history"), list):
        raise ValueError(f"{where}'s history is not a list of messages")
    if not _moment(record.get("updated")):
        raise ValueError(f"{where} has no time it was changed")
    created = record.get("created")
    return {
        "id": record["id"],
        "title": record["title"],
        "created": created if _moment(created) else record["updated"],
        "updated": record["updated"],
        "transcript": record["transcript"],
        "history": record["history"],
    }


def _json(text: str, where: str, field: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        raise ValueError(f"{where}'s {field} is not JSON") from None


def _moment(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and 0 <= value <= MAX_TIME


def _settings(given: Any) -> dict[str, Any]:
    """The settings of the shape the app keeps; anything else in them is dropped."""
    if not isinstance(given, dict):
        return {}
    settings: dict[str, Any] = {}
    connection = given.get("connection")
    if isinstance(connection, dict):
        kept = {
            name: connection[name]
            for name, limit in (("base_url", MAX_URL), ("model", MAX_NAME))
            if isinstance(connection.get(name), str) and len(connection[name]) <= limit
        }
        if kept:
            settings["connection"] = kept
    behaviour = given.get("behaviour")
    if isinstance(behaviour, dict):
        kept = {label: value for label, value in behaviour.items() if len(label) <= MAX_NAME and _plain(value)}
        if kept:
            settings["behaviour"] = dict(list(kept.items())[:MAX_BEHAVIOUR])
    limit = given.get("time_limit")
    if isinstance(limit, int) and not isinstance(limit, bool) and limit > 0:
        settings["time_limit"] = limit
    return settings


def _plain(value: Any) -> bool:
    """A value a setting can have: a flag, a number or a short text."""
    if isinstance(value, float):
        return math.isfinite(value)
    return isinstance(value, (bool, int)) or (isinstance(value, str) and len(value) <= MAX_NAME)


async def backup(store: Store) -> bytes:
    """Everything the store holds, as the bytes of one ZIP file."""
    conversations = [await _inline(store, record) for record in await store.conversations()]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for record in conversations:
            for stored in await store.files(record["id"]):
                data = bytes((await stored.blob.arrayBuffer()).to_py())
                archive.writestr(f"files/{record['id']}/{stored.path}", data)
        manifest = {"format": FORMAT, "version": VERSION, "settings": await store.settings(), "conversations": conversations}
        archive.writestr("backup.json", json.dumps(manifest, ensure_ascii=False))
    return buffer.getvalue()


async def _inline(store: Store, record: dict[str, Any]) -> dict[str, Any]:
    """A record with its whole transcript and history in it, as a backup holds them (the
    format does not depend on how the store splits a conversation)."""
    parts = await store.parts(record)
    transcript = Transcript.joined([part.transcript for part in parts])
    history = [message for part in parts for message in json.loads(part.history)]
    meta = {key: value for key, value in record.items() if key != "parts"}
    return {**meta, "transcript": transcript.to_json() if transcript.entries else "", "history": json.dumps(history, ensure_ascii=False)}


async def restore(store: Store, data: bytes) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Put a backup's conversations and files into the store (a conversation with the same
    id is replaced), all or nothing; the conversations restored and the backup's settings,
    which are not applied or stored here: the person decides. ValueError, before anything
    is written, if the file is not a backup this page can restore whole."""
    found = read_backup(data)
    files = [
        file_record(conversation, path, _blob(found.archive.read(member)), member.file_size)
        for conversation, path, member in found.files
    ]
    # One transaction: all or (a full disk) none. A conversation replaced loses its parts:
    # the restored record holds its whole transcript inline.
    await store.db.write(
        {"conversations": found.conversations, "files": files},
        ranges={"parts": [([record["id"], 0], [record["id"], LAST_PART]) for record in found.conversations]},
    )
    return found.conversations, found.settings


def _blob(data: bytes) -> Any:
    import js
    from pyodide.ffi import to_js

    return js.Blob.new([to_js(data)])
