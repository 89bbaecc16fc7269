"""A scripted OpenAI-compatible model server on 127.0.0.1, standard library only.

Tests (CPython, Pyodide under Node, the browser) script what the next chat-completion
requests get back — text, tool calls, faults, cut or slow streams — and read what was
sent. A person can run it to try the app without a real model:

    python tools/mock_model.py --port 8001

With nothing scripted it answers every message with a short streamed Markdown echo.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import math
import socket
import sys
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator, Mapping

DEFAULT_MODELS = ("mock-small", "mock-large")


# ---------------------------------------------------------------- replies


@dataclass(frozen=True)
class Call:
    """One tool call the model makes; ``arguments`` is the JSON text, sent in fragments."""

    name: str
    arguments: str
    id: str | None = None


@dataclass(frozen=True)
class Reply:
    """What one chat-completion request gets back. Build it with the helpers below."""

    content: str = ""
    calls: tuple[Call, ...] = ()
    chunks: int = 3
    delay: float = 0.0
    fragment: int = 8
    usage: tuple[int, int] | None = None
    status: int = 200
    error: Mapping[str, Any] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    cut: str | None = None  # None, "abrupt" (socket closed mid-body) or "clean" (body ends early)
    times: int | None = 1  # how many requests it answers; None: every one until reset()
    finish: str | None = None  # the finish_reason sent ("length": the output limit cut it off); None: the usual one


def text(
    content: str, chunks: int = 3, delay: float = 0.0, usage: tuple[int, int] | None = None, finish: str | None = None
) -> Reply:
    """A plain answer, streamed in ``chunks`` pieces with ``delay`` seconds before each;
    ``finish="length"`` says the output limit cut it off."""
    return Reply(content=content, chunks=chunks, delay=delay, usage=usage, finish=finish)


def slow(content: str, delay_per_chunk: float = 0.2, chunks: int = 5) -> Reply:
    """A plain answer that trickles in, to observe incremental delivery."""
    return Reply(content=content, chunks=chunks, delay=delay_per_chunk)


def tool_call(
    name: str,
    arguments: str,
    *,
    id: str | None = None,
    content: str = "",
    fragment: int = 8,
    usage: tuple[int, int] | None = None,
) -> Reply:
    """One tool call (after optional text), its arguments streamed ``fragment`` characters at a time."""
    return tool_calls(Call(name, arguments, id), content=content, fragment=fragment, usage=usage)


def tool_calls(
    *calls: Call, content: str = "", fragment: int = 8, usage: tuple[int, int] | None = None, finish: str | None = None
) -> Reply:
    """Several tool calls in one response (after optional text)."""
    return Reply(content=content, calls=tuple(calls), fragment=fragment, usage=usage, finish=finish)


_FAULTS: dict[int, tuple[str, str, str | None]] = {
    400: ("Invalid request.", "invalid_request_error", None),
    401: ("Incorrect API key provided.", "invalid_request_error", "invalid_api_key"),
    404: ("The model `{model}` does not exist or you do not have access to it.", "invalid_request_error", "model_not_found"),
    429: ("Rate limit reached. Please try again later.", "rate_limit_exceeded", "rate_limit_exceeded"),
    500: ("The server had an error while processing your request.", "server_error", None),
    503: ("The engine is currently overloaded.", "server_error", None),
}


def fault(
    status: int,
    message: str | None = None,
    *,
    type: str | None = None,
    code: str | None = None,
    headers: Mapping[str, str] | None = None,
    times: int | None = 1,
) -> Reply:
    """An OpenAI-style error response. ``{model}`` in the message becomes the requested model.

    A 429 carries ``Retry-After: 1`` unless ``headers`` says otherwise. ``times=2`` answers
    two requests (the SDK retries 429 and 5xx); ``times=None`` answers all until reset().
    """
    default_message, default_type, default_code = _FAULTS.get(status, ("Error.", "api_error", None))
    body = {"message": message or default_message, "type": type or default_type, "param": None, "code": code or default_code}
    if headers is None:
        headers = {"Retry-After": "1"} if status == 429 else {}
    return Reply(status=status, error=body, headers=dict(headers), times=times)


def cut(content_so_far: str, chunks: int = 3, *, clean: bool = False, delay: float = 0.0) -> Reply:
    """A stream that stops before its finish_reason and ``[DONE]``.

    By default the connection drops mid-body (as when a proxy or the network fails);
    ``clean=True`` ends the HTTP body properly, just too early.
    """
    return Reply(content=content_so_far, chunks=chunks, delay=delay, cut="clean" if clean else "abrupt")


def echo(messages: list[Mapping[str, Any]]) -> Reply:
    """The default answer: the last user message back, with a little Markdown."""
    said = next((str(m.get("content") or "") for m in reversed(messages) if m.get("role") == "user"), "")
    content = f"You said: **{said}**\n\nThis reply comes from the *mock model*:\n\n- no real model was asked\n- `tools/mock_model.py` made it up"
    return Reply(content=content, chunks=6, delay=0.05)


# ---------------------------------------------------------------- the wire format


def _slices(value: str, size: int) -> list[str]:
    size = max(1, size)
    return [value[i : i + size] for i in range(0, len(value), size)]


def _pieces(value: str, count: int) -> list[str]:
    return _slices(value, math.ceil(len(value) / max(1, count)))


def _usage(reply: Reply, messages: list[Mapping[str, Any]]) -> dict[str, int]:
    if reply.usage is not None:
        prompt, completion = reply.usage
    else:
        prompt = sum(len(str(m.get("content") or "").split()) for m in messages)
        completion = len(reply.content.split()) + sum(len(c.arguments) // 4 for c in reply.calls)
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def _call_ids(reply: Reply) -> list[str]:
    return [c.id or f"call_{uuid.uuid4().hex[:24]}" for c in reply.calls]


def _finish_reason(reply: Reply) -> str:
    if reply.finish is not None:
        return reply.finish
    return "tool_calls" if reply.calls else "stop"


def completion(reply: Reply, model: str, messages: list[Mapping[str, Any]]) -> dict[str, Any]:
    """A ``chat.completion`` object."""
    message: dict[str, Any] = {"role": "assistant", "content": reply.content or None}
    if reply.calls:
        message["tool_calls"] = [
            {"id": cid, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
            for cid, c in zip(_call_ids(reply), reply.calls)
        ]
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": _finish_reason(reply)}],
        "usage": _usage(reply, messages),
    }


def chunks(reply: Reply, model: str, messages: list[Mapping[str, Any]], include_usage: bool) -> Iterator[dict[str, Any]]:
    """The ``chat.completion.chunk`` objects of a stream, in order (without ``[DONE]``)."""
    base = {"id": f"chatcmpl-{uuid.uuid4().hex[:24]}", "object": "chat.completion.chunk", "created": int(time.time()), "model": model}

    def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
        out = {**base, "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}]}
        if include_usage:
            out["usage"] = None
        return out

    yield chunk({"role": "assistant", "content": ""})
    for piece in _pieces(reply.content, reply.chunks):
        yield chunk({"content": piece})
    for index, (cid, call) in enumerate(zip(_call_ids(reply), reply.calls)):
        head = {"index": index, "id": cid, "type": "function", "function": {"name": call.name, "arguments": ""}}
        yield chunk({"tool_calls": [head]})
        for piece in _slices(call.arguments, reply.fragment):
            yield chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})
    if reply.cut:
        return
    yield chunk({}, _finish_reason(reply))
    if include_usage:
        yield {**base, "choices": [], "usage": _usage(reply, messages)}


# ---------------------------------------------------------------- the server


@dataclass(frozen=True)
class Recorded:
    """One request as the server saw it; header names are lower case."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "_Server"

    # --- plumbing

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _record(self) -> Recorded:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        request = Recorded(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
        self.server.mock._record(request)
        return request

    def _cors_headers(self) -> None:
        if self.server.mock.cors:
            self.send_header("Access-Control-Allow-Origin", self.headers.get("Origin") or "*")
            self.send_header("Access-Control-Expose-Headers", "*")
            self.send_header("Vary", "Origin")

    def _json(self, status: int, payload: Any, headers: Mapping[str, str] = {}) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self._cors_headers()
        self.end_headers()
        self.wfile.write(data)

    def _write_chunk(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def _drop_connection(self) -> None:
        self.close_connection = True
        self.wfile.flush()
        self.connection.shutdown(socket.SHUT_RDWR)

    # --- endpoints

    def do_OPTIONS(self) -> None:
        self._record()
        mock = self.server.mock
        asked = [h.strip().lower() for h in self.headers.get("Access-Control-Request-Headers", "").split(",") if h.strip()]
        refused = any(fnmatch.fnmatch(h, p.lower()) for h in asked for p in mock.refuse_headers)
        if not mock.cors or refused:
            self.send_response(403)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(204)
        self.send_header("Access-Control-Allow-Origin", self.headers.get("Origin") or "*")
        self.send_header("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
        self.send_header("Access-Control-Allow-Headers", ", ".join(asked))
        if self.headers.get("Access-Control-Request-Private-Network"):
            self.send_header("Access-Control-Allow-Private-Network", "true")
        self.send_header("Access-Control-Max-Age", "0")
        self.send_header("Vary", "Origin")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _authorized(self, request: Recorded) -> bool:
        wanted = self.server.mock.api_key
        if wanted is None or request.headers.get("authorization") == f"Bearer {wanted}":
            return True
        reply = fault(401)
        self._json(401, {"error": reply.error})
        return False

    def do_GET(self) -> None:
        request = self._record()
        if not self._authorized(request):
            return
        if self.path.rstrip("/").endswith("/models"):
            data = [{"id": m, "object": "model", "created": 0, "owned_by": "mock"} for m in self.server.mock.models]
            self._json(200, {"object": "list", "data": data})
        else:
            self._json(404, {"error": {"message": f"Unknown path {self.path}", "type": "invalid_request_error", "param": None, "code": None}})

    def do_POST(self) -> None:
        request = self._record()
        if not self._authorized(request):
            return
        if not self.path.rstrip("/").endswith("/chat/completions"):
            self._json(404, {"error": {"message": f"Unknown path {self.path}", "type": "invalid_request_error", "param": None, "code": None}})
            return
        body = request.body if isinstance(request.body, dict) else {}
        model = str(body.get("model") or "")
        messages = list(body.get("messages") or [])
        mock = self.server.mock
        if mock.known_models_only and model not in mock.models:
            reply = fault(404)
        else:
            reply = mock._next_reply(messages)
        if reply.status != 200:
            error = {**reply.error, "message": reply.error["message"].replace("{model}", model)}
            self._json(reply.status, {"error": error}, reply.headers)
        elif body.get("stream"):
            include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
            self._stream(reply, model, messages, include_usage)
        elif reply.cut:
            self._drop_connection()
        else:
            self._json(200, completion(reply, model, messages), reply.headers)

    def _stream(self, reply: Reply, model: str, messages: list[Mapping[str, Any]], include_usage: bool) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self._cors_headers()
        self.end_headers()
        self.wfile.flush()
        items = list(chunks(reply, model, messages, include_usage))
        for sent, item in enumerate(items):
            if reply.delay:
                time.sleep(reply.delay)
            try:
                self._write_chunk(b"data: " + json.dumps(item).encode() + b"\n\n")
            except (BrokenPipeError, ConnectionResetError):  # the client went away: as a real server, stop writing
                self.server.mock._abandoned(sent, len(items))
                self.close_connection = True
                return
        if reply.cut == "abrupt":
            self._drop_connection()
            return
        if not reply.cut:
            self._write_chunk(b"data: [DONE]\n\n")
        self._write_chunk(b"")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    mock: "MockModel"

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients dropping idle or cut connections is normal here, not worth a traceback."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class MockModel:
    """The server. ``start()`` returns its base URL (``http://127.0.0.1:PORT/v1``).

    ``cors=False`` sends no CORS headers at all (a browser refuses every response);
    ``refuse_headers`` fails any preflight asking for a matching header, as Ollama does
    for the SDK's ``x-stainless-*`` headers. ``api_key`` makes every request without
    that bearer key a 401; ``known_models_only`` makes an unknown model a 404.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        models: tuple[str, ...] | list[str] = DEFAULT_MODELS,
        cors: bool = True,
        refuse_headers: tuple[str, ...] = (),
        api_key: str | None = None,
        known_models_only: bool = False,
    ) -> None:
        self.host, self.port = host, port
        self.models = list(models)
        self.cors = cors
        self.refuse_headers = tuple(refuse_headers)
        self.api_key = api_key
        self.known_models_only = known_models_only
        self.requests: list[Recorded] = []
        #: (chunks written, chunks due) of each stream whose client went away before its end
        self.abandoned: list[tuple[int, int]] = []
        self._queue: deque[list[Any]] = deque()
        self._lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    def start(self) -> str:
        self._server = _Server((self.host, self.port), _Handler)
        self._server.mock = self
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), name="mock-model", daemon=True)
        self._thread.start()
        return self.base_url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> "MockModel":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def script(self, *replies: Reply) -> "MockModel":
        """Queue replies for the next chat-completion requests, first in first out."""
        with self._lock:
            self._queue.extend([reply, reply.times] for reply in replies)
        return self

    def reset(self) -> None:
        """Forget the script and the recorded requests."""
        with self._lock:
            self._queue.clear()
            self.requests.clear()
            self.abandoned.clear()

    def chat_requests(self) -> list[Recorded]:
        """The chat-completion POSTs received so far."""
        return [r for r in self.requests if r.method == "POST" and r.path.rstrip("/").endswith("/chat/completions")]

    def _record(self, request: Recorded) -> None:
        with self._lock:
            self.requests.append(request)

    def _abandoned(self, sent: int, total: int) -> None:
        with self._lock:
            self.abandoned.append((sent, total))

    def _next_reply(self, messages: list[Mapping[str, Any]]) -> Reply:
        with self._lock:
            if not self._queue:
                return echo(messages)
            entry = self._queue[0]
            if entry[1] is not None:
                entry[1] -= 1
                if entry[1] <= 0:
                    self._queue.popleft()
            return entry[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--models", default=",".join(DEFAULT_MODELS), help="comma-separated model ids")
    parser.add_argument("--api-key", help="answer 401 unless this bearer key is sent")
    parser.add_argument("--no-cors", action="store_true", help="send no CORS headers (the browser refuses)")
    parser.add_argument("--refuse-headers", default="", help="comma-separated header patterns to refuse in preflight, e.g. 'x-stainless-*'")
    args = parser.parse_args()
    mock = MockModel(
        host=args.host,
        port=args.port,
        models=[m for m in args.models.split(",") if m],
        cors=not args.no_cors,
        refuse_headers=tuple(p for p in args.refuse_headers.split(",") if p),
        api_key=args.api_key,
    )
    print(f"Mock model at {mock.start()}  (Ctrl+C to stop)", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        mock.stop()


if __name__ == "__main__":
    main()
