"""The interpreter in Chromium: the model's code runs in the kernel worker, every kind of
result comes back into the turn, a runaway cell is stopped, and the model hears about it."""

from __future__ import annotations

import json
import time

import pytest

from tests.browser.conftest import message_texts, open_app, run_code, send_message
from tools.mock_model import slow, text, tool_call

pytestmark = pytest.mark.browser

CHART_AND_TABLE = """\
import pandas as pd, matplotlib.pyplot as plt
df = pd.DataFrame({"month": ["Jan", "Feb", "Mar"], "sales": [120, 135, 90]})
print("total", df.sales.sum())
df.plot(x="month", y="sales", kind="bar")
df
"""


def wait_for(page, predicate, timeout: float = 60.0, what: str = "the condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}; messages: {message_texts(page)}")


def test_code_runs_and_chart_table_and_answer_come_back(app, mock):
    mock.script(run_code(CHART_AND_TABLE), slow("Sales fell in **March**, to 90.", chunks=4, delay_per_chunk=0.2))
    send_message(app, "What drove sales down?")

    wait_for(app, lambda: any("Sales fell in March" in m for m in message_texts(app)), what="the final answer")
    turn = message_texts(app)[-1]
    assert "total 345" in turn
    assert "ran in" in turn
    assert app.locator(".tabulator").count() >= 1, "no interactive table"
    assert app.locator(".tabulator-cell", has_text="Mar").count() >= 1
    images = app.locator(".chat-message img")
    assert images.count() >= 1, "no chart"
    assert images.first.evaluate("img => img.naturalWidth") > 100

    second = mock.chat_requests()[1].body["messages"]
    tool_results = [m for m in second if m["role"] == "tool"]
    assert tool_results and "total 345" in tool_results[0]["content"]
    assert "base64" not in tool_results[0]["content"] and "iVBOR" not in tool_results[0]["content"]
    first = mock.chat_requests()[0].body
    assert any(tool["function"]["name"] == "run_python" for tool in first["tools"])
    # What was sent is visible in the app, request by request.
    assert "Sent to the model (2 requests)" in turn


def test_a_call_a_small_model_wrote_as_text_runs_and_is_shown_as_such(app, mock):
    call = {"name": "run_python", "arguments": {"code": "import pandas as pd\nprint('rows', len(pd.DataFrame({'a': range(17)})))"}}
    mock.script(text("I will count them.\n```json\n" + json.dumps(call) + "\n```"), text("There are **17** rows."))
    send_message(app, "How many rows?")

    wait_for(app, lambda: any("There are 17 rows" in m for m in message_texts(app)), what="the final answer")
    turn = message_texts(app)[-1]
    assert "rows 17" in turn  # the cell ran in the kernel and its output is in the turn
    assert "wrote its run_python call as text" in turn
    second = mock.chat_requests()[1].body["messages"]
    assert second[-1] == {"role": "user", "content": "Output of the code above:\n\nrows 17"}
    assert mock.chat_requests()[0].body["temperature"] == 0.2


def test_stop_interrupts_a_runaway_cell_and_the_namespace_survives(app, mock):
    mock.script(
        run_code("kept = 41\nprint('set')"),
        text("Set it."),
        run_code("while True:\n    pass"),
    )
    assert app.evaluate("window.localyst.isolated") is True
    send_message(app, "set a variable")
    wait_for(app, lambda: "Set it." in message_texts(app)[-1], what="the first answer")

    send_message(app, "loop forever")
    wait_for(app, lambda: "running…" in message_texts(app)[-1], what="the loop to start")
    time.sleep(1.0)
    started = time.monotonic()
    app.get_by_role("button", name="Stop").click()
    wait_for(app, lambda: "KeyboardInterrupt" in message_texts(app)[-1] or "Stopped" in message_texts(app)[-1], timeout=10, what="the stop")
    assert time.monotonic() - started < 5

    mock.script(run_code("print(kept + 1)"), text("It is 42."))
    send_message(app, "is the variable still there?")
    wait_for(app, lambda: "It is 42." in message_texts(app)[-1], what="the answer after the stop")
    assert "42" in message_texts(app)[-1]
    assert "KernelRestarted" not in message_texts(app)[-1]


