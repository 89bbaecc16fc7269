"""The record of one conversation: what the person asked, what the assistant said, the code
it ran with everything that code produced, and the notices.

Entries are plain dicts in the order things happened, so the record is JSON as it stands:
it can be stored and read back, and the exports read it without the agent or the kernel.

  {"kind": "user", "text", "usage": {"prompt", "completion", "total", "estimated"}, "ended"}
      A message of the person; it opens a turn, which adds up its tokens in "usage" and
      says in "ended" how it ended (an EndReason, None while it runs).
  {"kind": "assistant", "text"}
      The assistant's reply text, Markdown.
  {"kind": "code", "id", "source", "code", "state", "outputs", "error", "duration",
   "execution_count", "files"}
      A cell: "source" is "tool", "fenced" (its code is also in the reply text before it)
      or "edited" (the person edited and ran it); "state" is "written" (never ran),
      "running" (ran, no result came back) or "finished"; the rest is the kernel's
      CellResult dict, with "outputs" a list of Output dicts.
  {"kind": "notice", "text", "reason"}
      Something the person was told; "reason" is the EndReason when it ended a turn.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

from ..agent import AssistantText, CodeDelta, CodeFinished, CodeStarted, Event, KernelOutput, Notice, TurnEnded, UsageReport
from ..protocol import clean_result

VERSION = 1

Entry = dict[str, Any]
Outcome = Literal["ok", "failed", "stopped", "not run"]

# Errors that mean the cell did not run to its end rather than that its code is wrong.
STOPPED_ERRORS = ("KeyboardInterrupt", "KernelRestarted")


@dataclass
class Transcript:
    """One conversation, fed by the person's messages, the agent's events and edited runs."""

    entries: list[Entry] = field(default_factory=list)

    def add_user(self, text: str) -> None:
        self.entries.append(
            {"kind": "user", "text": text, "usage": {"prompt": 0, "completion": 0, "total": 0, "estimated": False}, "ended": None}
        )

    def apply(self, event: Event) -> None:
        """Record one event of the agent loop (RequestSent changes nothing here)."""
        if isinstance(event, AssistantText):
            self._add_text(event.delta)
        elif isinstance(event, CodeDelta):
            entry = self._code(event.cell_id)
            if entry["state"] == "written":
                entry["code"] = event.code
        elif isinstance(event, CodeStarted):
            entry = self._code(event.cell_id)
            entry.update(code=event.code, source=event.source, state="running")
        elif isinstance(event, KernelOutput):
            _append_output(self._code(event.cell_id)["outputs"], event.output)
        elif isinstance(event, CodeFinished):
            _finish(self._code(event.cell_id), event.result)
        elif isinstance(event, Notice):
            self._add_notice(event.text, None)
        elif isinstance(event, UsageReport):
            self._count(event)
        elif isinstance(event, TurnEnded):
            self._end(event)

    def add_edited_run(self, code: str, result: dict[str, Any]) -> None:
        """Code the person edited and ran; ``result`` is the kernel's CellResult dict."""
        number = sum(1 for e in self.entries if e["kind"] == "code" and e["source"] == "edited") + 1
        entry = _code_entry(f"edited-{number}", "edited", code)
        _finish(entry, result)
        self.entries.append(entry)

    def to_json(self) -> str:
        return json.dumps({"version": VERSION, "entries": self.entries}, ensure_ascii=False, allow_nan=False)

    @classmethod
    def joined(cls, stored: list[str]) -> Transcript:
        """One transcript from the records of its parts, in order ("" for an empty one)."""
        return cls(entries=[entry for text in stored if text for entry in cls.from_json(text).entries])

    @classmethod
    def from_json(cls, text: str) -> Transcript:
        """A stored record, each entry checked: it may come from a crafted backup, and one
        entry of the wrong shape must not keep the rest of the conversation from opening."""
        data = json.loads(text)
        if not isinstance(data, dict) or data.get("version") != VERSION:
            version = data.get("version") if isinstance(data, dict) else None
            raise ValueError(f"A transcript of version {version!r} cannot be read (this is version {VERSION}).")
        entries = data.get("entries")
        if not isinstance(entries, list):
            raise ValueError("The transcript holds no list of entries.")
        return cls(entries=[clean for clean in map(_checked, entries) if clean is not None])

    # ------------------------------------------------------------ the turn being recorded

    def _turn(self) -> list[Entry]:
        """The entries since the person's last message (call ids repeat between turns)."""
        for index in range(len(self.entries) - 1, -1, -1):
            if self.entries[index]["kind"] == "user":
                return self.entries[index:]
        return self.entries

    def _add_text(self, delta: str) -> None:
        last = self.entries[-1] if self.entries else None
        if last is not None and last["kind"] == "assistant":
            last["text"] += delta
        else:
            self.entries.append({"kind": "assistant", "text": delta})

    def _code(self, cell_id: str) -> Entry:
        for entry in reversed(self._turn()):
            if entry["kind"] == "code" and entry["id"] == cell_id:
                return entry
        entry = _code_entry(cell_id, "tool", "")
        self.entries.append(entry)
        return entry

    def _add_notice(self, text: str, reason: str | None) -> None:
        self.entries.append({"kind": "notice", "text": text, "reason": reason})

    def _count(self, event: UsageReport) -> None:
        opener = self._turn()[:1]
        if not opener or opener[0]["kind"] != "user":  # no turn to count against
            return
        usage = opener[0]["usage"]
        usage["prompt"] += event.prompt
        usage["completion"] += event.completion
        usage["total"] += event.total
        usage["estimated"] = usage["estimated"] or event.estimated

    def _end(self, event: TurnEnded) -> None:
        opener = self._turn()[:1]
        if opener and opener[0]["kind"] == "user":
            opener[0]["ended"] = event.reason
        if event.reason != "answered":  # an answer is already there, as the reply text
            self._add_notice(event.message, event.reason)


