"""Kernel benchmark: how fast the kernel worker starts, answers, and reads a big CSV.

In Debian's headless Chromium against the built site on 127.0.0.1, for each run: a fresh
profile opens the page (cross-origin isolated through its service worker; a first visit
reloads once), waits for the chat to be ready and for the app's own kernel to finish
warming up, then starts one more kernel worker from the page with
``new Worker("kernel-worker.js")`` and measures

- kernel ready: worker created -> its ``ready`` message; warm-up packages loaded (the
  ``status ""`` after ready); and a first cell ``import numpy, pandas, matplotlib.pyplot``
  posted at once -> its result (messages wait for start-up, warm-up imports included);
- the round trip of an empty cell, page -> kernel -> page (median of 50);
- ``pandas.read_csv`` of a generated ~100 MB CSV (written into the kernel with ``put-file``,
  timed inside the cell with ``time.perf_counter()``) against the same call in CPython on
  this machine (a fresh interpreter per run, with this environment's pandas);
- the page's memory after load (``performance.memory``, main thread only) and, where
  Chromium answers, ``performance.measureUserAgentSpecificMemory()`` (page and workers)
  after load and again with the extra kernel holding the CSV's DataFrame.

The app's kernel has already fetched Pyodide and the wheels, so the extra kernel starts
from the browser's HTTP cache (revalidated: the server says ``no-cache``), as a kernel
restart does. Prints a table (median of --runs); --json writes the figures too.

    python benchmarks/kernel.py [--site _site] [--runs 3] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from buildsite import serve  # noqa: E402
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, PAGE_HAS_TEXT, wait_for  # noqa: E402

CSV_URL_PATH = "/__benchmark__/data.csv"
CSV_ROWS = 1_430_000
EMPTY_CELLS = 50
LOAD_TIMEOUT_MS = 300_000


def write_csv(path: Path, rows: int = CSV_ROWS) -> None:
    """A deterministic CSV of ~100 MB: integer, float, date and string columns."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(20240611)
    cities = np.array(["Amsterdam", "Berlin", "Lisbon", "Madrid", "Oslo", "Paris", "Prague", "Rome", "Vienna", "Warsaw"])
    products = np.array([f"product-{i:04d}" for i in range(2000)])
    frame = pd.DataFrame(
        {
            "id": np.arange(rows),
            "date": (np.datetime64("2020-01-01") + rng.integers(0, 1500, rows)).astype(str),
            "city": cities[rng.integers(0, len(cities), rows)],
            "product": products[rng.integers(0, len(products), rows)],
            "quantity": rng.integers(1, 500, rows),
            "price": rng.uniform(0.5, 999.0, rows).round(2),
            "discount": rng.uniform(0, 0.5, rows).round(4),
            "score": rng.normal(0, 1, rows).round(6),
            "flag": rng.integers(0, 2, rows).astype(bool),
        }
    )
    frame.to_csv(path, index=False)


class BenchServer:
    """build.py's server for the site, plus the generated CSV at CSV_URL_PATH (same origin,
    so the isolated page may fetch it)."""

    def __init__(self, root: Path, csv: Path) -> None:
        class Handler(serve.make_handler(root)):
            def translate_path(self, path):
                if path.split("?")[0] == CSV_URL_PATH:
                    return str(csv)
                return super().translate_path(path)

        self.httpd = serve.SiteServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


MEMORY = """async (timeoutMs) => {
  const out = {};
  if (performance.memory) {
    out.usedJSHeapSize = performance.memory.usedJSHeapSize;
    out.totalJSHeapSize = performance.memory.totalJSHeapSize;
  }
  if (self.crossOriginIsolated && performance.measureUserAgentSpecificMemory) {
    const timeout = new Promise((resolve) => setTimeout(() => resolve(null), timeoutMs));
    const measured = await Promise.race([performance.measureUserAgentSpecificMemory().catch(() => null), timeout]);
    if (measured) {
      out.uaBytes = measured.bytes;
      out.uaBreakdown = {};
      for (const entry of measured.breakdown) {
        const scope = entry.attribution.map((a) => a.scope).join("+") || "shared";
        for (const type of entry.types.length ? entry.types : ["?"]) {
          const key = `${scope}/${type}`;
          out.uaBreakdown[key] = (out.uaBreakdown[key] || 0) + entry.bytes;
        }
      }
    }
  }
  return out;
}"""

