"""Talking to the model: a streamed chat completion as typed events, and the model list."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, AsyncIterator, Iterable, Mapping

import openai

from ._browser import reaching
from ._client import make_client
from ._endpoints import Endpoint
from ._events import Event, Finished, TextDelta, ToolCall, ToolCallDelta, Usage
from ._exceptions import StreamCut


@dataclass
class _Growing:
    id: str = ""
    name: str = ""
    arguments: str = ""


async def stream_chat(
    client: openai.AsyncOpenAI,
    model: str,
    messages: Iterable[Mapping[str, Any]],
    tools: list[Mapping[str, Any]] | None = None,
    **kw: Any,
) -> AsyncIterator[Event]:
    """Stream one chat completion: TextDelta/ToolCallDelta as they come, then each ToolCall,
    Usage if the endpoint reports it, and Finished last.

    Raises StreamCut (with the partial text) when the stream stops before a finish_reason:
    the SDK raises APIConnectionError when the connection drops mid-body, and stops quietly
    when the body just ends early.
    """
    params: dict[str, Any] = {"model": model, "messages": list(messages), "stream": True, **kw}
    if tools:
        params["tools"] = tools
    stream = await _open(client, params)
    text: list[str] = []
    calls: dict[int, _Growing] = {}
    finish: str | None = None
    try:
        async with stream:  # closes the response even if the caller stops early (a Stop button)
            async for chunk in stream:
                u = getattr(chunk, "usage", None)
                if u is not None:
                    yield Usage(u.prompt_tokens or 0, u.completion_tokens or 0, u.total_tokens or 0)
                for choice in (chunk.choices or [])[:1]:
                    delta = choice.delta
                    if delta is not None and delta.content:
                        text.append(delta.content)
                        yield TextDelta(delta.content)
                    for position, part in enumerate((delta.tool_calls if delta is not None else None) or []):
                        index = part.index if part.index is not None else position
                        call = calls.setdefault(index, _Growing())
                        call.id = part.id or call.id
                        if part.function is not None:
                            call.name = call.name or part.function.name or ""
                            call.arguments += part.function.arguments or ""
                        yield ToolCallDelta(index, call.id, call.name, call.arguments)
                    finish = choice.finish_reason or finish
    except openai.APIConnectionError as exc:
        raise StreamCut("".join(text), _snapshot(calls)) from exc
    if finish is None:
        raise StreamCut("".join(text), _snapshot(calls))
    for index in sorted(calls):
        yield ToolCall(calls[index].id, calls[index].name, calls[index].arguments)
    yield Finished(finish)


async def _open(client: openai.AsyncOpenAI, params: dict[str, Any]) -> Any:
    """Start the stream asking for usage; ask again without it if the endpoint rejects the option."""
    base_url = str(client.base_url)
    try:
        return await reaching(client.chat.completions.create(**params, stream_options={"include_usage": True}), base_url)
    except openai.BadRequestError as exc:
        if "stream_options" not in str(exc):
            raise
    return await reaching(client.chat.completions.create(**params), base_url)


def _snapshot(calls: dict[int, _Growing]) -> tuple[ToolCallDelta, ...]:
    return tuple(ToolCallDelta(i, c.id, c.name, c.arguments) for i, c in sorted(calls.items()))


async def list_models(client: openai.AsyncOpenAI) -> list[str]:
    """The model ids the endpoint offers, in its own order, without duplicates."""
    page = await reaching(client.models.list(), str(client.base_url))
    return list(dict.fromkeys(m.id for m in page.data))


async def test_connection(endpoint: Endpoint) -> str:
    """A one-line summary of a working endpoint; raises what describe() explains otherwise."""
    names = await list_models(make_client(endpoint))
    summary = f"Connected to {endpoint.host}: {len(names)} model{'s' if len(names) != 1 else ''} available."
    if endpoint.model and names and endpoint.model not in names:
        summary += f" `{endpoint.model}` is not among them."
    return summary


test_connection.__test__ = False  # type: ignore[attr-defined]  # not a pytest test, despite its name