def _text(entry: dict[str, Any], key: str) -> str:
    value = entry.get(key)
    return value if isinstance(value, str) else ""


def _checked(entry: Any) -> Entry | None:
    """An entry in the shape this record writes, or None when it is not one at all."""
    if not isinstance(entry, dict):
        return None
    kind = entry.get("kind")
    if kind == "user":
        usage = entry.get("usage") if isinstance(entry.get("usage"), dict) else {}
        counts = {k: usage[k] if isinstance(usage.get(k), int) and not isinstance(usage[k], bool) else 0 for k in ("prompt", "completion", "total")}
        ended = entry.get("ended") if isinstance(entry.get("ended"), str) else None
        return {"kind": "user", "text": _text(entry, "text"), "usage": {**counts, "estimated": bool(usage.get("estimated"))}, "ended": ended}
    if kind == "assistant":
        return {"kind": "assistant", "text": _text(entry, "text")}
    if kind == "notice":
        return {"kind": "notice", "text": _text(entry, "text"), "reason": entry.get("reason") if isinstance(entry.get("reason"), str) else None}
    if kind != "code":
        return None
    source = entry.get("source") if entry.get("source") in ("tool", "fenced", "edited") else "tool"
    checked = _code_entry(str(entry.get("id", ""))[:200], source, _text(entry, "code"))
    checked["state"] = entry.get("state") if entry.get("state") in ("written", "running", "finished") else "finished"
    result = clean_result({k: entry.get(k) for k in ("execution_count", "outputs", "error", "files")} | {"duration": entry.get("duration") or 0.0})
    checked.update(result)
    return checked


def readable_text(stored: list[str]) -> str:
    """The words of a stored record (its parts) a person reads: questions, answers, notices,
    code and what code printed; not images, tables or other data ("" for a record that
    cannot be read)."""
    try:
        entries = Transcript.joined(stored).entries
    except ValueError:
        return ""
    parts: list[str] = []
    for entry in entries:
        if entry["kind"] == "code":
            parts.append(entry["code"])
            parts += [o["text"] for o in entry["outputs"] if o["kind"] == "stream"]
        else:
            parts.append(entry["text"])
    return "\n".join(parts)


def outcome(entry: Entry) -> Outcome:
    """How a code entry went: what decides whether an export runs it again."""
    if entry["state"] == "written":
        return "not run"
    error = entry["error"]
    if entry["state"] == "running" or (error and error.get("ename") in STOPPED_ERRORS):
        return "stopped"
    return "failed" if error else "ok"


def _code_entry(cell_id: str, source: str, code: str) -> Entry:
    return {
        "kind": "code",
        "id": cell_id,
        "source": source,
        "code": code,
        "state": "written",
        "outputs": [],
        "error": None,
        "duration": None,
        "execution_count": None,
        "files": [],
    }


def _append_output(outputs: list[dict[str, Any]], output: dict[str, Any]) -> None:
    """Add an output, joining stream text to the same stream's text just before it."""
    last = outputs[-1] if outputs else None
    if output["kind"] == "stream" and last and last["kind"] == "stream" and last["name"] == output["name"]:
        last["text"] += output["text"]
    else:
        outputs.append(dict(output))


def _finish(entry: Entry, result: dict[str, Any]) -> None:
    """The kernel's result completes the entry; its outputs, when it has them, are the
    complete list (a result made for a lost kernel has none, so the streamed ones stay)."""
    entry["state"] = "finished"
    if result.get("outputs"):
        entry["outputs"] = []
        for output in result["outputs"]:
            _append_output(entry["outputs"], output)
    entry["error"] = result.get("error")
    entry["duration"] = result.get("duration")
    entry["execution_count"] = result.get("execution_count")
    entry["files"] = list(result.get("files") or [])
