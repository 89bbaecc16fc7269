"""One conversation: its history in the model's wire format, its record, its files.

The UI used to hold these beside its widgets and build chat messages itself; here they
change only through these methods, which a CPython test drives with the real agent, the
mock model and an in-process kernel (tests/test_session.py)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from ..agent import Agent, Environment, Event, FileInfo, Notice, TurnEnded, result_for_model, scan_files
from ..render import fenced
from ..store import Part
from ..transcript import Transcript, replayable_code

RESTARTED_NOTE = "[The Python kernel was restarted since the last turn: earlier variables are gone; files in /data remain.]"
EDITED_NOTE = "(I edited and ran this code myself:)"


@dataclass(frozen=True)
class Waiting:
    """What a turn waits for before the model is asked ("" when nothing); not recorded."""

    text: str


#: Takes each event of a turn: the agent's, and Waiting.
OnTurnEvent = Callable[[Any], None]


class SessionKernel(Protocol):
    """What a conversation needs of its kernel (RemoteKernel in the browser)."""

    restarts: int
    packages: list[str]

    @property
    def online(self) -> bool: ...

    async def ready(self) -> None: ...

    async def run(self, code: str, on_output: Any = None) -> dict[str, Any]: ...

    async def scan_files(self, limits: dict[str, int]) -> list[dict[str, Any]]: ...


class Conversation:
    """The history the model reads, the transcript the person and the exports read, and
    what the model was last told of the files."""

    def __init__(
        self,
        kernel: SessionKernel,
        transcript: Transcript | None = None,
        history: list[dict[str, Any]] | None = None,
        starts: list[tuple[int, int]] | None = None,
    ) -> None:
        self.kernel = kernel
        self.transcript = transcript if transcript is not None else Transcript()
        self.history: list[dict[str, Any]] = history if history is not None else []
        # Where each part (store/) begins, as (entry, message) positions: a part is what one
        # question and its answer add. Only the last part changes: edits, retries and
        # interruptions all touch the turn at the end.
        self.starts: list[tuple[int, int]] = starts or [(0, 0)]
        self.files: tuple[FileInfo, ...] = ()
        self.files_changed = False  # the files differ from what the model last heard of
        # A conversation brought back runs in a fresh kernel: the model must not count on its variables.
        self._restarts_told = kernel.restarts - 1 if self.history else kernel.restarts

    def ask(self, text: str) -> None:
        """The person's message, recorded and put to the model (with a note when the kernel
        lost its variables since the model last heard)."""
        start = (len(self.transcript.entries), len(self.history))
        if start != self.starts[-1]:
            self.starts.append(start)
        self.transcript.add_user(text)
        if self.kernel.restarts > self._restarts_told:
            self._restarts_told = self.kernel.restarts
            if self.history:  # a model that has heard nothing yet counts on no variable
                text = f"{RESTARTED_NOTE}\n\n{text}"
        self.history.append({"role": "user", "content": text})

    @classmethod
    def from_parts(cls, kernel: SessionKernel, parts: list[Part]) -> Conversation:
        """A stored conversation; ValueError if a part cannot be read."""
        transcript, history, starts = Transcript(), [], []
        for part in parts:
            starts.append((len(transcript.entries), len(history)))
            transcript.entries += Transcript.joined([part.transcript]).entries
            messages = json.loads(part.history)
            if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
                raise ValueError("A stored part of the conversation holds no list of messages.")
            history += messages
        return cls(kernel, transcript, history, starts)

    def parts(self, first: int = 0) -> list[Part]:
        """The parts from index ``first`` on, as the store keeps them (the cost of a save
        is the parts it writes, not the conversation)."""
        entries, bounds = self.transcript.entries, [*self.starts, (len(self.transcript.entries), len(self.history))]
        return [
            Part(Transcript(entries[e0:e1]).to_json() if e1 > e0 else "", json.dumps(self.history[h0:h1], ensure_ascii=False))
            for (e0, h0), (e1, h1) in zip(bounds[first:], bounds[first + 1 :])
        ]

    async def look_at_files(self) -> str | None:
        """Scan the files again if they changed since the model heard of them; what went
        wrong, said for the person, or None."""
        if not self.files_changed:
            return None
        self.files_changed = False
        try:
            self.files = await scan_files(self.kernel)
        except (RuntimeError, FileNotFoundError) as exc:
            return f"The files could not be previewed for the model: {exc}"
        return None

    def environment(self) -> Environment:
        """What the model is told of where its code runs: the site's packages, the files it
        last looked at, and whether the person let code use the internet."""
        return Environment(packages=tuple(self.kernel.packages), files=self.files, network=self.kernel.online)

    async def run_turn(self, agent: Agent, on_event: OnTurnEvent) -> TurnEnded:
        """Answer the last message: once Python is up and the model has heard of the files
        as they are now, the agent runs; each of its events is recorded, then handed on."""
        if not self.kernel.packages:
            on_event(Waiting("starting Python…"))
            await self.kernel.ready()
        if self.files_changed:
            on_event(Waiting("looking at your files…"))
            problem = await self.look_at_files()
            if problem:
                self._record(Notice(problem), on_event)
        return await agent.run_turn(self.history, self.environment(), lambda event: self._record(event, on_event))

    def _record(self, event: Event, on_event: OnTurnEvent) -> None:
        self.transcript.apply(event)
        on_event(event)

    def forget_failed_answer(self) -> None:
        """Before asking again: drop what the failed turn added after the person's message."""
        last_user = max(i for i, message in enumerate(self.history) if message["role"] == "user")
        del self.history[last_user + 1 :]

    def edited_run(self, code: str, result: dict[str, Any]) -> None:
        """Code the person edited and ran: recorded, and told to the model with their next message."""
        self.transcript.add_edited_run(code, result)
        self.history.append({"role": "user", "content": f"{EDITED_NOTE}\n{fenced(code)}\n{result_for_model(result)}"})

    def replayable_code(self) -> list[str]:
        return replayable_code(self.transcript)

    def replayed(self) -> None:
        """The code that succeeded ran again: the variables are back, nothing to tell."""
        self._restarts_told = self.kernel.restarts
