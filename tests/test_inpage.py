"""The in-page model's seam in CPython: the real openai SDK and the real agent loop over
InPageTransport, against a scripted stand-in for site/model-worker.js (the browser tests
run the real worker: tests/browser/test_inpage_model.py)."""

from __future__ import annotations

import asyncio
import json
import shutil
import struct
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import quote

import openai
import pytest

from localyst.agent import Agent, Limits, TurnEnded
from localyst.kernel import Kernel
from localyst.llm import IN_PAGE_URL, Endpoint, InPageModel, InPageTransport, describe, stream_chat
from localyst.llm._client import make_client
from localyst.llm._inpage import NO_MODEL, InPageFailed, wllama_messages
from localyst.protocol import HEAD
from tests._tiny_gguf import write_shape_only_gguf, write_tiny_gguf
from localyst.session import Agents
from tests.test_agent import ThreadKernel

REPO = Path(__file__).resolve().parents[1]
ENDPOINT = Endpoint(IN_PAGE_URL, model="tiny.gguf")


class ScriptedWorker:
    """Answers as model-worker.js does: each chat gets the next scripted reply, in pieces
    (``pause`` seconds apart); ``sent`` records every message the app posted."""

    def __init__(self, replies: list[str], *, kept: str = "tiny.gguf", pause: float = 0.0, raw: list[Any] | None = None,
                 head: bytes = b"GGUF", size: int = 1234) -> None:
        self.replies = list(replies)
        self.kept = kept
        self.head, self.size = head, size
        self.pause = pause
        self.raw = raw  # posted as they are, in place of a reply
        self.sent: list[dict[str, Any]] = []
        self.hear: Any = None

    def connect(self, download: str, hear: Any) -> "ScriptedWorker":
        self.hear = hear
        return self

    def post(self, message: dict[str, Any]) -> None:
        self.sent.append(message)
        kind = message["type"]
        if kind == "kept":
            self._later({"type": "kept", "name": self.kept or None, "size": self.size if self.kept else 0})
        elif kind == "head":
            self._later({"type": "head", "name": self.kept, "size": self.size, "data": self.head[: message["bytes"]]})
        elif kind == "load":
            self._later({"type": "loaded", "name": self.kept, "size": self.size, "n_ctx": message["n_ctx"], "n_ctx_train": 2048, "n_layer": 2, "threads": 2, "template": ""})
        elif kind == "chat":
            asyncio.get_running_loop().create_task(self._reply(message["id"]))

    def _later(self, data: dict[str, Any]) -> None:
        asyncio.get_running_loop().call_soon(self.hear, data)

    async def _reply(self, chat_id: int) -> None:
        if self.raw is not None:
            for data in self.raw:
                self.hear(data)
            return
        words = self.replies.pop(0).split(" ")
        for i, word in enumerate(words):
            await asyncio.sleep(self.pause)
            if any(m == {"type": "abort", "id": chat_id} for m in self.sent):
                break
            self.hear({"type": "delta", "id": chat_id, "text": word if i == 0 else " " + word})
        self.hear({"type": "done", "id": chat_id, "finish_reason": "stop", "prompt_tokens": 10, "tokens": i + 1, "first_token_ms": 1.0, "ms": 2.0})

    def close(self) -> None:
        pass

    def chats(self) -> list[dict[str, Any]]:
        return [m for m in self.sent if m["type"] == "chat"]


def client_for(worker: ScriptedWorker) -> openai.AsyncOpenAI:
    import httpx2

    transport = InPageTransport(InPageModel(worker.connect))
    return openai.AsyncOpenAI(api_key="none", base_url=IN_PAGE_URL, max_retries=0, http_client=httpx2.AsyncClient(transport=transport))


