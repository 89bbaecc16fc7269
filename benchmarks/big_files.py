"""How big a file the tab can analyse: a chunked groupby of a CSV, a row-group scan of a
Parquet file, and what a whole read of the biggest CSV does.

In Debian's headless Chromium against the built site on 127.0.0.1, through the real page
path: each file is generated on disk by numpy/pyarrow in this CPython (a block of rows
written over and over, so the expected totals are the block's times the repeats), picked
with the file picker, mounted by the kernel where it is (WORKERFS), and read by a
run_python cell the scripted model (tools/mock_model.py) sends, in a new conversation (a
fresh kernel) per file. For each file it prints the seconds, the read rate against
CPython's on the same file in the same run (the baseline), and the kernel's WebAssembly
heap before and after (``pyodide._module.HEAP8.length``; the heap only grows, so "after"
is the peak). Then a whole-file ``pandas.read_csv`` of the biggest CSV: what the person
sees (a MemoryError, or the kernel restarting).

    python benchmarks/big_files.py [--site _site] [--csv 1000,4000] [--parquet 2000] [--whole] [--keep DIR]

Needs free disk for the files (deleted afterwards unless --keep).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(HERE))

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, SiteServer, message_texts, open_app, run_code  # noqa: E402
from tests.browser.conftest import send_message, shows, start_new_conversation  # noqa: E402
from tools.mock_model import MockModel, text  # noqa: E402

MB = 1_000_000
ZONES = 50
BLOCK_ROWS = 1_000_000
CELL_TIMEOUT = 3600

HEAP = "import json, time, pyodide_js\nheap = pyodide_js._module.HEAP8.length\nstarted = time.perf_counter()\n"
CSV_CELL = HEAP + """import pandas as pd
totals = None
for chunk in pd.read_csv({path!r}, chunksize=1_000_000, usecols=['zone', 'cents']):
    part = chunk.groupby('zone').cents.sum()
    totals = part if totals is None else totals.add(part, fill_value=0)
print('RESULT', json.dumps({{'seconds': time.perf_counter() - started, 'heap_before': heap,
      'heap_after': pyodide_js._module.HEAP8.length, 'totals': {{int(k): int(v) for k, v in totals.items()}}}}))
"""
PARQUET_CELL = HEAP + """import pyarrow.parquet as pq, pyarrow.compute as pc
source = pq.ParquetFile({path!r})
totals = {{}}
for group in range(source.num_row_groups):
    table = source.read_row_group(group, columns=['zone', 'cents'])
    for row in table.group_by('zone').aggregate([('cents', 'sum')]).to_pylist():
        totals[row['zone']] = totals.get(row['zone'], 0) + row['cents_sum']
print('RESULT', json.dumps({{'seconds': time.perf_counter() - started, 'heap_before': heap, 'groups': source.num_row_groups,
      'heap_after': pyodide_js._module.HEAP8.length, 'totals': {{int(k): int(v) for k, v in totals.items()}}}}))
"""
WHOLE_CELL = HEAP + """import pandas as pd
frame = pd.read_csv({path!r})
print('RESULT', json.dumps({{'seconds': time.perf_counter() - started, 'rows': len(frame)}}))
"""
CPYTHON_CSV = """import sys, time, pandas as pd
started = time.perf_counter()
for chunk in pd.read_csv(sys.argv[1], chunksize=1_000_000, usecols=['zone', 'cents']):
    chunk.groupby('zone').cents.sum()
print(time.perf_counter() - started)
"""
CPYTHON_PARQUET = """import sys, time, pyarrow.parquet as pq
started = time.perf_counter()
source = pq.ParquetFile(sys.argv[1])
for group in range(source.num_row_groups):
    source.read_row_group(group, columns=['zone', 'cents']).group_by('zone').aggregate([('cents', 'sum')])
print(time.perf_counter() - started)
"""


def block(seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.integers(0, ZONES, BLOCK_ROWS), rng.integers(100, 99_999, BLOCK_ROWS)


def write_csv(path: Path, megabytes: int) -> dict[int, int]:
    """A CSV of about ``megabytes``: one block of rows (zone, cents, a note) repeated; the
    totals per zone."""
    zone, cents = block()
    body = "".join(f"{z},{c},trip {c % 997} of zone {z}\n" for z, c in zip(zone.tolist(), cents.tolist())).encode()
    repeats = max(1, round(megabytes * MB / len(body)))
    with open(path, "wb") as f:
        f.write(b"zone,cents,note\n")
        for _ in range(repeats):
            f.write(body)
    return {int(k): int(v) * repeats for k, v in enumerate(np.bincount(zone, weights=cents, minlength=ZONES).astype(np.int64))}


def write_parquet(path: Path, megabytes: int) -> dict[int, int]:
    """A Parquet file of about ``megabytes`` (row groups of BLOCK_ROWS; a random float column
    keeps it from compressing away); the totals per zone."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    zone, cents = block()
    rng = np.random.default_rng(5)
    totals = np.zeros(ZONES, dtype=np.int64)
    with pq.ParquetWriter(path, pa.schema([("zone", pa.int64()), ("cents", pa.int64()), ("x", pa.float64())])) as writer:
        while not path.exists() or path.stat().st_size < megabytes * MB:
            writer.write_table(pa.table({"zone": zone, "cents": cents, "x": rng.random(BLOCK_ROWS)}), row_group_size=BLOCK_ROWS)
            np.add.at(totals, zone, cents)
    return {int(k): int(v) for k, v in enumerate(totals)}


