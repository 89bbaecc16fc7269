"""Start-up benchmark: how long a person waits, and how many bytes a visit costs, against
a baseline measured in the same run (Panel's own `panel convert` of a minimal chat app,
served locally: see baseline.py).

For a fresh browser profile (empty cache) and then the same profile again (warm), in
Debian's headless Chromium on 127.0.0.1, wall-clock from navigation: the first paint, a chat
box that takes a question (Localyst's first screen takes one while Python starts and asks
it once the app is up), the app up (Panel's chat live), Localyst's kernel ready to run
`import pandas`, and the bytes served, as they are and as a gzip host (GitHub Pages) sends
them. A cold visit of Localyst stays open until both workers' memory snapshots are kept
(they are made in the background once the app is up; the time that takes is shown), so the
warm visit is the one a person has from their second visit on; how each worker started is
shown too. Prints a table (median of --runs) with the ratios to the baseline's cold start;
--json writes the figures too.

    python benchmarks/startup.py [--site _site] [--runs 3] [--json out.json]
"""

from __future__ import annotations

import argparse
import gzip
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
from benchmarks import baseline  # noqa: E402
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, PAGE_HAS_TEXT  # noqa: E402

# A chat box that answers: an enabled, shown textarea (shadow roots included), once the page
# is no longer loading (Panel's converted page shows a pre-rendered copy of the app under a
# loading spinner, body.pn-loading, until its worker has rendered the live one).
CHAT_BOX = """() => { const walk = (root) => { for (const el of root.querySelectorAll("*")) {
    if (el.tagName === "TEXTAREA" && !el.disabled && el.offsetParent !== null) return true;
    if (el.shadowRoot && walk(el.shadowRoot)) return true; } return false; };
  return !document.body.classList.contains("pn-loading") && walk(document); }"""
APP_READY = "() => Boolean(window.localyst && window.localyst.ready)"
# The kernel says "ready" once numpy, pandas and matplotlib are loaded and imported.
KERNEL_READY = f"() => ({PAGE_HAS_TEXT})('Python kernel: ready')"


#: What a gzip host compresses (GitHub Pages compresses text, scripts, JSON, SVG and wasm;
#: wheels, zips and the .gz bundle go as they are).
COMPRESSED = ("text/", "application/javascript", "application/json", "image/svg+xml", "application/wasm",
              "application/manifest+json")


class CountingServer:
    """build.py's server, counting the body bytes it sends, and what a gzip host would send."""

    def __init__(self, root: Path) -> None:
        self.bytes_sent = 0
        self.gzip_bytes = 0
        self._gzipped: dict[str, int] = {}
        server = self

        class Counting(serve.make_handler(root)):
            def copyfile(self, source, outputfile):
                data = source.read()
                server.bytes_sent += len(data)
                server.gzip_bytes += server.on_the_wire(self.path.split("?")[0], self.guess_type(self.path.split("?")[0]), data)
                outputfile.write(data)

        self.httpd = serve.SiteServer(("127.0.0.1", 0), Counting)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def on_the_wire(self, path: str, mime: str, data: bytes) -> int:
        if not mime.startswith(COMPRESSED):
            return len(data)
        if path not in self._gzipped:
            self._gzipped[path] = len(gzip.compress(data, compresslevel=6))
        return self._gzipped[path]

    def take_bytes(self) -> tuple[int, int]:
        """(bytes sent, bytes a gzip host would have sent) since the last call."""
        sent, self.bytes_sent = self.bytes_sent, 0
        wire, self.gzip_bytes = self.gzip_bytes, 0
        return sent, wire


def seconds_until(page, test: str, started: float, timeout: float = 300.0) -> float:
    """Wall-clock seconds from ``started`` until ``test`` holds (through reloads), polled every 50 ms."""
    from playwright.sync_api import Error

    while time.perf_counter() - started < timeout:
        try:
            if page.evaluate(test):
                return time.perf_counter() - started
        except Error as exc:  # the first visit's one reload
            if "context was destroyed" not in str(exc) and "navigat" not in str(exc):
                raise
        page.wait_for_timeout(50)
    raise TimeoutError(f"not within {timeout:.0f} s: {test[:80]}")


SNAPSHOTS_KEPT = "['app', 'kernel'].every((w) => ['kept', 'failed'].includes((window.localyst.snapshots[w] || {}).state))"
NEEDS_SNAPSHOTS = "Object.values(window.localyst.startup).some((s) => s.path !== 'restored')"