@pytest.fixture
def kernel(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> ThreadKernel:
    monkeypatch.chdir(tmp_path)
    return ThreadKernel(Kernel(data_dir=tmp_path))


def test_the_loop_runs_the_in_page_models_code_and_feeds_it_the_output(kernel: ThreadKernel) -> None:
    worker = ScriptedWorker(["Let me compute.\n```python\nprint(6 * 7)\n```", "The answer is 42."])
    history: list[dict[str, Any]] = [{"role": "user", "content": "What is six times seven?"}]
    events: list[Any] = []
    agent = Agents(kernel).agent(ENDPOINT, {"limits": Limits(), "mode": "tools", "send_images": True, "context_tokens": 100_000, "temperature": 0.2, "confirm": False}, approve=None)  # type: ignore[arg-type]
    assert agent.mode == "fenced" and not agent.send_images  # no tool calling, no vision in the page
    agent.client = client_for(worker)
    ended = asyncio.run(agent.run_turn(history, on_event=events.append))
    assert isinstance(ended, TurnEnded) and ended.reason == "answered", ended
    assert ended.message == "The answer is 42."
    first, second = worker.chats()
    assert [m["role"] for m in first["messages"]] == ["system", "user"]
    assert first["temperature"] == 0.2
    # The code's output went back to the model as text, in a role its template knows.
    assert {m["role"] for m in second["messages"]} <= {"system", "user", "assistant"}
    assert "42" in second["messages"][-1]["content"]


def test_stop_aborts_the_reply_in_the_worker() -> None:
    worker = ScriptedWorker([" ".join(["word"] * 200)], pause=0.01)

    async def go() -> list[str]:
        seen: list[str] = []
        async for event in stream_chat(client_for(worker), "tiny.gguf", [{"role": "user", "content": "talk"}]):
            seen.append(getattr(event, "text", ""))
            if len(seen) == 3:
                break  # as a cancelled turn does: the stream is closed early
        for _ in range(50):
            if any(m["type"] == "abort" for m in worker.sent):
                break
            await asyncio.sleep(0.01)
        return seen

    seen = asyncio.run(go())
    assert len(seen) == 3
    chat = worker.chats()[0]
    assert {"type": "abort", "id": chat["id"]} in worker.sent


def test_tools_are_refused_so_the_loop_asks_for_code_as_text(kernel: ThreadKernel) -> None:
    worker = ScriptedWorker(["```python\nprint(1 + 1)\n```", "Two."])
    agent = Agent(ENDPOINT, kernel, client=client_for(worker))  # a tools-mode agent, as a custom set-up might make
    ended = asyncio.run(agent.run_turn([{"role": "user", "content": "1 + 1?"}]))
    assert ended.reason == "answered" and agent.mode == "fenced"
    assert all("tools" not in m for m in worker.chats())


def test_without_a_kept_model_the_person_is_told_to_choose_one() -> None:
    worker = ScriptedWorker([], kept="")

    async def go() -> None:
        async for _event in stream_chat(client_for(worker), "", [{"role": "user", "content": "hi"}]):
            pass

    with pytest.raises(openai.BadRequestError) as caught:
        asyncio.run(go())
    problem = describe(caught.value, ENDPOINT)
    assert problem.title == "The model in this page could not answer"
    assert NO_MODEL in problem.detail
    assert not worker.chats()


def test_a_malformed_message_from_the_worker_ends_the_reply_with_a_clear_error() -> None:
    worker = ScriptedWorker([], raw=[{"type": "delta", "id": 1, "text": {"not": "text"}}])

    async def go() -> None:
        async for _event in stream_chat(client_for(worker), "tiny.gguf", [{"role": "user", "content": "hi"}]):
            pass

    with pytest.raises(openai.APIError) as caught:
        asyncio.run(go())
    assert "does not read" in describe(caught.value, ENDPOINT).detail


def test_messages_become_what_the_template_takes() -> None:
    given = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": [{"type": "text", "text": "Look:"}, {"type": "image_url", "image_url": {"url": "data:,"}}]},
        {"role": "assistant", "content": None},
        {"role": "tool", "tool_call_id": "1", "content": "Output: 3"},
        {"role": "user", "content": "And?"},
    ]
    assert wllama_messages(given) == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Look:"},
        {"role": "assistant", "content": ""},
        {"role": "user", "content": "Output: 3\n\nAnd?"},
    ]


def test_the_in_page_endpoint_never_goes_over_the_network() -> None:
    client = make_client(ENDPOINT)
    assert isinstance(client._client._transport, InPageTransport)
    assert client.max_retries == 0
    assert ENDPOINT.host == "the model in this page"


