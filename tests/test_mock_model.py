"""The mock model speaks the OpenAI wire format: checked with plain http.client, no SDK."""

from __future__ import annotations

import http.client
import json
from typing import Any, Iterator

import pytest

from tools.mock_model import Call, MockModel, cut, fault, text, tool_call, tool_calls


@pytest.fixture
def mock() -> Iterator[MockModel]:
    with MockModel() as server:
        yield server


def request(mock: MockModel, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection(mock.host, mock.port, timeout=10)
    data = json.dumps(body).encode() if body is not None else None
    conn.request(method, path, body=data, headers={"Content-Type": "application/json", **(headers or {})})
    return conn.getresponse()


def chat(mock: MockModel, stream: bool, **extra: Any) -> http.client.HTTPResponse:
    body = {"model": "mock-small", "messages": [{"role": "user", "content": "hello there"}], "stream": stream, **extra}
    return request(mock, "POST", "/v1/chat/completions", body)


def sse_events(response: http.client.HTTPResponse) -> list[str]:
    """The data fields of the stream, checking each event is a single ``data:`` line and a blank line."""
    raw = response.read().decode()
    assert raw.endswith("\n\n")
    events = raw[:-2].split("\n\n")
    assert all(e.startswith("data: ") and "\n" not in e for e in events)
    return [e[len("data: ") :] for e in events]


def test_models_lists_configured_ids() -> None:
    with MockModel(models=["a", "b", "c"]) as mock:
        body = json.loads(request(mock, "GET", "/v1/models").read())
    assert body["object"] == "list"
    assert [m["id"] for m in body["data"]] == ["a", "b", "c"]


def test_stream_framing_chunks_and_done(mock: MockModel) -> None:
    mock.script(text("Hello, streaming world!", chunks=4))
    response = chat(mock, stream=True)
    assert response.status == 200
    assert response.getheader("Content-Type").startswith("text/event-stream")
    events = sse_events(response)
    assert events[-1] == "[DONE]"
    items = [json.loads(e) for e in events[:-1]]
    assert all(i["object"] == "chat.completion.chunk" and i["model"] == "mock-small" for i in items)
    assert len({i["id"] for i in items}) == 1
    assert items[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    contents = [i["choices"][0]["delta"].get("content") for i in items[1:-1]]
    assert len(contents) == 4 and "".join(contents) == "Hello, streaming world!"
    assert items[-1]["choices"][0] == {"index": 0, "delta": {}, "logprobs": None, "finish_reason": "stop"}
    assert "usage" not in items[-1]


def test_usage_chunk_only_when_asked(mock: MockModel) -> None:
    mock.script(text("four words right here", usage=(11, 4)))
    events = sse_events(chat(mock, stream=True, stream_options={"include_usage": True}))
    items = [json.loads(e) for e in events[:-1]]
    assert all(i["usage"] is None for i in items[:-1])
    assert items[-1]["choices"] == []
    assert items[-1]["usage"] == {"prompt_tokens": 11, "completion_tokens": 4, "total_tokens": 15}


def test_non_stream_completion(mock: MockModel) -> None:
    mock.script(text("Plain answer."))
    body = json.loads(chat(mock, stream=False).read())
    assert body["object"] == "chat.completion"
    assert body["choices"][0]["message"] == {"role": "assistant", "content": "Plain answer."}
    assert body["choices"][0]["finish_reason"] == "stop"
    assert body["usage"]["total_tokens"] == body["usage"]["prompt_tokens"] + body["usage"]["completion_tokens"]


def test_tool_call_fragments_reassemble(mock: MockModel) -> None:
    arguments = json.dumps({"code": "import pandas as pd\nprint(pd.__version__)"})
    mock.script(tool_call("run_python", arguments, id="call_1", content="Let me check.", fragment=5))
    items = [json.loads(e) for e in sse_events(chat(mock, stream=True))[:-1]]
    calls = [d for i in items for d in i["choices"][0]["delta"].get("tool_calls", [])]
    assert calls[0] == {"index": 0, "id": "call_1", "type": "function", "function": {"name": "run_python", "arguments": ""}}
    fragments = [c["function"]["arguments"] for c in calls[1:]]
    assert len(fragments) == -(-len(arguments) // 5) and all(len(f) <= 5 for f in fragments)
    assert "".join(fragments) == arguments
    assert "".join(i["choices"][0]["delta"].get("content") or "" for i in items) == "Let me check."
    assert items[-1]["choices"][0]["finish_reason"] == "tool_calls"


def test_two_tool_calls_have_their_own_indexes(mock: MockModel) -> None:
    mock.script(tool_calls(Call("a", '{"x": 1}'), Call("b", '{"y": 2}')))
    items = [json.loads(e) for e in sse_events(chat(mock, stream=True))[:-1]]
    joined: dict[int, str] = {}
    for item in items:
        for delta in item["choices"][0]["delta"].get("tool_calls", []):
            joined[delta["index"]] = joined.get(delta["index"], "") + delta["function"]["arguments"]
    assert joined == {0: '{"x": 1}', 1: '{"y": 2}'}
    body = json.loads(chat(mock.script(tool_calls(Call("a", "{}"), Call("b", "{}"))), stream=False).read())
    assert [c["function"]["name"] for c in body["choices"][0]["message"]["tool_calls"]] == ["a", "b"]


@pytest.mark.parametrize("status", [401, 404, 429, 500])
def test_faults_are_openai_error_bodies(mock: MockModel, status: int) -> None:
    mock.script(fault(status))
    response = chat(mock, stream=True)
    assert response.status == status
    error = json.loads(response.read())["error"]
    assert set(error) == {"message", "type", "param", "code"}
    if status == 404:
        assert "`mock-small`" in error["message"] and error["code"] == "model_not_found"
    if status == 429:
        assert response.getheader("Retry-After") == "1"


def test_fault_repeats_then_script_continues(mock: MockModel) -> None:
    mock.script(fault(429, times=2), text("ok"))
    assert [chat(mock, stream=False).status for _ in range(3)] == [429, 429, 200]
    assert chat(mock, stream=False).status == 200  # the echo fallback


def test_fault_forever_until_reset(mock: MockModel) -> None:
    mock.script(fault(500, times=None))
    assert [chat(mock, stream=False).status for _ in range(4)] == [500] * 4
    mock.reset()
    assert chat(mock, stream=False).status == 200
    assert len(mock.requests) == 1


def test_echo_is_the_default(mock: MockModel) -> None:
    body = json.loads(chat(mock, stream=False).read())
    assert body["choices"][0]["message"]["content"].startswith("You said: **hello there**")


def test_cut_stream_drops_the_connection(mock: MockModel) -> None:
    mock.script(cut("partial answer", chunks=2))
    response = chat(mock, stream=True)
    with pytest.raises(http.client.IncompleteRead) as caught:
        response.read()
    received = caught.value.partial.decode()
    assert "partial" in received and "finish_reason\": \"stop" not in received and "[DONE]" not in received


def test_clean_cut_ends_the_body_early(mock: MockModel) -> None:
    mock.script(cut("partial answer", chunks=2, clean=True))
    events = sse_events(chat(mock, stream=True))
    assert "[DONE]" not in events
    assert all(json.loads(e)["choices"][0]["finish_reason"] is None for e in events)


def test_api_key_required_when_configured() -> None:
    with MockModel(api_key="sk-right") as mock:
        assert request(mock, "GET", "/v1/models", headers={"Authorization": "Bearer sk-wrong"}).status == 401
        assert request(mock, "GET", "/v1/models", headers={"Authorization": "Bearer sk-right"}).status == 200


def test_unknown_model_when_strict() -> None:
    with MockModel(known_models_only=True) as mock:
        response = chat(mock, stream=True, model="nope")
        assert response.status == 404
        assert "`nope`" in json.loads(response.read())["error"]["message"]


def test_requests_are_recorded(mock: MockModel) -> None:
    chat(mock, stream=False, temperature=0.5).read()
    (recorded,) = mock.chat_requests()
    assert recorded.headers["content-type"] == "application/json"
    assert recorded.body["temperature"] == 0.5


PREFLIGHT = {"Origin": "http://127.0.0.1:9999", "Access-Control-Request-Method": "POST"}


def test_preflight_echoes_requested_headers(mock: MockModel) -> None:
    response = request(mock, "OPTIONS", "/v1/chat/completions", headers={**PREFLIGHT, "Access-Control-Request-Headers": "authorization, content-type, x-stainless-os"})
    assert response.status == 204
    assert response.getheader("Access-Control-Allow-Origin") == "http://127.0.0.1:9999"
    assert "POST" in response.getheader("Access-Control-Allow-Methods")
    assert response.getheader("Access-Control-Allow-Headers") == "authorization, content-type, x-stainless-os"
    assert chat(mock, stream=False).getheader("Access-Control-Allow-Origin") == "*"


def test_preflight_refuses_matching_headers() -> None:
    with MockModel(refuse_headers=("x-stainless-*",)) as mock:
        refused = request(mock, "OPTIONS", "/v1/models", headers={**PREFLIGHT, "Access-Control-Request-Headers": "content-type, x-stainless-os"})
        allowed = request(mock, "OPTIONS", "/v1/models", headers={**PREFLIGHT, "Access-Control-Request-Headers": "content-type"})
        assert refused.getheader("Access-Control-Allow-Origin") is None and refused.status == 403
        assert allowed.getheader("Access-Control-Allow-Origin") == PREFLIGHT["Origin"]


def test_no_cors_sends_no_cors_headers() -> None:
    with MockModel(cors=False) as mock:
        preflight = request(mock, "OPTIONS", "/v1/models", headers={**PREFLIGHT, "Access-Control-Request-Headers": "content-type"})
        response = request(mock, "GET", "/v1/models", headers={"Origin": PREFLIGHT["Origin"]})
        assert preflight.getheader("Access-Control-Allow-Origin") is None
        assert response.status == 200 and response.getheader("Access-Control-Allow-Origin") is None
