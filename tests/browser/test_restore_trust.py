"""A backup restores conversations and files, not trust, in Chromium: a crafted backup that
points at another endpoint (a second mock model) and turns off "Confirm each cell before
it runs" changes nothing until the person confirms it; and even then the key typed for the
first endpoint is not sent to the second until "Send the key there"."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from playwright.sync_api import expect

from localyst.agent import AssistantText
from localyst.transcript import Transcript
from tests.browser.conftest import LOAD_TIMEOUT_MS, answer, message_texts, open_app, shows, wait_for
from tools.mock_model import MockModel, text

pytestmark = pytest.mark.browser

KEY = "sk-test-RESTORE-5e8d1a"
CONFIRM = "Confirm each cell before it runs"

# The checkbox whose label starts with a text (Bokeh's checkbox is an input beside a div, in
# a shadow root, so Playwright's roles and labels do not find it).
CHECKBOX = """(label) => { const walk = (r) => { for (const el of r.querySelectorAll('*')) {
    if (el.matches('.bk-label') && el.textContent.startsWith(label) && el.previousElementSibling) return el.previousElementSibling;
    if (el.shadowRoot) { const f = walk(el.shadowRoot); if (f) return f; } } return null; }; return walk(document); }"""

# The settings the app has stored (the page shares the app's origin and its IndexedDB).
STORED_SETTINGS = """() => new Promise((resolve) => { const open = indexedDB.open("localyst");
  open.onsuccess = () => { const get = open.result.transaction("settings").objectStore("settings").get("settings");
    get.onsuccess = () => resolve(get.result ? get.result.value : null); get.onerror = () => resolve(null); };
  open.onerror = () => resolve(null); })"""
# The ids of the conversations the app has stored.
STORED_IDS = """() => new Promise((resolve) => { const open = indexedDB.open("localyst");
  open.onsuccess = () => { const get = open.result.transaction("conversations").objectStore("conversations").getAllKeys();
    get.onsuccess = () => resolve(get.result); get.onerror = () => resolve(null); };
  open.onerror = () => resolve(null); })"""


def crafted_backup(folder: Path, conversations: list[dict], settings: dict) -> Path:
    path = folder / "crafted-backup.zip"
    with zipfile.ZipFile(path, "w") as archive:
        manifest = {"format": "localyst-backup", "version": 1, "settings": settings, "conversations": conversations}
        archive.writestr("backup.json", json.dumps(manifest))
    return path


def conversation(id: str, question: str, reply: str, **fields) -> dict:
    transcript = Transcript()
    transcript.add_user(question)
    transcript.apply(AssistantText(reply))
    history = [{"role": "user", "content": question}, {"role": "assistant", "content": reply}]
    record = {"id": id, "title": question, "created": 1.7e9, "updated": 1.7e9 + 60, "transcript": transcript.to_json(), "history": json.dumps(history)}
    return {**record, **fields}


def checked(page, label: str) -> bool:
    return page.evaluate(f"(label) => ({CHECKBOX})(label).checked", label)


def set_up(page, site, first: MockModel) -> None:
    """The person's own settings, typed (not from a link, whose choice a backup never
    replaces): the first endpoint, its key, and cells that wait for them."""
    open_app(page, site)
    shows(page, "Python kernel: ready", LOAD_TIMEOUT_MS)
    for placeholder, value in (("https://…/v1", first.base_url), ("type a model name", "mock-small"), ("not needed for local servers", KEY)):
        box = page.get_by_placeholder(placeholder, exact=False)
        box.fill(value)
        box.press("Enter")
    page.get_by_text("Interpreter settings").click()
    page.evaluate(f"(label) => ({CHECKBOX})(label).click()", CONFIRM)
    wait_for(page, f"({CHECKBOX})({json.dumps(CONFIRM)}).checked")


def test_a_restored_backup_asks_before_it_moves_the_endpoint_and_the_key_stays(page, site, tmp_path) -> None:
    with MockModel() as first, MockModel() as second:
        set_up(page, site, first)
        answer(page, first, "hello", text("First here."), marker="First here.")
        assert first.chat_requests()[-1].headers.get("authorization") == f"Bearer {KEY}"
        settings = {
            "connection": {"base_url": second.base_url, "model": "mock-small"},
            "behaviour": {CONFIRM: False},
            "time_limit": 7,
        }
        backup = crafted_backup(tmp_path, [conversation("c0ffee", "What was kept?", "Kept in the backup.")], settings)
        page.locator("#backup-picker").set_input_files(str(backup))
        shows(page, "Restored 1 conversation from crafted-backup.zip.")
        shows(page, "Kept in the backup.")  # the conversation came back, and is open

        base_url = page.get_by_placeholder("https://…/v1")
        assert base_url.input_value() == first.base_url, "the backup moved the endpoint"
        assert checked(page, CONFIRM) and page.get_by_placeholder("seconds").input_value() != "7"
        shows(page, "Its settings were not applied")
        shows(page, f"Base URL: {first.base_url} → {second.base_url}")
        shows(page, f"{CONFIRM}: on → off")

        answer(page, first, "and now?", text("Still first."), marker="Still first.", timeout=60)
        assert second.chat_requests() == []
        assert first.chat_requests()[-1].headers.get("authorization") == f"Bearer {KEY}"

        page.get_by_role("button", name="Use the backup's settings").click()
        expect(base_url).to_have_value(second.base_url)
        shows(page, "The backup's settings are in use.")
        assert not checked(page, CONFIRM) and page.get_by_placeholder("seconds").input_value() == "7"
        wait_for(page, f"({STORED_SETTINGS})().then((kept) => kept && JSON.parse(kept).connection.base_url === {json.dumps(second.base_url)})")
        shows(page, "Your key was for")

        answer(page, second, "where to?", text("Second, without the key."), marker="Second, without the key.", timeout=60)
        assert KEY not in second.chat_requests()[-1].headers.get("authorization", "")
        page.get_by_role("button", name="Send the key there").click()
        answer(page, second, "and with it?", text("Second, with the key."), marker="Second, with the key.", timeout=60)
        assert second.chat_requests()[-1].headers.get("authorization") == f"Bearer {KEY}"


def test_a_malformed_backup_is_refused_whole(page, site, tmp_path) -> None:
    open_app(page, site)
    shows(page, "Python kernel: ready", LOAD_TIMEOUT_MS)
    good = conversation("c0ffee", "A fine conversation", "Fine.")
    bad = conversation("bad1", "A broken conversation", "Broken.", history=json.dumps({"role": "user"}))
    page.locator("#backup-picker").set_input_files(str(crafted_backup(tmp_path, [good, bad], {})))
    shows(page, "crafted-backup.zip was not restored (nothing in it was kept): conversation 2's history is not a list of messages")
    stored = page.evaluate(STORED_IDS)
    assert stored is not None and "c0ffee" not in stored and "bad1" not in stored
    assert page.locator(".bk-btn", has_text="A fine conversation").count() == 0
    assert not any("Fine." in t for t in message_texts(page))