def test_a_model_too_big_for_the_tab_is_refused_before_anything_is_kept() -> None:
    from localyst.llm import MAX_MODEL_BYTES, InPageFailed

    worker = ScriptedWorker([])
    with pytest.raises(InPageFailed, match="more than the 3 GB"):
        asyncio.run(InPageModel(worker.connect).keep_file(object(), MAX_MODEL_BYTES + 1))
    assert not worker.sent


def test_the_models_shape_is_read_from_the_head_of_its_file(tmp_path: Path) -> None:
    from localyst.llm._gguf import Shape, read_shape

    head = write_tiny_gguf(tmp_path / "tiny.gguf", ["hi"], layers=3, heads=4, embedding=64).read_bytes()[:HEAD]
    shape = read_shape(head)
    assert shape == Shape("llama", n_layer=3, n_embd=64, n_head=4, n_head_kv=4, key_length=16, value_length=16, n_vocab=262)
    # A head cut anywhere, or not a GGUF file, says nothing rather than failing.
    assert {read_shape(head[:cut]) for cut in range(0, 2000, 3)} == {None, shape}
    assert read_shape(b"PK\x03\x04" + head[4:]) is None
    # A hostile length (a key of 2**63 bytes) is bounded by the bytes at hand.
    assert read_shape(b"GGUF" + struct.pack("<IQQQ", 3, 0, 1, 2**63) + b"x" * 100) is None


def test_a_model_that_will_not_fit_with_its_cache_is_refused_before_loading(tmp_path: Path) -> None:
    from localyst.llm import MAX_MODEL_BYTES

    # 2.9 GB of weights passes the file-size check, but a cache of 8,192 tokens in 80 layers
    # of 64 key/value heads (no grouped-query attention) does not fit beside it.
    big = write_shape_only_gguf(tmp_path / "big.gguf", layers=80, embedding=8192, heads=64, heads_kv=64, vocab=32000)
    worker = ScriptedWorker([], kept="big.gguf", head=big.read_bytes(), size=2_900_000_000)
    assert worker.size < MAX_MODEL_BYTES
    with pytest.raises(InPageFailed, match=r"big.gguf will not fit in this tab: .* needs about 25\.4 GB .*21\.5 GB to remember the conversation"):
        asyncio.run(InPageModel(worker.connect).load())
    assert [m["type"] for m in worker.sent] == ["head"]

    # A 3B model's shape at Q4 (grouped-query attention: 8 key/value heads of 24) fits, and loads.
    fits = write_shape_only_gguf(tmp_path / "fits.gguf", layers=28, embedding=3072, heads=24, heads_kv=8, vocab=128256)
    worker = ScriptedWorker([], kept="fits.gguf", head=fits.read_bytes(), size=2_000_000_000)
    loaded = asyncio.run(InPageModel(worker.connect).load())
    assert loaded.name == "fits.gguf"
    assert [m["type"] for m in worker.sent] == ["head", "load"]


POLICY_OF = r"""
const self = { location: new URL(process.argv[1]), addEventListener() {} };
const source = require("fs").readFileSync(process.argv[2], "utf8") + "\n;policyFor";
const policyFor = require("vm").runInNewContext(source, { self, URL });
for (const url of JSON.parse(process.argv[3])) console.log(policyFor({ mode: "cors", destination: "worker", url }));
"""


@pytest.mark.skipif(shutil.which("node") is None, reason="needs Node.js")
def test_the_model_workers_policy_lets_it_reach_only_its_own_files_and_one_download() -> None:
    site = "http://127.0.0.1:8000/"
    asked = [
        site + "model-worker.js",
        site + "model-worker.js?download=" + quote("https://models.example/tiny.gguf", safe=""),
        site + "model-worker.js?download=" + quote("https://a.example/x.gguf; script-src *", safe=""),
        site + "model-worker.js?download=" + quote("javascript:alert(1)", safe=""),
    ]
    out = subprocess.run(["node", "-e", POLICY_OF, site, str(REPO / "site" / "sw.js"), json.dumps(asked)], capture_output=True, text=True, check=True)
    plain, download, injected, other = out.stdout.strip().splitlines()
    assert "connect-src 'self' blob:;" in plain and "default-src 'none'" in plain and "worker-src blob:;" in plain
    assert "connect-src 'self' blob: https://models.example/tiny.gguf;" in download
    assert injected == plain and other == plain  # what a policy cannot hold as it is reaches nothing