def test_a_cell_past_its_time_limit_ends_in_a_restart_the_model_is_told(page, site, mock, tmp_path):
    open_app(page, site, f"base_url={mock.base_url}&model=mock-small")
    kept = tmp_path / "keep.txt"
    kept.write_text("still here")
    page.locator("#file-picker").set_input_files(str(kept))
    page.get_by_text("keep.txt", exact=False).first.wait_for()
    limit = page.get_by_placeholder("seconds")
    limit.fill("2")
    limit.press("Enter")
    mock.script(
        run_code("before = 1\nimport time\ntime.sleep(600)"),
        text("That took too long."),
    )
    send_message(page, "sleep for ten minutes")
    wait_for(page, lambda: "That took too long." in message_texts(page)[-1], timeout=150, what="the turn to end")
    turn = message_texts(page)[-1]
    assert "KernelRestarted" in turn and "variables are lost" in turn
    told = [m for m in mock.chat_requests()[-1].body["messages"] if m["role"] == "tool"]
    assert "restarted" in told[-1]["content"]

    mock.script(
        run_code("try:\n    print(before)\nexcept NameError:\n    print('gone')\nprint(open('keep.txt').read())"),
        text("Checked."),
    )
    send_message(page, "is `before` still set?")
    wait_for(page, lambda: "Checked." in message_texts(page)[-1], timeout=120, what="the check")
    assert "gone" in message_texts(page)[-1]
    assert "still here" in message_texts(page)[-1], message_texts(page)[-1][:1200]


def test_a_stack_overflow_and_the_restart_button_recover(page, site, mock):
    """Whether the overflow kills the interpreter or only hangs it, the page recovers."""
    open_app(page, site, f"base_url={mock.base_url}&model=mock-small")
    limit = page.get_by_placeholder("seconds")
    limit.fill("15")
    limit.press("Enter")
    mock.script(
        run_code("import sys\nsys.setrecursionlimit(10**7)\ndef deep(n):\n    return deep(n + 1)\ndeep(0)"),
        text("That overflowed."),
        run_code("print('alive', 6 * 7)"),
        text("Back."),
    )
    send_message(page, "recurse forever")
    wait_for(page, lambda: "That overflowed." in message_texts(page)[-1], timeout=90, what="the overflow turn")
    send_message(page, "still there?")
    wait_for(page, lambda: "Back." in message_texts(page)[-1], timeout=90, what="the turn after")
    assert "alive 42" in message_texts(page)[-1]

    mock.script(run_code("x = 1"), text("Set."), run_code("print('x' in dir())"), text("Looked."))
    send_message(page, "set x")
    wait_for(page, lambda: "Set." in message_texts(page)[-1], what="x set")
    page.get_by_role("button", name="Restart kernel").click()
    page.get_by_text("Python kernel: ready", exact=False).wait_for(timeout=60_000)
    send_message(page, "is x there?")
    wait_for(page, lambda: "Looked." in message_texts(page)[-1], what="the look")
    assert "False" in message_texts(page)[-1]
    told = mock.chat_requests()[-2].body["messages"]
    assert "restarted" in [m for m in told if m["role"] == "user"][-1]["content"]


def test_memory_error_is_reported_and_the_kernel_goes_on(app, mock):
    mock.script(
        run_code("alive = 'yes'\nhog = bytearray(16 * 1024**3)"),
        text("Out of memory."),
        run_code("print('still', alive)"),
        text("Recovered."),
    )
    send_message(app, "allocate 16 GB")
    wait_for(app, lambda: "Out of memory." in message_texts(app)[-1], what="the first turn")
    assert "MemoryError" in message_texts(app)[-1] or "OverflowError" in message_texts(app)[-1]
    send_message(app, "are you alive?")
    wait_for(app, lambda: "Recovered." in message_texts(app)[-1], what="the second turn")
    assert "still yes" in message_texts(app)[-1]


