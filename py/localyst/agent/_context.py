"""Fitting a long conversation into the model's context window, oldest material first.

Token counts are estimates (about 4 characters a token): cheap enough to redo every step,
and close enough for a budget. The history itself is never changed: only what is sent.
"""

from __future__ import annotations


from ._messages import Message, is_output

EARLIER_FIGURES = "[{count} figure(s) of an earlier turn, not sent again; the person saw them]"

CHARS_PER_TOKEN = 4
IMAGE_TOKENS = 800  # roughly what a vision model charges for one figure
MESSAGE_TOKENS = 4  # role and framing
DROPPED = "[output dropped to fit the context]"
TRIMMED_NOTICE = "Older tool outputs were left out to fit the model's context window."


def estimate_tokens(messages: list[Message]) -> int:
    return sum(message_tokens(m) for m in messages)


def text_tokens(text: str) -> int:
    return (len(text) + CHARS_PER_TOKEN - 1) // CHARS_PER_TOKEN


def message_tokens(message: Message) -> int:
    tokens = MESSAGE_TOKENS
    content = message.get("content")
    if isinstance(content, str):
        tokens += text_tokens(content)
    elif isinstance(content, list):
        for part in content:
            tokens += IMAGE_TOKENS if part.get("type") == "image_url" else text_tokens(str(part.get("text", "")))
    for call in message.get("tool_calls") or []:
        tokens += text_tokens(call["function"]["arguments"]) + MESSAGE_TOKENS
    return tokens


def fit_context(history: list[Message], budget: int, reserved: int = 0) -> tuple[list[Message], bool]:
    """The messages to send so that they (plus ``reserved`` tokens, the system prompt) fit
    in ``budget``, and whether anything was left out.

    First the outputs of code are blanked, oldest first, except the newest step's (the model
    is about to read them); then whole turns are dropped, oldest first. The latest message
    the person wrote is never dropped, and nothing after it is removed (only blanked).
    """
    sizes = [message_tokens(m) for m in history]
    total = reserved + sum(sizes)
    if total <= budget:
        return history, False
    messages = list(history)
    last_assistant = max((i for i, m in enumerate(messages) if m.get("role") == "assistant"), default=-1)
    for i in range(last_assistant):
        if total <= budget:
            break
        if is_output(messages[i]) and messages[i].get("content") != DROPPED:
            blank = {**messages[i], "content": DROPPED}
            total -= sizes[i] - message_tokens(blank)
            messages[i] = blank
    starts = [i for i, m in enumerate(messages) if m.get("role") == "user" and not is_output(m)]
    cut = 0
    for start in starts[1:]:  # each turn begins where the person wrote; the last one stays
        if total <= budget:
            break
        total -= sum(message_tokens(m) for m in messages[cut:start])
        cut = start
    return messages[cut:], True


def without_earlier_figures(history: list[Message]) -> list[Message]:
    """The messages with the figures of turns before the person's latest message left out
    (said in their place): each would go out again with every request, so a request would
    grow by a figure with each turn that drew one. The history itself keeps them."""
    latest = max((i for i, m in enumerate(history) if m.get("role") == "user" and not is_output(m)), default=0)
    messages = list(history)
    for i in range(latest):
        content = messages[i].get("content")
        if isinstance(content, list):
            images = [part for part in content if part.get("type") == "image_url"]
            if images:
                kept = [part for part in content if part.get("type") != "image_url"]
                note = {"type": "text", "text": EARLIER_FIGURES.format(count=len(images))}
                messages[i] = {**messages[i], "content": [*kept, note]}
    return messages
