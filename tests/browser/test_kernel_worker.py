"""The kernel worker alone (site/kernel-worker.js), driven from the isolated page.

It prints (does not assert) its start-up time and the round trip of an empty cell.
"""

from __future__ import annotations

import base64
import statistics

import pytest

from tests.browser.conftest import open_app

pytestmark = pytest.mark.browser

TABLE_MIME = "application/vnd.localyst.table+json"

# A tiny owner: starts the worker with an interrupt buffer and runs cells by id.
HARNESS = """async () => {
  const started = performance.now();
  const buffer = new SharedArrayBuffer(4);
  const worker = new Worker("kernel-worker.js");
  const messages = [];
  const waiting = [];
  worker.onmessage = ({ data }) => {
    data.at = performance.now();
    messages.push(data);
    for (const w of waiting.splice(0)) if (!w(data)) waiting.push(w);
  };
  const next = (test) => new Promise((resolve) => {
    const found = messages.find(test);
    if (found) resolve(found); else waiting.push((m) => test(m) && (resolve(m), true));
  });
  let ids = 0;
  window.kernel = {
    messages,
    interrupt: () => { Atomics.store(new Int32Array(buffer), 0, 2); return performance.now(); },
    run: async (code) => {
      const id = ++ids;
      const sent = performance.now();
      worker.postMessage({ type: "run", id, code });
      await next((m) => m.type === "result" && m.id === id);
      return { sent, messages: messages.filter((m) => m.id === id) };
    },
  };
  worker.postMessage({ type: "interrupt-buffer", buffer });
  const ready = await next((m) => m.type === "ready" || m.type === "failed");
  const warm = await next((m) => m.type === "status" && m.text === "" && m.at >= ready.at);
  return { ready, readySeconds: (ready.at - started) / 1000, warmSeconds: (warm.at - started) / 1000 };
}"""


def run(page, code: str) -> dict:
    return page.evaluate("code => window.kernel.run(code)", code)


def test_the_kernel_worker_runs_cells_streams_output_and_is_interruptible(page, site) -> None:
    open_app(page, site)
    assert page.evaluate("crossOriginIsolated")
    start = page.evaluate(HARNESS)
    assert start["ready"]["type"] == "ready", start["ready"]
    assert "packages" not in start["ready"]  # the app reads them from the site's lock
    assert start["ready"]["status"] == "loading numpy, pandas, matplotlib…"
    print(f"\nChromium: kernel ready in {start['readySeconds']:.1f} s; numpy/pandas/matplotlib warm at {start['warmSeconds']:.1f} s")

    cell = run(page, """
print("hello from the kernel")
import matplotlib.pyplot as plt, pandas as pd
plt.plot([1, 4, 2]); plt.show()
before = 42
pd.DataFrame({"x": [1, 2, 3], "y": [0.5, 1.5, 2.5]})
""")["messages"]
    kinds = [m["type"] for m in cell]
    assert kinds[-1] == "result" and kinds.count("result") == 1
    outputs = [m["output"] for m in cell if m["type"] == "output"]
    assert outputs[0] == {"kind": "stream", "name": "stdout", "text": "hello from the kernel\n"}
    assert cell[0]["at"] < cell[-1]["at"]  # streamed before the result arrived
    result = cell[-1]["result"]
    assert result["error"] is None
    pngs = [o["data"]["image/png"] for o in result["outputs"] if o["kind"] == "display" and "image/png" in o["data"]]
    assert len(pngs) == 1 and base64.b64decode(pngs[0])[:4] == b"\x89PNG"
    table = result["outputs"][-1]["data"][TABLE_MIME]
    assert table["shape"] == [3, 2] and table["columns"] == ["x", "y"]

    interrupted = page.evaluate("""async () => {
      const pending = window.kernel.run("while True:\\n    pass");
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const written = window.kernel.interrupt();
      const { messages } = await pending;
      const result = messages[messages.length - 1];
      return { error: result.result.error, landed: (result.at - written) / 1000 };
    }""")
    print(f"Chromium: interrupt landed {interrupted['landed'] * 1000:.0f} ms after the buffer was written")
    assert interrupted["error"]["ename"] == "KeyboardInterrupt"
    assert interrupted["landed"] < 1.5
    after = run(page, "before")["messages"][-1]["result"]
    assert after["error"] is None and after["outputs"][0]["data"]["text/plain"] == "42"

    trips = page.evaluate("""async () => {
      const trips = [];
      for (let i = 0; i < 20; i++) {
        const { sent, messages } = await window.kernel.run("");
        trips.push(messages[messages.length - 1].at - sent);
      }
      return trips;
    }""")
    print(f"Chromium: empty cell round trip, median of 20: {statistics.median(trips):.1f} ms (min {min(trips):.1f}, max {max(trips):.1f})")

