"""Keeping the person's work in the browser (IndexedDB): conversations, files, settings.

Runs in the app worker; no Panel, no model. Writes are whole or not at all: a full disk
raises StoreError (name "QuotaExceededError") and leaves what was stored before."""

from ._backup import backup, restore
from ._idb import StoreError
from ._locks import try_hold
from ._store import Part, Store, new_conversation

__all__ = ["Part", "Store", "StoreError", "backup", "new_conversation", "restore", "try_hold"]
