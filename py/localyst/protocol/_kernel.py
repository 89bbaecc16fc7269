"""Messages from the kernel worker to the app, each a typed object, checked on arrival.

``KERNEL_MESSAGES`` is the one list of their names: site/kernel-worker.js and
kernel/_bridge.py send only these (a test reads both against it). An unknown or malformed
message raises ``Malformed``; the receiver drops it and counts it, and never shows it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ._outputs import Invalid, _count, _number, _text, clean_output, clean_result

#: Upper bounds for short fields (characters) and listings (entries).
SHORT = 2_000
PATH = 4_096
LISTING = 100_000


class Malformed(ValueError):
    """A message from the kernel that is not one this page reads; ``id`` is the request it
    claims to answer, when it names one (that request then fails, instead of waiting)."""

    def __init__(self, reason: str, id: int | None = None) -> None:
        super().__init__(reason)
        self.id = id


@dataclass(frozen=True)
class Startup:
    """How a worker's Python started (site/boot.js): ``restored`` from its memory snapshot,
    or ``plain``, with the reason it was not restored."""

    path: str = "plain"
    reason: str = ""


#: The ways a worker's Python can start.
STARTUP_PATHS = ("restored", "plain")


@dataclass(frozen=True)
class Ready:
    """Python is up; ``status`` is what it is still loading ("" when nothing)."""

    status: str = ""
    startup: Startup = field(default_factory=Startup)


@dataclass(frozen=True)
class Status:
    text: str


@dataclass(frozen=True)
class Failed:
    """Start-up failed (the kernel's own words, shown as text)."""

    message: str


@dataclass(frozen=True)
class Started:
    id: int


@dataclass(frozen=True)
class Output:
    id: int
    output: dict[str, Any]


@dataclass(frozen=True)
class Result:
    id: int
    result: dict[str, Any]


@dataclass(frozen=True)
class Error:
    """A request the kernel could not handle at all."""

    id: int | None
    message: str


@dataclass(frozen=True)
class FileReply:
    """The answer to a file request: ``type`` says which (see ``FILE_REPLIES``), ``problem``
    is set for "file-error"; ``bytes`` (a JS Uint8Array, left in JavaScript) for "file"."""

    type: str
    id: int
    path: str = ""
    size: int = 0
    to: str = ""
    problem: str = ""
    files: list[Any] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)
    bytes: Any = None


FILE_REPLIES = ("file", "file-put", "file-error", "file-deleted", "file-renamed", "files", "inspected", "extracted", "scanned")
KERNEL_MESSAGES = ("ready", "status", "failed", "started", "output", "result", "error", *FILE_REPLIES)

KernelMessage = Ready | Status | Failed | Started | Output | Result | Error | FileReply


