"""localyst.llm in CPython against the mock model: the real openai SDK over real HTTP."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from dataclasses import replace
from typing import Any, Iterator

import httpx2
import openai
import pytest

from localyst import llm
from localyst.llm import Endpoint, Finished, StreamCut, TextDelta, ToolCall, ToolCallDelta, Usage, describe
from tools.mock_model import Call, MockModel, cut, fault, slow, text, tool_call, tool_calls

KEY = "sk-test-secret-0123456789"
FAST_RETRY = {"retry-after-ms": "10"}
HELLO = [{"role": "user", "content": "hello"}]


@pytest.fixture
def mock() -> Iterator[MockModel]:
    with MockModel() as server:
        yield server


def endpoint(mock: MockModel, key: str = "", model: str = "mock-small") -> Endpoint:
    return Endpoint(mock.base_url, key, model)


def collect(ep: Endpoint, messages: list[dict[str, Any]] = HELLO, **kw: Any) -> list[Any]:
    async def run() -> list[Any]:
        client = llm.make_client(ep)
        return [event async for event in llm.stream_chat(client, ep.model, messages, **kw)]

    return asyncio.run(run())


def failure(ep: Endpoint, **client_kw: Any) -> BaseException:
    async def run() -> None:
        async for _ in llm.stream_chat(llm.make_client(ep, **client_kw), ep.model, HELLO):
            pass

    with pytest.raises(Exception) as caught:
        asyncio.run(run())
    return caught.value


def test_stream_yields_text_deltas_then_finished(mock: MockModel) -> None:
    mock.script(text("Streaming works in pieces.", chunks=5))
    events = collect(endpoint(mock))
    deltas = [e for e in events if isinstance(e, TextDelta)]
    assert len(deltas) == 5
    assert "".join(d.text for d in deltas) == "Streaming works in pieces."
    assert events[-1] == Finished("stop")
    assert events.index(deltas[-1]) < len(events) - 1


def test_tool_call_fragments_assemble(mock: MockModel) -> None:
    arguments = json.dumps({"code": "import math\nprint(math.pi * 2)"})
    mock.script(tool_call("run_python", arguments, id="call_abc", fragment=3))
    events = collect(endpoint(mock), tools=[{"type": "function", "function": {"name": "run_python", "parameters": {}}}])
    growing = [e.arguments for e in events if isinstance(e, ToolCallDelta)]
    assert len(growing) > 5 and all(b.startswith(a) for a, b in zip(growing, growing[1:]))
    assert [e for e in events if isinstance(e, ToolCall)] == [ToolCall("call_abc", "run_python", arguments)]
    assert json.loads(arguments)["code"].startswith("import math")
    assert events[-1] == Finished("tool_calls")
    assert mock.chat_requests()[0].body["tools"][0]["function"]["name"] == "run_python"


def test_two_tool_calls_after_text(mock: MockModel) -> None:
    mock.script(tool_calls(Call("run_python", '{"code": "1"}', "c1"), Call("run_python", '{"code": "2"}', "c2"), content="Two steps."))
    events = collect(endpoint(mock))
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "Two steps."
    assert [e for e in events if isinstance(e, ToolCall)] == [
        ToolCall("c1", "run_python", '{"code": "1"}'),
        ToolCall("c2", "run_python", '{"code": "2"}'),
    ]


def test_stopping_early_does_not_wait_for_the_rest(mock: MockModel) -> None:
    mock.script(slow("a b c d e f g h i j", delay_per_chunk=0.3, chunks=10))

    async def first_delta() -> str:
        events = llm.stream_chat(llm.make_client(endpoint(mock)), "mock-small", HELLO)
        async for event in events:
            if isinstance(event, TextDelta):
                await events.aclose()
                return event.text
        return ""

    started = time.monotonic()
    assert asyncio.run(first_delta()) == "a "
    assert time.monotonic() - started < 1.5


def test_usage_is_reported(mock: MockModel) -> None:
    mock.script(text("Counted.", usage=(12, 5)))
    events = collect(endpoint(mock))
    assert Usage(12, 5, 17) in events and events[-1] == Finished("stop")
    assert mock.chat_requests()[0].body["stream_options"] == {"include_usage": True}


def test_stream_options_rejected_falls_back(mock: MockModel) -> None:
    mock.script(fault(400, "Unrecognized request argument supplied: stream_options"), text("Still fine."))
    events = collect(endpoint(mock))
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "Still fine."
    first, second = mock.chat_requests()
    assert "stream_options" in first.body and "stream_options" not in second.body


def test_list_models_and_test_connection(mock: MockModel) -> None:
    names = asyncio.run(llm.list_models(llm.make_client(endpoint(mock))))
    assert names == ["mock-small", "mock-large"]
    summary = asyncio.run(llm.test_connection(endpoint(mock, model="other")))
    assert "2 models" in summary and "`other` is not among them" in summary


def test_no_stainless_headers_and_no_authorization_without_key(mock: MockModel) -> None:
    mock.script(text("fine"))
    collect(endpoint(mock))
    asyncio.run(llm.list_models(llm.make_client(endpoint(mock))))
    for request in mock.requests:
        assert not [h for h in request.headers if h.startswith("x-stainless-")], request.headers
        assert "authorization" not in request.headers


def test_the_bare_sdk_would_send_stainless_headers(mock: MockModel) -> None:
    """The premise of the header stripping: without it, the SDK sends x-stainless-*."""
    async def run() -> None:
        await openai.AsyncOpenAI(api_key="x", base_url=mock.base_url).models.list()

    asyncio.run(run())
    assert any(h.startswith("x-stainless-") for h in mock.requests[0].headers)


def test_key_is_sent_as_bearer(mock: MockModel) -> None:
    mock.script(text("fine"))
    collect(endpoint(mock, key=KEY))
    assert mock.chat_requests()[0].headers["authorization"] == f"Bearer {KEY}"


def test_openai_keeps_sdk_headers() -> None:
    """api.openai.com accepts the SDK's headers in CORS, so they stay (checked on the hook, no traffic)."""
    from localyst.llm._client import _clean_headers

    request = httpx2.Request("GET", "https://api.openai.com/v1/models", headers={"X-Stainless-OS": "x", "Authorization": "Bearer k"})
    asyncio.run(_clean_headers(strip_stainless=not Endpoint("https://api.openai.com/v1").is_openai, keyless=False)(request))
    assert request.headers["x-stainless-os"] == "x" and request.headers["authorization"] == "Bearer k"


