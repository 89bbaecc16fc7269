"""The agent loop: ask the model, run its code, feed the results back, until it answers
or the turn's budget runs out. Plain asyncio: no UI, no Panel."""

from __future__ import annotations

import asyncio
import functools
import re
from dataclasses import dataclass, field
from collections.abc import Awaitable
from typing import Any, Callable

import openai

from ..llm import Endpoint, Finished, Problem, StreamCut, TextDelta, ToolCall, ToolCallDelta, Usage, describe, make_client, stream_chat
from ._budget import Budget, Limits
from ._context import TRIMMED_NOTICE, estimate_tokens, fit_context, message_tokens, text_tokens, without_earlier_figures
from ._environment import Environment
from ._events import (
    AssistantText,
    CodeDelta,
    CodeFinished,
    CodeStarted,
    EndReason,
    Event,
    KernelOutput,
    Notice,
    RequestSent,
    TurnEnded,
    UsageReport,
)
from ._fenced import TextCode, code_in_text, python_code
from ._account import result_for_model
from ._kernel import KernelLike, figures
from ._messages import (
    CANCELLED_NOTE,
    DECLINED_NOTE,
    SAME_ERROR_NOTE,
    STOPPED_NOTE,
    Message,
    assistant_message,
    close_open_calls,
    figures_message,
    ledger_of,
    output_message,
    tool_message,
    uncomputed_message,
    without_tools,
)
from ._prompt import Mode, system_prompt
from ._tools import RUN_PYTHON, TOOLS, code_from_arguments, partial_code

OnEvent = Callable[[Event], None]
#: Asked before each cell runs, with (cell id, code): True runs it. For "Confirm before running".
Approve = Callable[[str, str], Awaitable[bool]]
#: Makes the message that tells the model what became of one cell (a tool result, or in
#: fenced mode the person's next message).
Answer = Callable[[str], Message]
DECLINED_NOTICE = "Not run: you declined it, and the model was told."

CONTEXT_TOKENS = 100_000
OUTPUT_LIMIT = 4_000  # characters of one cell's account for the model
INTERRUPT_GRACE = 3.0  # seconds an interrupted cell gets to report before the loop moves on
SAME_ERROR_NOTICE = "The same error came back twice in a row; the model was asked to change approach."
FENCED_NOTICE = "This endpoint does not accept tools, so the ```python blocks of its replies are run instead."
BAD_ARGUMENTS = 'The arguments were not JSON with a "code" string, so nothing ran. Call run_python again with {"code": "..."}.'
CUT_OFF = (
    "Your reply was cut off by the output token limit before this code was complete, so nothing ran. "
    "Write shorter code, or split the work into several smaller steps."
)
CUT_OFF_NOTICE = "The model's reply was cut off by its output limit in the middle of code; the model was told, and nothing ran."
ANSWER_CUT_NOTICE = "The model's answer was cut off by its output limit."
UNREADABLE_CALL = (
    'Your run_python call was written as text and its code could not be read, so nothing ran. '
    'Call the run_python tool, or write the code in a ```python block.'
)
UNREADABLE_NOTICE = "The model wrote a run_python call as text whose code could not be read; the model was told, and nothing ran."
TEXT_CALL_NOTICE = "The model wrote its run_python call as text rather than as a tool call; it was run as that call."
TEXT_CODE_NOTICE = "The model wrote its code as a ```python block rather than as a tool call; it was run as that call."
UNCOMPUTED_NOTICE = "The answer has numbers that appear in no output ({figures}); the model was asked once to compute them or say they are estimates."
NO_TEMPERATURE_NOTICE = "This endpoint does not take a temperature setting, so requests go without one."
STOPPED = "Stopped by the person."


@dataclass
class _Reply:
    text: str
    calls: list[tuple[str, str, str]] = field(default_factory=list)  # (the model's id, name, arguments)
    cells: list[str] = field(default_factory=list)  # the loop's own id of each call's cell
    finish: str = ""  # why the model stopped: "length" means the output limit cut it off

    @property
    def cut_off(self) -> bool:
        return self.finish == "length"


