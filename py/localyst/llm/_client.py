"""Builds the SDK client for an endpoint, sending only headers the endpoint accepts."""

from __future__ import annotations

import sys

import httpx2
import openai

from ._endpoints import IN_PAGE_URL, Endpoint

TIMEOUT = httpx2.Timeout(300.0, connect=15.0)  # local models can take minutes to load before the first token
MAX_RETRIES = 2  # the SDK's default: retries 408/409/429/5xx and connection errors, honouring Retry-After
_NO_KEY = "no-key"  # the SDK insists on a key; this placeholder is never sent (see _clean_headers)


def make_client(endpoint: Endpoint, *, max_retries: int = MAX_RETRIES) -> openai.AsyncOpenAI:
    """An async client (the only kind that works in the browser) for ``endpoint``.

    Outside api.openai.com the SDK's ``x-stainless-*`` telemetry headers are dropped:
    they trigger CORS preflights that servers such as Ollama refuse. With no key, no
    ``Authorization`` header goes out at all, which every keyless local server accepts.
    The in-page model is answered by a transport of its own: nothing goes out at all.
    """
    if endpoint.in_page:
        from ._inpage import InPageTransport, in_page_model

        # No retries: the model is in this tab, and a refusal will not change on its own.
        transport = InPageTransport(in_page_model())
        return openai.AsyncOpenAI(api_key=_NO_KEY, base_url=IN_PAGE_URL, max_retries=0, http_client=httpx2.AsyncClient(transport=transport, timeout=None))
    hooks = {"request": [_clean_headers(strip_stainless=not endpoint.is_openai, keyless=not endpoint.api_key)]}
    return openai.AsyncOpenAI(
        api_key=endpoint.api_key or _NO_KEY,
        base_url=endpoint.base_url.strip().rstrip("/"),
        timeout=TIMEOUT,
        max_retries=max_retries,
        # A plain httpx2 client: the SDK's default one sets connection limits, which
        # Pyodide's fetch transport cannot honour and warns about.
        http_client=httpx2.AsyncClient(timeout=TIMEOUT, follow_redirects=True, event_hooks=hooks, transport=_transport()),
    )


def _transport() -> httpx2.AsyncBaseTransport | None:
    """In the browser, fetch (httpx2-jsfetch) with streams that end their request when closed
    early. Its own streams only let go of the body's reader on close: the connection stays
    open and the server goes on writing — a local model server generating for minutes after
    Stop, and refusing the next request while its one slot is busy. Elsewhere, httpx2's own."""
    if sys.platform != "emscripten":
        return None
    from httpx2_jsfetch import AsyncJavascriptFetchTransport

    class Fetch(AsyncJavascriptFetchTransport):
        async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
            response = await super().handle_async_request(request)
            response.stream = _AbortOnClose(response.stream)
            return response

    return Fetch()


class _AbortOnClose(httpx2.AsyncByteStream):
    """A fetch response's body that aborts the fetch when closed (after the end: a no-op)."""

    def __init__(self, stream: httpx2.AsyncByteStream) -> None:
        self._stream = stream

    async def __aiter__(self):  # type: ignore[override]
        async for chunk in self._stream:
            yield chunk

    async def aclose(self) -> None:
        self._stream.abort_controller_js.abort()  # type: ignore[attr-defined]
        await self._stream.aclose()


def _clean_headers(*, strip_stainless: bool, keyless: bool):
    """An httpx2 request hook: it runs on every attempt, after the SDK has set its headers."""

    async def clean(request: httpx2.Request) -> None:
        for name in list(request.headers):
            lower = name.lower()
            if (strip_stainless and lower.startswith("x-stainless-")) or (keyless and lower == "authorization"):
                del request.headers[name]

    return clean
