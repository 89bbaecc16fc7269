"""The agent loop: a conversation turn in which the model writes Python and the kernel runs it.

Plain asyncio, no UI: the loop emits events (``_events``) that a chat UI renders, and keeps
the history in the chat-completions wire format.
"""

from ._budget import Limits
from ._context import estimate_tokens, fit_context
from ._environment import Environment, FileInfo
from ._events import (
    AssistantText,
    CodeDelta,
    CodeFinished,
    CodeStarted,
    Event,
    KernelOutput,
    Notice,
    RequestSent,
    TurnEnded,
    UsageReport,
)
from ._account import result_for_model
from ._kernel import KernelLike
from ._loop import Agent, Approve
from ._prompt import system_prompt
from ._scan import SCAN_LIMITS, file_infos, scan_files

__all__ = [
    "SCAN_LIMITS",
    "file_infos",
    "Agent",
    "Approve",
    "AssistantText",
    "CodeDelta",
    "CodeFinished",
    "CodeStarted",
    "Environment",
    "Event",
    "FileInfo",
    "KernelLike",
    "KernelOutput",
    "Limits",
    "Notice",
    "RequestSent",
    "TurnEnded",
    "UsageReport",
    "estimate_tokens",
    "fit_context",
    "result_for_model",
    "scan_files",
    "system_prompt",
]