def _id(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**53:
        raise Invalid("its id is not one this page gave")
    return value


def _listing(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list) or len(value) > LISTING:
        raise Invalid("the listing is not a list")
    listing = []
    for item in value:
        if not isinstance(item, dict):
            raise Invalid("a listed file is not an object")
        listing.append(
            {"path": _text(item.get("path"), "a path", PATH), "size": _count(item.get("size"), "a size"), "mtime": _number(item.get("mtime"), "a time")}
        )
    return listing


def _scanned(value: Any) -> list[dict[str, Any]]:
    """The scan's entries: each goes into the model's instructions, so each field is checked."""
    if not isinstance(value, list) or len(value) > LISTING:
        raise Invalid("the scan is not a list")
    entries = []
    for item in value:
        if not isinstance(item, dict):
            raise Invalid("a scanned file is not an object")
        entry = {"path": _text(item.get("path"), "a path", PATH), "size": _count(item.get("size"), "a size"), "mime": _text(item.get("mime"), "a type", 200)}
        if item.get("rows") is not None:
            entry["rows"] = _count(item["rows"], "a row count")
        columns = item.get("columns", [])
        if not isinstance(columns, list) or not all(isinstance(c, list) and len(c) == 2 and all(isinstance(p, str) for p in c) for c in columns):
            raise Invalid("a scanned file's columns are not (name, type) pairs")
        entry["columns"] = [[_text(n, "a column", SHORT), _text(t, "a type", SHORT)] for n, t in columns]
        entry["column_count"] = _count(item.get("column_count", 0), "a column count")
        if item.get("head") is not None:
            entry["head"] = _text(item["head"], "a preview", 100_000)
        entries.append(entry)
    return entries


def _paths(value: Any) -> list[str]:
    if not isinstance(value, list) or len(value) > LISTING:
        raise Invalid("the paths are not a list")
    return [_text(p, "a path", PATH) for p in value]


def _file_reply(kind: str, raw: dict[str, Any], payload: Any) -> FileReply:
    reply: dict[str, Any] = {"type": kind, "id": _id(raw.get("id")), "path": _text(raw.get("path", ""), "the path", PATH)}
    if kind == "file":
        if payload is None:
            raise Invalid("the file has no bytes")
        reply["bytes"] = payload
    elif kind == "file-put":
        reply["size"] = _count(raw.get("size"), "the size")
    elif kind == "file-error":
        reply["problem"] = _text(raw.get("message"), "the message", SHORT)
    elif kind == "file-renamed":
        reply["to"] = _text(raw.get("to"), "the new name", PATH)
    elif kind == "files":
        reply["files"] = _listing(raw.get("files"))
    elif kind == "extracted":
        reply["files"] = _paths(raw.get("files"))
    elif kind == "scanned":
        reply["files"] = _scanned(raw.get("files"))
    elif kind == "inspected":
        info = raw.get("info")
        if not isinstance(info, dict):
            raise Invalid("the file's preview is not an object")
        reply["info"] = info  # drawn by ui/_files.preview, which escapes and checks each field
    return FileReply(**reply)


def parse_startup(raw: Any) -> Startup:
    """A worker's account of its start (absent: a plain start with no reason given)."""
    if raw is None:
        return Startup()
    if not isinstance(raw, dict):
        raise Invalid("the start-up is not an object")
    path = raw.get("path")
    if path not in STARTUP_PATHS:
        raise Invalid(f"the start-up path is not one of {', '.join(STARTUP_PATHS)}")
    return Startup(path, _text(raw.get("reason") or "", "the start-up reason", SHORT))


def parse_kernel_message(raw: Any, payload: Any = None) -> KernelMessage:
    """The typed message for ``raw`` (the message's fields as plain Python, without its
    binary ``bytes``, which is passed apart as ``payload``)."""
    if not isinstance(raw, dict):
        raise Malformed("the message is not an object")
    kind = raw.get("type")
    try:
        if kind == "ready":
            return Ready(_text(raw.get("status", ""), "the status", SHORT), parse_startup(raw.get("startup")))
        if kind == "status":
            return Status(_text(raw.get("text"), "the status", SHORT))
        if kind == "failed":
            return Failed(_text(raw.get("message"), "the message", SHORT))
        if kind == "started":
            return Started(_id(raw.get("id")))
        if kind == "output":
            return Output(_id(raw.get("id")), clean_output(raw.get("output")))
        if kind == "result":
            return Result(_id(raw.get("id")), clean_result(raw.get("result")))
        if kind == "error":
            given = raw.get("id")
            return Error(None if given is None else _id(given), _text(raw.get("message"), "the message", SHORT))
        if kind in FILE_REPLIES:
            return _file_reply(kind, raw, payload)
    except Invalid as exc:
        given = raw.get("id")
        claimed = given if isinstance(given, int) and not isinstance(given, bool) else None
        raise Malformed(f"a {kind!r} message: {exc}", claimed) from None
    raise Malformed(f"{str(kind)[:40]!r} is not a message the kernel sends")
