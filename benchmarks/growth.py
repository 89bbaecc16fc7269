"""Growth benchmark: does a turn cost more when the conversation is long?

In Debian's headless Chromium against the built site on 127.0.0.1, with the scripted mock
model (tools/mock_model.py): one fresh profile, --turns turns, each answered by one cell that
shows a 60x5 DataFrame and a matplotlib chart, then a short text. Per turn it records the
time from Enter to the answer shown, the page's JS heap (after a garbage collection), the
DOM nodes (shadow roots included), the Bokeh models live in the page's document (reachable
from its roots: BokehJS lets go of the others after a pause in changes), and the bytes the
app worker handed to IndexedDB during the turn (its ``put`` calls, measured in the worker:
text, numbers and Blobs by their size). Then it measures the heap again after 31 s of
quiet, reloads the page and times until the chat takes input and until the last answer is
visible, and does the same for a fresh profile with an empty conversation: the baseline of
the reload's ratio.

Targets (issue 14): turn N <= 1.2x turn 1 (mean of the last three against the first three,
which also evens out a busy machine), heap after N turns <= 2x the heap after 1, and the
reload of the N-turn conversation <= 1.5x the reload of an empty one.

    python benchmarks/growth.py [--site _site] [--turns 12] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from buildsite import serve  # noqa: E402
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, PAGE_HAS_TEXT, message_texts, run_code, send_message, wait_for  # noqa: E402
from tools.mock_model import MockModel, text  # noqa: E402

LOAD_TIMEOUT_MS = 300_000
TURN_TIMEOUT_S = 300.0
#: Quiet after the last turn before the heap is measured again: BokehJS lets go of models
#: that left its document only after a pause in changes (30 s by its default).
IDLE_MS = 31_000

CELL = """import numpy as np, pandas as pd, matplotlib.pyplot as plt
rng = np.random.default_rng({n})
frame = pd.DataFrame(rng.normal(size=(60, 5)).round(3), columns=list("abcde"))
fig, ax = plt.subplots(figsize=(5, 3))
frame.plot(ax=ax)
plt.show()
frame
"""

# What a page looks like from outside: its nodes (through shadow roots), BokehJS's models.
MEASURE = """async () => {
  const count = (node) => {
    let n = 1;
    if (node.shadowRoot) n += count(node.shadowRoot);
    for (const child of node.children || []) n += count(child);
    return n;
  };
  const live = new Set();
  for (const doc of (window.Bokeh && window.Bokeh.documents) || []) {
    for (const root of doc.roots()) for (const model of root.references()) live.add(model);
  }
  return {dom_nodes: count(document.documentElement), bokeh_models: live.size};
}"""

# Counts what the worker's code hands to IndexedDB (installed once, before the turns).
COUNT_WRITES = """() => {
  if (self.idbBytesWritten !== undefined) return;
  self.idbBytesWritten = 0;
  const size = (value, seen) => {
    if (value === null || value === undefined) return 0;
    if (typeof value === "string") return value.length;
    if (typeof value === "number" || typeof value === "boolean") return 8;
    if (value instanceof Blob) return value.size;
    if (typeof value === "object" && !seen.has(value)) {
      seen.add(value);
      return Object.values(value).reduce((n, v) => n + size(v, seen), 0);
    }
    return 0;
  };
  const put = IDBObjectStore.prototype.put;
  IDBObjectStore.prototype.put = function (value, key) {
    self.idbBytesWritten += size(value, new Set());
    return put.call(this, value, key);
  };
}"""


def app_worker(page):
    """The worker that runs the app (the one that loaded Panel), not the kernel's."""
    for worker in page.workers:
        if worker.url.endswith("app-worker.js"):
            return worker
    raise RuntimeError(f"no app worker among {[w.url for w in page.workers]}")


def heap_bytes(cdp) -> int:
    """The page's JS heap after a full collection: what the conversation keeps alive."""
    cdp.send("HeapProfiler.collectGarbage")
    return int(cdp.send("Runtime.getHeapUsage")["usedSize"])


