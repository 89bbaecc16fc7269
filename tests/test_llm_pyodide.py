"""localyst.llm inside real Pyodide 0.27.7 under Node, over fetch (httpx2-jsfetch), against the mock.

One Node process serves the whole module (Pyodide and the packages load once, ~7 s).
"""

from __future__ import annotations

import socket
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

from tests.pyodide_node import PyodideNode
from tools.mock_model import Call, MockModel, cut, fault, slow, text, tool_call, tool_calls

pytestmark = pytest.mark.pyodide

PACKAGES = ["ssl", "localyst"]  # the lock's depends bring openai, httpx2, httpx2-jsfetch, pydantic, jiter-pupy
FAST_RETRY = {"retry-after-ms": "10"}

PRELUDE = """
import dataclasses, time
from localyst import llm

async def chat(base_url, key="", model="mock-small", retries=2, tools=None):
    endpoint = llm.Endpoint(base_url, key, model)
    client = llm.make_client(endpoint, max_retries=retries)
    events, started = [], time.perf_counter()
    try:
        async for event in llm.stream_chat(client, model, [{"role": "user", "content": "hi"}], tools=tools):
            events.append({"type": type(event).__name__, "t": time.perf_counter() - started, **dataclasses.asdict(event)})
    except Exception as exc:
        return {"events": events, "seconds": time.perf_counter() - started, "error": type(exc).__name__,
                "problem": dataclasses.asdict(llm.describe(exc, endpoint)), "partial": getattr(exc, "partial", None)}
    return {"events": events, "seconds": time.perf_counter() - started, "error": None}

def of(result, kind):
    return [e for e in result["events"] if e["type"] == kind]
"""


@pytest.fixture(scope="module")
def node(built_site: Path) -> Iterator[PyodideNode]:
    runner = PyodideNode(built_site / "pyodide", PACKAGES)
    runner.run(PRELUDE)
    yield runner
    runner.close()


@pytest.fixture(scope="module")
def server() -> Iterator[MockModel]:
    with MockModel() as mock:
        yield mock


@pytest.fixture
def mock(server: MockModel) -> MockModel:
    server.reset()
    server.api_key = None
    return server


def chat(node: PyodideNode, base_url: str, **kw: Any) -> dict[str, Any]:
    args = "".join(f", {k}={v!r}" for k, v in kw.items())
    return node.run(f"await chat({base_url!r}{args})")


def texts(result: dict[str, Any]) -> list[str]:
    return [e["text"] for e in result["events"] if e["type"] == "TextDelta"]


def test_the_runtime_is_pyodide_with_the_pinned_stack(node: PyodideNode) -> None:
    info = node.run(
        "import sys, openai, pydantic\n"
        "{'platform': sys.platform, 'python': sys.version.split()[0], 'openai': openai.__version__,"
        " 'pydantic': pydantic.VERSION, 'transport': [c.__name__ for c in type(llm.make_client("
        "llm.Endpoint('http://127.0.0.1:9/v1'))._client._transport).__mro__]}"
    )
    assert info["platform"] == "emscripten" and info["python"] == "3.12.7"
    assert info["openai"].startswith("3.") and str(info["pydantic"]).startswith("1.10")
    assert "AsyncJavascriptFetchTransport" in info["transport"]  # httpx2-jsfetch: requests go through fetch


def test_stream_arrives_incrementally(node: PyodideNode, mock: MockModel) -> None:
    mock.script(slow("one two three four five six", delay_per_chunk=0.25, chunks=6))
    result = chat(node, mock.base_url)
    assert result["error"] is None
    deltas = [e for e in result["events"] if e["type"] == "TextDelta"]
    assert len(deltas) >= 2 and "".join(texts(result)) == "one two three four five six"
    assert result["events"][-1]["type"] == "Finished" and result["events"][-1]["reason"] == "stop"
    spread = deltas[-1]["t"] - deltas[0]["t"]
    assert spread >= 0.9, f"chunks were not delivered as they came (first to last: {spread:.2f} s)"


def test_a_stream_closed_early_ends_its_request_at_the_server(node: PyodideNode, mock: MockModel) -> None:
    """Stop closes the stream: the server must see the connection end, or a local model
    server goes on generating (and, with one slot, refuses the next request) for minutes."""
    mock.script(slow(" ".join(f"w{i}" for i in range(40)), delay_per_chunk=0.1, chunks=40))
    got = node.run(
        "async def first_two():\n"
        "    endpoint = llm.Endpoint(BASE, '', 'mock-small')\n"
        "    events = llm.stream_chat(llm.make_client(endpoint), 'mock-small', [{'role': 'user', 'content': 'hi'}])\n"
        "    texts = []\n"
        "    async for event in events:\n"
        "        if type(event).__name__ == 'TextDelta':\n"
        "            texts.append(event.text)\n"
        "            if len(texts) == 2:\n"
        "                break\n"
        "    await events.aclose()\n"
        "    return texts\n"
        "await first_two()".replace("BASE", repr(mock.base_url))
    )
    assert len(got) == 2
    deadline = time.monotonic() + 3  # 30 more chunks would take 3 s: the server notices far sooner
    while not mock.abandoned and time.monotonic() < deadline:
        time.sleep(0.05)
    assert mock.abandoned, "the server wrote the whole stream: closing it did not end the request"
    sent, total = mock.abandoned[0]
    assert sent < total - 10, mock.abandoned