def visit(pw, profile: Path, server: CountingServer, path: str, kernel: bool) -> dict[str, float]:
    context = pw.chromium.launch_persistent_context(
        str(profile), executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
    )
    try:
        page = context.pages[0] if context.pages else context.new_page()
        server.take_bytes()
        started = time.perf_counter()
        page.goto(server.url + path)
        figures = {"chat_ready_s": seconds_until(page, CHAT_BOX, started)}
        figures["app_ready_s"] = seconds_until(page, APP_READY, started) if kernel else figures["chat_ready_s"]
        if kernel:
            figures["kernel_ready_s"] = seconds_until(page, KERNEL_READY, started)
            error = page.evaluate("window.localyst && window.localyst.error")
            if error:
                raise RuntimeError(f"the app failed to load: {error}")
            startup = page.evaluate("window.localyst.startup")
            figures["restored"] = float(sum(startup[w]["path"] == "restored" for w in ("app", "kernel")))
        figures["first_paint_ms"] = page.evaluate(
            "(performance.getEntriesByName('first-contentful-paint')[0] || {startTime: NaN}).startTime"
        )
        sent, wire = server.take_bytes()
        figures["bytes_served"], figures["gzip_bytes"] = float(sent), float(wire)
        if kernel and page.evaluate(NEEDS_SNAPSHOTS):
            figures["snapshots_kept_s"] = seconds_until(page, SNAPSHOTS_KEPT, started)
            failed = {w: s for w, s in page.evaluate("window.localyst.snapshots").items() if s["state"] != "kept"}
            if failed:
                print(f"a snapshot was not made: {failed}", file=sys.stderr)
        return figures
    finally:
        context.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--site", type=Path, default=REPO / "_site")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if not (args.site / "index.html").exists():
        sys.exit(f"no built site at {args.site}: run python build.py first")

    from playwright.sync_api import sync_playwright

    runs: dict[str, list[dict[str, float]]] = {}
    with tempfile.TemporaryDirectory(prefix="localyst-baseline-") as root, sync_playwright() as pw:
        apps = {
            "localyst": (CountingServer(args.site), "", True),
            "baseline": (CountingServer(Path(root)), baseline.prepare(Path(root)), False),
        }
        for _ in range(args.runs):
            for app, (server, path, kernel) in apps.items():
                with tempfile.TemporaryDirectory(prefix="localyst-profile-") as profile:
                    for visit_kind in ("cold", "warm"):
                        runs.setdefault(f"{app} {visit_kind}", []).append(visit(pw, Path(profile), server, path, kernel))

    medians = {
        kind: {key: statistics.median(r[key] for r in results) for key in results[0] if all(key in r for r in results)}
        for kind, results in runs.items()
    }
    base = medians["baseline cold"]["chat_ready_s"]
    print(
        f"{'':<15} {'first paint':>12} {'takes input':>12} {'× base':>7} {'app up':>9} {'× base':>7} "
        f"{'kernel ready':>13} {'× base':>7} {'bytes served':>13} {'gzip host':>10} {'restored':>9} {'snapshots kept':>15}"
        f"   (median of {args.runs}; × base: of the baseline's cold start)"
    )
    for kind, m in medians.items():
        kernel = f"{m['kernel_ready_s']:>11.2f} s {m['kernel_ready_s'] / base:>6.2f}x" if "kernel_ready_s" in m else f"{'—':>13} {'':>7}"
        restored = f"{m['restored']:.0f} of 2" if "restored" in m else "—"
        kept = f"{m['snapshots_kept_s']:.1f} s" if "snapshots_kept_s" in m else "—"
        print(
            f"{kind:<15} {m['first_paint_ms']:>9.0f} ms {m['chat_ready_s']:>10.2f} s {m['chat_ready_s'] / base:>6.2f}x "
            f"{m['app_ready_s']:>7.2f} s {m['app_ready_s'] / base:>6.2f}x {kernel} {m['bytes_served'] / 1e6:>10.1f} MB "
            f"{m['gzip_bytes'] / 1e6:>7.1f} MB {restored:>9} {kept:>15}"
        )
    if args.json:
        args.json.write_text(json.dumps({"runs": runs, "median": medians}, indent=2))


if __name__ == "__main__":
    main()
