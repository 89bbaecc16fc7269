"""Reading a stored conversation back: the events that draw each answer again, whether the
last answer was cut off, and the code to run again to rebuild the variables."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..agent import AssistantText, CodeFinished, CodeStarted, Event, KernelOutput, Notice, UsageReport
from ._record import Entry, Transcript, outcome

INTERRUPTED = "This answer was cut off: the page was closed or reloaded while it came in."


@dataclass
class Turn:
    """The person's message and the events that redraw what answered it."""

    question: str
    events: list[Event] = field(default_factory=list)


def turns(transcript: Transcript) -> list[Turn]:
    """Each turn of the conversation, for drawing it again; entries before the first
    message (none, normally) are left out."""
    found: list[Turn] = []
    usages: list[dict] = []
    for entry in transcript.entries:
        if entry["kind"] == "user":
            found.append(Turn(entry["text"]))
            usages.append(entry["usage"])
        elif found:
            found[-1].events.extend(_events(entry))
    for turn, usage in zip(found, usages):
        if usage["total"]:
            turn.events.append(UsageReport(usage["prompt"], usage["completion"], usage["total"], usage["estimated"]))
    return found


def _events(entry: Entry) -> list[Event]:
    if entry["kind"] == "assistant":
        return [AssistantText(entry["text"])]
    if entry["kind"] == "notice":
        return [Notice(entry["text"])]
    if entry["kind"] != "code":
        return []
    cell_id = f"{entry['source']}-{entry['id']}"
    events: list[Event] = [CodeStarted(cell_id, entry["code"], "tool" if entry["source"] == "edited" else entry["source"])]
    if entry["state"] == "written":
        return events
    events += [KernelOutput(cell_id, output) for output in entry["outputs"]]
    result = {"outputs": [], "error": entry["error"], "duration": entry["duration"], "files": entry["files"]}
    if entry["state"] == "running":
        result["error"] = {"ename": "Interrupted", "evalue": "the page was closed while this ran", "traceback": ""}
    events.append(CodeFinished(cell_id, result))
    return events


def mark_interrupted(transcript: Transcript) -> bool:
    """If the last turn never ended (the page went away mid-answer), say so in it; True then."""
    last = next((e for e in reversed(transcript.entries) if e["kind"] == "user"), None)
    if last is None or last["ended"] is not None:
        return False
    last["ended"] = "stopped"
    transcript.entries.append({"kind": "notice", "text": INTERRUPTED, "reason": "stopped"})
    return True


def replayable_code(transcript: Transcript) -> list[str]:
    """The code that ran without failing, in order: running it again rebuilds the variables."""
    return [e["code"] for e in transcript.entries if e["kind"] == "code" and outcome(e) == "ok"]
