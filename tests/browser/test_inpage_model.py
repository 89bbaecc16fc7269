"""The model inside the page, in Chromium: the person picks a GGUF file, it is kept in this
browser (OPFS) and loaded by llama.cpp in WebAssembly in its own worker, and the whole loop
runs on it, with nothing leaving the tab (the fixtures fail the test on any request that
leaves 127.0.0.1).

The weights are tests/_tiny_gguf.py's: a tiny model whose one path through its weights
answers every question with a scripted reply, so that what the loop does with it is known.
"""

from __future__ import annotations

import os
import threading
import time
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator

import pytest

from tests._tiny_gguf import write_shape_only_gguf, write_tiny_gguf
from tests.browser.conftest import _WALK, LOAD_TIMEOUT_MS, message_texts, open_app, send_message, shows, wait_for

pytestmark = pytest.mark.browser

IN_PAGE = "base_url=http://in-page.invalid/v1"
CODE = ["Let me compute it.\n", "```python\nprint(6 * 7)\n```"]


def choose_model(page, path) -> None:
    """As a person does: the button, then the file in the browser's file chooser."""
    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="Choose a .gguf file…").click()
    chooser.value.set_files(str(path))


def test_a_picked_gguf_runs_the_loop_in_the_page_and_is_kept_for_the_next_visit(page, site, tmp_path) -> None:
    coder = write_tiny_gguf(tmp_path / "tiny-coder.gguf", CODE)
    open_app(page, site, IN_PAGE)
    shows(page, "Nothing leaves this tab")
    shows(page, "No model is kept in this browser yet")

    choose_model(page, coder)
    shows(page, "tiny-coder.gguf", 120_000)
    shows(page, "is loaded and kept in this browser", 120_000)

    # This model answers every request with the same code: two steps show the whole loop.
    page.get_by_text("Interpreter settings").click()
    set_number(page, "Steps per turn", 2)
    send_message(page, "What is six times seven?")
    stop = page.get_by_role("button", name="Stop")
    stop.wait_for(state="visible", timeout=60_000)
    stop.wait_for(state="hidden", timeout=180_000)
    turn = message_texts(page)[-1]
    assert turn.count("Let me compute it.") == 2, turn  # the model's reply, streamed into the chat
    assert "Stopped after 2 model requests" in turn, turn
    assert "could not answer" not in turn
    # Its code ran in the kernel (a ```python block's cell starts folded: unfold the first).
    cell = page.locator(".ly-code").first
    cell.get_by_text("Python").first.click()
    deadline = time.monotonic() + 30
    while "42" not in deep_text(cell) and time.monotonic() < deadline:
        page.wait_for_timeout(250)
    assert "42" in deep_text(cell), deep_text(cell)

    # The next visit loads the model from this browser's storage, with no picking.
    page.reload()
    wait_for(page, "window.localyst && window.localyst.ready", LOAD_TIMEOUT_MS)
    shows(page, "tiny-coder.gguf", 120_000)
    shows(page, "is loaded and kept in this browser", 120_000)

    # Something that is not a GGUF file is refused, saying so, and the kept model stays.
    garbage = tmp_path / "notes.gguf"
    garbage.write_text("not a model at all\n" * 100)
    choose_model(page, garbage)
    shows(page, 'notes.gguf is not a GGUF model file (it does not start with "GGUF")', 60_000)
    shows(page, "tiny-coder.gguf (", 30_000)  # "… is still kept and used."
    shows(page, "is still kept and used")

    # A model whose cache would not fit beside its weights is refused before llama.cpp loads
    # it, from the shape its file's head declares (80 layers of 64 key/value heads).
    big = write_shape_only_gguf(tmp_path / "wide-80-layers.gguf", layers=80, embedding=8192, heads=64, heads_kv=64, vocab=32000)
    choose_model(page, big)
    shows(page, "wide-80-layers.gguf will not fit in this tab", 60_000)
    shows(page, "GB to remember the conversation")


@contextmanager
def serving(folder: Path) -> Iterator[str]:
    """A plain file server on 127.0.0.1 that lets any page read its files (CORS)."""

    class Handler(SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, directory=str(folder), **kwargs)

        def end_headers(self) -> None:
            self.send_header("Access-Control-Allow-Origin", "*")
            super().end_headers()

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def test_a_downloaded_model_talks_until_stop_and_then_answers_again(page, site, tmp_path) -> None:
    talker = write_tiny_gguf(tmp_path / "tiny-talker.gguf", [" data"], loop=True)  # talks until stopped
    open_app(page, site, IN_PAGE)
    with serving(tmp_path) as files:
        address = page.get_by_placeholder("https://…/model.gguf")
        address.fill(files + talker.name)
        address.press("Enter")
        page.get_by_role("button", name="Download").click()
        shows(page, "tiny-talker.gguf", 120_000)
        shows(page, "is loaded and kept in this browser", 120_000)
    for question in ("Talk.", "Talk again."):
        before = len(message_texts(page))
        send_message(page, question)
        last_message_shows(page, "data data data data", after=before + 1)  # a worker still busy with the last would not stream this
        page.get_by_role("button", name="Stop").click()
        page.get_by_role("button", name="Stop").wait_for(state="hidden", timeout=60_000)
        last_message_shows(page, "Stopped", after=before + 1)


def set_number(page, label: str, value: int) -> None:
    field = page.locator(".bk-input-group", has_text=label).locator("input")
    field.fill(str(value))
    field.press("Enter")


def deep_text(locator) -> str:
    """The text of an element, its shadow roots included."""
    return locator.evaluate(f"el => {{ {_WALK} return walk(el); }}")


def last_message_shows(page, needle: str, *, after: int, timeout: float = 120.0) -> None:
    """Wait until there are more than ``after`` messages and the last one holds ``needle``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        texts = message_texts(page)
        if len(texts) > after and needle in texts[-1]:
            return
        page.wait_for_timeout(250)
    raise AssertionError(f"no {needle!r} in a new last message: {message_texts(page)[-1:]}")


@pytest.mark.real_model
@pytest.mark.skipif(os.environ.get("LOCALYST_REAL_MODEL_LOOP") != "1", reason="minutes long: LOCALYST_REAL_MODEL_LOOP=1 runs it")
def test_a_real_small_model_in_the_page_analyses_a_file(page, site, tmp_path) -> None:
    """Qwen2.5-Coder 0.5B (tests/_models.py) in the page: no account, no server, a file analysed."""
    from tests._models import fetch

    model = fetch("qwen-0.5b")
    data = tmp_path / "sales.csv"
    data.write_text("month,sales\nJan,120\nFeb,135\nMar,90\n")
    open_app(page, site, IN_PAGE)
    page.locator("#model-picker").set_input_files(str(model))
    shows(page, "is loaded and kept in this browser", 600_000)
    page.locator("#file-picker").set_input_files(str(data))
    page.get_by_text("sales.csv").first.wait_for(timeout=60_000)
    send_message(page, "Use Python to read sales.csv with pandas and print the sum of the sales column.")
    stop = page.get_by_role("button", name="Stop")
    stop.wait_for(state="visible", timeout=60_000)
    stop.wait_for(state="hidden", timeout=900_000)  # a 0.5B model in WebAssembly on 2 cores: minutes
    turn = message_texts(page)[-1]
    assert "345" in turn, turn
