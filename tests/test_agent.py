"""localyst.agent in CPython: the real openai SDK over real HTTP to the mock model, and the
real kernel (in a thread, as it runs in its own worker in the browser)."""

from __future__ import annotations

import asyncio
import ctypes
import json
import threading
import time
from typing import Any, Iterator

import pytest

from localyst.agent import (
    Agent,
    AssistantText,
    CodeDelta,
    CodeFinished,
    CodeStarted,
    Environment,
    KernelOutput,
    Limits,
    Notice,
    RequestSent,
    TurnEnded,
    UsageReport,
    estimate_tokens,
    scan_files,
)
from localyst.agent import _environment
from localyst.agent._context import DROPPED, TRIMMED_NOTICE
from localyst.agent._loop import UNCOMPUTED_NOTICE
from localyst.agent._messages import CANCELLED_NOTE, SAME_ERROR_NOTE, STOPPED_NOTE
from localyst.agent._tools import partial_code
from localyst.kernel import Kernel
from localyst.llm import Endpoint
from tools.mock_model import Call, MockModel, fault, slow, text, tool_call, tool_calls

ASK = [{"role": "user", "content": "What is in my data?"}]


class ThreadKernel:
    """The KernelLike seam over the real kernel, which runs each cell in a worker thread.

    interrupt() raises KeyboardInterrupt in that thread, as Pyodide's interrupt buffer
    does in the kernel worker: the cell sees it at its next bytecode.
    """

    def __init__(self, kernel: Kernel) -> None:
        self.kernel = kernel
        self.interrupts = 0
        self._thread: int | None = None

    async def run(self, code: str, on_output: Any = None) -> dict[str, Any]:
        loop = asyncio.get_running_loop()

        def forward(output: Any) -> None:
            if on_output is not None:
                loop.call_soon_threadsafe(on_output, output.as_dict())

        def work() -> dict[str, Any]:
            self._thread = threading.get_ident()
            try:
                return self.kernel.run(code, on_output=forward).as_dict()
            finally:
                self._thread = None

        return await loop.run_in_executor(None, work)

    async def scan_files(self, limits: dict[str, int]) -> list[dict[str, Any]]:
        """The bridge's scan-files answer, from the same intake code, in this process."""
        from localyst.kernel.core import _intake

        return _intake.scan(self.kernel.data_dir, **limits)

    def interrupt(self) -> None:
        self.interrupts += 1
        if self._thread is not None:
            ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(self._thread), ctypes.py_object(KeyboardInterrupt))


@pytest.fixture
def mock() -> Iterator[MockModel]:
    with MockModel() as server:
        yield server