def cpython_seconds(script: str, path: Path) -> float:
    done = subprocess.run([sys.executable, "-c", script, str(path)], check=True, capture_output=True, text=True)
    return float(done.stdout.strip())


def set_time_limit(page, seconds: int) -> None:
    """As a person would, in the interpreter settings: a big file takes minutes."""
    field = page.get_by_label("Time limit per cell (seconds)")
    if not field.is_visible():
        page.get_by_text("Interpreter settings").first.click()
    field.fill(str(seconds))
    field.press("Enter")


def in_the_tab(page, mock: MockModel, path: Path, cell: str) -> dict:
    """Pick the file in a new conversation, run ``cell`` on it; what it printed, or what the
    person was shown instead."""
    start_new_conversation(page)
    page.locator("#file-picker").set_input_files(str(path))
    shows(page, f"{path.name} is")
    mock.script(run_code(cell.format(path=path.name)), text("Done."))
    send_message(page, f"read {path.name}")
    deadline = time.monotonic() + CELL_TIMEOUT
    while time.monotonic() < deadline:
        last = (message_texts(page) or [""])[-1]
        if "Done." in last:
            found = re.search(r"RESULT (\{.*\})", last)
            return json.loads(found.group(1)) if found else {"shown": " ".join(last.split())[-600:]}
        time.sleep(1)
    raise TimeoutError(f"{path.name}: no answer in {CELL_TIMEOUT} s")


def row(kind: str, path: Path, result: dict, expected: dict[int, int], baseline: float) -> str:
    size = path.stat().st_size
    if "totals" not in result:
        return f"{kind:8} {size / MB:8,.0f} MB  failed: {result}"
    right = {int(k): v for k, v in result["totals"].items()} == expected
    rate, cpython_rate = size / MB / result["seconds"], size / MB / baseline
    return (f"{kind:8} {size / MB:8,.0f} MB  {'right' if right else 'WRONG'} totals  {result['seconds']:7.1f} s  "
            f"{rate:5.1f} MB/s = {rate / cpython_rate:.2f}× CPython's {cpython_rate:.0f} MB/s  "
            f"heap {result['heap_before'] / MB:,.0f} → {result['heap_after'] / MB:,.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--site", type=Path, default=REPO / "_site")
    parser.add_argument("--csv", default="1000,4000", help="CSV sizes in MB")
    parser.add_argument("--parquet", default="2000", help="Parquet sizes in MB")
    parser.add_argument("--whole", action="store_true", help="also read the biggest CSV whole")
    parser.add_argument("--keep", type=Path, help="a folder to write the files to and keep them in")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    folder = args.keep or Path(tempfile.mkdtemp(prefix="localyst-big-"))
    folder.mkdir(parents=True, exist_ok=True)
    site = SiteServer(args.site)
    mock = MockModel()
    mock.start()
    try:
        with sync_playwright() as pw, tempfile.TemporaryDirectory(prefix="localyst-profile-") as profile:
            context = pw.chromium.launch_persistent_context(profile, executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            page = context.pages[0] if context.pages else context.new_page()
            page.set_default_timeout(120_000)
            open_app(page, site, f"base_url={mock.base_url}&model=mock-small")
            shows(page, "Python kernel: ready", 600_000)
            set_time_limit(page, CELL_TIMEOUT)
            biggest = None
            for kind, sizes, write, cell, baseline in (("CSV", args.csv, write_csv, CSV_CELL, CPYTHON_CSV),
                                                        ("Parquet", args.parquet, write_parquet, PARQUET_CELL, CPYTHON_PARQUET)):
                for megabytes in [int(s) for s in sizes.split(",") if s]:
                    path = folder / f"big-{megabytes}.{kind.lower()}"
                    started = time.perf_counter()
                    expected = write(path, megabytes)
                    made = time.perf_counter() - started
                    print(f"{kind}: wrote {path.stat().st_size / MB:,.0f} MB in {made:.0f} s", flush=True)
                    result = in_the_tab(page, mock, path, cell)
                    print(row(kind, path, result, expected, cpython_seconds(baseline, path)), flush=True)
                    if kind == "CSV":
                        biggest = path
                    elif not args.keep:
                        path.unlink()
            if args.whole and biggest is not None:
                print(f"whole read_csv of {biggest.stat().st_size / MB:,.0f} MB: {in_the_tab(page, mock, biggest, WHOLE_CELL)}")
            context.close()
    finally:
        mock.stop()
        site.stop()
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
