"""Work the app starts and does not wait for (a save, a file listing), kept alive until done.

The event loop holds only a weak reference to a task: one nobody else holds can be
garbage-collected before it finishes, and then a save silently never happens. And an
exception in such a task would otherwise be reported only when it is collected, if ever.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

_running: set[asyncio.Task] = set()
log = logging.getLogger("localyst")


def background(work: Coroutine[Any, Any, Any]) -> asyncio.Task:
    """Run ``work`` without waiting for it; it is held until it ends, and a failure is logged."""
    task = asyncio.ensure_future(work)
    _running.add(task)
    task.add_done_callback(_finished)
    return task


def _finished(task: asyncio.Task) -> None:
    _running.discard(task)
    if not task.cancelled() and task.exception() is not None:
        log.error("background work failed", exc_info=task.exception())
