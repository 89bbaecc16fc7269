"""The chat in Chromium: load the built site, configure the mock endpoint, stream, stop, faults."""

from __future__ import annotations

import time

import pytest

from tests.browser.conftest import message_authors, message_texts, open_app, send_message
from tools.mock_model import MockModel, cut, fault, slow, text

pytestmark = pytest.mark.browser

WORDS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"]


def wait_for_message(page, needle: str, timeout: float = 90.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for message in message_texts(page):
            if needle in message:
                return message
        time.sleep(0.1)
    raise AssertionError(f"no message containing {needle!r}; messages: {message_texts(page)}")


def test_answer_streams_in_as_markdown(app, mock):
    """The answer grows over several renders, and the request carries the conversation."""
    mock.script(slow(" ".join(WORDS) + " **done**", delay_per_chunk=0.4, chunks=len(WORDS)))
    send_message(app, "Spell the alphabet")

    seen: list[int] = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        last = message_texts(app)[-1]
        seen.append(sum(word in last for word in WORDS))
        if "done" in last:
            break
        time.sleep(0.1)
    partial_states = {count for count in seen if 0 < count < len(WORDS)}
    assert len(partial_states) >= 2, f"the answer did not grow in steps: {seen}"
    assert message_authors(app)[-1] == "Assistant"
    # Markdown: the closing ** may still be in flight when "done" first shows.
    app.locator(".chat-message strong", has_text="done").wait_for(timeout=10_000)

    body = mock.chat_requests()[-1].body
    assert body["model"] == "mock-small"
    assert body["stream"] is True
    assert body["messages"][-1] == {"role": "user", "content": "Spell the alphabet"}
    assert all(m["content"] != "" for m in body["messages"])


def test_stop_aborts_the_stream(app, mock):
    mock.script(slow(" ".join(WORDS), delay_per_chunk=0.6, chunks=len(WORDS)))
    send_message(app, "Take your time")
    wait_for_message(app, WORDS[1])
    app.get_by_role("button", name="Stop").click()
    time.sleep(len(WORDS) * 0.6 + 1)
    last = message_texts(app)[-1]
    assert WORDS[0] in last
    assert WORDS[-1] not in last, "the stream went on after Stop"
    assert mock.abandoned, "the server wrote the whole stream: Stop did not end the request"
    # The chat still works after a stop.
    mock.script(text("still here"))
    send_message(app, "Are you there?")
    wait_for_message(app, "still here")


FAULTS = [
    (fault(401, times=None), "An API key is needed"),
    (fault(404, times=None), "Model not found"),
    (fault(429, headers={"Retry-After": "0"}, times=None), "Rate limited"),
    (fault(500, times=None), "The model server had an error"),
]


def test_each_fault_shows_its_message(app, mock):
    """Every failure is a message a person can act on, and the chat keeps working."""
    for number, (reply, title) in enumerate(FAULTS):
        mock.reset()
        mock.script(reply)
        send_message(app, f"trigger fault {number}")
        notice = wait_for_message(app, title)
        assert "Traceback" not in notice
        assert message_authors(app)[-1] == "Localyst"

    mock.reset()
    mock.script(cut("The first half of the answer", chunks=3, delay=0.3))
    send_message(app, "cut me off")
    kept = wait_for_message(app, "The answer was cut off")
    assert "The first half" in kept, "what arrived before the cut was not kept"
    app.get_by_role("button", name="Retry").last.click()
    answer = wait_for_message(app, "You said: cut me off")
    assert "cut me off" in mock.chat_requests()[-1].body["messages"][-1]["content"]
    assert mock.chat_requests()[-1].body["messages"][-1]["role"] == "user", "the cut answer was sent back"
    assert "The first half" not in answer

    mock.reset()
    send_message(app, "back to normal")
    wait_for_message(app, "You said: back to normal")


def test_wrong_key_and_unreachable_and_cors(page, site):
    """Errors that depend on the endpoint itself: a refused key, nobody listening, CORS."""
    with MockModel(api_key="sk-right") as keyed, MockModel(cors=False) as closed_door:
        open_app(page, site, f"base_url={keyed.base_url}&model=mock-small")
        page.get_by_placeholder("not needed for local servers").fill("sk-wrong-key-123")
        send_message(page, "hello")
        notice = wait_for_message(page, "Wrong API key")
        assert "sk-wrong-key-123" not in notice
        auth = keyed.chat_requests()[-1].headers.get("authorization")
        assert auth == "Bearer sk-wrong-key-123"

        set_base_url(page, closed_door.base_url)
        send_message(page, "hello again")
        notice = wait_for_message(page, "refused this page (CORS)")
        assert "OLLAMA_ORIGINS" in notice or "origin" in notice.lower()

        dead = MockModel()
        dead_url = dead.start()
        dead.stop()
        set_base_url(page, dead_url)
        send_message(page, "anyone?")
        wait_for_message(page, "Cannot reach the endpoint")


def test_query_sets_endpoint_and_model_but_never_a_key(page, site, mock):
    open_app(page, site, f"base_url={mock.base_url}&model=mock-large&api_key=sk-from-link")
    assert page.get_by_placeholder("https://…/v1").input_value() == mock.base_url
    send_message(page, "which model?")
    wait_for_message(page, "You said")
    request = mock.chat_requests()[-1]
    assert request.body["model"] == "mock-large"
    assert "authorization" not in request.headers
    assert page.get_by_text("it was ignored", exact=False).count() == 1


def test_test_connection_lists_models(page, site, mock):
    open_app(page, site, f"base_url={mock.base_url}")
    page.get_by_role("button", name="Test connection").click()
    page.get_by_text("Connected", exact=False).wait_for()
    assert page.get_by_placeholder("type a model name", exact=False).input_value() == "mock-small"


def set_base_url(page, url: str) -> None:
    box = page.get_by_placeholder("https://…/v1")
    box.fill(url)
    box.press("Enter")