def test_wrong_key(mock: MockModel) -> None:
    mock.api_key = "sk-the-right-one"
    ep = endpoint(mock, key=KEY)
    exc = failure(ep)
    assert isinstance(exc, openai.AuthenticationError)
    problem = describe(exc, ep)
    assert problem.title == "Wrong API key" and not problem.retryable


def test_missing_key(mock: MockModel) -> None:
    mock.api_key = "sk-the-right-one"
    problem = describe(failure(endpoint(mock)), endpoint(mock))
    assert problem.title == "An API key is needed"


def test_key_never_appears_even_when_the_server_echoes_it(mock: MockModel) -> None:
    ep = endpoint(mock, key=KEY)
    for reply in (fault(401, f"Incorrect API key provided: {KEY}."), fault(400, f"bad key {KEY}"), fault(500, KEY, times=None, headers=FAST_RETRY)):
        mock.reset()
        mock.script(reply)
        problem = describe(failure(ep), ep)
        assert KEY not in f"{problem}" and "•••" in problem.detail
    assert KEY not in repr(ep)
    assert KEY not in str(describe(RuntimeError(f"boom {KEY}"), ep))


def test_model_not_found(mock: MockModel) -> None:
    mock.script(fault(404))
    ep = endpoint(mock, model="gpt-nope")
    exc = failure(ep)
    assert isinstance(exc, openai.NotFoundError)
    problem = describe(exc, ep)
    assert problem.title == "Model not found" and "`gpt-nope`" in problem.detail and "Load models" in problem.detail


def test_rate_limit_retried_with_retry_after_then_succeeds(mock: MockModel) -> None:
    mock.script(fault(429, times=2), text("Third time lucky."))
    started = time.monotonic()
    events = collect(endpoint(mock))
    elapsed = time.monotonic() - started
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "Third time lucky."
    assert len(mock.chat_requests()) == 3
    assert elapsed >= 1.9, "Retry-After: 1 was not honoured twice"


