"""Offline use, updates, installing, and a sub-path: what site/sw.js and precache.json do.

Each test serves a built site itself (a `Deployment`): under a sub-path like GitHub Pages'
/REPO/, with a new build swapped in, or refusing every request as if the network were gone.
A site that refuses everything is the honest offline test, as Playwright's routes do not
see a service worker's requests (its offline mode is switched on too, on top of it).
"""

from __future__ import annotations

import json
import shutil
import threading
import time
from pathlib import Path

import pytest

from buildsite import paths, serve
from buildsite.assemble import build
from buildsite.precache import PRECACHE_FILE
from tests.browser.conftest import LOAD_TIMEOUT_MS, answer, checked_page, run_code, shows, wait_for
from tools.mock_model import text

pytestmark = pytest.mark.browser

READY = "window.localyst && (window.localyst.ready || window.localyst.error)"
OFFLINE_READY = "window.localyst && (window.localyst.offlineReady || (window.localyst.offline && window.localyst.offline.error))"


class Deployment:
    """build.py's handler serving a built site under `prefix` on a free port. Like a host,
    it can be given a new build (`root`), or refuse every request (`down`: the connection
    is closed unanswered, as when the network is gone). Usable as conftest's SiteServer."""

    def __init__(self, root: Path, prefix: str = "/") -> None:
        self.root, self.prefix, self.down = root, prefix, False
        self.errors: list[str] = []   # requests answered with an error (checked_page fails on any)
        self.served: list[str] = []   # paths answered
        self.refused: list[str] = []  # paths asked for while down
        deployment = self

        class Handler(serve.make_handler(root)):
            def handle_one_request(self):
                if not deployment.down:
                    return super().handle_one_request()
                line = self.rfile.readline(65537).decode("latin-1").split()
                if len(line) > 1:
                    deployment.refused.append(line[1])
                self.close_connection = True

            def translate_path(self, path):
                self.directory = str(deployment.root)
                if not path.startswith(deployment.prefix):
                    return str(deployment.root / "outside the sub-path")
                return super().translate_path("/" + path[len(deployment.prefix):])

            def send_head(self):
                head = super().send_head()
                if head is not None:
                    deployment.served.append(self.path)
                return head

            def send_error(self, code, message=None, explain=None):
                deployment.errors.append(f"{code} {self.path}")
                super().send_error(code, message, explain)

        self.httpd = serve.SiteServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}{prefix}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def deployment(built_site):
    server = Deployment(built_site)
    yield server
    server.stop()


def wait_ready(page) -> None:
    """Wait until the chat accepts input (through a reload), failing on a load error."""
    wait_for(page, READY, LOAD_TIMEOUT_MS)
    assert page.evaluate("window.localyst.error") is None, page.evaluate("window.localyst.error")


def wait_offline_ready(page) -> dict:
    wait_for(page, OFFLINE_READY, LOAD_TIMEOUT_MS)
    offline = page.evaluate("window.localyst.offline")
    assert "error" not in offline, offline
    return offline


def cache_names(page) -> list[str]:
    return page.evaluate("caches.keys()")


def test_after_a_first_visit_the_app_loads_and_runs_code_without_the_site(browser, egress, deployment, mock):
    site_files = json.loads((deployment.root / PRECACHE_FILE).read_text())
    with checked_page(browser, deployment, egress) as page:
        started = time.monotonic()
        page.goto(f"{deployment.url}?base_url={mock.base_url}&model=mock-small")
        wait_ready(page)
        offline = wait_offline_ready(page)
        print(f"\nfirst visit: ready and {offline['files']} files ({offline['bytes']:,} bytes) kept "
              f"in {time.monotonic() - started:.1f} s (the keeping itself: {offline['ms']} ms, "
              f"{offline['downloaded']:,} bytes downloaded for it)")
        assert offline["files"] == len(site_files["precache"]) and offline["build"] == site_files["build"]
        # xlrd is no part of a first visit: the kernel loads it when a cell imports it.
        assert not any(p.startswith("pyodide/xlrd-") for p in site_files["precache"])
        answer(page, mock, "load xlrd", run_code("import xlrd\nprint('xlrd', xlrd.__VERSION__)"), text("Loaded."), marker="Loaded.")

        deployment.down = True
        page.context.set_offline(True)
        page.reload()
        wait_ready(page)
        print(f"offline reload: ready {page.evaluate('window.localyst.readyAt') / 1000:.1f} s after the navigation")
        shows(page, "Python kernel: ready", timeout=LOAD_TIMEOUT_MS)
        assert page.evaluate("self.crossOriginIsolated") is True

        # The model endpoint is another origin: the service worker leaves it to the network,
        # so it is reachable again while the site itself still refuses every request.
        page.context.set_offline(False)
        turn = answer(page, mock, "again, offline", run_code("import xlrd, numpy\nprint('offline', xlrd.__VERSION__, numpy.__version__)"),
                      text("Done offline."), marker="Done offline.", timeout=120)
        assert "offline 2." in turn, turn
    # Nothing of the site came from the network: the browser's only try was its check for
    # a new sw.js, which fails offline without harm.
    assert set(deployment.refused) <= {"/sw.js"}, deployment.refused


