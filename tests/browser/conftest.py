"""Browser fixtures: the built site on 127.0.0.1, Debian's Chromium, and an egress guard.

Every test that uses ``page`` fails if anything tried to leave 127.0.0.1 (recorded both by
Playwright and, for workers and anything Playwright does not see, by the refusing proxy
Chromium is pointed at) or if the site answered any of its own requests with an error.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import threading
from pathlib import Path
from typing import Iterator
from urllib.parse import urlsplit

import pytest

from tests._egress import EgressRecorder

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("LOCALYST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
LOAD_TIMEOUT_MS = 240_000


def _load_build_module():
    spec = importlib.util.spec_from_file_location("localyst_build", REPO / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class SiteServer:
    """build.py's server on a free port, remembering every request it could not answer."""

    def __init__(self, root: Path) -> None:
        build = _load_build_module()
        self.errors: list[str] = []
        self.httpd = build.make_server(root, "127.0.0.1", 0, on_error=self.errors.append)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="session")
def site(built_site: Path) -> Iterator[SiteServer]:
    server = SiteServer(built_site)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def egress() -> Iterator[EgressRecorder]:
    recorder = EgressRecorder().start()
    yield recorder
    recorder.stop()


@pytest.fixture(scope="session")
def browser(egress: EgressRecorder):
    from playwright.sync_api import sync_playwright

    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: install Debian's chromium package")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=[*CHROMIUM_ARGS, f"--proxy-server=http://{egress.address}"],
        )
        yield browser
        browser.close()


def is_local(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme in ("data", "blob", "about", "chrome-extension"):
        return True
    return parts.hostname == "127.0.0.1"


@pytest.fixture
def page(browser, site: SiteServer, egress: EgressRecorder):
    """A fresh browser context (fresh profile) whose every request is recorded and checked."""
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    requests: list[str] = []
    context.on("request", lambda request: requests.append(request.url))
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.requests = requests
    errors_before = len(site.errors)
    attempts_before = len(egress.attempts)
    yield page
    context.close()
    outside = [url for url in requests if not is_local(url)] + egress.attempts[attempts_before:]
    assert not outside, f"requests left 127.0.0.1: {outside}"
    missing = site.errors[errors_before:]
    assert not missing, f"the site failed to serve: {missing}"


def open_app(page, site: SiteServer, query: str = "") -> None:
    """Open the site and wait until the chat accepts input."""
    page.goto(site.url + ("?" + query if query else ""))
    page.wait_for_function("window.localyst && (window.localyst.ready || window.localyst.error)", timeout=LOAD_TIMEOUT_MS)
    error = page.evaluate("window.localyst.error")
    assert error is None, f"the app failed to load: {error}"
