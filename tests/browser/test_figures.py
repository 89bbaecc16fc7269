"""An answer's figures in Chromium: one the code computed names its cell on hover and shows
it on a click; one no code computed is marked, and the model was asked about it once."""

from __future__ import annotations

import os

import pytest

from localyst.agent._loop import UNCOMPUTED_NOTICE
from localyst.ui._figures import UNCOMPUTED
from tests.browser.conftest import LOAD_TIMEOUT_MS, answer, run_code, wait_for
from tools.mock_model import text

pytestmark = pytest.mark.browser

SCREENSHOT = os.environ.get("LOCALYST_FIGURES_SCREENSHOT", "")

# The deepest-first search of site/loader.js, for the test to look into the shadow roots.
DEEP = """(selector) => {
  const deep = (root) => {
    const found = root.querySelector(selector);
    if (found) return found;
    for (const element of root.querySelectorAll("*")) {
      const inner = element.shadowRoot && deep(element.shadowRoot);
      if (inner) return inner;
    }
    return null;
  };
  return deep(document);
}"""


#: Whether the conversation's stored parts hold a text yet (the app saves after each turn).
STORED = """(needle) => new Promise((resolve) => {
  const opened = indexedDB.open("localyst");
  opened.onerror = () => resolve(false);
  opened.onsuccess = () => {
    const all = opened.result.transaction("parts").objectStore("parts").getAll();
    all.onsuccess = () => { resolve(JSON.stringify(all.result).includes(needle)); opened.result.close(); };
    all.onerror = () => resolve(false);
  };
})"""


def stored(page, needle: str, timeout: float = 60.0) -> None:
    for _ in range(int(timeout * 4)):
        if page.evaluate(STORED, needle):
            return
        page.wait_for_timeout(250)
    raise AssertionError(f"{needle!r} was never stored")


def test_a_computed_figure_shows_its_cell_and_an_invented_one_is_marked(app, mock):
    turn = answer(
        app,
        mock,
        "What is the total?",
        run_code("total = 12000 + 345\nprint('total', total)"),
        text("The total is **12,345**, up 12.5% on last year."),
        text("I did not compute the 12.5%: it is an estimate."),
        marker="it is an estimate",
    )
    assert "total 12345" in turn  # the cell ran in the kernel
    assert UNCOMPUTED_NOTICE.format(figures="12.5%") in turn

    # The model was asked once, about the invented figure only, and then answered.
    requests = mock.chat_requests()
    assert len(requests) == 3
    asked = requests[2].body["messages"][-1]
    assert asked["role"] == "user" and "12.5%" in asked["content"] and "12,345" not in asked["content"]

    computed = app.locator("button.ly-figure", has_text="12,345")
    computed.first.wait_for(timeout=60_000)  # marked once the turn ended
    assert computed.count() == 1
    assert computed.get_attribute("title") == "From the output of a cell: … print('total', total) → 12345. Click to show the cell."
    invented = app.locator("mark.ly-uncomputed")
    assert invented.count() == 2  # in the first answer and in the one that owned up to it
    assert all(invented.nth(i).get_attribute("title") == UNCOMPUTED for i in range(2))
    assert invented.first.inner_text().startswith("12.5%")
    assert app.locator("mark.ly-uncomputed", has_text="12,345").count() == 0

    # Hovering points at the cell (the title); clicking brings the cell's card into view, outlined.
    computed.hover()
    if SCREENSHOT:
        app.locator(".chat-message").last.screenshot(path=SCREENSHOT)
    key = computed.get_attribute("data-cell")
    computed.click()
    shown = f"({DEEP})('[data-ly-shown=\"{key}\"]')"
    wait_for(app, shown)
    assert app.evaluate(f"() => {shown}.classList.contains('ly-code')")
    anchor = f"({DEEP})('[data-ly-cell=\"{key}\"]')"
    wait_for(app, f"(() => {{ const r = {anchor}.getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight; }})()")
    assert "ran in" in app.evaluate(f"() => {anchor}.textContent")

    # The marks are not stored: the conversation, opened again from its record, is marked anew.
    stored(app, "it is an estimate")
    assert not app.evaluate(STORED, "ly-figure") and not app.evaluate(STORED, "ly-uncomputed")
    app.reload()
    wait_for(app, "window.localyst && window.localyst.ready", LOAD_TIMEOUT_MS)
    app.locator("button.ly-figure", has_text="12,345").first.wait_for(timeout=LOAD_TIMEOUT_MS)
    assert app.locator("mark.ly-uncomputed").count() == 2
