"""Memory snapshots, in Chromium (site/boot.js, snapshot-worker.js, sw.js): a first visit
starts both workers plain and then makes their snapshots; the next visit restores both, and
works, a kernel restart too; a snapshot that is corrupt, of another build or of another
browser is not used (the worker starts plain, says why, and works); restored visits share
neither random numbers nor the visit's token."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import LOAD_TIMEOUT_MS, answer, open_app, run_code, shows, wait_for
from tools.mock_model import text

pytestmark = pytest.mark.browser

WORKERS = ("app", "kernel")
SETTLED = "['app', 'kernel'].every((w) => ['kept', 'failed'].includes((window.localyst.snapshots[w] || {}).state))"

# Draws from both generators a cell would use.
DRAW = "import random, numpy as np\nprint(f'draws {random.random():.12f} {np.random.rand():.12f}')"


# The token the app's own buttons carry this visit (ui/_actions.py).
TOKEN = """() => { const walk = (root) => { for (const el of root.querySelectorAll("*")) {
    if (el.dataset && el.dataset.token) return el.dataset.token;
    if (el.shadowRoot) { const found = walk(el.shadowRoot); if (found) return found; } } return null; };
  return walk(document); }"""


def startup(page) -> dict:
    return page.evaluate("window.localyst.startup")


def reload_ready(page) -> None:
    """Reload the page (a next visit: both workers start anew) and wait for app and kernel."""
    page.reload()
    wait_for(page, "window.localyst && (window.localyst.ready || window.localyst.error)", LOAD_TIMEOUT_MS)
    assert page.evaluate("window.localyst.error") is None
    wait_for(page, "window.localyst.startup.app && window.localyst.startup.kernel", LOAD_TIMEOUT_MS)
    shows(page, "Python kernel: ready", LOAD_TIMEOUT_MS)


def snapshots_kept(page) -> None:
    wait_for(page, SETTLED, LOAD_TIMEOUT_MS)
    made = page.evaluate("window.localyst.snapshots")
    assert all(made[w]["state"] == "kept" for w in WORKERS), made
    assert all(made[w]["bytes"] > 10_000_000 for w in WORKERS), made


def draws(page, mock, marker: str) -> tuple[float, float]:
    """Run DRAW through the chat (the app and the kernel both at work) and read its numbers."""
    turn = answer(page, mock, f"draw {marker}", run_code(DRAW), text(f"drew {marker}"), marker=f"drew {marker}")
    numbers = re.findall(r"draws (0\.\d+) (0\.\d+)", turn)
    assert numbers, f"the cell's output is not in the turn: {turn[-300:]}"
    return tuple(float(x) for x in numbers[-1])


# Rewrites a kept snapshot in the page (the page may use Cache Storage; the kernel cannot).
# The file is: magic line, header length (uint32 LE), JSON header, padding, heap.
REWRITE = """async ([worker, how]) => {
  const cache = await caches.open(`localyst-${window.localyst.build}-made`);
  const url = new URL("snapshots/" + worker, location.href).href;
  const bytes = new Uint8Array(await (await cache.match(url)).arrayBuffer());
  const magic = 20, length = new DataView(bytes.buffer).getUint32(magic, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(magic + 4, length)));
  let out = bytes;
  if (how === "corrupt") {
    bytes[bytes.length - 12345] ^= 0xff;
  } else if (how === "unrestorable") {
    // a heap that passes every check of ours but not Pyodide's own (its magic number)
    const start = Math.ceil(length / 16) * 16;
    bytes.fill(0, start, start + 4);
    header.sha256 = Array.from(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes.subarray(start))), (b) => b.toString(16).padStart(2, "0")).join("");
    const head = new TextEncoder().encode(JSON.stringify(header));
    if (magic + 4 + head.length > start) throw new Error("the header grew past its padding");
    bytes.fill(32, magic + 4, start);
    bytes.set(head, magic + 4);
    new DataView(bytes.buffer).setUint32(magic, magic + 4 + head.length, true);
  } else {
    if (how === "build") header.build = "000000000000";
    if (how === "browser") header.browser = "Another/1.0";
    const head = new TextEncoder().encode(JSON.stringify(header));
    const body = bytes.subarray(Math.ceil(length / 16) * 16);
    const start = Math.ceil((magic + 4 + head.length) / 16) * 16;
    out = new Uint8Array(start + body.length);
    out.set(bytes.subarray(0, magic));
    new DataView(out.buffer).setUint32(magic, magic + 4 + head.length, true);
    out.set(head, magic + 4);
    out.set(body, start);
  }
  await cache.put(url, new Response(out));
}"""


def falls_back(page, mock, rewrites: dict[str, tuple[str, str]], marker: str) -> None:
    """Rewrite each worker's snapshot (worker -> (how, the reason it must give)), reload, and
    check that each started plain for that reason and that the chat still runs code."""
    for worker, (how, _) in rewrites.items():
        page.evaluate(REWRITE, [worker, how])
    reload_ready(page)
    started = startup(page)
    for worker, (_, reason) in rewrites.items():
        assert started[worker]["path"] == "plain" and reason in started[worker]["reason"], started
    draws(page, mock, marker)


def test_a_second_visit_restores_both_workers_and_a_bad_snapshot_falls_back(page, site, mock):
    open_app(page, site, f"snapshots=on&base_url={mock.base_url}&model=mock-small")
    wait_for(page, "window.localyst.startup.app && window.localyst.startup.kernel", LOAD_TIMEOUT_MS)
    token_first = page.evaluate(TOKEN)
    first = startup(page)
    assert {w: first[w]["path"] for w in WORKERS} == {"app": "plain", "kernel": "plain"}, first
    assert all("no snapshot is kept" in first[w]["reason"] for w in WORKERS), first
    snapshots_kept(page)

    reload_ready(page)
    second = startup(page)
    assert {w: second[w]["path"] for w in WORKERS} == {"app": "restored", "kernel": "restored"}, second
    drawn_second = draws(page, mock, "second")
    token_second = page.evaluate(TOKEN)
    assert token_second not in (None, token_first)
    assert page.evaluate("window.localyst.snapshots") == {}, "a restored visit makes no new snapshot"

    reload_ready(page)
    assert {w: startup(page)[w]["path"] for w in WORKERS} == {"app": "restored", "kernel": "restored"}
    drawn_third = draws(page, mock, "third")
    assert drawn_second[0] != drawn_third[0] and drawn_second[1] != drawn_third[1], (drawn_second, drawn_third)
    # the secret of a visit is made after the restore, not kept in the snapshot
    assert token_second and page.evaluate(TOKEN) not in (None, token_second)

    # a restart starts the new kernel from the snapshot too
    before = startup(page)["kernel"]["at"]
    page.get_by_role("button", name="Restart kernel").click()
    wait_for(page, f"window.localyst.startup.kernel.at > {before}", LOAD_TIMEOUT_MS)
    assert startup(page)["kernel"]["path"] == "restored"
    shows(page, "Python kernel: ready", LOAD_TIMEOUT_MS)
    assert draws(page, mock, "restarted") != drawn_third

    # One snapshot corrupt, the other of another build: both start plain, say why, and work.
    falls_back(page, mock, {"kernel": ("corrupt", "corrupt"), "app": ("build", "of build 000000000000")}, "fallen")
    snapshots_kept(page)  # made anew for the next visit
    # Of another browser; one that Pyodide itself refuses to restore (the worker then starts
    # plain after all, in the same worker).
    falls_back(page, mock, {"app": ("browser", "another browser"), "kernel": ("unrestorable", "restoring the snapshot failed")}, "again")
