"""The adversarial suite can fail: with a hole opened on purpose (code allowed on the
internet, the person's own switch), the network cases of test_lockdown.py reach the egress
recorder, and the check each case makes catches them. A module of its own, so that these
expected requests fall outside the lockdown module's page and its final check."""

from __future__ import annotations

import pytest

from tests.browser.conftest import LOAD_TIMEOUT_MS, open_app, shows
from tests.browser.test_lockdown import KERNEL_CASES, case, tick

pytestmark = pytest.mark.browser


def test_opening_a_hole_on_purpose_makes_the_suite_fail(browser, site, egress, model) -> None:
    """With code allowed on the internet (the person's switch), the same cases reach the
    recorder, and the check each case makes catches them."""
    context = browser.new_context()
    page = context.new_page()
    page.requests = []
    context.on("request", lambda request: page.requests.append(request))
    model.reset()
    try:
        open_app(page, site, f"base_url={model.base_url}&model=mock-small")
        shows(page, "Python kernel: ready", LOAD_TIMEOUT_MS)
        tick(page, "Let code use the internet")
        shows(page, "Code the model writes can now send anything")
        shows(page, "Python kernel: ready · code may use the internet", LOAD_TIMEOUT_MS)
        missed = []
        for name in ("js.fetch", "pyfetch", "XMLHttpRequest", "WebSocket", "EventSource"):
            try:
                with case(page, egress, model, name, KERNEL_CASES[name]):
                    pass
            except AssertionError as exc:
                assert "requests left 127.0.0.1" in str(exc)
            else:
                missed.append(name)
        assert not missed, f"with the hole open, these cases still passed: {missed}"
    finally:
        context.close()
