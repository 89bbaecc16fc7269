"""Failures the SDK has no class for."""

from __future__ import annotations

from ._events import ToolCallDelta


class StreamCut(Exception):
    """The stream ended before the model said it had finished; the partial answer is kept."""

    def __init__(self, partial: str, tool_calls: tuple[ToolCallDelta, ...] = ()) -> None:
        super().__init__("the stream ended before the model finished")
        self.partial = partial
        self.tool_calls = tool_calls


class CorsRefused(Exception):
    """The browser could not read the endpoint's answer although the server is up: CORS."""

    def __init__(self, base_url: str, page_origin: str | None) -> None:
        super().__init__(f"{base_url} did not allow requests from {page_origin or 'this page'}")
        self.base_url = base_url
        self.page_origin = page_origin
