"""One tab per conversation: a Web Lock named after the conversation, held while a tab
shows it, so two tabs never write over each other's turns."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


async def try_hold(name: str, wait: float = 0.0) -> Callable[[], None] | None:
    """Hold the lock ``name`` until the returned function is called; None when another tab
    holds it for longer than ``wait`` seconds (or the browser has no Web Locks, where
    nothing can be coordinated: then a no-op release is returned and the tab goes ahead).

    Waiting matters on a reload: the page before it may still hold its lock for a moment."""
    import js
    from pyodide.ffi import create_once_callable, to_js

    locks = getattr(js.navigator, "locks", None)
    if locks is None:
        return lambda: None
    granted = asyncio.get_event_loop().create_future()
    held: dict[str, Callable[[], None]] = {}

    def keep(resolve, _reject) -> None:
        held["release"] = lambda: resolve(None)

    def on_grant(lock):
        if lock is None:
            granted.set_result(False)
            return None
        granted.set_result(True)
        return js.Promise.new(create_once_callable(keep))  # the lock lasts until this settles

    def on_timeout(_error) -> None:
        if not granted.done():
            granted.set_result(False)

    wanted = {"signal": js.AbortSignal.timeout(int(wait * 1000))} if wait > 0 else {"ifAvailable": True}
    options = to_js(wanted, dict_converter=js.Object.fromEntries)
    locks.request(name, options, create_once_callable(on_grant)).catch(create_once_callable(on_timeout))
    if not await granted:
        return None
    return held["release"]
