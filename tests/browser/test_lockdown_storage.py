"""The kernel worker keeps no handle on a persistent store, checked against the browser's
own list: code (run the way the model's is) enumerates every name the worker's global
object, ``navigator`` and their prototypes carry, in Chromium, and tries the stores.

A store the kernel could reach would let code read the app's data (same origin) or keep
data across visits and conversations; dropStorage() in site/kernel-worker.js removes them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest

from tests.browser.conftest import LOAD_TIMEOUT_MS, answer, checked_page, open_app, run_code, shows
from tools.mock_model import text

pytestmark = pytest.mark.browser

#: Names that belong to a persistent or shared store (case matters: "Lock" is the Web Locks
#: interface, "lockedDown" the bootstrap's own probe).
STORAGE = (
    r"[Ff]ile[Ss]ystem|indexedDB|^IDB|[Cc]ache|[Cc]ookie|^locks$|^Lock|BroadcastChannel|[Ss]torage"
    r"|Bucket|SharedWorker|[Ss]erviceWorker|requestFileSystem|resolveLocalFileSystem"
)

# Every matching name still reachable, and what it is: an interface object whose
# constructor the browser refuses ("Illegal constructor") cannot open a store; an event
# interface builds only an event. Anything else is a live handle.
ENUMERATE = f"""
import json, re, js
from pyodide.ffi import JsException, JsProxy
pattern = re.compile({STORAGE!r})
own = {{'dropStorage'}}  # the bootstrap's function that removes the handles
def names(root):
    found, o = set(), root
    while o is not None:
        found.update(str(n) for n in js.Object.getOwnPropertyNames(o))
        o = js.Object.getPrototypeOf(o)
    return found
def kind(name):
    value = getattr(js.self, name)
    if not isinstance(value, JsProxy) or value.typeof != 'function':
        return 'a value: ' + type(value).__name__
    if js.Event.prototype.isPrototypeOf(getattr(value, 'prototype', None)):
        return 'event'
    try:
        js.Reflect.construct(value, js.Array.new())
    except JsException as exc:
        return 'illegal' if 'Illegal constructor' in str(exc) else 'refused: ' + str(exc)[:80]
    return 'constructible'
found = {{
    'global': {{n: kind(n) for n in sorted(names(js.self)) if pattern.search(n) and n not in own}},
    'navigator': sorted(n for n in names(js.navigator) if pattern.search(n)),
}}
print('RESULT ' + json.dumps(found))
"""

# Each store tried for real; a line per store, "refused" when the name is not there.
TRY = """
import js
from pyodide.ffi import create_proxy, to_js
PERSISTENT = 1
ignore = create_proxy(lambda *args: None)
def options(**kw):
    return to_js(kw, dict_converter=js.Object.fromEntries)
tries = {
    'webkitRequestFileSystem': lambda: js.webkitRequestFileSystem(PERSISTENT, 1024, ignore, ignore),
    'webkitRequestFileSystemSync': lambda: js.webkitRequestFileSystemSync(PERSISTENT, 1024).root.getDirectory('stash', options(create=True)).fullPath,
    'webkitResolveLocalFileSystemURL': lambda: js.webkitResolveLocalFileSystemURL('filesystem:' + js.location.origin + '/persistent/', ignore, ignore),
    'webkitResolveLocalFileSystemSyncURL': lambda: js.webkitResolveLocalFileSystemSyncURL('filesystem:' + js.location.origin + '/persistent/'),
    'navigator.storageBuckets': lambda: js.navigator.storageBuckets.open('stash'),
    'navigator.storage': lambda: js.navigator.storage.getDirectory(),
    'indexedDB': lambda: js.indexedDB.open('stash'),
    'caches': lambda: js.caches.open('stash'),
}
for name, attempt in tries.items():
    try:
        attempt()
        print('TRY', name, 'went through')
    except AttributeError as exc:
        print('TRY', name, 'refused')
    except Exception as exc:
        print('TRY', name, 'failed otherwise:', type(exc).__name__, str(exc)[:120])
print('RESULT tried', len(tries))
"""


@pytest.fixture(scope="module")
def kernel_page(browser, site, egress, model) -> Iterator:
    with checked_page(browser, site, egress) as page:
        open_app(page, site, f"base_url={model.base_url}&model=mock-small")
        shows(page, "Python kernel: ready", LOAD_TIMEOUT_MS)
        yield page


def test_no_storage_name_is_left_but_interfaces_that_cannot_be_used(kernel_page, mock) -> None:
    turn = answer(kernel_page, mock, "list the stores", run_code(ENUMERATE), text("Listed."), marker="Listed.")
    found = json.loads(turn.rsplit("RESULT ", 1)[1].splitlines()[0])  # the output, after the code
    assert found["navigator"] == [], f"navigator still has {found['navigator']}"
    live = {name: what for name, what in found["global"].items() if what not in ("illegal", "event")}
    assert not live, f"the kernel can still reach {live}"
    assert "IDBFactory" in found["global"] and "FileSystemHandle" in found["global"]  # the check saw them


def test_every_store_is_refused_to_kernel_code(kernel_page, mock) -> None:
    turn = answer(kernel_page, mock, "try the stores", run_code(TRY), text("Tried."), marker="Tried.")
    assert "RESULT tried 8" in turn, turn[-800:]
    outcomes = dict(re.findall(r"TRY (\S+) (went through|refused|failed otherwise[^\n]*)", turn))
    assert len(outcomes) == 8 and set(outcomes.values()) == {"refused"}, outcomes
