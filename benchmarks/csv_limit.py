"""How large a CSV the browser kernel can read: pandas.read_csv, then describe().

In real Pyodide under Node, whose WebAssembly memory has the same ceiling as a browser
tab's (wasm32: 4 GB, less 64 KB). Each size runs in a fresh Pyodide, the way the kernel
worker gets the file:

- the CSV is generated inside Pyodide (a block of 100,000 rows of numbers, written over
  and over into a JavaScript Uint8Array of the wanted size: the file as the page holds it);
- it is handed to localyst.kernel.worker._bridge as a ``put-file`` message after
  ``pyodide.toPy``, as site/kernel-worker.js does: that copies the bytes into the wasm
  heap, and the bridge writes them to /data, which is Emscripten's MEMFS. MEMFS keeps a
  file's bytes in a JavaScript array of its own, outside the wasm heap, so the file itself
  does not count against the 4 GB; the upload's copy does while it lasts (the heap then
  keeps its size: wasm memory never shrinks, but the space is reused);
- a cell reads it with ``pandas.read_csv`` and calls ``describe()``.

Prints a table: size, ok or what failed, seconds for read_csv + describe, the wasm heap
after the upload and at the end (``pyodide._module.HEAP8.length``; the heap only grows, so
that is its peak), and the DataFrame's own memory.

    python benchmarks/csv_limit.py [--site _site] [--sizes 250,500,1000,1500]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.pyodide_node import PyodideNode, SnippetFailed  # noqa: E402

MB = 1_000_000
BLOCK_ROWS = 100_000
READ_TIMEOUT = 3600

SETUP = """
import json, time
import numpy as np, pandas as pd
import js, pyodide_js
from localyst.kernel.worker._bridge import Bridge

bridge = Bridge(lambda text, payload=None: None, lock_text, data_dir="/data")

def heap():
    return pyodide_js._module.HEAP8.length

def csv_block():
    # id, four measures with 3 to 6 decimals, a count: ~60 bytes a row, like exported data
    rng = np.random.default_rng(7)
    frame = pd.DataFrame({
        "id": np.arange(10_000_000, 10_000_000 + BLOCK_ROWS),
        "price": rng.uniform(0, 1000, BLOCK_ROWS).round(2),
        "weight": rng.normal(70, 15, BLOCK_ROWS).round(3),
        "ratio": rng.random(BLOCK_ROWS).round(6),
        "score": rng.normal(0, 1, BLOCK_ROWS).round(5),
        "count": rng.integers(0, 1000, BLOCK_ROWS),
    })
    return ",".join(frame.columns).encode() + b"\\n", frame.to_csv(index=False, header=False).encode()

async def upload(size):
    header, block = csv_block()
    data = js.Uint8Array.new(size)
    data.subarray(0, len(header)).assign(header)
    at = len(header)
    while at < size:
        piece = block[: size - at]
        if len(piece) < len(block):
            piece = piece[: piece.rfind(b"\\n") + 1] or b"\\n"
            piece += b"\\n" * (size - at - len(piece))  # blank lines: pandas skips them
        data.subarray(at, at + len(piece)).assign(piece)
        at += len(piece)
    message = js.Object.new()
    message.type, message.path, message.bytes = "put-file", "big.csv", data
    converted = pyodide_js.toPy(message)  # what kernel-worker.js does: copies into the wasm heap
    del data, message
    await bridge.handle(converted)
    del converted
    import os
    return {"file": os.path.getsize("/data/big.csv"), "heap": heap()}

def read():
    started = time.perf_counter()
    frame = pd.read_csv("/data/big.csv")
    summary = frame.describe()
    seconds = time.perf_counter() - started
    return {"rows": len(frame), "seconds": seconds, "frame": int(frame.memory_usage().sum()),
            "heap": heap(), "mean_price": float(summary.loc["mean", "price"])}
"""


def measure(pyodide_dir: Path, size: int) -> dict:
    lock_text = (pyodide_dir / "pyodide-lock.json").read_text()
    wheel = pyodide_dir / json.loads(lock_text)["packages"]["localyst"]["file_name"]
    node = PyodideNode(pyodide_dir, [str(wheel), "numpy", "pandas"])
    result: dict = {"size": size}
    try:
        node.run(f"lock_text = {lock_text!r}\nBLOCK_ROWS = {BLOCK_ROWS}")
        node.run(SETUP)
        uploaded = node.run(f"await upload({size})", timeout=READ_TIMEOUT)
        result.update(upload_heap=uploaded["heap"])
        try:
            result.update(node.run("read()", timeout=READ_TIMEOUT), ok=True)
        except SnippetFailed as exc:
            result.update(ok=False, error=str(exc).splitlines()[0][:100])
            try:
                result["heap"] = node.run("heap()", timeout=60)
            except (SnippetFailed, TimeoutError):
                pass
        except TimeoutError:
            result.update(ok=False, error=f"no answer in {READ_TIMEOUT} s")
    finally:
        node.close()
    return result


def table(results: list[dict]) -> str:
    lines = [f"{'CSV':>9} | {'result':<60} | {'rows':>12} | {'seconds':>7} | {'heap after upload':>17} | {'peak heap':>9} | {'DataFrame':>9}",
             "-" * 143]
    for r in results:
        status = "ok" if r.get("ok") else f"failed: {r.get('error', '?')}"
        rows = f"{r['rows']:,}" if "rows" in r else "-"
        seconds = f"{r['seconds']:.1f}" if "seconds" in r else "-"
        lines.append(
            f"{r['size'] / MB:>6,.0f} MB | {status:<60.60} | {rows:>12} | {seconds:>7} | "
            f"{_mb(r.get('upload_heap')):>17} | {_mb(r.get('heap')):>9} | {_mb(r.get('frame')):>9}"
        )
    return "\n".join(lines)


def _mb(value: int | None) -> str:
    return "-" if value is None else f"{value / MB:,.0f} MB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", type=Path, default=REPO / "_site", help="a built site (build.py --out)")
    parser.add_argument("--sizes", default="250,500,1000,1500", help="CSV sizes in MB, comma-separated")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    results = []
    for size in (int(float(s) * MB) for s in args.sizes.split(",")):
        started = time.perf_counter()
        try:
            result = measure(args.site / "pyodide", size)
        except (SnippetFailed, TimeoutError, RuntimeError) as exc:
            result = {"size": size, "ok": False, "error": str(exc).splitlines()[0][:100]}
        print(f"{size / MB:,.0f} MB: {result} ({time.perf_counter() - started:.0f} s in all)", file=sys.stderr, flush=True)
        results.append(result)
    print(table(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
