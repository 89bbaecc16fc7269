"""The loading screen: it names each stage, moves forward, and says what failed."""

from __future__ import annotations

import time

import pytest

from tests.browser.conftest import LOAD_TIMEOUT_MS, wait_for

pytestmark = pytest.mark.browser


def test_loading_screen_names_each_stage_then_the_chat_is_ready(page, site):
    """Watched on the load that counts: a first visit reloads once (for isolation) before
    any worker starts, and the stages and progress of that first copy are not kept."""
    from playwright.sync_api import Error

    page.goto(site.url)
    stages: list[str] = []
    progress: list[float] = []
    origin = None
    deadline = time.monotonic() + LOAD_TIMEOUT_MS / 1000
    while time.monotonic() < deadline:
        try:
            state = page.evaluate("({...(window.localyst || {stage: 'starting', progress: 0}), origin: performance.timeOrigin})")
        except Error:  # the isolation reload happened while asking
            continue
        if state["origin"] != origin:
            origin, stages, progress = state["origin"], [], []
        assert state.get("error") is None, state["error"]
        if not stages or stages[-1] != state["stage"]:
            stages.append(state["stage"])
        progress.append(state["progress"])
        if state.get("ready"):
            break
        time.sleep(0.05)
    assert stages[-1] == "ready"
    for expected in ("Loading the Python runtime", "Loading packages", "Starting the app"):
        assert expected in stages, f"stage {expected!r} never shown: {stages}"
    assert progress == sorted(progress), "the progress bar went backwards"
    assert progress[-1] == 100
    box = page.get_by_placeholder("Ask about your data", exact=False)
    assert box.is_editable()


def test_a_missing_package_file_is_named_not_a_spinner_forever(page_without_service_worker, site):
    page = page_without_service_worker
    page.route("**/pyodide/panel-*.whl", lambda route: route.fulfill(status=404, body="gone"))
    page.goto(site.url)
    wait_for(page, "window.localyst && window.localyst.error", LOAD_TIMEOUT_MS)
    error = page.evaluate("window.localyst.error")
    assert "Loading packages failed" in error
    assert "panel" in error
    alert = page.get_by_text("Localyst could not start")
    assert alert.is_visible()
    assert page.get_by_text("panel", exact=False).first.is_visible()
