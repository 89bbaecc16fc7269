"""Messages between the app and the model worker (site/model-worker.js), defined once.

The model worker runs llama.cpp on a file the person chose: what it says (the model's text,
names and numbers read from the file) is untrusted data, like anything from the kernel.
``parse_model_message`` turns one raw message into a typed one, or raises ``Malformed``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Union

from ._kernel import SHORT, Malformed
from ._outputs import MAX_TEXT, Invalid, _count, _number, _text

#: What the app posts to the model worker.
TO_MODEL = ("kept", "keep", "head", "load", "forget", "chat", "abort")
#: What the model worker posts back.
MODEL_MESSAGES = ("kept", "progress", "head", "loaded", "delta", "done", "error")
#: The reasons a reply ends.
FINISH_REASONS = ("stop", "length")
#: Longest chat template shown (characters).
TEMPLATE = 100_000
#: Most bytes of a model file's head the app reads (its metadata, before loading).
HEAD = 1 << 20


@dataclass(frozen=True)
class Kept:
    """The model kept in this browser: its file name and size (name "" when there is none)."""

    name: str
    size: int


@dataclass(frozen=True)
class Progress:
    """Bytes of the model kept so far, of ``total`` (0: not known)."""

    done: int
    total: int


@dataclass(frozen=True)
class Head:
    """The kept model file's first bytes (at most HEAD), with its name and whole size."""

    name: str
    size: int
    data: bytes


@dataclass(frozen=True)
class Loaded:
    name: str
    size: int
    n_ctx: int
    n_ctx_train: int
    n_layer: int
    threads: int
    template: str


@dataclass(frozen=True)
class Delta:
    id: int
    text: str


@dataclass(frozen=True)
class Done:
    """A reply ended: why, its prompt's and its own tokens, and its times (ms)."""

    id: int
    finish_reason: str
    prompt_tokens: int
    tokens: int
    first_token_ms: float | None
    ms: float


@dataclass(frozen=True)
class ModelError:
    """A request failed (``id``: the chat's, None for the others), in the worker's words."""

    message: str
    id: int | None = None


ModelMessage = Union[Kept, Progress, Head, Loaded, Delta, Done, ModelError]


def parse_model_message(data: Any) -> ModelMessage:
    """One message from the model worker as a typed object; Malformed when it is not one of
    MODEL_MESSAGES of the right shape."""
    if not isinstance(data, dict):
        raise Malformed("a model worker message is not an object")
    kind = data.get("type")
    id_ = data.get("id")
    try:
        if kind == "kept":
            return Kept(_text(data.get("name") or "", "name", SHORT), _count(data.get("size"), "size"))
        if kind == "progress":
            return Progress(_count(data.get("done"), "done"), _count(data.get("total"), "total"))
        if kind == "head":
            head = data.get("data")
            if not isinstance(head, (bytes, bytearray, memoryview)) or len(head) > HEAD:
                raise Invalid(f"data is not bytes, or more than {HEAD} of them")
            return Head(_text(data.get("name"), "name", SHORT), _count(data.get("size"), "size"), bytes(head))
        if kind == "loaded":
            counts = [_count(data.get(k), k) for k in ("size", "n_ctx", "n_ctx_train", "n_layer", "threads")]
            return Loaded(_text(data.get("name"), "name", SHORT), *counts, _text(data.get("template", ""), "template", TEMPLATE))
        if kind == "delta":
            return Delta(_count(id_, "id"), _text(data.get("text"), "text", MAX_TEXT))
        if kind == "done":
            reason = data.get("finish_reason")
            if reason not in FINISH_REASONS:
                raise Invalid(f"finish_reason is not one of {FINISH_REASONS}")
            first = data.get("first_token_ms")
            return Done(
                _count(id_, "id"),
                reason,
                _count(data.get("prompt_tokens"), "prompt_tokens"),
                _count(data.get("tokens"), "tokens"),
                None if first is None else _number(first, "first_token_ms"),
                _number(data.get("ms"), "ms"),
            )
        if kind == "error":
            return ModelError(_text(data.get("message"), "message", SHORT), None if id_ is None else _count(id_, "id"))
    except Invalid as exc:
        raise Malformed(f"{kind}: {exc}", id_ if isinstance(id_, int) and not isinstance(id_, bool) else None) from None
    raise Malformed(f"no model worker message {str(kind)[:40]!r}")