def test_a_file_written_to_outputs_is_downloadable_from_the_turn(app, mock):
    mock.script(
        run_code("import pandas as pd\npd.DataFrame({'a': [1, 2, 3]}).to_csv('outputs/result.csv', index=False)"),
        text("Saved."),
    )
    send_message(app, "save a csv")
    wait_for(app, lambda: "Download result.csv" in message_texts(app)[-1], what="the download button")
    with app.expect_download() as download:
        app.get_by_text("Download result.csv", exact=False).click()
    assert download.value.suggested_filename == "result.csv"
    with open(download.value.path(), "rb") as saved:
        assert saved.read().decode().split() == ["a", "1", "2", "3"]


RICH = """\
class Shout:
    def _repr_html_(self):
        return "<b class='shout'>LOUD</b><script>parent.document.title = 'pwned'</script>"

class Note:
    def _repr_markdown_(self):
        return "**noted** in markdown"

from bokeh.plotting import figure
plot = figure(width=300, height=200, title="live bokeh")
plot.line([1, 2, 3], [1, 4, 9])
import scipy.stats
display(Shout(), Note(), plot)
print("mean", scipy.stats.tmean([1, 2, 3]))
"""


def test_every_kind_of_display_and_packages_on_first_use(app, mock):
    mock.script(run_code(RICH), text("Shown."), run_code("import torch"), text("No torch."))
    send_message(app, "show me everything")
    wait_for(app, lambda: "Shown." in message_texts(app)[-1], timeout=90, what="the rich turn")
    turn = message_texts(app)[-1]
    assert "noted in markdown" in turn
    assert "mean 2.0" in turn, "scipy was not loaded on first use"
    frame = app.frame_locator("iframe[sandbox]").first
    assert frame.locator("b.shout").inner_text() == "LOUD"
    assert app.title() != "pwned", "HTML from code ran a script in the app"
    app.locator(".bk-Canvas, .bk-Figure canvas, canvas").first.wait_for(timeout=15_000)

    send_message(app, "use torch")
    wait_for(app, lambda: "No torch." in message_texts(app)[-1], what="the torch turn")
    turn = message_texts(app)[-1]
    assert "torch" in turn and "numpy" in turn, "the missing package message does not say what is available"


def test_a_question_about_an_added_csv_with_a_correction(app, mock, tmp_path):
    """The full loop: a file is added, the model's first attempt fails, the second reads the
    file, prints a number and draws a chart, and the answer streams in. The model was given
    a preview of the file, never its whole content."""
    rows = ["month,region,sales"] + [f"{m},r{i % 7},{100 + i}" for i, m in enumerate(["Jan", "Feb", "Mar"] * 300)]
    csv = tmp_path / "sales.csv"
    csv.write_text("\n".join(rows) + "\n")
    expected = sum(100 + i for i, m in enumerate(["Jan", "Feb", "Mar"] * 300) if m == "Mar")

    app.locator("#file-picker").set_input_files(str(csv))
    app.get_by_text("sales.csv", exact=False).first.wait_for()
    mock.script(
        run_code("import pandas as pd\ndf = pd.read_csv('sales.csv')\nprint(df['revenue'].sum())"),
        run_code(
            "import pandas as pd\ndf = pd.read_csv('sales.csv')\nmarch = df[df.month == 'Mar'].sales.sum()\n"
            "print('march total', march)\ndf.groupby('month').sales.sum().plot(kind='bar')"
        ),
        slow("March sales totalled the printed number.", chunks=3, delay_per_chunk=0.2),
    )
    send_message(app, "What were March sales?")
    wait_for(app, lambda: "March sales totalled" in message_texts(app)[-1], timeout=90, what="the answer")
    turn = message_texts(app)[-1]
    assert "KeyError" in turn, "the failed first attempt is not shown"
    assert f"march total {expected}" in turn
    assert app.locator(".chat-message img").count() >= 1

    requests = mock.chat_requests()
    system = requests[0].body["messages"][0]["content"]
    assert "sales.csv" in system and "month" in system and "region" in system
    assert rows[500] not in system, "the whole file was sent to the model"
    second = requests[1].body["messages"]
    assert "KeyError" in [m for m in second if m["role"] == "tool"][-1]["content"]
    third = requests[2].body["messages"]
    assert f"march total {expected}" in [m for m in third if m["role"] == "tool"][-1]["content"]
    assert "Sent to the model (3 requests)" in turn