class Agent:
    """Runs turns of a conversation against one endpoint and one kernel.

    ``mode="tools"`` uses the run_python tool and switches itself to ``"fenced"`` for good
    when the endpoint rejects tools; ``send_images`` sends figures back as images (for
    endpoints that take them); ``context_tokens`` is the estimated size the requests are
    trimmed to. ``approve``, if given, is asked before each cell and may refuse it; the
    model is told of a refusal. ``temperature``, if given, is sent with each request (low
    suits code); an endpoint that refuses it gets requests without it from then on.
    ``check_figures`` asks the model, once a turn, about the numbers of its answer that
    appear in no output (agent/_figures.py says which numbers count).
    """

    def __init__(
        self,
        endpoint: Endpoint,
        kernel: KernelLike,
        *,
        client: openai.AsyncOpenAI | None = None,
        limits: Limits = Limits(),
        mode: Mode = "tools",
        send_images: bool = False,
        context_tokens: int = CONTEXT_TOKENS,
        output_limit: int = OUTPUT_LIMIT,
        approve: Approve | None = None,
        temperature: float | None = None,
        check_figures: bool = True,
    ) -> None:
        self.endpoint = endpoint
        self.kernel = kernel
        self.client = client or make_client(endpoint)
        self.limits = limits
        self.mode: Mode = mode
        self.send_images = send_images
        self.context_tokens = context_tokens
        self.output_limit = output_limit
        self.approve = approve
        self.temperature = temperature
        self.check_figures = check_figures

    async def run_turn(
        self, history: list[Message], environment: Environment = Environment(), on_event: OnEvent = lambda event: None
    ) -> TurnEnded:
        """Answer the last message of ``history`` (the person's), appending to ``history``
        the assistant's messages and the code results as the wire format wants them.

        Cancel the task running it to stop: the model request is closed, a running cell is
        interrupted, the history stays valid, TurnEnded("stopped") is emitted and
        CancelledError propagates. Failures end the turn with TurnEnded("error").
        """
        return await _Turn(self, history, environment, on_event).run()


