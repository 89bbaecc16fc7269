"""Browser fixtures: the built site on 127.0.0.1, Debian's Chromium, and an egress guard.

Every test that uses ``page`` fails if anything tried to leave 127.0.0.1 (recorded both by
Playwright and, for workers and anything Playwright does not see, by the refusing proxy
Chromium is pointed at, and by a witness on 127.0.0.2 for what bypasses the proxy) or if
the site answered any of its own requests with an error.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator
from urllib.parse import urlsplit

import pytest

from buildsite import serve
from tests._egress import EgressRecorder
from tools.mock_model import MockModel, Reply, tool_call

REPO = Path(__file__).resolve().parents[2]
# Let Playwright report the service worker's own requests too, so the egress check sees them.
os.environ.setdefault("PW_EXPERIMENTAL_SERVICE_WORKER_NETWORK_EVENTS", "1")
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
    # Chromium's own services, so that the egress proxy sees only what the page does.
    "--allow-browser-signin=false",
    "--disable-client-side-phishing-detection",
    "--disable-default-apps",
    "--disable-domain-reliability",
    "--no-pings",
    "--disable-features=AutofillServerCommunication,OptimizationHints,MediaRouter,Translate,CertificateTransparencyComponentUpdater,NetworkTimeServiceQuerying",
]
LOAD_TIMEOUT_MS = 240_000
# Whatever the flags, a fresh Chromium profile still calls some of Google's browser
# services (sign-in, component updates, network time); that is the browser, not the page.
# The proxy ignores only these domains, and anything the page itself or its workers ask
# for, these domains included, is still caught by Playwright's request events.
CHROMIUM_HOUSEKEEPING = (".google.com", ".googleapis.com", ".gvt1.com")


class SiteServer:
    """build.py's server on a free port, remembering every request it could not answer."""

    def __init__(self, root: Path) -> None:
        self.errors: list[str] = []
        errors = self.errors

        class Recording(serve.make_handler(root)):
            def send_error(self, code, message=None, explain=None):
                errors.append(f"{code} {self.path}")
                super().send_error(code, message, explain)

        self.httpd = serve.SiteServer(("127.0.0.1", 0), Recording)
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


class Relaunching:
    """The shared Chromium, launched again when it has died (a busy machine can kill it
    mid-run): each new context comes from a browser that is connected."""

    def __init__(self, playwright, egress: EgressRecorder) -> None:
        self._playwright, self._egress = playwright, egress
        self.launches = 0
        self._browser = self._launch()

    def _launch(self):
        self.launches += 1
        return self._playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[*CHROMIUM_ARGS, f"--proxy-server=http://{self._egress.address}"],
        )

    def new_context(self, **options):
        from playwright.sync_api import Error

        if not self._browser.is_connected():
            self._browser = self._launch()
        try:
            return self._browser.new_context(**options)
        except Error:  # it died, and Playwright had not yet heard (its events come with calls)
            self._browser = self._launch()
            return self._browser.new_context(**options)

    def close(self) -> None:
        if self._browser.is_connected():
            self._browser.close()


@pytest.fixture(scope="package")
def browser(egress: EgressRecorder):
    """One Chromium for this package's tests. Package scope, because Playwright's sync API
    leaves its event loop set on the main thread until it is closed, and CPython tests that
    call asyncio.run() come later in the session."""
    from playwright.sync_api import sync_playwright

    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: install Debian's chromium package")
    with sync_playwright() as pw:
        browser = Relaunching(pw, egress)
        yield browser
        browser.close()