def test_edit_and_run_again_and_the_model_hears_of_it(app, site, mock):
    mock.script(run_code("print(6 * 7)"), text("Forty-two."))
    send_message(app, "multiply")
    wait_for(app, lambda: "Forty-two." in message_texts(app)[-1], what="the answer")
    app.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site.url.rstrip("/"))
    app.get_by_role("button", name="Copy", exact=False).last.click()
    wait_for(app, lambda: app.evaluate("navigator.clipboard.readText()") == "print(6 * 7)", timeout=10, what="the copy")
    app.get_by_role("button", name="Edit and run").click()
    editor = app.locator(".chat-message textarea").last
    editor.fill("print(6 * 8)")
    editor.press("Tab")
    app.get_by_role("button", name="Run").last.click()
    wait_for(app, lambda: "48" in message_texts(app)[-1], what="the edited run")

    mock.script(text("Noted the edit."))
    send_message(app, "what did I change?")
    wait_for(app, lambda: "Noted the edit." in message_texts(app)[-1], what="the next answer")
    sent = mock.chat_requests()[-1].body["messages"]
    assert any("print(6 * 8)" in str(m.get("content")) and "48" in str(m.get("content")) for m in sent if m["role"] == "user")


def set_number(page, label: str, value: int) -> None:
    field = page.locator(".bk-input-group", has_text=label).locator("input")
    field.fill(str(value))
    field.press("Enter")


def test_each_budget_limit_ends_a_turn_with_a_message_saying_which(page, site, mock):
    open_app(page, site, f"base_url={mock.base_url}&model=mock-small")
    page.get_by_text("Interpreter settings").click()

    set_number(page, "Steps per turn", 2)
    mock.script(run_code("print('one')"), run_code("print('two')"), run_code("print('three')"))
    send_message(page, "keep going")
    wait_for(page, lambda: "Stopped after 2 model requests" in message_texts(page)[-1], what="the step limit")
    assert "two" in message_texts(page)[-1] and "three" not in message_texts(page)[-1]
    assert len(mock.chat_requests()) == 2

    set_number(page, "Steps per turn", 8)
    set_number(page, "Failed runs in a row", 2)
    mock.reset()
    mock.script(run_code("1/0"), run_code("1/0"), run_code("print('never')"))
    send_message(page, "divide")
    wait_for(page, lambda: "Stopped after 2 failed attempts" in message_texts(page)[-1], what="the failure limit")
    turn = message_texts(page)[-1]
    assert "ZeroDivisionError" in turn and "The same error came back twice" in turn and "never" not in turn

    set_number(page, "Failed runs in a row", 3)
    set_number(page, "Tokens per turn", 1000)
    mock.reset()
    mock.script(
        tool_call("run_python", json.dumps({"code": "print('spent')"}), usage=(900, 300)),
        run_code("print('not reached')"),
    )
    send_message(page, "spend")
    wait_for(page, lambda: "tokens in this turn (the limit is 1,000)" in message_texts(page)[-1], what="the token limit")
    assert "not reached" not in message_texts(page)[-1]
    assert len(mock.chat_requests()) == 1
