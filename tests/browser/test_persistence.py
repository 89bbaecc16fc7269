"""Nothing lost, in Chromium: a reload mid-answer keeps what arrived and marks it; a closed
tab's conversations, files and settings come back; conversations keep their own files and
variables; a full disk says so and keeps what was stored before."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import (
    LOAD_TIMEOUT_MS,
    answer,
    checked_page,
    message_texts,
    open_app,
    run_code,
    send_message,
    shows,
    wait_for,
)
from tools.mock_model import slow, text

pytestmark = pytest.mark.browser

INTERRUPTED = "This answer was cut off"


def ready(page) -> None:
    """Wait for the app and its kernel after a (re)load of an already isolated page."""
    wait_for(page, "window.localyst && (window.localyst.ready || window.localyst.error)", LOAD_TIMEOUT_MS)
    assert page.evaluate("window.localyst.error") is None
    shows(page, "Python kernel: ready", LOAD_TIMEOUT_MS)


# The values of every input on the page, shadow roots included.
INPUT_VALUES = """() => {
  const found = [];
  const walk = (root) => {
    for (const el of root.querySelectorAll("*")) {
      if (el.tagName === "INPUT") found.push(el.value);
      if (el.shadowRoot) walk(el.shadowRoot);
    }
  };
  walk(document);
  return found;
}"""


def conversation_button(page, title: str):
    return page.locator(".bk-btn", has_text=title)


def test_a_reload_mid_answer_keeps_what_arrived_and_marks_it(page, site, mock):
    open_app(page, site, f"base_url={mock.base_url}&model=mock-small")
    ready(page)
    mock.script(slow("First words arrive. " * 4 + "The rest never does.", delay_per_chunk=0.6, chunks=12))
    send_message(page, "Tell me a long story")
    shows(page, "First words arrive.")
    time.sleep(1.5)  # the answer is kept at most a second behind
    page.reload()
    ready(page)
    shows(page, INTERRUPTED)
    texts = message_texts(page)
    assert any("Tell me a long story" in t for t in texts)
    assert any("First words arrive." in t and INTERRUPTED in t for t in texts)
    assert not any("The rest never does." in t for t in texts)


def test_a_closed_tab_comes_back_with_its_conversation_files_and_settings(page, site, mock, tmp_path):
    open_app(page, site, f"base_url={mock.base_url}&model=mock-small")
    ready(page)
    (tmp_path / "kept.csv").write_text("n\n5\n6\n")
    page.locator("#file-picker").set_input_files(str(tmp_path / "kept.csv"))
    shows(page, "kept.csv")
    limit = page.get_by_placeholder("seconds")
    limit.fill("77")
    limit.press("Enter")
    answer(page, mock, "Sum the file", run_code("import pandas as pd\nprint('sum', pd.read_csv('kept.csv').n.sum())"),
           text("It is 11."), marker="It is 11.")
    time.sleep(1.0)

    context = page.context
    page.close()
    again = context.new_page()
    again.goto(site.url)  # no link parameters: the settings come from the last visit
    ready(again)
    shows(again, "It is 11.")
    assert any("sum 11" in t for t in message_texts(again))
    expect(again.locator(".ly-file", has_text="kept.csv")).to_have_count(1, timeout=60_000)
    assert again.get_by_placeholder("seconds").input_value() == "77"
    assert mock.base_url in again.evaluate(INPUT_VALUES)  # the base URL came back

    turn = answer(again, mock, "Is the file still there?", run_code("print(open('kept.csv').read().split())"),
                  text("Still there."), marker="Still there.")
    assert "['n', '5', '6']" in turn
    told = mock.chat_requests()[-1].body["messages"]
    assert "restarted" in [m for m in told if m["role"] == "user"][-1]["content"], "the model was not told the variables are gone"
    again.close()


def test_two_conversations_keep_their_own_files_and_variables(page, site, mock, tmp_path):
    open_app(page, site, f"base_url={mock.base_url}&model=mock-small")
    ready(page)
    (tmp_path / "first.csv").write_text("a\n1\n")
    (tmp_path / "second.csv").write_text("b\n2\n")
    page.locator("#file-picker").set_input_files(str(tmp_path / "first.csv"))
    shows(page, "first.csv")
    answer(page, mock, "Alpha question", run_code("x = 41\nprint('set', x)"), text("Alpha done."), marker="Alpha done.")

    page.get_by_role("button", name="New conversation").click()
    expect(page.locator(".ly-file", has_text="first.csv")).to_have_count(0, timeout=60_000)
    shows(page, "Python kernel: ready", LOAD_TIMEOUT_MS)
    page.locator("#file-picker").set_input_files(str(tmp_path / "second.csv"))
    shows(page, "second.csv")
    turn = answer(page, mock, "Beta question", run_code("import os\nprint(sorted(os.listdir('.')), 'x' in globals())"),
                  text("Beta done."), marker="Beta done.")
    assert "['outputs', 'second.csv'] False" in turn

    conversation_button(page, "Alpha question").click()
    shows(page, "Alpha done.")
    expect(page.locator(".ly-file", has_text="first.csv")).to_have_count(1, timeout=60_000)
    expect(page.locator(".ly-file", has_text="second.csv")).to_have_count(0)
    shows(page, "Python kernel: ready", LOAD_TIMEOUT_MS)
    page.get_by_role("button", name="Run the conversation's code again").click()
    shows(page, "Ran 1 cells again")
    turn = answer(page, mock, "Is x back?", run_code("print('x is', x + 1)"), text("Back."), marker="Back.")
    assert "x is 42" in turn

    page.locator(".bk-input[placeholder='Search conversations']").fill("Beta")
    expect(conversation_button(page, "Alpha question")).to_have_count(0)
    expect(conversation_button(page, "Beta question")).to_have_count(1)


# The browser's storage refuses every file over 1 MB, as a full disk does (QuotaExceededError).
FILL_THE_DISK = """() => {
  const put = IDBObjectStore.prototype.put;
  IDBObjectStore.prototype.put = function (value, ...rest) {
    if (value && value.blob && value.blob.size > 1e6) throw new DOMException("The disk is full.", "QuotaExceededError");
    return put.call(this, value, ...rest);
  };
}"""


def test_a_full_disk_is_reported_and_what_was_kept_stays(page, site, mock, tmp_path):
    open_app(page, site, f"base_url={mock.base_url}&model=mock-small")
    ready(page)
    answer(page, mock, "Remember this question", text("Remembered."), marker="Remembered.")
    (tmp_path / "small.csv").write_text("s\n1\n")
    page.locator("#file-picker").set_input_files(str(tmp_path / "small.csv"))
    shows(page, "small.csv")
    [app_worker] = [w for w in page.workers if w.url.endswith("app-worker.js")]
    app_worker.evaluate(FILL_THE_DISK)
    (tmp_path / "big.csv").write_text("v\n" + "1234567890\n" * 200_000)
    page.locator("#file-picker").set_input_files(str(tmp_path / "big.csv"))
    shows(page, "The browser's storage is full: big.csv could not be kept")
    time.sleep(1.5)
    page.reload()
    ready(page)
    shows(page, "Remembered.")
    expect(page.locator(".ly-file", has_text="small.csv")).to_have_count(1, timeout=60_000)
    expect(page.locator(".ly-file", has_text="big.csv")).to_have_count(0)


def test_a_backup_restores_everything_into_a_fresh_profile(browser, site, egress, mock, tmp_path):
    (tmp_path / "carried.csv").write_text("k\n7\n")
    with checked_page(browser, site, egress) as first:
        open_app(first, site, f"base_url={mock.base_url}&model=mock-small")
        ready(first)
        first.locator("#file-picker").set_input_files(str(tmp_path / "carried.csv"))
        shows(first, "carried.csv")
        answer(first, mock, "Carry this over", text("Carried."), marker="Carried.")
        with first.expect_download() as download:
            first.get_by_role("button", name="Back up everything").click()
        backup = tmp_path / download.value.suggested_filename
        download.value.save_as(backup)
    assert backup.name.startswith("localyst-backup-") and backup.suffix == ".zip"

    with checked_page(browser, site, egress) as second:
        open_app(second, site)
        ready(second)
        second.locator("#backup-picker").set_input_files(str(backup))
        shows(second, "Restored 1 conversation")
        shows(second, "Carried.")
        expect(second.locator(".ly-file", has_text="carried.csv")).to_have_count(1, timeout=60_000)
        assert mock.base_url not in second.evaluate(INPUT_VALUES)  # a backup's settings wait for a yes
        second.get_by_role("button", name="Use the backup's settings").click()
        expect(second.get_by_placeholder("https://…/v1")).to_have_value(mock.base_url)


def test_two_tabs_each_keep_their_own_conversation(page, site, mock):
    open_app(page, site, f"base_url={mock.base_url}&model=mock-small")
    ready(page)
    answer(page, mock, "From the first tab", text("First tab answered."), marker="First tab answered.")
    second = page.context.new_page()
    second.goto(site.url)
    ready(second)
    assert not any("First tab answered." in t for t in message_texts(second)), "two tabs share one conversation"
    answer(second, mock, "From the second tab", text("Second tab answered."), marker="Second tab answered.")
    time.sleep(1.5)  # the second tab's last save lands (a second behind at most)
    answer(page, mock, "First tab again", text("First again."), marker="First again.")
    time.sleep(1.5)
    conversation_button(second, "From the first tab").click()
    shows(second, "That conversation is open in another tab")

    second.close()
    page.reload()
    ready(page)
    shows(page, "First again.")
    assert any("First tab answered." in t for t in message_texts(page))
    conversation_button(page, "From the second tab").click()
    shows(page, "Second tab answered.")


def test_files_code_wrote_outlive_a_restart_and_stay_kept(page, site, mock):
    """The restart notice says the files are kept: a file code wrote is mounted again in
    the fresh kernel, and the sync after it does not delete it from storage."""
    open_app(page, site, f"base_url={mock.base_url}&model=mock-small")
    ready(page)
    answer(page, mock, "write it", run_code("open('outputs/kept.csv', 'w').write('k\\n7\\n')"), text("Written."), marker="Written.")
    expect(page.locator(".ly-file", has_text="outputs/kept.csv")).to_have_count(1, timeout=60_000)
    page.get_by_role("button", name="Restart kernel").click()
    turn = answer(page, mock, "read it", run_code("print('read', open('outputs/kept.csv').read().split())"), text("Read."), marker="Read.")
    assert "read ['k', '7']" in turn
    asked = [m for m in mock.chat_requests()[-2].body["messages"] if m["role"] == "user"][-1]["content"]
    assert asked.startswith("[The Python kernel was restarted")  # the read ran in the fresh kernel
    page.reload()
    ready(page)
    expect(page.locator(".ly-file", has_text="outputs/kept.csv")).to_have_count(1, timeout=60_000)
