"""The loading screen: it names each stage, moves forward, and says what failed."""

from __future__ import annotations

import json
import time

import pytest

from tests.browser.conftest import LOAD_TIMEOUT_MS, PAGE_HAS_TEXT, message_texts, wait_for
from tools.mock_model import text

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
    page.route("**/pyodide/bundle.gz*", lambda route: route.fulfill(status=404, body="gone"))
    page.goto(site.url)
    wait_for(page, "window.localyst && window.localyst.error", LOAD_TIMEOUT_MS)
    error = page.evaluate("window.localyst.error")
    assert "Loading packages failed" in error
    assert "pyodide/bundle.gz" in error and "404" in error
    alert = page.get_by_text("Localyst could not start")
    assert alert.is_visible()
    assert page.get_by_text("bundle.gz", exact=False).first.is_visible()


STARTING = "window.localyst && window.localyst.isolated !== undefined && !window.localyst.ready"


def test_a_question_and_a_file_given_while_python_starts_are_taken_once_it_is_up(page, site, mock, tmp_path):
    """The first screen takes input at once: the file is added, then the question is asked."""
    mock.script(text("Here is what early.csv holds."))
    page.goto(site.url + f"?base_url={mock.base_url}&model=mock-small")
    wait_for(page, STARTING, polling=50)
    box = page.get_by_label("Your first question")
    box.fill("What is in early.csv?")
    box.press("Enter")
    (tmp_path / "early.csv").write_text("city,people\nOslo,709000\nBergen,291000\n")
    page.locator("#file-picker").set_input_files(str(tmp_path / "early.csv"))
    assert page.locator("#early-note").inner_text() == "Asked as soon as Python is ready. 1 file to add then."
    assert not page.evaluate("window.localyst.ready"), "the app was up before the early input was given"

    wait_for(page, f"({PAGE_HAS_TEXT})('Here is what early.csv holds.')", LOAD_TIMEOUT_MS)
    (request,) = mock.chat_requests()
    assert request.body["messages"][-1]["role"] == "user"
    assert "What is in early.csv?" in str(request.body["messages"][-1]["content"])
    assert "early.csv" in json.dumps(request.body["messages"][:-1]), "the model was not told of the file"
    texts = message_texts(page)
    assert any("What is in early.csv?" in t for t in texts)
    assert page.evaluate(f"({PAGE_HAS_TEXT})('early.csv')")


def test_an_unsent_draft_outlives_a_reload_and_lands_in_the_chat_box(page, site):
    page.goto(site.url)
    wait_for(page, STARTING, polling=50)
    page.get_by_label("Your first question").fill("half a thought")
    page.reload()
    wait_for(page, "document.getElementById('early-text')")
    assert page.get_by_label("Your first question").input_value() == "half a thought"
    wait_for(page, "window.localyst && window.localyst.ready", LOAD_TIMEOUT_MS)
    chat_box = page.get_by_placeholder("Ask about your data", exact=False)
    deadline = time.monotonic() + 20
    while chat_box.input_value() != "half a thought" and time.monotonic() < deadline:
        time.sleep(0.1)
    assert chat_box.input_value() == "half a thought"
