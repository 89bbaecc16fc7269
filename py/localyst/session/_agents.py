"""Which agent answers: one per endpoint and settings, kept while they stay the same."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from ..agent import Agent
from ..llm import IN_PAGE_PROMPT_TOKENS, Endpoint

#: Asks the person whether a cell may run: (cell id, code) -> yes or no.
Approve = Callable[[str, str], Awaitable[bool]]


class Agents:
    """The agent for the endpoint and the behaviour settings in use. An agent that found its
    endpoint takes no tool calls switched itself to fenced code: that sticks while the
    endpoint and settings do, and a change of either starts afresh."""

    def __init__(self, kernel: Any) -> None:
        self.kernel = kernel
        self._key: tuple[str, ...] | None = None
        self._agent: Agent | None = None

    def agent(self, endpoint: Endpoint, options: dict[str, Any], approve: Approve) -> Agent:
        """``options`` are the behaviour settings (BehaviourPanel.options()); with "confirm"
        set, each cell waits for ``approve``."""
        key = (endpoint.base_url, endpoint.api_key, endpoint.model, repr(sorted(options.items())))
        if key != self._key or self._agent is None:
            options = dict(options)
            confirm = options.pop("confirm")
            if endpoint.in_page:  # no tool calling and no vision: code in ```python blocks, text only
                options.update(mode="fenced", send_images=False, context_tokens=min(options["context_tokens"], IN_PAGE_PROMPT_TOKENS))
            self._key, self._agent = key, Agent(endpoint, self.kernel, approve=approve if confirm else None, **options)
        return self._agent