class _Turn:
    def __init__(self, agent: Agent, history: list[Message], environment: Environment, emit: OnEvent) -> None:
        self.agent = agent
        self.history = history
        self.environment = environment
        self.emit = emit
        self.budget = Budget(agent.limits)
        self.trimmed_noticed = False
        self.text_noticed = False
        self.figures_asked = False

    async def run(self) -> TurnEnded:
        try:
            while True:
                limit = self.budget.exhausted() if self.budget.steps else None
                if limit is not None:
                    return self._end(*limit)
                reply = await self._ask()
                if reply is None:  # the endpoint refused tools: ask again without them
                    continue
                if self.agent.mode == "tools" and reply.calls:
                    await self._run_calls(reply)
                    continue
                if self.agent.mode == "tools":
                    found = code_in_text(reply.text, cut_off=reply.cut_off)
                else:
                    found = python_code(reply.text, cut_off=reply.cut_off)
                if found.blocks:
                    self._notice_text_code(found)
                    # A call written as text shows as a tool call's cell; a python block's
                    # code is in the reply already, so its cell starts folded.
                    await self._run_blocks(found.blocks, "tool" if found.form == "call" else "fenced")
                elif found.problem:
                    problem = CUT_OFF if found.problem == "cut" else UNREADABLE_CALL
                    self.emit(Notice(CUT_OFF_NOTICE if found.problem == "cut" else UNREADABLE_NOTICE))
                    self.budget.record_failure(problem)
                    self.history.append(output_message(problem, []))
                else:
                    if reply.cut_off:  # not asked about its figures: the answer is not whole
                        self.emit(Notice(ANSWER_CUT_NOTICE))
                    elif self._ask_about_figures(reply.text):
                        continue
                    return self._end("answered", reply.text)
        except asyncio.CancelledError:
            close_open_calls(self.history)
            self._end("stopped", STOPPED)
            raise
        except Exception as exc:  # every failure ends the turn with a message a person can act on
            close_open_calls(self.history)
            problem = describe(exc, self.agent.endpoint)
            return self._end("error", f"{problem.title}. {problem.detail}", problem)

    def _notice_text_code(self, found: TextCode) -> None:
        """In tools mode, say (once a turn) that code written as text was run as a call."""
        if self.agent.mode != "tools" or self.text_noticed:
            return
        self.text_noticed = True
        self.emit(Notice(TEXT_CALL_NOTICE if found.form == "call" else TEXT_CODE_NOTICE))

    def _ask_about_figures(self, answer: str) -> bool:
        """Ask the model (once a turn, and only with a request to spare) about the figures of
        its answer that no output holds; True when it was asked."""
        if not self.agent.check_figures or self.figures_asked or self.budget.exhausted() is not None:
            return False
        missing = ledger_of(self.history).uncomputed(answer)
        if not missing:
            return False
        self.figures_asked = True
        listed = ", ".join(dict.fromkeys(figure.text for figure in missing))
        self.emit(Notice(UNCOMPUTED_NOTICE.format(figures=listed)))
        self.history.append(uncomputed_message(listed))
        return True

    def _end(self, reason: EndReason, message: str, problem: Problem | None = None) -> TurnEnded:
        ended = TurnEnded(reason, message, problem)
        self.emit(ended)
        return ended

    # ------------------------------------------------------------ the model

    def _payload(self) -> tuple[list[Message], list[dict[str, Any]] | None]:
        mode = self.agent.mode
        system = {"role": "system", "content": system_prompt(self.environment, mode)}
        messages, trimmed = fit_context(without_earlier_figures(self.history), self.agent.context_tokens, message_tokens(system))
        if trimmed and not self.trimmed_noticed:
            self.trimmed_noticed = True
            self.emit(Notice(TRIMMED_NOTICE))
        if mode == "fenced":
            return [system, *without_tools(messages)], None
        return [system, *messages], TOOLS

    async def _ask(self) -> _Reply | None:
        """One model request, streamed into events; its reply is appended to the history."""
        messages, tools = self._payload()
        self.budget.steps += 1
        step = self.budget.steps
        self.emit(RequestSent(step, messages, tools))
        text: list[str] = []
        calls: list[ToolCall] = []
        indexes: list[int] = []
        shown: dict[int, str] = {}
        usage: Usage | None = None
        finish = ""
        agent = self.agent
        options = {} if agent.temperature is None else {"temperature": agent.temperature}
        try:
            async for event in stream_chat(agent.client, agent.endpoint.model, messages, tools, **options):
                if isinstance(event, TextDelta):
                    text.append(event.text)
                    self.emit(AssistantText(event.text))
                elif isinstance(event, ToolCallDelta):
                    if event.index not in shown:
                        indexes.append(event.index)
                        shown[event.index] = ""
                    code = partial_code(event.arguments) if event.name == RUN_PYTHON else None
                    if code is not None and code != shown[event.index]:
                        shown[event.index] = code
                        self.emit(CodeDelta(_cell_id(step, event.index), code))
                elif isinstance(event, ToolCall):
                    calls.append(event)
                elif isinstance(event, Usage):
                    usage = event
                elif isinstance(event, Finished):
                    finish = event.reason
        except openai.BadRequestError as exc:
            if tools and _rejects_tools(exc):
                agent.mode = "fenced"
                self.budget.steps -= 1  # nothing was generated
                self.emit(Notice(FENCED_NOTICE))
                return None
            if options and _rejects_temperature(exc):
                agent.temperature = None
                self.budget.steps -= 1
                self.emit(Notice(NO_TEMPERATURE_NOTICE))
                return None
            raise
        except (asyncio.CancelledError, StreamCut):
            if text:  # what the person saw arrive stays in the conversation
                self.history.append(assistant_message("".join(text), []))
            raise
        ordered = sorted(indexes)
        reply = _Reply(
            "".join(text),
            [(c.id or _call_id(step, ordered[i]), c.name, c.arguments) for i, c in enumerate(calls)],
            [_cell_id(step, ordered[i]) for i in range(len(calls))],
            finish,
        )
        self._count(usage, messages, reply)
        self.history.append(assistant_message(reply.text, reply.calls))
        return reply

    def _count(self, usage: Usage | None, messages: list[Message], reply: _Reply) -> None:
        if usage is None:
            prompt = estimate_tokens(messages)
            completion = text_tokens(reply.text) + sum(text_tokens(arguments) for _, _, arguments in reply.calls)
            usage, estimated = Usage(prompt, completion, prompt + completion), True
        else:
            estimated = False
        self.budget.tokens += usage.total
        self.emit(UsageReport(usage.prompt, usage.completion, usage.total, estimated))

    # ------------------------------------------------------------ the kernel

    async def _run_calls(self, reply: _Reply) -> None:
        """Run each call's code in its own cell. The model's ids only answer its calls:
        some endpoints repeat them, or send none, and a cell must never merge with another."""
        images: list[str] = []
        for (call_id, name, arguments), cell_id in zip(reply.calls, reply.cells):
            code = code_from_arguments(arguments) if name == RUN_PYTHON else None
            if code is None:
                if name == RUN_PYTHON and reply.cut_off:
                    self.emit(Notice(CUT_OFF_NOTICE))
                problem = (CUT_OFF if reply.cut_off else BAD_ARGUMENTS) if name == RUN_PYTHON else f"There is no tool `{name}`; the only tool is {RUN_PYTHON}."
                self.budget.record_failure(problem)
                self.history.append(tool_message(call_id, problem))
                continue
            answer = functools.partial(tool_message, call_id)
            if not await self._approved(cell_id, code, answer):
                self.history.append(answer(DECLINED_NOTE))
                continue
            result = await self._run_cell(cell_id, code, "tool", answer)
            self.history.append(answer(self._account(result)))
            images += figures(result)
        if self.agent.send_images and images:
            self.history.append(figures_message(images))

    async def _run_blocks(self, blocks: list[str], source: str = "fenced") -> None:
        parts: list[str] = []
        images: list[str] = []
        for number, code in enumerate(blocks):
            cell_id = f"fenced-{self.budget.steps}-{number}"
            answer = functools.partial(output_message, images=[])
            if not await self._approved(cell_id, code, answer):
                parts.append(DECLINED_NOTE if len(blocks) == 1 else f"[block {number + 1}]\n{DECLINED_NOTE}")
                break
            result = await self._run_cell(cell_id, code, source, answer)
            account = self._account(result)
            parts.append(account if len(blocks) == 1 else f"[block {number + 1}]\n{account}")
            images += figures(result)
            if result.get("error") and number + 1 < len(blocks):
                parts.append(f"(The {len(blocks) - number - 1} block(s) after it were not run.)")
                break
        self.history.append(output_message("\n\n".join(parts), images if self.agent.send_images else []))

    def _account(self, result: dict[str, Any]) -> str:
        """The cell's text for the model, with a nudge when it repeats the last error."""
        text = result_for_model(result, self.agent.output_limit)
        if self.budget.record_cell(result.get("error")):
            self.emit(Notice(SAME_ERROR_NOTICE))
            text += "\n\n" + SAME_ERROR_NOTE
        return text

    async def _approved(self, cell_id: str, code: str, answer: Answer) -> bool:
        """Whether the person lets this cell run (always, unless they asked to confirm each);
        ``answer`` makes the message that tells the model what became of its code."""
        if self.agent.approve is None:
            return True
        try:
            approved = await self.agent.approve(cell_id, code)
        except asyncio.CancelledError:
            self.history.append(answer(CANCELLED_NOTE))
            raise
        if not approved:
            self.emit(Notice(DECLINED_NOTICE))
        return approved

    async def _run_cell(self, cell_id: str, code: str, source: str, answer: Answer) -> dict[str, Any]:
        self.emit(CodeStarted(cell_id, code, source))  # type: ignore[arg-type]
        run = asyncio.ensure_future(self.agent.kernel.run(code, lambda output: self.emit(KernelOutput(cell_id, output))))
        try:
            result = await asyncio.shield(run)
        except asyncio.CancelledError:
            self.agent.kernel.interrupt()
            result = await _settle(run)
            if result is not None:
                self.emit(CodeFinished(cell_id, result))
            account = f"{result_for_model(result, self.agent.output_limit)}\n{STOPPED_NOTE}" if result else CANCELLED_NOTE
            self.history.append(answer(account))
            raise
        self.emit(CodeFinished(cell_id, result))
        return result


