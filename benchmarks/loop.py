"""Loop benchmark: the interpreter loop's own time per step, without the model's or the code's.

In Debian's headless Chromium against the built site on 127.0.0.1, with the scripted mock
model (tools/mock_model.py) on another port: a fresh profile opens the app with
``?base_url=<mock>/v1&model=mock-small`` (a first visit reloads once for isolation), waits
for the chat and for "Python kernel: ready", settles, then runs --turns turns. Each turn is
one message answered by --steps ``run_python`` calls of ``pass`` (no delays) and then a
final text; --steps + 1 model requests, within the default step limit of 8.

The mock is wrapped to stamp ``time.perf_counter()`` when each request arrives and when
its response has been written (CORS preflights included: the mock allows no caching of
them, so each chat request has one). For a step k (a tool call answered, its cell run,
the next request sent):

    overhead_k = arrival(POST k+1) - end of response(POST k) - cell duration k

where the cell duration is the kernel's own ``duration`` as the page shows it ("ran in
X.XX s", 10 ms resolution; ~0 for ``pass``). What remains is the page's work: reading the
stream, the agent loop, posting to the kernel worker and back, the UI updates, building
the next request (the growing history included) and its preflight. The breakdown splits
it at the preflight's arrival: response end -> preflight arrives (stream end, the cell
and the loop), preflight handled, preflight answered -> POST arrives.

With --chunk-delay-ms the mock pauses before each chunk it streams, like a real model
generating (about 6 chunks per tool call): the page's work that overlaps the model's
generation is then not on the critical path, and the figure is what a person waits for
beyond the model and the code. Without it (the default) the model answers at once and
every millisecond of the page's work counts.

The machine may be busy: figures are medians, with p90 and the sample count.

    python benchmarks/loop.py [--site _site] [--turns 3] [--steps 7] [--chunk-delay-ms 0] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from buildsite import serve  # noqa: E402
from tests.browser.conftest import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    PAGE_HAS_TEXT,
    message_texts,
    send_message,
    wait_for,
)
from tools import mock_model  # noqa: E402
from tools.mock_model import MockModel, text, tool_call  # noqa: E402

LOAD_TIMEOUT_MS = 300_000
TURN_TIMEOUT_S = 180.0
RAN_IN = re.compile(r"ran in (\d+(?:\.\d+)?) s")


class TimedMock(MockModel):
    """The mock model, stamping when each chat-completions request (and its preflight)
    arrives and when its response is written."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.stamps: list[dict] = []

    def start(self) -> str:
        stamps, lock = self.stamps, threading.Lock()

        class Handler(mock_model._Handler):
            def _timed(self, method, handle) -> None:
                arrived = time.perf_counter()
                handle()
                if self.path.split("?")[0].rstrip("/").endswith("/chat/completions"):
                    with lock:
                        stamps.append({"method": method, "arrived": arrived, "done": time.perf_counter()})

            def do_POST(self) -> None:
                self._timed("POST", super().do_POST)

            def do_OPTIONS(self) -> None:
                self._timed("OPTIONS", super().do_OPTIONS)

        self._server = mock_model._Server((self.host, self.port), Handler)
        self._server.mock = self
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), name="mock-model", daemon=True)
        self._thread.start()
        return self.base_url

    def reset(self) -> None:
        super().reset()
        self.stamps.clear()


def run_turn(page, mock: TimedMock, steps: int, number: int, chunk_delay: float) -> dict:
    # A marker of its own per turn: the requests the page shows repeat earlier answers.
    final = f"loop-benchmark-finished-{number}"
    mock.reset()
    calls = [replace(tool_call("run_python", json.dumps({"code": "pass"})), delay=chunk_delay) for _ in range(steps)]
    mock.script(*calls, text(final, delay=chunk_delay))
    before = len(message_texts(page))
    sent = time.perf_counter()
    send_message(page, f"Run {steps} empty cells, then say you are finished.")
    deadline = time.monotonic() + TURN_TIMEOUT_S
    while True:
        texts = message_texts(page)
        if len(texts) > before and final in texts[-1]:
            shown = time.perf_counter()
            break
        if time.monotonic() > deadline:
            raise RuntimeError(f"the turn did not finish; last message: {texts[-1][:2000] if texts else None}")
        time.sleep(0.25)  # each look walks the page's DOM: not too often, it shares the CPU
    time.sleep(0.5)
    turn_text = message_texts(page)[-1]
    cells = [float(s) for s in RAN_IN.findall(turn_text)]
    stamps = sorted(mock.stamps, key=lambda s: s["arrived"])
    posts = [s for s in stamps if s["method"] == "POST"]
    if len(posts) != steps + 1:
        raise RuntimeError(f"expected {steps + 1} model requests, the mock saw {len(posts)}")
    if len(cells) != steps:
        raise RuntimeError(f"expected {steps} 'ran in' durations in the turn, found {cells}")
    rows = []
    for k in range(steps):
        end, nxt = posts[k]["done"], posts[k + 1]["arrived"]
        row = {
            "step": k + 1,
            "model_ms": (posts[k]["done"] - posts[k]["arrived"]) * 1000,
            "gap_ms": (nxt - end) * 1000,
            "cell_ms": cells[k] * 1000,
        }
        row["overhead_ms"] = row["gap_ms"] - row["cell_ms"]
        preflight = [s for s in stamps if s["method"] == "OPTIONS" and end <= s["arrived"] <= nxt]
        if preflight:
            p = preflight[-1]
            row["to_preflight_ms"] = (p["arrived"] - end) * 1000 - row["cell_ms"]
            row["preflight_ms"] = (p["done"] - p["arrived"]) * 1000
            row["preflight_to_post_ms"] = (nxt - p["done"]) * 1000
        rows.append(row)
    return {
        "steps": rows,
        "send_to_first_request_ms": (posts[0]["arrived"] - sent) * 1000,
        "last_response_to_answer_shown_ms": (shown - posts[-1]["done"]) * 1000,
        "turn_s": shown - sent,
    }