def test_the_site_works_and_installs_under_a_sub_path(browser, egress, built_site, request):
    deployment = Deployment(built_site, prefix="/localyst/")  # anything asked outside it is a 404: checked_page fails
    request.addfinalizer(deployment.stop)
    with checked_page(browser, deployment, egress) as page:
        page.goto(deployment.url)
        wait_ready(page)
        wait_offline_ready(page)
        state = page.evaluate("""async () => {
          const registration = await navigator.serviceWorker.getRegistration();
          return {isolated: self.crossOriginIsolated, scope: registration.scope,
                  script: navigator.serviceWorker.controller.scriptURL};
        }""")
        assert state == {"isolated": True, "scope": deployment.url, "script": deployment.url + "sw.js"}
        cdp = page.context.new_cdp_session(page)
        manifest = cdp.send("Page.getAppManifest")
        assert manifest["url"] == deployment.url + "manifest.webmanifest" and not manifest["errors"], manifest
        app = manifest["manifest"]
        assert app["startUrl"] == app["scope"] == app["id"] == deployment.url, app
        assert [icon["url"] for icon in app["icons"]] == [deployment.url + "icon.svg", deployment.url + "icon-maskable.svg"]
        # Chromium lists every reason it would not offer to install the app; a test
        # context is a private profile, which is the only one allowed here.
        errors = cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]
        assert [error["errorId"] for error in errors] == ["in-incognito"], errors


def test_a_new_build_is_cached_then_takes_over_on_the_next_load_with_a_notice(browser, egress, tmp_path, monkeypatch, request):
    # Builds A and B from one snapshot of site/ and py/localyst/ (so that edits to the
    # working tree meanwhile cannot leak into B); B has one stylesheet changed.
    monkeypatch.setattr(paths, "SITE_SRC", tmp_path / "site-src")
    monkeypatch.setattr(paths, "PY_SRC", tmp_path / "localyst")
    shutil.copytree(paths.REPO / "site", paths.SITE_SRC)
    shutil.copytree(paths.REPO / "py" / "localyst", paths.PY_SRC, ignore=shutil.ignore_patterns("__pycache__"))
    build(tmp_path / "a", offline=True)
    with open(paths.SITE_SRC / "style.css", "a") as fh:
        fh.write("/* a new build */\n")
    build(tmp_path / "b", offline=True)
    a, b = (json.loads((tmp_path / name / PRECACHE_FILE).read_text()) for name in "ab")
    build_a, build_b = a["build"], b["build"]
    changed = {path for path, file in b["files"].items() if a["files"].get(path) != file}
    assert build_a != build_b and changed == {"style.css", "loader.js", "sw.js", "boot.js"}

    deployment = Deployment(tmp_path / "a")
    request.addfinalizer(deployment.stop)
    with checked_page(browser, deployment, egress) as page:
        page.goto(deployment.url)
        wait_ready(page)
        wait_offline_ready(page)
        assert page.evaluate("window.localyst.build") == build_a
        assert cache_names(page) == [f"localyst-{build_a}", f"localyst-{build_a}-made"]
        assert page.locator(".update-notice").count() == 0

        # B is published. The next load still runs A, from its cache, while the browser
        # finds and installs B, which fills its own cache before it may take over.
        deployment.root = tmp_path / "b"
        del deployment.served[:]
        page.reload()
        wait_ready(page)
        assert page.evaluate("window.localyst.build") == build_a
        deadline = time.monotonic() + 120
        while not page.evaluate("navigator.serviceWorker.getRegistration().then((r) => r.waiting !== null)"):
            assert time.monotonic() < deadline, "build B was never installed"
            time.sleep(0.5)
        # Only what changed was downloaded; the rest was copied from A's cache.
        assert {p.lstrip("/") for p in deployment.served} == changed | {"precache.json"}, deployment.served

        # The load after that is B, says so once, and A's cache is gone.
        page.reload()
        wait_ready(page)
        assert page.evaluate("window.localyst.build") == build_b
        notice = page.locator(".update-notice")
        assert notice.inner_text().startswith(f"Localyst was updated to build {build_b}")
        assert cache_names(page) == [f"localyst-{build_b}", f"localyst-{build_b}-made"]
        assert page.evaluate("window.localyst.updatedFrom") == build_a
        notice.get_by_role("button", name="OK").click()
        assert notice.count() == 0
        page.reload()
        wait_ready(page)
        assert page.locator(".update-notice").count() == 0


def test_plotly_js_is_kept_on_a_first_visit_that_drew_no_chart_and_draws_offline(browser, egress, deployment, mock):
    with checked_page(browser, deployment, egress) as page:
        page.goto(f"{deployment.url}?base_url={mock.base_url}&model=mock-small")
        wait_ready(page)
        wait_offline_ready(page)
        # The kernel loads the plotly wheel on first import (it is kept then); plotly.js is
        # only precached: this visit draws no chart.
        answer(page, mock, "load plotly", run_code("import plotly.express as px\nprint('plotly', px.__name__)"), text("Loaded."), marker="Loaded.")
        assert page.evaluate("typeof window.Plotly") == "undefined"

        deployment.down = True
        page.context.set_offline(True)
        page.reload()
        wait_ready(page)
        shows(page, "Python kernel: ready", timeout=LOAD_TIMEOUT_MS)
        page.context.set_offline(False)  # the model endpoint is another origin: see the test above
        answer(page, mock, "chart, offline", run_code("import plotly.express as px\npx.bar(x=['a', 'b'], y=[1, 2])"),
               text("Drawn offline."), marker="Drawn offline.", timeout=120)
        page.locator(".js-plotly-plot .barlayer .point").first.wait_for(timeout=60_000)
    assert set(deployment.refused) <= {"/sw.js"}, deployment.refused