def is_local(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme in ("data", "blob", "about", "chrome-extension"):
        return True
    return parts.hostname == "127.0.0.1"


def left_the_machine(requests: list) -> list[str]:
    """The URLs of requests (Playwright's) that went to another host: not those the browser's
    Content-Security-Policy stopped before sending (DevTools still reports them)."""
    def stopped(request) -> bool:
        failure = request.failure or ""
        return failure == "csp" or "ERR_BLOCKED_BY_CSP" in failure

    return [r.url for r in requests if not is_local(r.url) and not stopped(r)]


class Watch:
    """What left the machine since it was made: the recorder's attempts, the page's own
    requests, and connections to the witness on 127.0.0.2."""

    def __init__(self, page, egress: EgressRecorder) -> None:
        self.page, self.egress = page, egress
        self.attempts = len(egress.attempts)
        self.requests = len(page.requests)
        self.witnessed = len(egress.witness.connections)

    def outside(self) -> list[str]:
        attempts = [a for a in self.egress.attempts[self.attempts:] if not ("." + a.host).endswith(CHROMIUM_HOUSEKEEPING)]
        witness = self.egress.witness
        new = witness.connections[self.witnessed:]
        witnessed = [f"{len(new)} connection(s) to the witness {witness.origin}; its last requests: {witness.requests[-3:]}"] if new else []
        return attempts + left_the_machine(self.page.requests[self.requests:]) + witnessed


@contextmanager
def checked_page(browser, site: SiteServer, egress: EgressRecorder, **context_options):
    """A page in a fresh context (fresh profile) whose every request is recorded and checked."""
    context = browser.new_context(viewport={"width": 1280, "height": 860}, **context_options)
    requests: list = []
    context.on("request", lambda request: requests.append(request))
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.requests = requests
    watch, errors_before = Watch(page, egress), len(site.errors)
    yield page
    context.close()
    check_since(watch, site, errors_before)


def check_since(watch: Watch, site: SiteServer, errors_before: int) -> None:
    """Fail if anything left 127.0.0.1, or the site failed to serve a request, since then."""
    assert not watch.outside(), f"requests left 127.0.0.1: {watch.outside()}"
    missing = site.errors[errors_before:]
    assert not missing, f"the site failed to serve: {missing}"


@pytest.fixture
def page(browser, site: SiteServer, egress: EgressRecorder):
    with checked_page(browser, site, egress) as page:
        yield page


@pytest.fixture
def page_without_service_worker(browser, site: SiteServer, egress: EgressRecorder):
    """For tests that rewrite the site's responses: Playwright's routes do not see requests
    a service worker makes, so here none is allowed (and the page is not isolated)."""
    with checked_page(browser, site, egress, service_workers="block") as page:
        yield page


@pytest.fixture(scope="module")
def model() -> Iterator[MockModel]:
    """One scripted model server per test module."""
    with MockModel() as server:
        yield server


@pytest.fixture
def mock(model: MockModel) -> Iterator[MockModel]:
    """The module's model server with an empty script and no recorded requests."""
    model.reset()
    yield model
    model.reset()


@pytest.fixture(scope="module")
def loaded_app(browser, site: SiteServer, egress: EgressRecorder, model: MockModel):
    """One app for the tests of a module that need only a new conversation of their own:
    loading the app in a fresh profile is most of a browser test's time."""
    with checked_page(browser, site, egress) as page:
        open_app(page, site, f"base_url={model.base_url}&model=mock-small")
        shows(page, "Python kernel: ready", LOAD_TIMEOUT_MS)
        yield page


@pytest.fixture
def app(loaded_app, site: SiteServer, egress: EgressRecorder, mock: MockModel):
    """The module's app showing a new conversation (a fresh kernel, no files), with the
    module's model; afterwards, nothing may have left 127.0.0.1 and every request of the
    site must have been served."""
    page = loaded_app
    start_new_conversation(page)
    watch, errors_before = Watch(page, egress), len(site.errors)
    yield page
    check_since(watch, site, errors_before)


def start_new_conversation(page) -> None:
    """As a person would: stop an answer still running, click New conversation, and wait
    for the empty chat and the fresh kernel it comes with."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    stop = page.get_by_role("button", name="Stop")
    if stop.is_visible():
        try:
            stop.click(timeout=5_000)
        except PlaywrightTimeout:
            pass  # the answer ended between the look and the click: the button is gone
        stop.wait_for(state="hidden")
    # The action above the list: an untitled conversation in the list has the same name.
    page.get_by_role("button", name="New conversation").first.click()
    ready = f"({PAGE_HAS_TEXT})({json.dumps('Python kernel: ready')})"
    wait_for(page, f"!{ready}")  # it restarts (seconds: a fresh Pyodide), then is ready
    wait_for(page, ready, LOAD_TIMEOUT_MS)
    messages = page.locator(".chat-message")
    deadline = time.monotonic() + 60
    while messages.count() != 1:
        if time.monotonic() > deadline:
            raise TimeoutError(f"a new conversation still shows {messages.count()} messages")
        page.wait_for_timeout(250)


def wait_for(page, expression: str, timeout: float = 60_000, polling: float = 250) -> None:
    """Wait until a JavaScript expression is truthy in the page (times in ms).

    Not page.wait_for_function: that compiles its predicate with ``new Function`` inside the
    page, which the page's Content-Security-Policy forbids. Evaluating through the DevTools
    protocol is not the page's own code. It survives the one reload of a first visit
    (site/loader.js reloads once the service worker that isolates the page is active)."""
    from playwright.sync_api import Error

    deadline = time.monotonic() + timeout / 1000
    while True:
        try:
            if page.evaluate(f"() => Boolean({expression})"):
                return
        except Error as exc:
            if "Execution context was destroyed" not in str(exc) and "navigat" not in str(exc):
                raise
        if time.monotonic() > deadline:
            raise TimeoutError(f"waited {timeout / 1000:.0f} s for {expression[:200]}")
        page.wait_for_timeout(polling)



def open_app(page, site: SiteServer, query: str = "") -> None:
    """Open the site and wait until the chat accepts input. Unless the query says otherwise,
    with ``snapshots=off``: a fresh profile would make both workers' memory snapshots in the
    background (tens of seconds of CPU), which only tests/browser/test_snapshots.py needs."""
    if "snapshots=" not in query:
        query = "&".join(q for q in (query, "snapshots=off") if q)
    page.goto(site.url + "?" + query)
    wait_for(page, "window.localyst && (window.localyst.ready || window.localyst.error)", LOAD_TIMEOUT_MS)
    error = page.evaluate("window.localyst.error")
    assert error is None, f"the app failed to load: {error}"


# The text of a node including its shadow roots (Panel renders every component in one).
_WALK = """const walk = (node) => {
    let out = "";
    if (node.shadowRoot) out += walk(node.shadowRoot);
    for (const child of node.childNodes) {
      if (child.nodeType === 3) out += child.textContent;
      else if (child.nodeType === 1 && child.tagName !== "STYLE" && child.tagName !== "SCRIPT") out += walk(child);
    }
    return out;
  };"""
_DEEP_TEXT = f"els => els.map(el => {{ {_WALK} return walk(el); }})"
#: A JS function of one string: whether it appears anywhere in the page's text.
PAGE_HAS_TEXT = f"needle => {{ {_WALK} return walk(document.body).includes(needle); }}"


def message_texts(page) -> list[str]:
    """The text of every chat message (author and time included), oldest first."""
    return page.locator(".chat-message").evaluate_all(_DEEP_TEXT)


def message_authors(page) -> list[str]:
    return [name.strip() for name in page.locator(".chat-message .name").evaluate_all(_DEEP_TEXT)]


def send_message(page, text: str) -> None:
    """Type a question and press Enter once the chat takes one, as a person sees it: while
    an answer is still being finished (Stop is shown), Panel's chat keeps the text and
    ignores Enter."""
    page.get_by_role("button", name="Stop").wait_for(state="hidden", timeout=180_000)
    box = page.get_by_placeholder("Ask about your data", exact=False)
    box.fill(text)
    box.press("Enter")


def run_code(code: str, fragment: int = 16) -> Reply:
    """A model reply that calls run_python with ``code`` (its arguments streamed in fragments)."""
    return tool_call("run_python", json.dumps({"code": code}), fragment=fragment)


def shows(page, needle: str, timeout: float = 60_000) -> None:
    """Wait until ``needle`` is in the page's text (shadow roots included)."""
    wait_for(page, f"({PAGE_HAS_TEXT})({json.dumps(needle)})", timeout)


def answer(page, mock: MockModel, question: str, *replies: Reply, marker: str, timeout: float = 180.0) -> str:
    """Script the model's replies, ask, and return the text of the answer once ``marker`` shows."""
    mock.script(*replies)
    send_message(page, question)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        texts = message_texts(page)
        if texts and marker in texts[-1]:
            return texts[-1]
        time.sleep(0.25)
    raise AssertionError(f"no {marker!r} in the last message: {message_texts(page)[-1:]}")
