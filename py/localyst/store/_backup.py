"""One file that holds everything kept (conversations, their files, the settings), to
move it to another browser or keep it safe; and putting such a file back.

The file is a ZIP: ``backup.json`` (the records) and ``files/<conversation>/<path>``. The
API key is never in it: it is never stored in the first place."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

from ._store import Store, file_record, settings_record

FORMAT = "localyst-backup"
VERSION = 1


async def backup(store: Store) -> bytes:
    """Everything the store holds, as the bytes of one ZIP file."""
    conversations = await store.conversations()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for record in conversations:
            for stored in await store.files(record["id"]):
                data = bytes((await stored.blob.arrayBuffer()).to_py())
                archive.writestr(f"files/{record['id']}/{stored.path}", data)
        manifest = {"format": FORMAT, "version": VERSION, "settings": await store.settings(), "conversations": conversations}
        archive.writestr("backup.json", json.dumps(manifest, ensure_ascii=False))
    return buffer.getvalue()


async def restore(store: Store, data: bytes) -> list[dict[str, Any]]:
    """Put a backup's conversations, files and settings into the store (a conversation with
    the same id is replaced); the conversations restored. ValueError if the file is not a
    backup."""
    import js
    from pyodide.ffi import to_js

    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        manifest: dict[str, Any] = json.loads(archive.read("backup.json"))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise ValueError(f"this is not a Localyst backup ({exc})") from None
    if manifest.get("format") != FORMAT or manifest.get("version") != VERSION:
        raise ValueError("this is not a Localyst backup of a version this page reads")
    known = {record["id"] for record in manifest["conversations"]}
    files = []
    for member in archive.infolist():
        parts = member.filename.split("/", 2)
        if len(parts) == 3 and parts[0] == "files" and parts[1] in known and not member.is_dir():
            blob = js.Blob.new([to_js(archive.read(member))])
            files.append(file_record(parts[1], parts[2], blob, member.file_size))
    puts: dict[str, list[Any]] = {"conversations": list(manifest["conversations"]), "files": files}
    if manifest.get("settings"):
        puts["settings"] = [settings_record(manifest["settings"])]
    await store.db.write(puts)  # one transaction: all of it, or (a full disk) none of it
    return list(manifest["conversations"])