def test_rate_limit_forever(mock: MockModel) -> None:
    mock.script(fault(429, times=None, headers=FAST_RETRY))
    exc = failure(endpoint(mock))
    assert isinstance(exc, openai.RateLimitError)
    assert len(mock.chat_requests()) == 3  # the first try and the SDK's two retries
    problem = describe(exc, endpoint(mock))
    assert problem.title == "Rate limited" and problem.retryable


def test_server_error(mock: MockModel) -> None:
    mock.script(fault(500, times=None, headers=FAST_RETRY))
    exc = failure(endpoint(mock))
    assert isinstance(exc, openai.InternalServerError)
    problem = describe(exc, endpoint(mock))
    assert problem.title == "The model server had an error" and "500" in problem.detail and problem.retryable


def test_unreachable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    ep = Endpoint(f"http://127.0.0.1:{port}/v1", "", "m")
    exc = failure(ep, max_retries=0)
    assert isinstance(exc, openai.APIConnectionError)
    problem = describe(exc, ep)
    assert problem.title == "Cannot reach the endpoint" and ep.base_url in problem.detail


@pytest.mark.parametrize("clean", [False, True], ids=["dropped", "ended-early"])
def test_cut_stream_keeps_partial_text(mock: MockModel, clean: bool) -> None:
    mock.script(cut("Half an ans", chunks=3, clean=clean))
    exc = failure(endpoint(mock))
    assert isinstance(exc, StreamCut) and exc.partial == "Half an ans"
    problem = describe(exc, endpoint(mock))
    assert problem.title == "The answer was cut off" and problem.retryable


def test_cut_during_tool_call_keeps_what_arrived(mock: MockModel) -> None:
    mock.script(replace(tool_call("run_python", '{"code": "print(1)"}', fragment=4), cut="abrupt"))
    exc = failure(endpoint(mock))
    assert isinstance(exc, StreamCut)
    assert exc.tool_calls[0].name == "run_python" and exc.tool_calls[0].arguments == '{"code": "print(1)"}'


def test_connection_failure_with_a_live_server_is_cors(monkeypatch: pytest.MonkeyPatch) -> None:
    """In the browser a no-cors probe that gets an answer turns "Failed to fetch" into CorsRefused."""
    from localyst.llm import _browser

    async def answers(url: str) -> bool:
        return True

    monkeypatch.setattr(_browser, "server_answers", answers)
    monkeypatch.setattr(_browser, "page_origin", lambda: "http://127.0.0.1:8000")
    ep = Endpoint("http://127.0.0.1:9/v1")
    with pytest.raises(llm.CorsRefused) as caught:
        asyncio.run(llm.list_models(llm.make_client(ep, max_retries=0)))
    assert caught.value.page_origin == "http://127.0.0.1:8000"
    assert "http://127.0.0.1:8000" in describe(caught.value, ep).detail


def test_error_event_inside_a_stream() -> None:
    exc = openai.APIError("overloaded, try later", httpx2.Request("POST", "http://x/"), body=None)
    problem = describe(exc, Endpoint("http://x/v1"))
    assert problem.title == "The endpoint reported an error" and "overloaded" in problem.detail


def test_describe_cors_advice_names_the_server() -> None:
    ollama = Endpoint("http://localhost:11434/v1")
    problem = describe(llm.CorsRefused(ollama.base_url, "https://me.github.io"), ollama)
    assert "OLLAMA_ORIGINS=https://me.github.io" in problem.detail and "CORS" in problem.title
    studio = Endpoint("http://localhost:1234/v1")
    assert "LM Studio" in describe(llm.CorsRefused(studio.base_url, "http://127.0.0.1:8000"), studio).detail


def test_describe_timeout_and_bad_scheme() -> None:
    ep = Endpoint("http://127.0.0.1:9/v1")
    timeout = openai.APITimeoutError(request=httpx2.Request("POST", ep.base_url))
    assert describe(timeout, ep).title == "The model took too long"
    bad = Endpoint("localhost:11434/v1")
    connection = openai.APIConnectionError(request=httpx2.Request("POST", "http://x/"))
    assert describe(connection, bad).title == "Check the base URL"


def test_presets() -> None:
    assert llm.PRESETS["Ollama"].base_url == "http://localhost:11434/v1" and not llm.PRESETS["Ollama"].needs_key
    assert llm.PRESETS["OpenAI"].needs_key and llm.PRESETS["Custom"].base_url == ""
