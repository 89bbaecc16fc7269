"""The page stays responsive while the model streams and a cell computes.

Both the app (Pyodide + Panel) and the kernel live in workers; the main thread only renders.
Animation frames must keep coming through a slowly streamed reply and a ~3 s cell. The
longest main-thread task is printed, not held to a tight bound: the machine may be busy.
"""

from __future__ import annotations

import json
import time

import pytest

from tests.browser.conftest import message_texts, open_app, send_message
from tools.mock_model import Call, MockModel, Reply, slow

pytestmark = pytest.mark.browser

CELL_SECONDS = 3.0
BUSY_CELL = f"""\
import time
import numpy as np
started = time.perf_counter()
rounds = 0
while time.perf_counter() - started < {CELL_SECONDS}:
    a = np.random.default_rng(rounds).random((200, 200))
    a @ a
    rounds += 1
print("busy rounds", rounds)
"""
WINDOW_MS = 500
TASK_SANITY_MS = 2000

# A frame counter and a long-task recorder, installed once the app is ready.
INSTRUMENT = """() => {
  window.__frames = [];
  const tick = (t) => { window.__frames.push(performance.now()); requestAnimationFrame(tick); };
  requestAnimationFrame(tick);
  window.__longtasks = [];
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) window.__longtasks.push({ start: e.startTime, duration: e.duration });
  }).observe({ type: "longtask", buffered: true });
}"""


def test_frames_keep_coming_while_the_model_streams_and_a_cell_runs(page, site):
    with MockModel() as mock:
        streamed = "Let me compute that for you. " * 6
        mock.script(
            # streams slowly (~0.25 s a chunk, ~4 s in all), then calls run_python
            Reply(
                content=streamed,
                calls=(Call("run_python", json.dumps({"code": BUSY_CELL})),),
                chunks=8,
                delay=0.25,
                fragment=80,
            ),
            slow("The busy loop finished.", chunks=5, delay_per_chunk=0.2),
        )
        open_app(page, site, f"base_url={mock.base_url}&model=mock-small")
        page.evaluate(INSTRUMENT)
        time.sleep(1.0)  # a second of frames before the turn, as a baseline

        sent_at = page.evaluate("performance.now()")
        send_message(page, "Keep the CPU busy for a while.")

        # Poll from Python: in every window the frame counter must have moved on.
        polls: list[tuple[float, int, int]] = []  # (page time ms, frames so far, chat requests)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            now, frames = page.evaluate("[performance.now(), window.__frames.length]")
            polls.append((now, frames, len(mock.chat_requests())))
            if any("The busy loop finished" in m for m in message_texts(page)):
                break
            time.sleep(WINDOW_MS / 1000)
        else:
            raise AssertionError(f"the turn did not finish; messages: {message_texts(page)}")
        done_at = page.evaluate("performance.now()")
        frames = page.evaluate("window.__frames")
        tasks = page.evaluate("window.__longtasks")

    turn = message_texts(page)[-1]
    assert "busy rounds" in turn, turn
    assert len(mock.chat_requests()) == 2

    # The cell ran in the CELL_SECONDS before the second request reached the model.
    second_seen = next(now for now, _, requests in polls if requests >= 2)
    cell_window = (second_seen - CELL_SECONDS * 1000 - WINDOW_MS, second_seen - WINDOW_MS)
    during_turn = [t for t in frames if sent_at <= t <= done_at]
    gaps = [b - a for a, b in zip(during_turn, during_turn[1:])]
    longest_gap = max(gaps)
    in_cell = [t for t in frames if cell_window[0] <= t <= cell_window[1]]
    turn_tasks = [t for t in tasks if t["start"] + t["duration"] >= sent_at]
    longest_task = max((t["duration"] for t in turn_tasks), default=0.0)
    longest_ever = max((t["duration"] for t in tasks), default=0.0)
    seconds = (done_at - sent_at) / 1000
    print(
        f"\nChromium: turn of {seconds:.1f} s, {len(during_turn)} frames ({len(during_turn) / seconds:.0f}/s), "
        f"longest gap between frames {longest_gap:.0f} ms; {len(in_cell)} frames in the ~{CELL_SECONDS:.0f} s the cell ran; "
        f"{len(turn_tasks)} long tasks during the turn, longest {longest_task:.0f} ms "
        f"(longest since load, loading included: {longest_ever:.0f} ms)"
    )
    print(
        "  long tasks during the turn (ms after sending: duration): "
        + ", ".join(f"{t['start'] - sent_at:.0f}: {t['duration']:.0f}" for t in turn_tasks)
        + f"; the cell ran about {cell_window[0] - sent_at:.0f}-{cell_window[1] - sent_at:.0f} ms after sending"
    )

    stalled = [
        (round(a[0] - sent_at), round(b[0] - sent_at))
        for a, b in zip(polls, polls[1:])
        if b[1] <= a[1]
    ]
    assert not stalled, f"no animation frame between these polls (ms after sending): {stalled}"
    assert longest_gap < WINDOW_MS, f"the main thread painted nothing for {longest_gap:.0f} ms"
    assert len(in_cell) >= CELL_SECONDS * 1000 / WINDOW_MS, f"only {len(in_cell)} frames while the cell ran"
    assert longest_task < TASK_SANITY_MS, f"a main-thread task took {longest_task:.0f} ms: {turn_tasks}"