# Starts one kernel worker, with a first cell posted at once; window.bench runs cells.
START = """async () => {
  const created = performance.now();
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
  const run = async (code) => {
    const id = ++ids;
    const sent = performance.now();
    worker.postMessage({ type: "run", id, code });
    const result = await next((m) => (m.type === "result" || m.type === "error") && m.id === id);
    return { sent, at: result.at, result: result.result, error: result.message };
  };
  window.bench = { worker, messages, next, run, ids: () => ++ids };
  worker.postMessage({ type: "interrupt-buffer", buffer: new SharedArrayBuffer(4) });
  const first = run("import numpy, pandas, matplotlib.pyplot");
  const ready = await next((m) => m.type === "ready" || m.type === "failed");
  if (ready.type === "failed") return { failed: ready.message };
  const loaded = await next((m) => m.type === "status" && m.text === "" && m.at >= ready.at);
  const cell = await first;
  return {
    readyMs: ready.at - created,
    packagesLoadedMs: loaded.at - created,
    firstImportCellMs: cell.at - created,
    firstCellError: cell.error || (cell.result && cell.result.error),
  };
}"""

EMPTY_TRIPS = """async (count) => {
  const trips = [];
  for (let i = 0; i < count; i++) {
    const { sent, at } = await window.bench.run("");
    trips.push(at - sent);
  }
  return trips;
}"""

PUT_CSV = """async (url) => {
  const started = performance.now();
  const buffer = await (await fetch(url)).arrayBuffer();
  const fetched = performance.now();
  const id = window.bench.ids();
  window.bench.worker.postMessage({ type: "put-file", id, path: "benchmark.csv", bytes: buffer }, [buffer]);
  const answer = await window.bench.next((m) => m.id === id && (m.type === "file-put" || m.type === "file-error" || m.type === "error"));
  return { fetchMs: fetched - started, putMs: answer.at - fetched, answer: { type: answer.type, size: answer.size, message: answer.message } };
}"""

READ_CSV_CELL = """\
import json, time
import pandas as pd
_t = time.perf_counter()
benchmark_frame = pd.read_csv("/data/benchmark.csv")
_seconds = time.perf_counter() - _t
print(json.dumps({"seconds": _seconds, "shape": list(benchmark_frame.shape)}))
"""

CPYTHON_READ_CSV = """\
import json, sys, time
import pandas as pd
_t = time.perf_counter()
frame = pd.read_csv(sys.argv[1])
print(json.dumps({"seconds": time.perf_counter() - _t, "shape": list(frame.shape), "pandas": pd.__version__}))
"""


def cell_stdout(result: dict) -> str:
    if result.get("error"):
        raise RuntimeError(f"the cell failed: {result['error']}")
    return "".join(o["text"] for o in result["outputs"] if o["kind"] == "stream" and o["name"] == "stdout")


def cpython_read_csv(csv: Path, python: str) -> dict:
    done = subprocess.run([python, "-c", CPYTHON_READ_CSV, str(csv)], check=True, capture_output=True, text=True)
    return json.loads(done.stdout)


def kernel_run(pw, profile: Path, server: BenchServer, settle: float) -> dict:
    context = pw.chromium.launch_persistent_context(
        str(profile), executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
    )
    try:
        page = context.pages[0] if context.pages else context.new_page()
        page.set_default_timeout(LOAD_TIMEOUT_MS)
        page.goto(server.url)
        wait_for(page, "window.localyst && (window.localyst.ready || window.localyst.error)", LOAD_TIMEOUT_MS)
        state = page.evaluate("({...window.localyst})")
        if state.get("error"):
            raise RuntimeError(f"the app failed to load: {state['error']}")
        if not page.evaluate("crossOriginIsolated"):
            raise RuntimeError("the page is not cross-origin isolated")
        # Let the app's own kernel finish its warm-up, so the two do not share the CPU.
        try:
            wait_for(page, f"({PAGE_HAS_TEXT})('Python kernel: ready')", timeout=LOAD_TIMEOUT_MS, polling=250)
        except Exception:  # the UI changed its wording: carry on, the figures say so
            print("warning: did not see the app's kernel become ready", file=sys.stderr)
        time.sleep(settle)
        figures: dict = {"chat_ready_ms": state["readyAt"]}
        figures["memory_after_load"] = page.evaluate(MEMORY, 30_000)

        start = page.evaluate(START)
        if start.get("failed"):
            raise RuntimeError(f"the kernel failed to start: {start['failed']}")
        if start.get("firstCellError"):
            raise RuntimeError(f"the first cell failed: {start['firstCellError']}")
        figures.update(
            kernel_ready_ms=start["readyMs"],
            kernel_packages_loaded_ms=start["packagesLoadedMs"],
            kernel_first_import_cell_ms=start["firstImportCellMs"],
        )
        trips = page.evaluate(EMPTY_TRIPS, EMPTY_CELLS)
        figures.update(
            empty_cell_ms=statistics.median(trips), empty_cell_min_ms=min(trips), empty_cell_max_ms=max(trips)
        )

        put = page.evaluate(PUT_CSV, CSV_URL_PATH)
        if put["answer"]["type"] != "file-put":
            raise RuntimeError(f"put-file failed: {put['answer']}")
        cell = page.evaluate("code => window.bench.run(code)", READ_CSV_CELL)
        if cell.get("error"):
            raise RuntimeError(f"the kernel could not run the cell: {cell['error']}")
        read = json.loads(cell_stdout(cell["result"]))
        figures.update(
            csv_fetch_ms=put["fetchMs"],
            csv_put_file_ms=put["putMs"],
            kernel_read_csv_s=read["seconds"],
            kernel_read_csv_cell_ms=cell["at"] - cell["sent"],
            kernel_frame_shape=read["shape"],
        )
        figures["memory_with_frame"] = page.evaluate(MEMORY, 30_000)
        page.evaluate("window.bench.worker.terminate()")
        return figures
    finally:
        context.close()


