"""Start-up benchmark: how long a person waits, and how many bytes a visit costs.

For a fresh browser profile (empty cache) and then the same profile again (warm), in
Debian's headless Chromium against the built site on 127.0.0.1: time to the first paint of
the loading screen, time until the chat box accepts input, and the bytes the site served.
Prints a table (median of --runs); --json writes the figures too.

    python benchmarks/startup.py [--site _site] [--runs 3] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import build  # noqa: E402
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, wait_for  # noqa: E402


class CountingServer:
    """build.py's server, counting the body bytes it sends."""

    def __init__(self, root: Path) -> None:
        self.bytes_sent = 0
        server = self

        class Counting(build.make_handler(root)):
            def copyfile(self, source, outputfile):
                data = source.read()
                server.bytes_sent += len(data)
                outputfile.write(data)

        self.httpd = build.SiteServer(("127.0.0.1", 0), Counting)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def take_bytes(self) -> int:
        sent, self.bytes_sent = self.bytes_sent, 0
        return sent


def visit(pw, profile: Path, server: CountingServer) -> dict[str, float]:
    context = pw.chromium.launch_persistent_context(
        str(profile), executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
    )
    try:
        page = context.pages[0] if context.pages else context.new_page()
        server.take_bytes()
        page.goto(server.url)
        wait_for(page, "window.localyst && (window.localyst.ready || window.localyst.error)", 300_000)
        state = page.evaluate("({...window.localyst})")
        if state.get("error"):
            raise RuntimeError(f"the app failed to load: {state['error']}")
        paint = page.evaluate(
            "(performance.getEntriesByName('first-contentful-paint')[0] || {startTime: NaN}).startTime"
        )
        return {
            "first_paint_ms": paint,
            "chat_ready_ms": state["readyAt"],
            "bytes_served": float(server.take_bytes()),
        }
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

    server = CountingServer(args.site)
    runs: dict[str, list[dict[str, float]]] = {"cold": [], "warm": []}
    with sync_playwright() as pw:
        for _ in range(args.runs):
            with tempfile.TemporaryDirectory(prefix="localyst-profile-") as profile:
                runs["cold"].append(visit(pw, Path(profile), server))
                runs["warm"].append(visit(pw, Path(profile), server))

    medians = {
        kind: {key: statistics.median(r[key] for r in results) for key in results[0]}
        for kind, results in runs.items()
    }
    print(f"{'visit':<6} {'first paint':>12} {'chat ready':>12} {'bytes served':>14}   (median of {args.runs})")
    for kind, m in medians.items():
        print(f"{kind:<6} {m['first_paint_ms']:>10.0f} ms {m['chat_ready_ms'] / 1000:>10.2f} s {m['bytes_served'] / 1e6:>11.1f} MB")
    if args.json:
        args.json.write_text(json.dumps({"runs": runs, "median": medians}, indent=2))


if __name__ == "__main__":
    main()