def summary(values: list[float]) -> dict:
    values = sorted(values)
    if not values:
        return {"median": None, "p90": None, "n": 0}
    p90 = values[min(len(values) - 1, max(0, round(0.9 * len(values) + 0.5) - 1))]
    return {"median": statistics.median(values), "p90": p90, "n": len(values)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--site", type=Path, default=REPO / "_site")
    parser.add_argument("--turns", type=int, default=3)
    parser.add_argument("--steps", type=int, default=7, help="tool calls per turn (the default step limit allows 7 + the answer)")
    parser.add_argument("--settle", type=float, default=3.0, help="seconds to wait after the app's kernel is ready")
    parser.add_argument("--chunk-delay-ms", type=float, default=0.0, help="the mock's pause before each streamed chunk")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if not (args.site / "index.html").exists():
        sys.exit(f"no built site at {args.site}: run python build.py first")

    from playwright.sync_api import sync_playwright

    httpd = serve.SiteServer(("127.0.0.1", 0), serve.make_handler(args.site))
    site_url = f"http://127.0.0.1:{httpd.server_address[1]}/"
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    turns = []
    with TimedMock() as mock, sync_playwright() as pw, tempfile.TemporaryDirectory(prefix="localyst-profile-") as profile:
        context = pw.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True, viewport={"width": 1280, "height": 860}
        )
        try:
            page = context.pages[0] if context.pages else context.new_page()
            page.set_default_timeout(LOAD_TIMEOUT_MS)
            page.goto(f"{site_url}?base_url={mock.base_url}&model=mock-small")
            wait_for(page, "window.localyst && (window.localyst.ready || window.localyst.error)", LOAD_TIMEOUT_MS)
            error = page.evaluate("window.localyst.error")
            if error:
                raise RuntimeError(f"the app failed to load: {error}")
            wait_for(page, f"({PAGE_HAS_TEXT})('Python kernel: ready')", timeout=LOAD_TIMEOUT_MS, polling=250)
            time.sleep(args.settle)
            for number in range(1, args.turns + 1):
                turns.append(run_turn(page, mock, args.steps, number, args.chunk_delay_ms / 1000))
        finally:
            context.close()
    httpd.shutdown()

    rows = [row for turn in turns for row in turn["steps"]]
    keys = ["overhead_ms", "to_preflight_ms", "preflight_ms", "preflight_to_post_ms", "cell_ms", "model_ms"]
    stats = {key: summary([r[key] for r in rows if key in r]) for key in keys}
    for key in ("send_to_first_request_ms", "last_response_to_answer_shown_ms"):
        stats[key] = summary([t[key] for t in turns])
    by_step = {k: summary([r["overhead_ms"] for r in rows if r["step"] == k]) for k in range(1, args.steps + 1)}

    labels = {
        "overhead_ms": "loop overhead per step (gap - cell)",
        "to_preflight_ms": "  response end -> preflight arrives (- cell)",
        "preflight_ms": "  preflight handled by the mock",
        "preflight_to_post_ms": "  preflight answered -> POST arrives",
        "cell_ms": "cell duration, kernel's ('ran in', 10 ms steps)",
        "model_ms": "mock's time per request (not counted)",
        "send_to_first_request_ms": "Enter -> first request arrives (per turn)",
        "last_response_to_answer_shown_ms": "last response -> answer seen (250 ms polling)",
    }
    print(f"Interpreter loop in headless Chromium: {args.turns} turns x {args.steps} run_python('pass') steps, "
          f"{args.chunk_delay_ms:g} ms before each streamed chunk; the machine may be busy, figures are noisy")
    print(f"  {'':50} {'median':>9} {'p90':>9} {'n':>4}")
    for key, label in labels.items():
        s = stats[key]
        if s["n"]:
            print(f"  {label:50} {s['median']:7.1f}ms {s['p90']:7.1f}ms {s['n']:4d}")
    print("  overhead by step index (median):  " + "  ".join(f"{k}: {s['median']:.0f}" for k, s in by_step.items() if s["n"]))
    if args.json:
        args.json.write_text(json.dumps({"turns": turns, "summary": stats, "by_step": by_step}, indent=2))


if __name__ == "__main__":
    main()