@pytest.fixture
def kernel(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> ThreadKernel:
    monkeypatch.chdir(tmp_path)  # the kernel moves into its data folder; this moves back after
    return ThreadKernel(Kernel(data_dir=tmp_path))


def make_agent(mock: MockModel, kernel: ThreadKernel, **kw: Any) -> Agent:
    return Agent(Endpoint(mock.base_url, model="mock-small"), kernel, **kw)


def turn(mock: MockModel, kernel: ThreadKernel, history: list[dict[str, Any]] | None = None, *, environment: Environment = Environment(), **kw: Any) -> tuple[TurnEnded, list[Any], list[dict[str, Any]]]:
    history = list(ASK) if history is None else history
    events: list[Any] = []

    async def go() -> TurnEnded:
        return await make_agent(mock, kernel, **kw).run_turn(history, environment, events.append)

    return asyncio.run(go()), events, history


def sent(mock: MockModel, index: int) -> list[dict[str, Any]]:
    return mock.chat_requests()[index].body["messages"]


def code(source: str) -> str:
    return json.dumps({"code": source})


def of(kind: type, events: list[Any]) -> list[Any]:
    return [e for e in events if isinstance(e, kind)]


def assert_valid(history: list[dict[str, Any]]) -> None:
    """Every assistant message with tool_calls is followed by one tool message per call."""
    for i, message in enumerate(history):
        ids = [c["id"] for c in message.get("tool_calls") or []]
        if ids:
            following = [m["tool_call_id"] for m in history[i + 1 : i + 1 + len(ids)] if m["role"] == "tool"]
            assert following == ids, history


# ---------------------------------------------------------------- the loop


def test_error_then_fix_then_answer(mock: MockModel, kernel: ThreadKernel) -> None:
    mock.script(
        tool_call("run_python", code("print(totl)"), id="call_1"),
        tool_call("run_python", code("total = 40 + 2\nprint(total)"), id="call_2"),
        text("The total is **42**."),
    )
    ended, events, history = turn(mock, kernel)
    assert ended == TurnEnded("answered", "The total is **42**.")
    assert events[-1] == ended
    first, second, third = sent(mock, 0), sent(mock, 1), sent(mock, 2)
    assert first[0]["role"] == "system" and first[1:] == ASK
    assert mock.chat_requests()[0].body["tools"][0]["function"]["name"] == "run_python"
    assert second[-2] == {
        "role": "assistant",
        "content": None,
        "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "run_python", "arguments": code("print(totl)")}}],
    }
    assert second[-1]["role"] == "tool" and second[-1]["tool_call_id"] == "call_1"
    assert "NameError" in second[-1]["content"] and "Traceback" in second[-1]["content"]
    assert third[-1] == {"role": "tool", "tool_call_id": "call_2", "content": "42"}
    assert history[-1] == {"role": "assistant", "content": "The total is **42**."}
    assert [type(e).__name__ for e in events if isinstance(e, (RequestSent, CodeStarted, CodeFinished, TurnEnded))] == [
        "RequestSent", "CodeStarted", "CodeFinished", "RequestSent", "CodeStarted", "CodeFinished", "RequestSent", "TurnEnded",
    ]
    finished = of(CodeFinished, events)
    assert finished[0].result["error"]["ename"] == "NameError" and finished[1].result["error"] is None
    assert [e.output["text"] for e in of(KernelOutput, events)] == ["42\n"]
    assert of(RequestSent, events)[1].messages == second
    assert len(of(UsageReport, events)) == 3 and all(u.total > 0 for u in of(UsageReport, events))


def test_an_answer_without_code(mock: MockModel, kernel: ThreadKernel) -> None:
    mock.script(text("Hello! Add a file and ask away.", chunks=4))
    ended, events, history = turn(mock, kernel)
    assert ended.reason == "answered" and ended.message == "Hello! Add a file and ask away."
    assert "".join(e.delta for e in of(AssistantText, events)) == ended.message
    assert len(of(AssistantText, events)) == 4
    assert len(mock.chat_requests()) == 1 and not of(CodeStarted, events)
    assert history == ASK + [{"role": "assistant", "content": ended.message}]


def test_code_streams_in_as_the_model_writes_it(mock: MockModel, kernel: ThreadKernel) -> None:
    source = 'import math\nprint("r = \\"%.3f\\"" % math.pi)\nfor i in range(3):\n    print(i)'
    mock.script(tool_call("run_python", code(source), id="call_s", fragment=3), text("Done."))
    ended, events, _ = turn(mock, kernel)
    deltas = of(CodeDelta, events)
    assert len(deltas) > 10
    assert all(d.cell_id == "cell-1-0" for d in deltas)  # the loop's own name for the cell
    assert all(b.code.startswith(a.code) and len(b.code) > len(a.code) for a, b in zip(deltas, deltas[1:]))
    assert deltas[-1].code == source
    assert events.index(deltas[-1]) < events.index(of(CodeStarted, events)[0])
    assert of(CodeStarted, events)[0].code == source
    assert ended.reason == "answered"


def test_partial_code_never_shows_half_an_escape() -> None:
    arguments = json.dumps({"code": 'print("caf\u00e9\\n")'}, ensure_ascii=True)
    seen = [partial_code(arguments[:i]) for i in range(len(arguments) + 1)]
    shown = [s for s in seen if s is not None]
    assert shown[-1] == 'print("café\\n")'
    assert all(b.startswith(a) for a, b in zip(shown, shown[1:]))
    assert "\\u" not in "".join(shown)


def test_two_tool_calls_run_in_order(mock: MockModel, kernel: ThreadKernel) -> None:
    mock.script(
        tool_calls(Call("run_python", code("x = 20\nprint('first')"), "c1"), Call("run_python", code("print('second', x + 1)"), "c2")),
        text("x + 1 is 21."),
    )
    ended, events, history = turn(mock, kernel)
    assert [e.cell_id for e in of(CodeStarted, events)] == ["cell-1-0", "cell-1-1"]
    second = sent(mock, 1)
    assert [c["id"] for c in second[-3]["tool_calls"]] == ["c1", "c2"]
    assert second[-2:] == [
        {"role": "tool", "tool_call_id": "c1", "content": "first"},
        {"role": "tool", "tool_call_id": "c2", "content": "second 21"},
    ]
    assert ended.reason == "answered"
    assert_valid(history)


def test_the_same_error_twice_is_pointed_out(mock: MockModel, kernel: ThreadKernel) -> None:
    mock.script(
        tool_call("run_python", code("1 / 0"), id="a"),
        tool_call("run_python", code("print(1 / 0)"), id="b"),
        text("Division by zero is undefined."),
    )
    ended, events, _ = turn(mock, kernel)
    first_result, second_result = sent(mock, 1)[-1]["content"], sent(mock, 2)[-1]["content"]
    assert "ZeroDivisionError" in first_result and SAME_ERROR_NOTE not in first_result
    assert "ZeroDivisionError" in second_result and second_result.endswith(SAME_ERROR_NOTE)
    assert len([n for n in of(Notice, events) if "same error" in n.text]) == 1
    assert ended.reason == "answered"


# ---------------------------------------------------------------- the budget


def test_step_limit(mock: MockModel, kernel: ThreadKernel) -> None:
    mock.script(*(tool_call("run_python", code(f"print({n})")) for n in range(3)), text("never asked"))
    ended, _, history = turn(mock, kernel, limits=Limits(max_steps=2))
    assert ended.reason == "step_limit"
    assert "2 model requests" in ended.message and "limit is 2" in ended.message
    assert len(mock.chat_requests()) == 2
    assert history[-1]["role"] == "tool" and history[-1]["content"] == "1"
    assert_valid(history)


def test_failure_limit(mock: MockModel, kernel: ThreadKernel) -> None:
    mock.script(
        tool_call("run_python", code("import nosuchmodule")),
        tool_call("run_python", code("int('x')")),
        tool_call("run_python", code("[][1]")),
        text("never asked"),
    )
    ended, _, _ = turn(mock, kernel)  # the default: 3 failures in a row
    assert ended.reason == "failure_limit"
    assert "3 failed attempts in a row" in ended.message and "IndexError: list index out of range" in ended.message
    assert len(mock.chat_requests()) == 3


def test_a_success_resets_the_failure_count(mock: MockModel, kernel: ThreadKernel) -> None:
    mock.script(
        tool_call("run_python", code("int('x')")),
        tool_call("run_python", code("print('ok')")),
        tool_call("run_python", code("[][1]")),
        text("Answer."),
    )
    ended, _, _ = turn(mock, kernel, limits=Limits(max_failures=2))
    assert ended.reason == "answered"


def test_token_limit(mock: MockModel, kernel: ThreadKernel) -> None:
    mock.script(
        tool_call("run_python", code("print('big')"), usage=(150_000, 60_000)),
        text("never asked"),
    )
    ended, events, history = turn(mock, kernel)
    assert ended.reason == "token_limit"
    assert "210,000 tokens" in ended.message and "200,000" in ended.message
    assert of(UsageReport, events) == [UsageReport(150_000, 60_000, 210_000, False)]
    assert len(mock.chat_requests()) == 1 and history[-1]["content"] == "big"


def test_tokens_are_estimated_when_the_endpoint_reports_none(mock: MockModel, kernel: ThreadKernel) -> None:
    # The endpoint refuses stream_options, so the client asks again without usage.
    mock.script(fault(400, "Unrecognized request argument supplied: stream_options"), tool_call("run_python", code("print(1)")))
    ended, events, _ = turn(mock, kernel, limits=Limits(max_tokens=300))
    [usage] = of(UsageReport, events)
    prompt = sent(mock, 1)
    assert usage.estimated and usage.prompt == estimate_tokens(prompt) and usage.total > 300
    assert ended.reason == "token_limit"


def test_calls_that_cannot_run_are_explained_and_count_as_failures(mock: MockModel, kernel: ThreadKernel) -> None:
    mock.script(
        tool_call("python", code("print(1)"), id="wrong_name"),
        tool_call("run_python", '{"code": "print(1)', id="cut_json"),
        text("never asked"),
    )
    ended, events, history = turn(mock, kernel, limits=Limits(max_failures=2))
    assert history[2] == {"role": "tool", "tool_call_id": "wrong_name", "content": "There is no tool `python`; the only tool is run_python."}
    assert history[4]["tool_call_id"] == "cut_json" and "not JSON" in history[4]["content"]
    assert not of(CodeStarted, events)
    assert ended.reason == "failure_limit" and len(mock.chat_requests()) == 2


def test_confirm_before_running_runs_what_is_approved_and_tells_the_model_of_a_refusal(mock: MockModel, kernel: ThreadKernel) -> None:
    mock.script(
        tool_calls(Call("run_python", code("print('allowed')"), id="ok"), Call("run_python", code("print('refused')"), id="no")),
        text("One ran."),
    )
    asked: list[tuple[str, str]] = []

    async def approve(cell_id: str, source: str) -> bool:
        asked.append((cell_id, source))
        return "allowed" in source

    ended, events, history = turn(mock, kernel, approve=approve)
    assert [source for _, source in asked] == ["print('allowed')", "print('refused')"]
    assert [e.code for e in of(CodeStarted, events)] == ["print('allowed')"]
    assert history[2]["content"].strip() == "allowed"
    assert history[3]["tool_call_id"] == "no" and "chose not to run this code" in history[3]["content"]
    assert any("you declined it" in n.text for n in of(Notice, events))
    assert ended.message == "One ran."

    mock.reset()
    mock.script(text("```python\nprint('fenced refused')\n```"), text("Fine."))
    ended, events, history = turn(mock, kernel, mode="fenced", approve=approve)
    assert not of(CodeStarted, events) and "chose not to run this code" in sent(mock, 1)[-1]["content"]
    assert ended.message == "Fine."


# ---------------------------------------------------------------- endpoints without tools


def test_fenced_fallback_when_the_endpoint_rejects_tools(mock: MockModel, kernel: ThreadKernel) -> None:
    mock.script(
        fault(400, "tools are not supported by this model"),
        text("Let me compute.\n\n```python\nprint(6 * 7)\n```\n", chunks=2),
        text("It is 42."),
    )
    history = list(ASK)
    events: list[Any] = []

    async def go() -> tuple[Agent, TurnEnded]:
        agent = make_agent(mock, kernel)
        return agent, await agent.run_turn(history, Environment(), events.append)

    agent, ended = asyncio.run(go())
    requests = mock.chat_requests()
    assert "tools" in requests[0].body and "tools" not in requests[1].body and "tools" not in requests[2].body
    assert "```python" in requests[1].body["messages"][0]["content"]
    assert requests[2].body["messages"][-1] == {"role": "user", "content": "Output of the code above:\n\n42"}
    assert of(CodeStarted, events)[0].source == "fenced" and of(CodeStarted, events)[0].code == "print(6 * 7)\n"
    assert any("does not accept tools" in n.text for n in of(Notice, events))
    assert ended == TurnEnded("answered", "It is 42.")
    assert agent.mode == "fenced"


def test_fenced_mode_by_setting_runs_blocks_until_a_reply_has_none(mock: MockModel, kernel: ThreadKernel) -> None:
    mock.script(
        text("```python\nimport nosuchmodule\n```\n\n```python\nprint('never')\n```"),
        text("```py\nprint(sum(range(5)))\n```"),
        text("The sum is 10."),
    )
    old = [
        {"role": "user", "content": "earlier"},
        {"role": "assistant", "content": None, "tool_calls": [{"id": "t", "type": "function", "function": {"name": "run_python", "arguments": code("print(1)")}}]},
        {"role": "tool", "tool_call_id": "t", "content": "1"},
        {"role": "assistant", "content": "One."},
    ]
    ended, events, _ = turn(mock, kernel, old + ASK, mode="fenced")
    assert ended.message == "The sum is 10."
    assert all("tools" not in r.body for r in mock.chat_requests())
    first = sent(mock, 0)
    assert first[2] == {"role": "assistant", "content": "```python\nprint(1)\n```"}  # earlier tool calls, as text
    assert first[3] == {"role": "user", "content": "Output of the code above:\n\n1"}
    failed = sent(mock, 1)[-1]["content"]
    assert "ModuleNotFoundError" in failed and "1 block(s) after it were not run" in failed and "never" not in failed
    assert sent(mock, 2)[-1]["content"].endswith("10")
    assert [e.code for e in of(CodeStarted, events)] == ["import nosuchmodule\n", "print(sum(range(5)))\n"]


# ---------------------------------------------------------------- small local models


# What small models were seen to write instead of a tool call (llama.cpp's server with
# Qwen2.5-Coder's stock template): the call as JSON in a block, Qwen's own markup that the
# server's parser missed, a triple-quoted "code", and a plain python block.
TEXT_CALLS = {
    "json block": '```json\n{"name": "run_python", "arguments": {"code": "print(17 * 23)"}}\n```',
    "arguments as a string": '```\n{"name": "run_python", "arguments": "{\\"code\\": \\"print(17 * 23)\\"}"}\n```',
    "function wrapper, raw newline": '```json\n{"function": {"name": "run_python", "parameters": {"code": "x = 17\nprint(x * 23)"}}}\n```',
    "tool_call markup": 'I will compute it.\n<tool_call>\n{"name": "run_python", "arguments": {"code": "print(17 * 23)"}}\n</tool_call>',
    "triple-quoted code": '```json\n{"name": "run_python", "arguments": {"code": """\nprint(17 * 23)\n"""}}\n```',
    "the whole reply, function as name": '{\n  "function": "run_python",\n  "arguments": {\n    "code": "print(17 * 23)"\n  }\n}',
    "python block": "Let me compute.\n\n```python\nprint(17 * 23)\n```",
}


@pytest.mark.parametrize("form", list(TEXT_CALLS))
def test_a_call_written_as_text_runs_as_that_call(mock: MockModel, kernel: ThreadKernel, form: str) -> None:
    mock.script(text(TEXT_CALLS[form]), text("17 × 23 = 391."))
    ended, events, history = turn(mock, kernel)
    assert ended == TurnEnded("answered", "17 × 23 = 391.")
    started = of(CodeStarted, events)
    assert len(started) == 1 and "23" in started[0].code
    assert started[0].source == ("fenced" if form == "python block" else "tool")  # a call's code is not in the text
    notices = [n.text for n in of(Notice, events)]
    assert notices == ["The model wrote its code as a ```python block rather than as a tool call; it was run as that call."
                       if form == "python block" else
                       "The model wrote its run_python call as text rather than as a tool call; it was run as that call."]
    # The model is answered in the form it used: its text stays text, the output is the next message.
    assert history[1] == {"role": "assistant", "content": TEXT_CALLS[form]}
    assert history[2] == {"role": "user", "content": "Output of the code above:\n\n391"}
    assert "tools" in mock.chat_requests()[1].body  # still tools mode: the next reply may call the tool
    assert_valid(history)


def test_a_call_as_text_for_another_tool_or_a_json_answer_is_just_text(mock: MockModel, kernel: ThreadKernel) -> None:
    answer = 'The totals:\n```json\n{"north": 391, "south": 12}\n```\n```json\n{"name": "search", "arguments": {"q": "x"}}\n```'
    mock.script(text(answer))
    ended, events, _ = turn(mock, kernel)
    assert ended == TurnEnded("answered", answer) and not of(CodeStarted, events)


def test_an_unreadable_call_written_as_text_is_reported_to_the_model(mock: MockModel, kernel: ThreadKernel) -> None:
    mock.script(text('```json\n{"name": "run_python", "arguments": {"code": print(1)}}\n```'), text("Sorry."))
    ended, events, history = turn(mock, kernel)
    assert not of(CodeStarted, events) and ended.message == "Sorry."
    assert "could not be read, so nothing ran" in history[2]["content"] and history[2]["role"] == "user"
    assert any("could not be read" in n.text for n in of(Notice, events))


def test_a_tool_call_cut_off_by_the_output_limit_is_reported_not_dropped(mock: MockModel, kernel: ThreadKernel) -> None:
    mock.script(
        tool_calls(Call("run_python", '{"code": "import pandas as pd\\nprint(', id="c1"), finish="length"),
        tool_call("run_python", code("print(2)"), id="c2"),
        text("Two."),
    )
    ended, events, history = turn(mock, kernel)
    assert ended.message == "Two."
    assert [e.code for e in of(CodeStarted, events)] == ["print(2)"]  # the cut-off code never ran
    assert history[2]["tool_call_id"] == "c1" and "cut off by the output token limit" in history[2]["content"]
    assert any("cut off by its output limit in the middle of code" in n.text for n in of(Notice, events))
    assert_valid(history)


@pytest.mark.parametrize("mode", ["tools", "fenced"])
def test_code_in_text_cut_off_by_the_output_limit_is_reported_not_run(mock: MockModel, kernel: ThreadKernel, mode: str) -> None:
    mock.script(text("First:\n```python\nprint(1)\n```\nThen:\n```python\nprint(2)\nfor", finish="length"), text("Done."))
    ended, events, history = turn(mock, kernel, mode=mode)
    assert [e.code for e in of(CodeStarted, events)] == ["print(1)\n"]  # the complete block ran, the cut one did not
    assert ended.message == "Done."
    mock.reset()
    mock.script(text('```json\n{"name": "run_python", "arguments": {"code": "print(', finish="length"), text("Short now."))
    ended, events, history = turn(mock, kernel)
    assert not of(CodeStarted, events) and "cut off by the output token limit" in history[2]["content"]


def test_an_answer_cut_off_by_the_output_limit_is_said_to_be(mock: MockModel, kernel: ThreadKernel) -> None:
    mock.script(text("The mean is 4.2 and the", finish="length"))
    ended, events, _ = turn(mock, kernel)
    assert ended == TurnEnded("answered", "The mean is 4.2 and the")
    assert [n.text for n in of(Notice, events)] == ["The model's answer was cut off by its output limit."]


def test_the_temperature_is_sent_and_dropped_for_an_endpoint_that_refuses_it(mock: MockModel, kernel: ThreadKernel) -> None:
    mock.script(text("Hi."))
    turn(mock, kernel, temperature=0.2)
    assert mock.chat_requests()[0].body["temperature"] == 0.2
    mock.reset()
    mock.script(text("Hi."))
    turn(mock, kernel)
    assert "temperature" not in mock.chat_requests()[0].body  # none set: none sent
    mock.reset()
    refusal = "Unsupported value: 'temperature' does not support 0.2 with this model. Only the default (1) value is supported."
    mock.script(fault(400, refusal), text("Hi."), text("Again."))

    async def go() -> tuple[Agent, list[Any]]:
        agent = make_agent(mock, kernel, temperature=0.2)
        events: list[Any] = []
        await agent.run_turn(list(ASK), Environment(), events.append)
        await agent.run_turn(list(ASK), Environment(), events.append)
        return agent, events

    agent, events = asyncio.run(go())
    bodies = [r.body for r in mock.chat_requests()]
    assert [("temperature" in b) for b in bodies] == [True, False, False] and agent.temperature is None
    assert sum("does not take a temperature" in n.text for n in of(Notice, events)) == 1


# ---------------------------------------------------------------- stopping


def test_stop_while_the_model_streams(mock: MockModel, kernel: ThreadKernel) -> None:
    mock.script(slow("one two three four five six seven eight", delay_per_chunk=0.4, chunks=8))
    history = list(ASK)
    events: list[Any] = []
    closed: list[bool] = []

    async def go() -> None:
        agent = make_agent(mock, kernel)

        async def watch(response: Any) -> None:  # record when the SDK's response is closed
            close = response.aclose

            async def aclose() -> None:
                closed.append(True)
                await close()

            response.aclose = aclose

        agent.client._client.event_hooks["response"].append(watch)
        task = asyncio.ensure_future(agent.run_turn(history, Environment(), events.append))
        while not of(AssistantText, events):
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    start = time.perf_counter()
    asyncio.run(go())
    assert time.perf_counter() - start < 2.0  # the rest of the slow stream was not waited for
    assert events[-1] == TurnEnded("stopped", "Stopped by the person.")
    assert closed
    assert history[-1]["role"] == "assistant" and history[-1]["content"].startswith("one")
    assert "eight" not in history[-1]["content"]


def test_stop_while_a_cell_runs(mock: MockModel, kernel: ThreadKernel) -> None:
    slow_cell = "import time\nprint('started')\nfor _ in range(500):\n    time.sleep(0.01)"  # 5 s unless interrupted
    mock.script(
        tool_calls(Call("run_python", code(slow_cell), "busy"), Call("run_python", code("print('not run')"), "next")),
        text("Fine, stopped."),
    )
    history = list(ASK)
    events: list[Any] = []

    async def go() -> None:
        task = asyncio.ensure_future(make_agent(mock, kernel).run_turn(history, Environment(), events.append))
        while not of(KernelOutput, events):
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(go())
    assert kernel.interrupts == 1
    assert events[-1].reason == "stopped"
    finished = of(CodeFinished, events)
    assert [f.cell_id for f in finished] == ["cell-1-0"] and finished[0].result["error"]["ename"] == "KeyboardInterrupt"
    assert history[-2]["tool_call_id"] == "busy" and "started" in history[-2]["content"] and STOPPED_NOTE in history[-2]["content"]
    assert history[-1] == {"role": "tool", "tool_call_id": "next", "content": CANCELLED_NOTE}
    assert_valid(history)

    history.append({"role": "user", "content": "Why did it stop?"})
    ended, _, _ = turn(mock, kernel, history)  # the kept history is a valid next request
    assert ended.reason == "answered"
    assert sent(mock, 1)[1:-1] == history[:-2] and sent(mock, 1)[-1] == {"role": "user", "content": "Why did it stop?"}


# ---------------------------------------------------------------- what the model sees


def test_file_preview_goes_to_the_model_but_not_the_whole_file(mock: MockModel, kernel: ThreadKernel, tmp_path: Any) -> None:
    rows = "\n".join(f"r{i:04d},{i * 3},{'north' if i % 2 else 'south'}" for i in range(1000))
    (tmp_path / "sales.csv").write_text("order_id,amount,region\n" + rows + "\n")
    (tmp_path / "outputs" / "old.png").write_bytes(b"not listed")
    mock.script(text("You have one file."))

    async def scan() -> Any:
        return await scan_files(kernel)

    files = asyncio.run(scan())
    assert [f.path for f in files] == ["sales.csv"] and files[0].rows == 1000
    ended, _, _ = turn(mock, kernel, environment=Environment(packages=("numpy", "pandas"), files=files))
    prompt = sent(mock, 0)[0]["content"]
    assert "sales.csv" in prompt and "1,000 rows × 3 columns" in prompt
    assert "order_id" in prompt and "amount (int64)" in prompt and "region" in prompt
    assert "r0000" in prompt and "r0004" in prompt
    assert "r0005" not in prompt and "r0500" not in prompt
    assert "numpy, pandas" in prompt and "no network access" in prompt
    assert "__localyst" not in " ".join(kernel.kernel.namespace)  # the scan leaves nothing behind


@pytest.mark.parametrize("name", ["trips.csv", "trips.parquet"])
def test_a_big_file_reaches_the_model_with_its_size_and_a_chunked_recipe(
    mock: MockModel, kernel: ThreadKernel, tmp_path: Any, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    import pandas as pd

    frame = pd.DataFrame({"zone": [i % 7 for i in range(5000)], "fare": [i * 0.5 for i in range(5000)]})
    frame.to_parquet(tmp_path / name) if name.endswith(".parquet") else frame.to_csv(tmp_path / name, index=False)
    (tmp_path / "small.txt").write_text("a note")
    big = (tmp_path / name).stat().st_size
    monkeypatch.setattr(_environment, "STREAM_ABOVE_BYTES", big - 1)  # the real one is 500 MB
    files = asyncio.run(scan_files(kernel))
    mock.script(text("Noted."))
    turn(mock, kernel, environment=Environment(files=files))
    prompt = sent(mock, 0)[0]["content"]
    entry, small = (prompt.split(f"- {file} (")[1].split("\n- ")[0] for file in (name, "small.txt"))
    assert f"this file is {_environment.size_text(big)}: reading it whole may not fit" in entry
    recipe = f"pd.read_csv({name!r}, chunksize=" if name.endswith(".csv") else f"ParquetFile({name!r}).iter_batches("
    assert recipe in entry
    assert "Read it in chunks" not in small and "zone (int64)" in prompt


def test_a_later_turn_does_not_send_the_figures_of_earlier_ones_again(mock: MockModel, kernel: ThreadKernel) -> None:
    plot = "import matplotlib.pyplot as plt\nplt.plot([1, 3, 2])\nplt.show()"
    mock.script(tool_call("run_python", code(plot), id="p"), text("A peak in the middle."))
    _, _, history = turn(mock, kernel, send_images=True)
    kept = json.dumps(history)
    history.append({"role": "user", "content": "And the mean?"})
    mock.script(text("It is 2."))
    turn(mock, kernel, history, send_images=True)
    later = json.dumps(sent(mock, 2))
    assert "image_url" not in later and "1 figure(s) of an earlier turn, not sent again" in later
    assert "image_url" in json.dumps(sent(mock, 1)), "the turn that drew the figure still sends it"
    assert json.dumps(history[: len(json.loads(kept))]) == kept, "the history itself changed"


@pytest.mark.parametrize("send_images", [True, False])
def test_figures_go_back_as_images_only_when_asked(mock: MockModel, kernel: ThreadKernel, send_images: bool) -> None:
    plot = "import matplotlib.pyplot as plt\nplt.plot([1, 3, 2])\nplt.show()"
    mock.script(tool_call("run_python", code(plot), id="p"), text("A peak in the middle."))
    ended, _, history = turn(mock, kernel, send_images=send_images)
    second = sent(mock, 1)
    images = [p for m in second if isinstance(m["content"], list) for p in m["content"] if p["type"] == "image_url"]
    assert second[second.index(next(m for m in second if m["role"] == "tool"))]["content"].startswith("[figure 1:")
    if send_images:
        assert second[-2]["role"] == "tool" and second[-1]["role"] == "user"
        assert len(images) == 1 and images[0]["image_url"]["url"].startswith("data:image/png;base64,iVBOR")
    else:
        assert images == [] and second[-1]["role"] == "tool"
    assert ended.reason == "answered"
    assert_valid(history)


def test_long_conversations_drop_old_tool_outputs_first(mock: MockModel, kernel: ThreadKernel) -> None:
    def old_turn(n: int) -> list[dict[str, Any]]:
        return [
            {"role": "user", "content": f"question {n}"},
            {"role": "assistant", "content": None, "tool_calls": [{"id": f"o{n}", "type": "function", "function": {"name": "run_python", "arguments": code("print(data)")}}]},
            {"role": "tool", "tool_call_id": f"o{n}", "content": f"output {n} " + "x" * 8000},
            {"role": "assistant", "content": f"answer {n}"},
        ]

    earlier = old_turn(1) + old_turn(2)
    history = earlier + [{"role": "user", "content": "question 3"}]
    mock.script(text("Answer 3."))
    ended, events, kept = turn(mock, kernel, history, context_tokens=2000)
    messages = sent(mock, 0)
    assert messages[0]["role"] == "system" and messages[-1] == {"role": "user", "content": "question 3"}
    assert [m["content"] for m in messages if m["role"] == "tool"] == [DROPPED, DROPPED]
    assert [m["content"] for m in messages if m["role"] == "user"] == ["question 1", "question 2", "question 3"]
    assert of(Notice, events) == [Notice(TRIMMED_NOTICE)]
    assert kept[2]["content"].startswith("output 1")  # only the request is trimmed, not the history

    # When blanking outputs is not enough, whole turns go, oldest first.
    last = {"role": "user", "content": "question 3 " + "y" * 8000}
    without_first_turn = [messages[0], *messages[5:9], last]
    mock.reset()
    mock.script(text("Answer 3."))
    turn(mock, kernel, earlier + [last], context_tokens=estimate_tokens(without_first_turn))
    assert sent(mock, 0) == without_first_turn


def test_a_refused_request_ends_the_turn_with_an_explanation(mock: MockModel, kernel: ThreadKernel) -> None:
    mock.script(fault(401))
    ended, _, history = turn(mock, kernel)
    assert ended.reason == "error" and ended.problem is not None and ended.problem.title == "An API key is needed"
    assert ended.message.startswith("An API key is needed.")
    assert history == ASK


@pytest.mark.parametrize(
    ("said", "switches"),
    [
        ("registry.ollama.ai/library/llama2:latest does not support tools", True),
        ("tools param requires --jinja flag", True),
        ('"auto" tool choice requires --enable-auto-tool-choice and --tool-call-parser to be set', True),
        ("Unrecognized request argument supplied: tools", True),
        ("Invalid 'messages[3]': tool_call_id 'call_1' does not match any tool call", False),
        ("The function name must be a string of at most 64 characters", False),
        ("Invalid value for 'temperature': must be at most 2", False),
    ],
)
def test_only_a_refusal_of_tools_switches_to_fenced_code(mock: MockModel, kernel: ThreadKernel, said: str, switches: bool) -> None:
    """Any other 400 that mentions a tool or a function is reported, and tools stay on."""
    mock.script(fault(400, said), text("```python\nprint(1)\n```"), text("Done."))

    async def go() -> tuple[Agent, TurnEnded]:
        agent = make_agent(mock, kernel)
        return agent, await agent.run_turn(list(ASK), Environment(), lambda event: None)

    agent, ended = asyncio.run(go())
    assert (agent.mode == "fenced") is switches
    assert (ended.reason == "error") is not switches


# ---------------------------------------------------------------- figures no code computed


def test_an_answer_with_an_invented_figure_is_asked_about_once(mock: MockModel, kernel: ThreadKernel) -> None:
    mock.script(
        tool_call("run_python", code("total = 12000 + 345\nprint(total)"), id="call_t"),
        text("The total is **12,345**, up 12.5% on last year."),
        text("The 12.5% was an estimate; I did not compute it."),
    )
    ended, events, history = turn(mock, kernel)
    assert len(mock.chat_requests()) == 3  # asked once, and not again though 12.5% is still nowhere
    asked = sent(mock, 2)[-1]
    assert asked["role"] == "user" and "12.5%" in asked["content"] and "12,345" not in asked["content"]
    assert sent(mock, 2)[-2] == {"role": "assistant", "content": "The total is **12,345**, up 12.5% on last year."}
    assert ended == TurnEnded("answered", "The 12.5% was an estimate; I did not compute it.")
    [notice] = of(Notice, events)
    assert notice.text == UNCOMPUTED_NOTICE.format(figures="12.5%")
    assert events.index(notice) < events.index(of(RequestSent, events)[2])
    assert history[-2:] == [asked, {"role": "assistant", "content": ended.message}]


def test_an_answer_whose_figures_were_computed_is_not_asked_about(mock: MockModel, kernel: ThreadKernel) -> None:
    history = [{"role": "user", "content": "Which rows are over 250, and what is pi?"}]
    mock.script(
        tool_call("run_python", code("import math\nprint(math.pi, 0.4567)"), id="call_p"),
        text("Pi is about 3.14, 45.7% of rows are over 250, and there are 3 columns."),
    )
    ended, events, _ = turn(mock, kernel, history)
    assert ended.reason == "answered" and len(mock.chat_requests()) == 2
    assert not of(Notice, events)


def test_figures_are_not_asked_about_when_turned_off_or_out_of_steps(mock: MockModel, kernel: ThreadKernel) -> None:
    mock.script(text("There are 4,321 rows."))
    ended, events, _ = turn(mock, kernel, check_figures=False)
    assert ended.message == "There are 4,321 rows." and len(mock.chat_requests()) == 1 and not of(Notice, events)
    mock.reset()
    mock.script(tool_call("run_python", code("print('hi')"), id="call_h"), text("There are 4,321 rows."))
    ended, events, _ = turn(mock, kernel, limits=Limits(max_steps=2))
    assert ended.message == "There are 4,321 rows." and len(mock.chat_requests()) == 2 and not of(Notice, events)


def test_a_figure_asked_about_before_is_asked_about_again_in_a_later_turn(mock: MockModel, kernel: ThreadKernel) -> None:
    mock.script(text("It is 4,321."), text("4,321 is a guess."))
    ended, _, history = turn(mock, kernel)
    assert ended.message == "4,321 is a guess." and len(mock.chat_requests()) == 2
    history.append({"role": "user", "content": "And now?"})
    mock.script(text("Still 4,321."), text("A guess, again."))
    ended, events, _ = turn(mock, kernel, history)
    assert ended.message == "A guess, again." and len(mock.chat_requests()) == 4  # the question gave no figure
    assert "4,321" in sent(mock, 3)[-1]["content"]
