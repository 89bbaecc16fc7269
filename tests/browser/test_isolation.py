"""Cross-origin isolation on a host that sets no headers: site/sw.js adds COOP/COEP.

build.py's server sends neither header, like GitHub Pages, so isolation here can only
come from the service worker (and the one reload a first visit makes to come under it).
"""

from __future__ import annotations

import pytest

from tests.browser.conftest import wait_for

pytestmark = pytest.mark.browser

ISOLATED = "self.crossOriginIsolated === true && window.localyst && window.localyst.isolated === true"


def test_the_service_worker_isolates_the_page_after_one_reload(page, site) -> None:
    navigations: list[str] = []
    page.on("framenavigated", lambda frame: frame == page.main_frame and navigations.append(frame.url))
    page.goto(site.url)
    wait_for(page, ISOLATED, 60_000)
    assert len(navigations) == 2  # the first visit, and the reload under the service worker
    state = page.evaluate("""async () => {
      const response = await fetch("icon.svg");
      return {
        sab: typeof SharedArrayBuffer,
        controlled: navigator.serviceWorker.controller !== null,
        script: navigator.serviceWorker.controller && navigator.serviceWorker.controller.scriptURL,
        coop: response.headers.get("cross-origin-opener-policy"),
        coep: response.headers.get("cross-origin-embedder-policy"),
      };
    }""")
    assert state == {
        "sab": "function",
        "controlled": True,
        "script": site.url + "sw.js",
        "coop": "same-origin",
        "coep": "credentialless",
    }


def test_a_controlled_page_does_not_reload_again(page, site) -> None:
    page.goto(site.url)
    wait_for(page, ISOLATED, 60_000)
    navigations: list[str] = []
    page.on("framenavigated", lambda frame: frame == page.main_frame and navigations.append(frame.url))
    page.reload()
    wait_for(page, ISOLATED)
    page.wait_for_timeout(1000)
    assert navigations == [site.url]