async def _settle(run: asyncio.Future[dict[str, Any]]) -> dict[str, Any] | None:
    """The interrupted cell's result, if it reports within the grace period."""
    done, _ = await asyncio.wait({run}, timeout=INTERRUPT_GRACE)
    if not done:
        run.cancel()
        return None
    return None if run.cancelled() or run.exception() else run.result()


def _cell_id(step: int, index: int) -> str:
    """The loop's own name for the cell of a step's index-th tool call: unique in a turn."""
    return f"cell-{step}-{index}"


def _call_id(step: int, index: int) -> str:
    """For endpoints that send tool calls without ids: the wire format needs one."""
    return f"call_{step}_{index}"


#: What servers say when they take no tools at all (Ollama: "… does not support tools";
#: llama.cpp without --jinja: "tools param requires --jinja flag"; vLLM: "\"auto\" tool
#: choice requires --enable-auto-tool-choice …"; OpenAI-style: "Unrecognized request
#: argument supplied: tools"). Any other 400 that names a tool (a bad tool_call_id, say)
#: is a problem with this request, not a reason to stop using tools.
_NO_TOOLS = re.compile(
    r"(does not|doesn't|do not) support (tools|tool calls|tool calling|function calling|functions)"
    r"|(tools?|tool calls|tool calling|function calling|functions?) (is |are )?(not supported|unsupported|not enabled|not available)"
    r"|tools? param(eter)? requires|tool[ _]choice requires"
    r"|(unrecognized|unknown|unexpected|extra)[^.\n]{0,40}\btools\b"
)


def _rejects_tools(exc: openai.BadRequestError) -> bool:
    return _NO_TOOLS.search(str(exc).lower()) is not None


#: OpenAI's reasoning models: "Unsupported value: 'temperature' does not support 0.2 with
#: this model. Only the default (1) value is supported."; others: "temperature is not
#: supported", "Unrecognized request argument supplied: temperature".
_NO_TEMPERATURE = re.compile(r"temperature[^.\n]{0,60}(not support|unsupported|only the default)|(unsupported|unrecognized|unknown)[^.\n]{0,60}temperature")


def _rejects_temperature(exc: openai.BadRequestError) -> bool:
    return _NO_TEMPERATURE.search(str(exc).lower()) is not None