def wait_ready(page) -> None:
    wait_for(page, "window.localyst && (window.localyst.ready || window.localyst.error)", LOAD_TIMEOUT_MS, polling=100)
    error = page.evaluate("window.localyst.error")
    if error:
        raise RuntimeError(f"the app failed to load: {error}")


def chat_takes_input(page) -> None:
    """The app's chat box (not the first screen's) is on screen and enabled: a person can type."""
    wait_for(
        page,
        "(() => { const find = (root) => { for (const el of root.querySelectorAll('*')) {"
        " if (el.tagName === 'TEXTAREA' && (el.placeholder || '').startsWith('Ask about')) return el;"
        " if (el.shadowRoot) { const hit = find(el.shadowRoot); if (hit) return hit; } } return null; };"
        " const box = find(document); return box && !box.disabled && box.offsetParent !== null; })()",
        LOAD_TIMEOUT_MS,
        polling=100,
    )


def run_turn(page, cdp, mock: MockModel, number: int) -> dict:
    worker = app_worker(page)
    worker.evaluate(COUNT_WRITES)
    written = worker.evaluate("self.idbBytesWritten")
    final = f"growth-benchmark-answer-{number}"
    mock.reset()
    mock.script(run_code(CELL.format(n=number)), text(final))
    sent = time.perf_counter()
    send_message(page, f"Show table and chart number {number}.")
    deadline = time.monotonic() + TURN_TIMEOUT_S
    while True:
        # The marker is the turn's own; the chat keeps only messages near the screen, so
        # the count of messages on the page says nothing.
        texts = message_texts(page)
        if texts and final in texts[-1]:
            shown = time.perf_counter()
            break
        if time.monotonic() > deadline:
            raise RuntimeError(f"turn {number} did not finish; last message: {texts[-1][:2000] if texts else None}")
        page.wait_for_timeout(100)
    # Let the save after the turn land before its writes are counted.
    page.wait_for_timeout(1500)
    measured = {"turn": number, "turn_s": shown - sent, "heap_bytes": heap_bytes(cdp), **page.evaluate(MEASURE)}
    return {**measured, "idb_bytes": worker.evaluate("self.idbBytesWritten") - written}


def reload_times(page, marker: str | None) -> dict:
    """Reload; seconds until the chat takes input and until ``marker`` (the last answer) shows."""
    start = time.perf_counter()
    page.reload()
    wait_ready(page)
    chat_takes_input(page)
    took_input = time.perf_counter() - start
    if marker is not None:
        wait_for(page, f"({PAGE_HAS_TEXT})({json.dumps(marker)})", LOAD_TIMEOUT_MS, polling=100)
    return {"input_s": took_input, "last_answer_s": time.perf_counter() - start}


