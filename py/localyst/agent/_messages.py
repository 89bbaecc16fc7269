"""The chat-completion messages the loop adds to the history, and telling them apart later."""

from __future__ import annotations

from typing import Any

from ._fenced import OUTPUT_PREFIX
from ._figures import Ledger, code_of
from ._tools import code_from_arguments

Message = dict[str, Any]

FIGURES_PREFIX = "Figures from the code above:"
SAME_ERROR_NOTE = "This is the same error as the previous attempt; change approach."
CANCELLED_NOTE = "Cancelled by the person before it finished."
DECLINED_NOTE = (
    "The person chose not to run this code, so it did not run. Do not run it again in another form; "
    "say what it was for and ask how they would like to go on."
)
STOPPED_NOTE = "(Stopped by the person while it ran.)"
MAX_IMAGES = 4  # per message: figures are large, and a few make the point
UNCOMPUTED_QUESTION = (
    "These numbers in your answer appear in no output of the code: {figures}. "
    "Compute them with code, or say plainly that they are estimates or assumptions."
)


def assistant_message(text: str, calls: list[tuple[str, str, str]]) -> Message:
    """The assistant's reply as the wire format wants it back: ``calls`` are (id, name, arguments)."""
    message: Message = {"role": "assistant", "content": text or None}
    if calls:
        message["tool_calls"] = [
            {"id": cid, "type": "function", "function": {"name": name, "arguments": arguments}} for cid, name, arguments in calls
        ]
    return message


def tool_message(call_id: str, content: str) -> Message:
    return {"role": "tool", "tool_call_id": call_id, "content": content}


def output_message(text: str, images: list[str]) -> Message:
    """Fenced mode: the code's output goes back as the person's next message."""
    return _user(f"{OUTPUT_PREFIX}\n\n{text}", images)


def figures_message(images: list[str]) -> Message:
    """Tool mode: figures follow the tool results (tool messages carry only text)."""
    return _user(FIGURES_PREFIX, images)


def _user(text: str, images: list[str]) -> Message:
    if not images:
        return {"role": "user", "content": text}
    parts: list[dict[str, Any]] = [{"type": "text", "text": text}]
    parts += [{"type": "image_url", "image_url": {"url": url}} for url in images[:MAX_IMAGES]]
    return {"role": "user", "content": parts}


def text_of(message: Message) -> str:
    content = message.get("content")
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text")
    return content or ""


def is_output(message: Message) -> bool:
    """Whether the message carries what code produced (not something the person wrote)."""
    if message.get("role") == "tool":
        return True
    return message.get("role") == "user" and text_of(message).startswith((OUTPUT_PREFIX, FIGURES_PREFIX))


def close_open_calls(history: list[Message]) -> None:
    """Give every tool call of the last assistant message a result, so the history stays
    valid for the next request after a stop."""
    for position in range(len(history) - 1, -1, -1):
        message = history[position]
        if message.get("role") == "assistant":
            end = position + 1
            while end < len(history) and history[end].get("role") == "tool":
                end += 1
            answered = {m.get("tool_call_id") for m in history[position + 1 : end]}
            missing = [c["id"] for c in message.get("tool_calls") or [] if c["id"] not in answered]
            history[end:end] = [tool_message(cid, CANCELLED_NOTE) for cid in missing]
            return


def without_tools(messages: list[Message]) -> list[Message]:
    """The conversation for an endpoint without tool calling: earlier tool calls become
    ```python blocks in the assistant's text, and their results the person's messages."""
    plain: list[Message] = []
    for message in messages:
        if message.get("role") == "tool":
            plain.append({"role": "user", "content": f"{OUTPUT_PREFIX}\n\n{message.get('content') or ''}"})
        elif message.get("tool_calls"):
            blocks = [f"```python\n{_code_of(c['function']['arguments'])}\n```" for c in message["tool_calls"]]
            plain.append({"role": "assistant", "content": "\n\n".join([message.get("content") or "", *blocks]).strip()})
        else:
            plain.append(message)
    return plain


def _code_of(arguments: str) -> str:
    code = code_from_arguments(arguments)
    return code if code is not None else arguments


def ledger_of(history: list[Message]) -> Ledger:
    """What the model has read of outputs, and what it was given: the person's messages and
    the code it wrote (a call's arguments; a reply's code blocks, or the whole text of a
    reply whose code ran, since a call written as text is no block)."""
    outputs = [text_of(m) for m in history if is_output(m)]
    asked = UNCOMPUTED_QUESTION.partition("{")[0]  # its figures were the model's, not given
    given = [text_of(m) for m in history if m.get("role") == "user" and not is_output(m) and not text_of(m).startswith(asked)]
    for position, message in enumerate(history):
        if message.get("role") == "assistant":
            ran = position + 1 < len(history) and is_output(history[position + 1])
            given.append(text_of(message) if ran else code_of(text_of(message)))
            given += [_code_of(c["function"]["arguments"]) for c in message.get("tool_calls") or []]
    return Ledger(outputs, given)


def uncomputed_message(figures: str) -> Message:
    """The person's side asks the model once about the figures no output holds (``figures``
    lists them as the answer wrote them)."""
    return {"role": "user", "content": UNCOMPUTED_QUESTION.format(figures=figures)}