def test_tool_call_deltas_assemble(node: PyodideNode, mock: MockModel) -> None:
    arguments = '{"code": "import numpy as np\\nprint(np.arange(3))"}'
    mock.script(tool_call("run_python", arguments, id="call_1", fragment=3))
    result = chat(node, mock.base_url)
    growing = [e["arguments"] for e in result["events"] if e["type"] == "ToolCallDelta"]
    assert len(growing) > 5 and growing[-1] == arguments
    calls = [e for e in result["events"] if e["type"] == "ToolCall"]
    assert calls == [{"type": "ToolCall", "t": calls[0]["t"], "id": "call_1", "name": "run_python", "arguments": arguments}]
    assert result["events"][-1]["reason"] == "tool_calls"


def test_two_tool_calls_and_usage(node: PyodideNode, mock: MockModel) -> None:
    mock.script(tool_calls(Call("a", '{"x": 1}', "c1"), Call("b", '{"y": 2}', "c2"), content="Both:", usage=(7, 3)))
    result = chat(node, mock.base_url)
    assert [(e["id"], e["arguments"]) for e in result["events"] if e["type"] == "ToolCall"] == [("c1", '{"x": 1}'), ("c2", '{"y": 2}')]
    assert [(e["prompt"], e["completion"], e["total"]) for e in result["events"] if e["type"] == "Usage"] == [(7, 3, 10)]


def test_stream_options_rejected_falls_back(node: PyodideNode, mock: MockModel) -> None:
    mock.script(fault(400, "Unrecognized request argument supplied: stream_options"), text("no usage here"))
    result = chat(node, mock.base_url)
    assert result["error"] is None and "".join(texts(result)) == "no usage here"
    assert not [e for e in result["events"] if e["type"] == "Usage"]


def test_only_plain_headers_leave(node: PyodideNode, mock: MockModel) -> None:
    mock.script(text("ok"))
    chat(node, mock.base_url)
    node.run(f"await llm.list_models(llm.make_client(llm.Endpoint({mock.base_url!r})))")
    for request in mock.requests:
        assert not [h for h in request.headers if h.startswith("x-stainless-")], request.headers
        assert "authorization" not in request.headers


def test_list_models_and_test_connection(node: PyodideNode, mock: MockModel) -> None:
    assert node.run(f"await llm.list_models(llm.make_client(llm.Endpoint({mock.base_url!r})))") == ["mock-small", "mock-large"]
    assert "2 models" in node.run(f"await llm.test_connection(llm.Endpoint({mock.base_url!r}))")


def test_wrong_key(node: PyodideNode, mock: MockModel) -> None:
    mock.api_key = "sk-right"
    result = chat(node, mock.base_url, key="sk-wrong-key-123")
    assert result["error"] == "AuthenticationError" and result["problem"]["title"] == "Wrong API key"
    assert "sk-wrong-key-123" not in str(result["problem"])


def test_model_not_found(node: PyodideNode, mock: MockModel) -> None:
    mock.script(fault(404))
    result = chat(node, mock.base_url, model="nope")
    assert result["error"] == "NotFoundError" and result["problem"]["title"] == "Model not found"


def test_rate_limit_retried_honouring_retry_after(node: PyodideNode, mock: MockModel) -> None:
    mock.script(fault(429, times=2), text("finally"))
    result = chat(node, mock.base_url)
    assert result["error"] is None and "".join(texts(result)) == "finally"
    assert len(mock.chat_requests()) == 3 and result["seconds"] >= 1.9


def test_rate_limit_forever(node: PyodideNode, mock: MockModel) -> None:
    mock.script(fault(429, times=None, headers=FAST_RETRY))
    result = chat(node, mock.base_url)
    assert result["error"] == "RateLimitError" and result["problem"]["title"] == "Rate limited"
    assert len(mock.chat_requests()) == 3


def test_server_error(node: PyodideNode, mock: MockModel) -> None:
    mock.script(fault(500, times=None, headers=FAST_RETRY))
    result = chat(node, mock.base_url)
    assert result["error"] == "InternalServerError" and result["problem"]["title"] == "The model server had an error"


@pytest.mark.parametrize("clean", [False, True], ids=["dropped", "ended-early"])
def test_cut_stream(node: PyodideNode, mock: MockModel, clean: bool) -> None:
    mock.script(cut("Half an answer", chunks=3, clean=clean))
    result = chat(node, mock.base_url)
    assert result["error"] == "StreamCut" and result["partial"] == "Half an answer"
    assert result["problem"]["title"] == "The answer was cut off"


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}/v1"


def test_unreachable(node: PyodideNode) -> None:
    result = chat(node, closed_port_url(), retries=0)
    assert result["error"] == "APIConnectionError" and result["problem"]["title"] == "Cannot reach the endpoint"


def test_no_cors_probe_tells_a_live_server_from_a_dead_one(node: PyodideNode, mock: MockModel) -> None:
    """The probe behind the CORS diagnosis: a no-cors fetch resolves only if something answers."""
    probe = "from localyst.llm._browser import server_answers\n[await server_answers({!r}), await server_answers({!r})]"
    assert node.run(probe.format(mock.base_url, closed_port_url())) == [True, False]
