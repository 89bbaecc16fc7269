"""localyst.llm against a real small model (Qwen2.5-Coder-0.5B) served by llama.cpp."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any, Iterator

import pytest

from localyst import llm
from localyst.agent._tools import TOOLS
from localyst.llm import Endpoint, Finished, TextDelta, ToolCall
from tests._models import LlamaServer

pytestmark = [pytest.mark.real_model, pytest.mark.timeout(180)]


@pytest.fixture(scope="module")
def server() -> Iterator[LlamaServer]:
    with LlamaServer("qwen-0.5b", ctx=2048) as running:
        yield running


def collect(server: LlamaServer, messages: list[dict[str, Any]], **kw: Any) -> list[Any]:
    ep = Endpoint(server.base_url, "", server.model)

    async def run() -> list[Any]:
        client = llm.make_client(ep)
        return [e async for e in llm.stream_chat(client, ep.model, messages, temperature=0, **kw)]

    return asyncio.run(run())


def test_a_streamed_completion_arrives(server: LlamaServer) -> None:
    events = collect(server, [{"role": "user", "content": "Say hello in one word."}], max_tokens=16)
    text = "".join(e.text for e in events if isinstance(e, TextDelta))
    assert text.strip()
    assert isinstance(events[-1], Finished) and events[-1].reason in ("stop", "length")


def test_what_the_model_does_with_run_python(server: LlamaServer) -> None:
    question = [{"role": "user", "content": "Use Python to compute 17*23."}]
    events = collect(server, question, tools=TOOLS, max_tokens=96)
    calls = [e for e in events if isinstance(e, ToolCall)]
    text = "".join(e.text for e in events if isinstance(e, TextDelta))
    finished = events[-1]
    print(f"\nfinish={finished!r}\ntool_calls={calls!r}\ntext={text!r}")
    assert isinstance(finished, Finished)
    if calls:
        code = json.loads(calls[0].arguments).get("code", "")
        assert calls[0].name == "run_python" and re.search(r"17\s*\*\s*23", code)
    else:
        assert re.search(r"```|<tool_call>", text) and re.search(r"17\s*\*\s*23|391", text)


def test_the_memory_check_reads_the_real_models_shape() -> None:
    from localyst.llm._gguf import memory_needed, read_shape
    from localyst.llm._inpage import MEMORY_BYTES, N_CTX
    from localyst.protocol import HEAD
    from tests._models import model_path

    path = model_path("qwen-0.5b")
    with path.open("rb") as f:
        shape = read_shape(f.read(HEAD))  # its vocabulary runs past the head: its length is enough
    assert shape is not None
    assert (shape.arch, shape.n_layer, shape.n_head, shape.n_head_kv, shape.key_length, shape.n_vocab) == ("qwen2", 24, 14, 2, 64, 151936)
    need = memory_needed(path.stat().st_size, shape, N_CTX)
    assert need.cache == 24 * N_CTX * 2 * 128 * 2  # f16 keys and values, 2 heads of 64 each, in 24 layers
    assert need.total < MEMORY_BYTES
