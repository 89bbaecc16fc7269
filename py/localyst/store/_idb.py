"""IndexedDB, from Python in a browser worker.

Every request of a transaction is issued before anything is awaited (a transaction
commits itself once its requests are done and nothing more is asked of it), and a write
is awaited to its `complete` event: a write that fails (a full disk) is all undone."""

from __future__ import annotations

import asyncio
from typing import Any

#: (store name, key path) of each object store; a new store needs a new VERSION.
STORES = (("conversations", "id"), ("files", ["conversation", "path"]), ("settings", "key"), ("parts", ["conversation", "index"]))
VERSION = 2


class StoreError(RuntimeError):
    """IndexedDB refused: ``name`` is the DOMException's (QuotaExceededError for a full disk)."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"{name}: {message}")
        self.name = name


#: The DOMExceptions a write can meet. Pyodide wraps a thrown DOMException (not an Error
#: in its eyes) in an Error whose message quotes it, so the name is found in the text.
KNOWN_ERRORS = ("QuotaExceededError", "DataCloneError", "InvalidStateError", "ReadOnlyError", "TransactionInactiveError")


def _exception_name(exc: Exception) -> str:
    text = str(exc)
    return next((name for name in KNOWN_ERRORS if name in text), "Error")


def _error(source: Any) -> StoreError:
    error = getattr(source, "error", None)
    if error is None:
        return StoreError("AbortError", "the browser's storage gave up on the change")
    return StoreError(str(error.name), str(error.message))


def _wait(target: Any, done: str, *failed: str) -> asyncio.Future:
    """A future settled by the first of ``done`` (with the target's result) or ``failed``.

    The first event takes every handler away: a failing transaction fires both "error"
    and "abort", and a second call of a once-callable would stop the worker."""
    from pyodide.ffi import create_once_callable

    future = asyncio.get_event_loop().create_future()
    handlers: dict[str, Any] = {}

    def settle(name: str, outcome: Any) -> None:
        for other, handler in handlers.items():
            setattr(target, other, None)
            if other != name:
                handler.destroy()  # never called; the one called is gone with its call
        if not future.done():
            outcome()

    def succeed(_event: Any) -> None:
        settle(done, lambda: future.set_result(getattr(target, "result", None) if done == "onsuccess" else None))

    def failure(name: str) -> Any:
        return lambda _event: settle(name, lambda: future.set_exception(_error(target)))

    handlers[done] = create_once_callable(succeed)
    for name in failed:
        handlers[name] = create_once_callable(failure(name))
    for name, handler in handlers.items():
        setattr(target, name, handler)
    return future


def to_js_value(value: Any) -> Any:
    """Python data as the JS objects IndexedDB stores (dicts become plain objects)."""
    import js
    from pyodide.ffi import to_js

    return to_js(value, dict_converter=js.Object.fromEntries)


class Database:
    """One open IndexedDB database with the stores in STORES."""

    def __init__(self, handle: Any) -> None:
        self.handle = handle

    @classmethod
    async def open(cls, name: str = "localyst") -> Database:
        import js
        from pyodide.ffi import create_once_callable

        request = js.indexedDB.open(name, VERSION)

        def upgrade(_event: Any) -> None:
            db = request.result
            for store, key in STORES:
                if not db.objectStoreNames.contains(store):
                    db.createObjectStore(store, to_js_value({"keyPath": key}))

        request.onupgradeneeded = create_once_callable(upgrade)
        return cls(await _wait(request, "onsuccess", "onerror", "onblocked"))

    async def write(
        self,
        puts: dict[str, list[Any]] | None = None,
        deletes: dict[str, list[Any]] | None = None,
        ranges: dict[str, list[tuple[Any, Any]]] | None = None,
    ) -> None:
        """Put and delete (keys, or ranges of keys from first to last) in one transaction:
        all of it is stored, or none of it."""
        import js
        from pyodide.ffi import JsException

        names = sorted(set(puts or {}) | set(deletes or {}) | set(ranges or {}))
        transaction = self.handle.transaction(to_js_value(names), "readwrite")
        finished = _wait(transaction, "oncomplete", "onerror", "onabort")
        try:
            for store, values in (puts or {}).items():
                for value in values:
                    transaction.objectStore(store).put(value if not isinstance(value, dict) else to_js_value(value))
            for store, keys in (deletes or {}).items():
                for key in keys:
                    transaction.objectStore(store).delete(to_js_value(key))
            for store, bounds in (ranges or {}).items():
                for first, last in bounds:
                    transaction.objectStore(store).delete(js.IDBKeyRange.bound(to_js_value(first), to_js_value(last)))
        except JsException as exc:  # refused at once (a full disk can be): undo what was asked
            transaction.abort()
            finished.cancel()
            raise StoreError(_exception_name(exc), str(exc)) from None
        await finished

    async def get(self, store: str, key: Any) -> Any:
        """The stored JS object (a JsProxy), or None."""
        request = self.handle.transaction(store, "readonly").objectStore(store).get(to_js_value(key))
        return await _wait(request, "onsuccess", "onerror")

    async def get_all(self, store: str, first: Any = None, last: Any = None) -> list[Any]:
        """Every object of a store, or those whose keys are from ``first`` to ``last``."""
        import js

        query = js.IDBKeyRange.bound(to_js_value(first), to_js_value(last)) if first is not None else js.undefined
        request = self.handle.transaction(store, "readonly").objectStore(store).getAll(query)
        return list(await _wait(request, "onsuccess", "onerror"))
