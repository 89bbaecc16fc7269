"""A model inside the page: llama.cpp in WebAssembly in its own worker (site/model-worker.js),
reached as if it were an OpenAI-compatible endpoint.

``InPageTransport`` is an httpx2 transport: the SDK's chat-completions request becomes
messages to the model worker, and its replies an SSE stream, so the agent loop, streaming,
Stop, budgets and exports are the same as for any endpoint. Nothing goes over the network.
``InPageModel`` is the app's one handle on the worker: keep a file, load it, chat, forget it.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Any, Protocol

import httpx2

from ..protocol._kernel import Malformed
from ..protocol._model import HEAD, Delta, Done, Head, Kept, Loaded, ModelError, ModelMessage, Progress, parse_model_message
from ._gguf import memory_needed, read_shape

SCRIPT = "model-worker.js"
#: A wasm32 tab addresses 4 GB in all; the weights, the context's cache and llama.cpp's own
#: buffers must fit in it, so a model file may take at most this much.
MAX_MODEL_BYTES = 3_000_000_000
#: What llama.cpp's WebAssembly may take in all (its most memory, less what the runtime
#: itself and the tab's own buffers need): the loaded model must fit in it.
MEMORY_BYTES = 4_294_901_760 - (256 << 20)
#: Tokens of context the model is loaded with: the loop's requests are trimmed to fit (see
#: agent.CONTEXT_TOKENS), and a small model on a CPU is slow past a few thousand.
N_CTX = 8192
#: What a request's messages are trimmed to (estimated), leaving the rest for the reply.
PROMPT_TOKENS = 6000
#: Threads llama.cpp uses (one without cross-origin isolation); 0 lets wllama choose half the
#: logical cores. On 2 busy cores 2 threads were slower than one: the threads wait on each other.
N_THREADS = 0
NO_MODEL = "No model is loaded in this page. Choose a .gguf file under *In this page* in the settings."
NO_TOOLS = "tools are not supported by the in-page model"

#: Called with each message the worker posts (plain Python), or ``None, reason`` when it died.
Hear = Callable[[Any, str], None]


class Port(Protocol):
    def post(self, message: dict[str, Any]) -> None: ...

    def close(self) -> None: ...


#: Opens a port to a fresh model worker (``download``: the one URL it may fetch, or "").
Connect = Callable[[str, Hear], Port]


class InPageFailed(Exception):
    """The model worker refused or failed a request; the message is for the person."""


class InPageModel:
    """The model worker, one request at a time (a chat's deltas aside). ``loaded`` is what
    is loaded now; ``on_progress(done, total)`` hears how far a keep has come."""

    def __init__(self, connect: Connect | None = None) -> None:
        self._connect = connect or worker_port
        self._port: Port | None = None
        self._waiting: asyncio.Future[ModelMessage] | None = None
        self._chats: dict[int, asyncio.Queue[ModelMessage]] = {}
        self._ids = itertools.count(1)
        self._lock = asyncio.Lock()
        self.loaded: Loaded | None = None
        self.on_progress: Callable[[int, int], None] = lambda done, total: None

    def _ensure(self) -> Port:
        if self._port is None:
            self._port = self._connect("", self._hear)
        return self._port

    def _hear(self, data: Any, reason: str = "") -> None:
        if data is None:
            self._port = None
            self.loaded = None
            self._fail_all(f"The model worker stopped ({reason}).")
            return
        try:
            message = parse_model_message(data)
        except Malformed as exc:
            message = ModelError(f"The model worker sent a message this page does not read ({exc}).", exc.id)
        self._route(message)

    def _hear_download(self, data: Any, reason: str = "") -> None:
        if data is None:
            self._fail_all(f"The download stopped ({reason}).")
        else:
            self._hear(data)

    def _route(self, message: ModelMessage) -> None:
        if isinstance(message, Progress):
            self.on_progress(message.done, message.total)
            return
        chat_id = message.id if isinstance(message, (Delta, Done, ModelError)) else None
        if chat_id is not None and chat_id in self._chats:
            self._chats[chat_id].put_nowait(message)
        elif self._waiting is not None and not self._waiting.done():
            self._waiting.set_result(message)

    def _fail_all(self, reason: str) -> None:
        for queue in self._chats.values():
            queue.put_nowait(ModelError(reason))
        if self._waiting is not None and not self._waiting.done():
            self._waiting.set_result(ModelError(reason))

    async def _ask(self, message: dict[str, Any], port: Port | None = None) -> ModelMessage:
        self._waiting = asyncio.get_running_loop().create_future()
        (port or self._ensure()).post(message)
        answer = await self._waiting
        if isinstance(answer, ModelError):
            raise InPageFailed(answer.message)
        return answer

    async def kept(self) -> Kept:
        """The model kept in this browser (name "" when none)."""
        async with self._lock:
            return _expect(await self._ask({"type": "kept"}), Kept)

    async def keep_file(self, file: Any, size: int) -> Kept:
        """Keep a picked file (the browser's File) in this browser, replacing the kept one."""
        if size > MAX_MODEL_BYTES:
            raise InPageFailed(too_big(size))
        async with self._lock:
            self.loaded = None
            return _expect(await self._ask({"type": "keep", "file": file, "max_bytes": MAX_MODEL_BYTES}), Kept)

    async def keep_url(self, url: str) -> Kept:
        """Download ``url`` into this browser, in a worker that may reach that URL only."""
        async with self._lock:
            self.loaded = None
            port = self._connect(url, self._hear_download)
            try:
                return _expect(await self._ask({"type": "keep", "url": url, "max_bytes": MAX_MODEL_BYTES}, port), Kept)
            finally:
                port.close()
                self.close()  # the kept file changed under the loaded one

    async def load(self, n_ctx: int = N_CTX, n_threads: int = N_THREADS) -> Loaded:
        """Load the kept model (at once if it is loaded already), once its head says it fits."""
        async with self._lock:
            if self.loaded is None:
                head = _expect(await self._ask({"type": "head", "bytes": HEAD}), Head)
                problem = wont_fit(head, n_ctx)
                if problem:
                    raise InPageFailed(problem)
            self.loaded = _expect(await self._ask({"type": "load", "n_ctx": n_ctx, "n_threads": n_threads}), Loaded)
            return self.loaded

    async def forget(self) -> None:
        """Unload the model and remove it from this browser."""
        async with self._lock:
            self.loaded = None
            _expect(await self._ask({"type": "forget"}), Kept)

    async def chat(self, messages: list[dict[str, str]], max_tokens: int | None, temperature: float | None) -> AsyncIterator[Delta | Done]:
        """The reply to ``messages``, as it comes; closing the iterator early stops the model."""
        if self.loaded is None:
            await self.load()
        chat_id = next(self._ids)
        queue: asyncio.Queue[ModelMessage] = asyncio.Queue()
        self._chats[chat_id] = queue
        port = self._ensure()
        port.post({"type": "chat", "id": chat_id, "messages": messages, "max_tokens": max_tokens, "temperature": temperature})
        finished = False
        try:
            while True:
                message = await queue.get()
                if isinstance(message, ModelError):
                    finished = True
                    raise InPageFailed(message.message)
                if isinstance(message, (Delta, Done)):
                    yield message
                if isinstance(message, Done):
                    finished = True
                    return
        finally:
            del self._chats[chat_id]
            if not finished and self._port is port:
                port.post({"type": "abort", "id": chat_id})

    def close(self) -> None:
        if self._port is not None:
            self._port.close()
            self._port = None
        self.loaded = None


def _expect(message: ModelMessage, kind: type) -> Any:
    if not isinstance(message, kind):
        raise InPageFailed(f"The model worker answered {type(message).__name__} where {kind.__name__} was due.")
    return message


def too_big(size: int) -> str:
    """Why a model of ``size`` bytes is refused, for the person."""
    return (
        f"This model is {size / 1e9:.2f} GB: more than the {MAX_MODEL_BYTES / 1e9:.0f} GB a model may take in this tab "
        "(WebAssembly here can address 4 GB in all, for the weights and their working memory). Choose a smaller "
        "or more quantised GGUF (a 0.5B–3B model at Q4 fits)."
    )


def wont_fit(head: Head, n_ctx: int) -> str:
    """Why the kept model will not fit in the tab at ``n_ctx`` tokens ("" when it will, or
    when its head does not say how big it is: the file's size was checked when it was kept)."""
    shape = read_shape(head.data)
    if shape is None:
        return ""
    need = memory_needed(head.size, shape, n_ctx)
    if need.total <= MEMORY_BYTES:
        return ""
    return (
        f"{head.name} will not fit in this tab: at a context of {n_ctx:,} tokens it needs about "
        f"{need.total / 1e9:.1f} GB ({need.weights / 1e9:.1f} GB of weights, {need.cache / 1e9:.1f} GB to remember the "
        f"conversation, {need.buffers / 1e9:.1f} GB to work in), and WebAssembly here can address "
        f"{MEMORY_BYTES / 1e9:.1f} GB. Choose a smaller or more quantised GGUF (a 0.5B–3B model at Q4 fits)."
    )


# ------------------------------------------------------------------ the OpenAI wire format


def wllama_messages(messages: list[dict[str, Any]]) -> list[dict[str, str]]:
    """The chat as llama.cpp's template takes it: system, user and assistant text only. A
    tool's or code's result becomes a user message; images stay behind (no vision here)."""
    out: list[dict[str, str]] = []
    for message in messages:
        role = message.get("role")
        content = message.get("content")
        if isinstance(content, list):
            content = "\n".join(str(p.get("text", "")) for p in content if isinstance(p, dict) and p.get("type") == "text")
        text = content if isinstance(content, str) else ""
        if role not in ("system", "user", "assistant"):
            role = "user"
        if out and out[-1]["role"] == role and role != "system":
            out[-1]["content"] += "\n\n" + text
        else:
            out.append({"role": role, "content": text})
    return out


def _error(status: int, message: str) -> httpx2.Response:
    return httpx2.Response(status, json={"error": {"message": message, "type": "in_page"}})


class _Events(httpx2.AsyncByteStream):
    """The reply as server-sent events; closing it before the end stops the model."""

    def __init__(self, replies: AsyncIterator[Delta | Done], model: str) -> None:
        self._replies = replies
        self._model = model
        self._created = int(time.time())

    def _chunk(self, delta: dict[str, Any], finish: str | None = None, usage: dict[str, int] | None = None) -> bytes:
        body: dict[str, Any] = {
            "id": "in-page",
            "object": "chat.completion.chunk",
            "created": self._created,
            "model": self._model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }
        if usage is not None:
            body["usage"] = usage
        return b"data: " + json.dumps(body).encode() + b"\n\n"

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self._chunk({"role": "assistant", "content": ""})
        try:
            async for reply in self._replies:
                if isinstance(reply, Delta):
                    yield self._chunk({"content": reply.text})
                else:
                    usage = {"prompt_tokens": reply.prompt_tokens, "completion_tokens": reply.tokens, "total_tokens": reply.prompt_tokens + reply.tokens}
                    yield self._chunk({}, reply.finish_reason, usage)
        except InPageFailed as exc:
            yield b"data: " + json.dumps({"error": {"message": str(exc)}}).encode() + b"\n\n"
        yield b"data: [DONE]\n\n"

    async def aclose(self) -> None:
        await self._replies.aclose()  # type: ignore[attr-defined]


class InPageTransport(httpx2.AsyncBaseTransport):
    """Answers the SDK's requests from the in-page model: the model list, and chat
    completions (streamed or not). Tools are refused, so the loop asks for code as text."""

    def __init__(self, model: InPageModel) -> None:
        self.model = model

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        path = request.url.path.rstrip("/")
        if path.endswith("/models"):
            kept = await self.model.kept()
            data = [{"id": kept.name, "object": "model", "owned_by": "this page"}] if kept.name else []
            return httpx2.Response(200, json={"object": "list", "data": data})
        if not path.endswith("/chat/completions"):
            return _error(404, f"the in-page model has no {path}")
        body = json.loads(await request.aread() or b"{}")
        if body.get("tools"):
            return _error(400, NO_TOOLS)
        try:
            if self.model.loaded is None:
                if not (await self.model.kept()).name:
                    return _error(400, NO_MODEL)
                await self.model.load()
        except InPageFailed as exc:
            return _error(400, str(exc))
        name = self.model.loaded.name if self.model.loaded else ""
        replies = self.model.chat(wllama_messages(body.get("messages") or []), body.get("max_tokens") or body.get("max_completion_tokens"), body.get("temperature"))
        if body.get("stream"):
            return httpx2.Response(200, headers={"content-type": "text/event-stream"}, stream=_Events(replies, name))
        return await _whole(replies, name)


async def _whole(replies: AsyncIterator[Delta | Done], model: str) -> httpx2.Response:
    text: list[str] = []
    try:
        async for reply in replies:
            if isinstance(reply, Delta):
                text.append(reply.text)
            else:
                usage = {"prompt_tokens": reply.prompt_tokens, "completion_tokens": reply.tokens, "total_tokens": reply.prompt_tokens + reply.tokens}
                message = {"role": "assistant", "content": "".join(text)}
                choice = {"index": 0, "message": message, "finish_reason": reply.finish_reason}
                body = {"id": "in-page", "object": "chat.completion", "created": int(time.time()), "model": model, "choices": [choice], "usage": usage}
                return httpx2.Response(200, json=body)
    except InPageFailed as exc:
        return _error(500, str(exc))
    return _error(500, "the in-page model stopped without finishing")


# ------------------------------------------------------------------ the browser's side


class WorkerPort:
    """site/model-worker.js in a module Web Worker; ``download`` goes in its URL, where the
    service worker reads it to let that worker (and no other) reach that one address."""

    def __init__(self, download: str, hear: Hear) -> None:
        import js
        from pyodide.ffi import create_proxy, to_js

        script = SCRIPT + (f"?download={js.encodeURIComponent(download)}" if download else "")
        options = to_js({"type": "module", "name": "model"}, dict_converter=js.Object.fromEntries)
        self._worker = js.Worker.new(script, options)
        self._hear = hear
        self._handler = create_proxy(self._on_event)
        self._worker.onmessage = self._handler
        self._worker.onerror = self._handler

    def post(self, message: dict[str, Any]) -> None:
        import js
        from pyodide.ffi import to_js

        self._worker.postMessage(to_js(message, dict_converter=js.Object.fromEntries))

    def close(self) -> None:
        self._worker.terminate()
        self._handler.destroy()

    def _on_event(self, event: Any) -> None:
        data = getattr(event, "data", None)
        if data is None:  # an error event: the worker is gone (or could not start)
            event.preventDefault()
            self._hear(None, str(getattr(event, "message", "") or "it could not be started"))
        else:
            self._hear(data.to_py() if hasattr(data, "to_py") else data)


def worker_port(download: str, hear: Hear) -> Port:
    return WorkerPort(download, hear)


_model: InPageModel | None = None


def in_page_model() -> InPageModel:
    """The page's one in-page model (its worker starts on first use)."""
    global _model
    if _model is None:
        _model = InPageModel()
    return _model
