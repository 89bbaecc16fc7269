"""What one turn may spend before it stops and says why."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ._events import EndReason


@dataclass(frozen=True)
class Limits:
    """Per turn: model requests, failed cells in a row, and tokens (reported or estimated)."""

    max_steps: int = 8
    max_failures: int = 3
    max_tokens: int = 200_000


class Budget:
    """The running account of one turn."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.steps = 0
        self.tokens = 0
        self.failures = 0
        self._last_error: tuple[str, str] | None = None
        self._last_error_text = ""

    def record_cell(self, error: dict[str, Any] | None) -> bool:
        """Count a cell's outcome; True when it failed with the same error as the cell before."""
        if error is None:
            self.failures, self._last_error = 0, None
            return False
        key = (error.get("ename", ""), error.get("evalue", ""))
        repeated = key == self._last_error
        self.failures += 1
        self._last_error, self._last_error_text = key, f"{key[0]}: {key[1]}".strip(": ")
        return repeated

    def record_failure(self, what: str) -> None:
        """A call that could not even run (unknown tool, arguments without code)."""
        self.failures += 1
        self._last_error, self._last_error_text = None, what

    def exhausted(self) -> tuple[EndReason, str] | None:
        """Whether the turn must stop before the next model request, and the sentence why."""
        limits = self.limits
        if self.failures >= limits.max_failures:
            return "failure_limit", (
                f"Stopped after {self.failures} failed attempts in a row (the limit is {limits.max_failures}). "
                f"The last error was: {self._last_error_text}. You can rephrase the request or ask to try another way."
            )
        if self.steps >= limits.max_steps:
            return "step_limit", (
                f"Stopped after {self.steps} model requests in this turn (the limit is {limits.max_steps}) "
                "without a final answer. Ask to continue, or raise the step limit in the settings."
            )
        if self.tokens >= limits.max_tokens:
            return "token_limit", (
                f"Stopped after using about {self.tokens:,} tokens in this turn (the limit is {limits.max_tokens:,}). "
                "Ask to continue, or raise the token limit in the settings."
            )
        return None