def mb(value) -> str:
    return "n/a" if value is None else f"{value / 1e6:.0f} MB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--site", type=Path, default=REPO / "_site")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", type=Path)
    parser.add_argument(
        "--cpython",
        default=sys.executable,
        help="the Python whose pandas.read_csv is the comparison (default: this one); "
        "one with the kernel's pandas version makes the ratio like for like",
    )
    parser.add_argument("--settle", type=float, default=3.0, help="seconds to wait after the app's kernel is ready")
    args = parser.parse_args()
    if not (args.site / "index.html").exists():
        sys.exit(f"no built site at {args.site}: run python build.py first")

    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="localyst-bench-") as scratch:
        csv = Path(scratch) / "data.csv"
        write_csv(csv)
        csv_bytes = csv.stat().st_size
        server = BenchServer(args.site, csv)
        cpython = [cpython_read_csv(csv, args.cpython) for _ in range(args.runs)]
        runs = []
        with sync_playwright() as pw:
            for _ in range(args.runs):
                with tempfile.TemporaryDirectory(prefix="localyst-profile-") as profile:
                    runs.append(kernel_run(pw, Path(profile), server, args.settle))

    def median(key, rows=runs):
        values = [r[key] for r in rows if r.get(key) is not None]
        return statistics.median(values) if values else None

    def memory_median(which, key):
        values = [r[which].get(key) for r in runs if r[which].get(key) is not None]
        return statistics.median(values) if values else None

    medians = {key: median(key) for key in runs[0] if isinstance(runs[0][key], (int, float))}
    medians["cpython_read_csv_s"] = median("seconds", cpython)
    medians["read_csv_ratio"] = medians["kernel_read_csv_s"] / medians["cpython_read_csv_s"]
    for which in ("memory_after_load", "memory_with_frame"):
        for key in ("usedJSHeapSize", "totalJSHeapSize", "uaBytes"):
            medians[f"{which}.{key}"] = memory_median(which, key)

    m = medians
    print(f"Kernel worker in headless Chromium, median of {args.runs} (fresh profile per run; the extra kernel starts warm-cached)")
    print(f"  kernel ready (worker created -> 'ready')          {m['kernel_ready_ms'] / 1000:8.2f} s")
    print(f"  warm-up packages loaded (status '')                {m['kernel_packages_loaded_ms'] / 1000:8.2f} s")
    print(f"  first 'import numpy, pandas, matplotlib' cell done {m['kernel_first_import_cell_ms'] / 1000:8.2f} s")
    print(f"  empty cell round trip (median of {EMPTY_CELLS})              {m['empty_cell_ms']:8.1f} ms")
    print(f"  CSV {csv_bytes / 1e6:.1f} MB, shape {runs[0]['kernel_frame_shape']}: fetch {m['csv_fetch_ms']:.0f} ms, put-file {m['csv_put_file_ms']:.0f} ms")
    kernel_pandas = json.loads((args.site / "pyodide" / "pyodide-lock.json").read_text())["packages"]["pandas"]["version"]
    print(f"  pd.read_csv in the kernel (Pyodide, pandas {kernel_pandas})  {m['kernel_read_csv_s']:8.2f} s")
    print(f"  pd.read_csv in CPython (pandas {cpython[0]['pandas']})               {m['cpython_read_csv_s']:8.2f} s")
    print(f"  ratio kernel / CPython                             {m['read_csv_ratio']:8.1f} x")
    print(f"  page JS heap after load (performance.memory)       {mb(m['memory_after_load.usedJSHeapSize']):>8} used / {mb(m['memory_after_load.totalJSHeapSize'])} total")
    print(f"  page + workers after load (UA-specific memory)     {mb(m['memory_after_load.uaBytes']):>8}")
    print(f"  page + workers with the extra kernel's DataFrame   {mb(m['memory_with_frame.uaBytes']):>8}")
    if args.json:
        args.json.write_text(
            json.dumps({"csv_bytes": csv_bytes, "runs": runs, "cpython": cpython, "median": medians}, indent=2)
        )


if __name__ == "__main__":
    main()
