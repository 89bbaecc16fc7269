"""The Panel app's own logic, in CPython: what goes to the model, what the link may set."""

from __future__ import annotations

import pytest

pn = pytest.importorskip("panel")

from localyst.ui.app import ASSISTANT, NOTICE, USER, LocalystApp  # noqa: E402
from localyst.ui._settings import CUSTOM, preset_for  # noqa: E402


def test_history_leaves_out_notices_and_cut_answers():
    app = LocalystApp()
    app.chat.send("What is 2+2?", user=USER, respond=False)
    app.chat.send("**No model chosen.**", user=NOTICE, respond=False)
    app.chat.send("It is 4.", user=ASSISTANT, respond=False)
    app.chat.send("And 3+3?", user=USER, respond=False)
    app.chat.send("It is 6 and", user=ASSISTANT, respond=False)
    app._mark_not_history(app.chat)
    assert app.history() == [
        {"role": "user", "content": "What is 2+2?"},
        {"role": "assistant", "content": "It is 4."},
        {"role": "user", "content": "And 3+3?"},
    ]


def test_link_presets_endpoint_and_model_but_not_the_key():
    app = LocalystApp("?base_url=http%3A%2F%2F127.0.0.1%3A9%2Fv1&model=m1&api_key=sk-secret")
    endpoint = app.settings.endpoint()
    assert endpoint.base_url == "http://127.0.0.1:9/v1"
    assert endpoint.model == "m1"
    assert endpoint.api_key == ""
    assert "ignored" in app.settings.status.object
    assert app.settings.preset.value == CUSTOM


def test_preset_is_recognised_from_its_base_url():
    assert preset_for("http://localhost:11434/v1/") == "Ollama"
    assert preset_for("https://api.openai.com/v1") == "OpenAI"
    assert preset_for("https://example.test/v1") == CUSTOM


def test_choosing_a_preset_fills_the_base_url():
    app = LocalystApp()
    app.settings.preset.value = "Groq"
    assert app.settings.base_url.value == "https://api.groq.com/openai/v1"


def test_a_request_without_a_model_says_what_is_missing():
    app = LocalystApp("?base_url=http%3A%2F%2F127.0.0.1%3A9%2Fv1")
    problem = app.settings.missing(app.settings.endpoint())
    assert "No model chosen" in problem
