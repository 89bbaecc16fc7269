"""Chart benchmark: what a live plotly chart costs a turn, against a matplotlib picture.

In Debian's headless Chromium against the built site on 127.0.0.1, with the scripted mock
model: one fresh profile; turns that each run one cell drawing one chart of the same 50
points, timed from Enter to the chart on screen (an <img> for matplotlib, plotly.js's
``.js-plotly-plot`` with its points for plotly). In order: matplotlib (the baseline; its
package is loaded at start-up), plotly's first chart (which loads the plotly wheel in the
kernel and plotly.js in the page), plotly again, matplotlib again. Prints the seconds and
each as a ratio of the matplotlib turn of the same run, and the bytes the first plotly
chart brought (plotly.js, the wheel) and how long its cell took to import plotly.express
(the wheel is loaded before the cell runs; the import is the modules' own start).

    python benchmarks/charts.py [--site _site] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.growth import open_fresh  # noqa: E402
from buildsite import serve  # noqa: E402
from tests.browser.conftest import message_texts, run_code, send_message, wait_for  # noqa: E402
from tools.mock_model import MockModel, text  # noqa: E402

TURN_TIMEOUT_MS = 300_000
DATA = "import numpy as np\nrng = np.random.default_rng(7)\nx, y = rng.normal(size=50), rng.normal(size=50)\n"
CELLS = {
    "matplotlib": DATA + "import matplotlib.pyplot as plt\nplt.scatter(x, y)\nplt.show()",
    "plotly": DATA + "import time\nstarted = time.perf_counter()\nimport plotly.express as px\n"
    "print(f'import {time.perf_counter() - started:.3f} s')\npx.scatter(x=x, y=y)",
}
IMPORT_SECONDS = re.compile(r"import (\d+\.\d+) s")
DRAWN = {
    "matplotlib": "document.querySelector('#app') && [...(function all(root) { const out = [];"
    " for (const el of root.querySelectorAll('*')) { if (el.tagName === 'IMG' && el.alt.startsWith('chart-')) out.push(el);"
    " if (el.shadowRoot) out.push(...all(el.shadowRoot)); } return out; })(document)].length >= {n}",
    "plotly": "[...(function all(root) { const out = []; for (const el of root.querySelectorAll('*')) {"
    " if (el.classList.contains('js-plotly-plot') && el.querySelectorAll('.scatterlayer .point').length === 50) out.push(el);"
    " if (el.shadowRoot) out.push(...all(el.shadowRoot)); } return out; })(document)].length >= {n}",
}
ORDER = ["matplotlib", "plotly", "plotly", "matplotlib"]


def turn(page, mock: MockModel, library: str, shown_before: int) -> float:
    """Seconds from Enter to the turn's chart on screen."""
    mock.reset()
    mock.script(run_code(CELLS[library]), text("drawn"))
    start = time.perf_counter()
    send_message(page, f"Draw it with {library}.")
    wait_for(page, DRAWN[library].replace("{n}", str(shown_before + 1)), TURN_TIMEOUT_MS, polling=50)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--site", type=Path, default=REPO / "_site")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if not (args.site / "index.html").exists():
        sys.exit(f"no built site at {args.site}: run python build.py first")

    from playwright.sync_api import sync_playwright

    httpd = serve.SiteServer(("127.0.0.1", 0), serve.make_handler(args.site))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    with MockModel() as mock, sync_playwright() as pw, tempfile.TemporaryDirectory(prefix="localyst-profile-") as profile:
        url = f"http://127.0.0.1:{httpd.server_address[1]}/?base_url={mock.base_url}&model=mock-small"
        context, page = open_fresh(pw, profile, url)
        try:
            counts = {"matplotlib": 0, "plotly": 0}
            rows = []
            for library in ORDER:
                seconds = turn(page, mock, library, counts[library])
                counts[library] += 1
                printed = IMPORT_SECONDS.findall(" ".join(message_texts(page)[-2:]))
                rows.append({"library": library, "nth": counts[library], "seconds": seconds, "import_s": float(printed[-1]) if printed and library == "plotly" else None})
                print(f"{library:10} chart {counts[library]}: {seconds:6.2f} s", flush=True)
            plotly_js = page.evaluate(
                "[...performance.getEntriesByType('resource')].filter((e) => e.name.endsWith('/vendor/plotly/plotly.min.js'))"
                ".map((e) => [e.encodedBodySize || e.decodedBodySize, e.duration / 1000])"
            )
        finally:
            context.close()
    httpd.shutdown()

    baseline = rows[0]["seconds"]
    wheel = next((args.site / "pyodide").glob("plotly-*.whl"))
    result = {
        "turns": rows,
        "ratios": {f"{r['library']} {r['nth']}": r["seconds"] / baseline for r in rows},
        "plotly_js_bytes": plotly_js[0][0] if plotly_js else None,
        "plotly_js_fetch_s": plotly_js[0][1] if plotly_js else None,
        "plotly_wheel_bytes": wheel.stat().st_size,
    }
    print("\nEnter -> chart on screen (headless Chromium, this machine; the machine may be busy)")
    print(f"  {'turn':24} {'seconds':>8} {'× matplotlib 1':>15}")
    for r in rows:
        print(f"  {r['library'] + ' chart ' + str(r['nth']):24} {r['seconds']:8.2f} {r['seconds'] / baseline:15.2f}")
    first = next(r for r in rows if r["library"] == "plotly")
    print(f"  import plotly.express in the first plotly cell: {first['import_s']} s")
    print(f"  plotly.js fetched by the page: {result['plotly_js_bytes'] or 0:,} bytes in {result['plotly_js_fetch_s'] or 0:.2f} s;"
          f" plotly wheel: {result['plotly_wheel_bytes']:,} bytes")
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