def open_fresh(pw, profile: str, url: str):
    context = pw.chromium.launch_persistent_context(
        profile, executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True, viewport={"width": 1280, "height": 860}
    )
    page = context.pages[0] if context.pages else context.new_page()
    page.set_default_timeout(LOAD_TIMEOUT_MS)
    page.goto(url)
    wait_ready(page)
    wait_for(page, f"({PAGE_HAS_TEXT})('Python kernel: ready')", timeout=LOAD_TIMEOUT_MS, polling=250)
    return context, page


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--site", type=Path, default=REPO / "_site")
    parser.add_argument("--turns", type=int, default=12)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if not (args.site / "index.html").exists():
        sys.exit(f"no built site at {args.site}: run python build.py first")

    from playwright.sync_api import sync_playwright

    httpd = serve.SiteServer(("127.0.0.1", 0), serve.make_handler(args.site))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    site_url = f"http://127.0.0.1:{httpd.server_address[1]}/"
    with MockModel() as mock, sync_playwright() as pw:
        url = f"{site_url}?base_url={mock.base_url}&model=mock-small"
        with tempfile.TemporaryDirectory(prefix="localyst-profile-") as profile:
            context, page = open_fresh(pw, profile, url)
            try:
                empty = [reload_times(page, None) for _ in range(2)]
            finally:
                context.close()
        with tempfile.TemporaryDirectory(prefix="localyst-profile-") as profile:
            context, page = open_fresh(pw, profile, url)
            try:
                cdp = context.new_cdp_session(page)
                rows = []
                for number in range(1, args.turns + 1):
                    rows.append(run_turn(page, cdp, mock, number))
                    row = rows[-1]
                    print(
                        f"turn {number:3d}: {row['turn_s']:6.2f} s  heap {row['heap_bytes'] / 1e6:6.1f} MB  "
                        f"DOM {row['dom_nodes']:6d}  live Bokeh models {row['bokeh_models']:6d}  to IndexedDB {row['idb_bytes'] / 1e3:8.1f} kB",
                        flush=True,
                    )
                page.wait_for_timeout(IDLE_MS)
                idle_heap = heap_bytes(cdp)
                full = [reload_times(page, f"growth-benchmark-answer-{args.turns}") for _ in range(2)]
            finally:
                context.close()
    httpd.shutdown()

    first = statistics.mean(r["turn_s"] for r in rows[:3])
    last = statistics.mean(r["turn_s"] for r in rows[-3:])
    empty_input = min(r["input_s"] for r in empty)
    full_input = min(r["input_s"] for r in full)
    full_answer = min(r["last_answer_s"] for r in full)
    result = {
        "turns": rows,
        "first_turns_s": first,
        "last_turns_s": last,
        "turn_ratio": last / first,
        "heap_ratio": rows[-1]["heap_bytes"] / rows[0]["heap_bytes"],
        "heap_idle_ratio": idle_heap / rows[0]["heap_bytes"],
        "reload_empty_input_s": empty_input,
        "reload_full_input_s": full_input,
        "reload_full_last_answer_s": full_answer,
        "reload_ratio": full_input / empty_input,
        "idb_bytes_first_turn": rows[0]["idb_bytes"],
        "idb_bytes_last_turn": rows[-1]["idb_bytes"],
    }
    print(f"\nGrowth over {args.turns} turns (headless Chromium, this machine; the machine may be busy)")
    print(f"  {'figure':58} {'value':>12} {'target':>8}")
    print(f"  {'Enter -> answer, mean of turns 1-3':58} {first:10.2f} s")
    print(f"  {f'Enter -> answer, mean of the last 3 turns':58} {last:10.2f} s")
    print(f"  {'  ratio last / first':58} {result['turn_ratio']:11.2f}x {'<= 1.2x':>8}")
    print(f"  {f'JS heap after turn {args.turns} / after turn 1':58} {result['heap_ratio']:11.2f}x {'<= 2x':>8}")
    print(f"  {f'  the same, {IDLE_MS / 1000:.0f} s after the last turn':58} {result['heap_idle_ratio']:11.2f}x")
    print(f"  {'DOM nodes after turn 1 / last':58} {rows[0]['dom_nodes']:>5} / {rows[-1]['dom_nodes']:<5}")
    print(f"  {'live Bokeh models after turn 1 / last':58} {rows[0]['bokeh_models']:>5} / {rows[-1]['bokeh_models']:<5}")
    print(f"  {'bytes to IndexedDB in turn 1 / the last (kB)':58} {rows[0]['idb_bytes'] / 1e3:>5.0f} / {rows[-1]['idb_bytes'] / 1e3:<5.0f}")
    print(f"  {'reload, empty conversation: chat takes input':58} {empty_input:10.2f} s")
    print(f"  {f'reload, {args.turns}-turn conversation: chat takes input':58} {full_input:10.2f} s")
    print(f"  {'  ratio to the empty reload':58} {result['reload_ratio']:11.2f}x {'<= 1.5x':>8}")
    print(f"  {f'reload, {args.turns}-turn conversation: last answer visible':58} {full_answer:10.2f} s")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
