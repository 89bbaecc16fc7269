"""The browser tests' own harness: a Chromium that dies mid-run is launched again, so the
tests after it run (on a busy machine the shared browser has died and taken 56 tests with it)."""

from __future__ import annotations

import pytest

from tests.browser.conftest import checked_page

pytestmark = pytest.mark.browser


def test_a_browser_that_died_is_launched_again(browser, site, egress) -> None:
    with checked_page(browser, site, egress) as page:
        page.set_content("<p>alive</p>")
    launches = browser.launches
    browser._browser.close()  # as a crash leaves it: no longer connected
    with checked_page(browser, site, egress) as page:
        page.set_content("<p>alive again</p>")
        assert page.locator("p").inner_text() == "alive again"
    assert browser.launches == launches + 1


def test_a_browser_that_crashed_is_launched_again(browser, site, egress) -> None:
    """Killed from outside, as a loaded machine does: Playwright may not know yet."""
    import os
    import signal
    from pathlib import Path

    with checked_page(browser, site, egress) as page:
        page.set_content("<p>alive</p>")
    marker = f"--proxy-server=http://{egress.address}".encode()
    killed = 0
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and marker in (proc / "cmdline").read_bytes():
                os.kill(int(proc.name), signal.SIGKILL)
                killed += 1
        except (OSError, ProcessLookupError):
            continue
    assert killed, "no Chromium process of this session was found"
    launches = browser.launches
    with checked_page(browser, site, egress) as page:
        page.set_content("<p>alive again</p>")
        assert page.locator("p").inner_text() == "alive again"
    assert browser.launches == launches + 1
