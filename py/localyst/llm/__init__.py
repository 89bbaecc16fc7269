"""The LLM client: OpenAI-compatible endpoints over the openai SDK, in CPython and in Pyodide.

It knows nothing of the UI; failures become ``Problem``s a person can act on.
"""

from ._client import make_client
from ._endpoints import IN_PAGE, IN_PAGE_URL, PRESETS, Endpoint, Preset
from ._inpage import MAX_MODEL_BYTES, InPageFailed, InPageModel, InPageTransport, in_page_model, too_big
from ._inpage import PROMPT_TOKENS as IN_PAGE_PROMPT_TOKENS
from ._errors import Problem, describe
from ._events import Event, Finished, TextDelta, ToolCall, ToolCallDelta, Usage
from ._exceptions import CorsRefused, StreamCut
from ._stream import list_models, stream_chat, test_connection

__all__ = [
    "IN_PAGE",
    "IN_PAGE_PROMPT_TOKENS",
    "IN_PAGE_URL",
    "InPageFailed",
    "InPageModel",
    "InPageTransport",
    "MAX_MODEL_BYTES",
    "in_page_model",
    "too_big",
    "PRESETS",
    "CorsRefused",
    "Endpoint",
    "Event",
    "Finished",
    "Preset",
    "Problem",
    "StreamCut",
    "TextDelta",
    "ToolCall",
    "ToolCallDelta",
    "Usage",
    "describe",
    "list_models",
    "make_client",
    "stream_chat",
    "test_connection",
]
