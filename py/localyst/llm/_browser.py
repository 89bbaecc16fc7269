"""What only the browser can tell: the page's origin, and whether a refused request was CORS.

In the browser ``fetch`` fails with the same TypeError whether the server is down or it
refused the page's origin. A ``no-cors`` request resolves (with an opaque answer) as soon
as the server answers at all, so it tells the two apart.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Awaitable, TypeVar

import openai

from ._exceptions import CorsRefused

T = TypeVar("T")
PROBE_SECONDS = 5.0


def in_browser() -> bool:
    return sys.platform == "emscripten"


def page_origin() -> str | None:
    """The origin of the page (or worker) running us; None outside a browser."""
    if not in_browser():
        return None
    import js

    location = getattr(js, "location", None)
    return str(location.origin) if location is not None else None


async def server_answers(url: str) -> bool:
    """True if anything answers ``url`` to a no-cors fetch (always False outside Pyodide)."""
    if not in_browser():
        return False
    import js
    from pyodide.ffi import to_js

    options = to_js({"mode": "no-cors", "cache": "no-store"}, dict_converter=js.Object.fromEntries)
    try:
        await asyncio.wait_for(js.fetch(url, options), PROBE_SECONDS)
    except Exception:
        return False
    return True


async def reaching(request: Awaitable[T], base_url: str) -> T:
    """Await an SDK request; turn a connection failure into CorsRefused when the server is up."""
    try:
        return await request
    except openai.APITimeoutError:
        raise
    except openai.APIConnectionError as exc:
        if await server_answers(base_url):
            raise CorsRefused(base_url, page_origin()) from exc
        raise
