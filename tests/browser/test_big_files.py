"""Big files in Chromium: a CSV over the size at which files are mounted instead of copied
(_intake.BIG_FILE_BYTES) is picked as a person picks it, read where it is on the disk
(a read-only link into a WORKERFS mount of the File), aggregated in chunks with the
right numbers, and costs the kernel's WebAssembly heap far less than its size.

A file over the old 1 GB limit is too slow for the suite: benchmarks/big_files.py
measures those."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from localyst.kernel.core._intake import BIG_FILE_BYTES
from localyst.render import size_text
from tests.browser.conftest import answer, run_code, shows
from tools.mock_model import text

pytestmark = pytest.mark.browser

ZONES = 40
# The paths of the files the browser's storage keeps for the next visit.
KEPT = """() => new Promise((resolve, reject) => {
  const opened = indexedDB.open("localyst");
  opened.onerror = () => reject(opened.error);
  opened.onsuccess = () => {
    const all = opened.result.transaction("files").objectStore("files").getAllKeys();
    all.onsuccess = () => { resolve(all.result.map((key) => key[1])); opened.result.close(); };
    all.onerror = () => reject(all.error);
  };
})"""
# The kernel's WebAssembly memory, in bytes (it only grows: its size now is its peak).
HEAP = "import pyodide_js\nheap = pyodide_js._module.HEAP8.length\n"


def write_trips(path, megabytes: int) -> dict[int, float]:
    """A CSV of trips (zone, fare in cents, a note) of about ``megabytes``; the fare total
    per zone, computed here from the same numbers."""
    rng = np.random.default_rng(17)
    totals = np.zeros(ZONES, dtype=np.int64)
    with open(path, "w") as f:
        f.write("zone,cents,note\n")
        while f.tell() < megabytes * 1_000_000:
            zone = rng.integers(0, ZONES, 200_000)
            cents = rng.integers(100, 99_999, 200_000)
            np.add.at(totals, zone, cents)
            f.write("".join(f"{z},{c},trip-{c % 997}\n" for z, c in zip(zone.tolist(), cents.tolist())))
    return {zone: int(total) for zone, total in enumerate(totals)}


def number(pattern: str, turn: str) -> int:
    found = re.search(pattern, turn)
    assert found, f"no {pattern!r} in {turn!r}"
    return int(found.group(1))


def test_a_big_csv_is_mounted_where_it_is_and_aggregated_in_chunks(app, mock, tmp_path):
    trips = tmp_path / "trips.csv"
    expected = write_trips(trips, BIG_FILE_BYTES // 1_000_000 + 30)
    size = trips.stat().st_size
    assert size > BIG_FILE_BYTES

    # The heap once pandas has read a small CSV in chunks as the big one will be: what the
    # big file costs is measured from there.
    (tmp_path / "zones.csv").write_text("zone,cents\n1,5\n2,7\n")
    app.locator("#file-picker").set_input_files(str(tmp_path / "zones.csv"))
    shows(app, "zones.csv")
    warm = HEAP + ("import pandas as pd\n"
                   "for chunk in pd.read_csv('zones.csv', chunksize=50_000, usecols=['zone', 'cents']):\n"
                   "    chunk.groupby('zone').cents.sum()\n"
                   "print('heap', pyodide_js._module.HEAP8.length)")
    before = number(r"heap (\d+)", answer(app, mock, "warm up", run_code(warm), text("Measured."), marker="Measured."))

    app.locator("#file-picker").set_input_files(str(trips))
    shows(app, "trips.csv is")  # the files panel says it is read from the disk and not kept
    shows(app, "not kept for your next visit")
    kept = app.evaluate(KEPT)
    assert "zones.csv" in kept and "trips.csv" not in kept

    code = HEAP + (
        "import os, json, pandas as pd\n"
        "mounted = os.path.islink('trips.csv') and os.path.realpath('trips.csv').startswith('/mnt/files/')\n"
        "after_mount = heap\n"
        "totals = None\n"
        "for chunk in pd.read_csv('trips.csv', chunksize=50_000, usecols=['zone', 'cents']):\n"
        "    part = chunk.groupby('zone').cents.sum()\n"
        "    totals = part if totals is None else totals.add(part, fill_value=0)\n"
        "try:\n"
        "    with open('trips.csv', 'a') as f:\n"
        "        f.write('more')\n"
        "    writable = True\n"
        "except OSError:\n"
        "    writable = False\n"
        "print('mounted', mounted, 'writable', writable, 'size', os.path.getsize('trips.csv'))\n"
        "print('heap', after_mount, pyodide_js._module.HEAP8.length)\n"
        "print('totals', json.dumps({int(k): int(v) for k, v in totals.items()}))"
    )
    turn = answer(app, mock, "total fare per zone", run_code(code), text("Totalled."), marker="Totalled.", timeout=300)
    assert f"mounted True writable False size {size}" in turn
    totals = json.loads(re.search(r"totals (\{.*?\})", turn).group(1))
    assert {int(zone): total for zone, total in totals.items()} == expected
    mounted, aggregated = (int(n) for n in re.search(r"heap (\d+) (\d+)", turn).groups())
    print(f"\nkernel heap: {before / 1e6:.0f} MB, {mounted / 1e6:.0f} MB with a {size / 1e6:.0f} MB file mounted, "
          f"{aggregated / 1e6:.0f} MB after its chunked groupby")
    assert mounted - before < size / 4, "mounting the file copied it into the heap"
    assert aggregated - before < size / 2, "the chunked read held the file in the heap"  # the heap grows in 20% steps

    # The file is the person's, on their disk: it is not copied back out of the kernel.
    row = app.locator(".bk-panel-models-layout-Column", has=app.locator(".ly-file", has_text="trips.csv")).last
    row.locator(".ti-download").click()
    shows(app, "trips.csv is a big file read where it is on your disk")

    # What the model was told of the file: its size (the streaming recipe starts at 500 MB:
    # tests/test_agent.py checks it).
    prompt = mock.chat_requests()[-1].body["messages"][0]["content"]
    assert f"trips.csv ({size_text(size)}, text/csv" in prompt
    trips.unlink()  # pytest keeps the last runs' folders: not this file's size in each
