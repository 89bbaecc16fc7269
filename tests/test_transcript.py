"""localyst.transcript in CPython: a conversation recorded from the real agent loop (the mock
model over HTTP, the real kernel), then exported and the exports checked by running them."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import nbformat
import pytest

from localyst.agent import Agent, AssistantText, CodeFinished, CodeStarted, Environment, KernelOutput, Limits, Notice, UsageReport
from localyst.kernel import BOKEH_MIME, TABLE_MIME, Kernel
from localyst.kernel.client._remote import lost_result
from localyst.protocol import PLOTLY_MIME
from localyst.llm import Endpoint
from localyst.transcript import Transcript, notebook_json, outcome, to_html_report, to_notebook, to_script, turns
from tests.test_agent import ThreadKernel
from tools.mock_model import Call, MockModel, text, tool_call, tool_calls

XSS = "<img src=x onerror=alert(1)>"
XSS_ESCAPED = "&lt;img src=x onerror=alert(1)&gt;"
HTML_OUTPUT = "<b>note</b><script>alert(1)</script>"
AMOUNTS = {"north": [120, 80, 45], "south": [200, 15], "east": [99, 1, 40]}
TOTAL = sum(sum(v) for v in AMOUNTS.values())
MEAN = TOTAL / sum(len(v) for v in AMOUNTS.values())
LARGEST = max(max(v) for v in AMOUNTS.values())

LOOK = 'import pandas as pd\n\nsales = pd.read_csv("sales.csv")\nsales'
TYPO = "print(totl)"
PLOT = textwrap.dedent(
    """\
    import matplotlib.pyplot as plt

    total = sales["amount"].sum()
    print(f"total = {total}")
    by_region = sales.groupby("region")["amount"].sum()
    by_region.to_csv("outputs/by_region.csv")
    by_region.plot.bar()
    plt.show()"""
)
FENCED = f'mean = sales["amount"].mean()\nprint(f"mean = {{mean:.2f}}")\nprint("{XSS}")\n'
FENCED_REPLY = f"I will compute it.\n\n```python\n{FENCED}```\n\nThen I will report it."
EDITED = textwrap.dedent(
    f"""\
    largest = sales["amount"].max()
    print(f"largest = {{largest}}")

    class Note:
        def _repr_html_(self):
            return "{HTML_OUTPUT}"

    Note()"""
)


@dataclass
class Conversation:
    transcript: Transcript
    data: Path  # the folder the kernel ran in
    events: list[list[Any]]  # each turn's events


def write_sales(folder: Path) -> None:
    rows = [f"{region},{amount}" for region, amounts in AMOUNTS.items() for amount in amounts]
    (folder / "sales.csv").write_text("region,amount\n" + "\n".join(rows) + "\n")


def run_turn(transcript: Transcript, agent: Agent, history: list[dict[str, Any]], question: str) -> list[Any]:
    """One turn as the app runs it: the question recorded, every event applied as it comes."""
    transcript.add_user(question)
    history.append({"role": "user", "content": question})
    events: list[Any] = []

    def on_event(event: Any) -> None:
        events.append(event)
        transcript.apply(event)

    asyncio.run(agent.run_turn(history, Environment(), on_event))
    return events


@pytest.fixture(scope="module")
def conversation(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Conversation]:
    """Two turns (tool calls, then fenced code) and an edited run, on a CSV in a fresh folder."""
    data = tmp_path_factory.mktemp("data")
    write_sales(data)
    transcript = Transcript()
    history: list[dict[str, Any]] = []
    with pytest.MonkeyPatch.context() as patch, MockModel() as mock:
        patch.chdir(data)
        patch.setattr(sys, "path", list(sys.path))
        patch.setenv("MPLBACKEND", "agg")
        kernel = ThreadKernel(Kernel(data))
        endpoint = Endpoint(mock.base_url, model="mock-small")
        mock.script(
            tool_call("run_python", json.dumps({"code": LOOK}), id="call_look", content="Let me look at the file first."),
            tool_call("run_python", json.dumps({"code": TYPO}), id="call_typo"),
            tool_call("run_python", json.dumps({"code": PLOT}), id="call_plot"),
            text(f"The total is **{TOTAL}** {XSS}.\n\n| region | rows |\n|---|---|\n| north | 3 |"),
        )
        first = run_turn(transcript, Agent(endpoint, kernel), history, "What is the total amount in sales.csv? Plot it by region.")
        mock.script(text(FENCED_REPLY, chunks=4), text(f"The mean is {MEAN:.2f}."))
        second = run_turn(transcript, Agent(endpoint, kernel, mode="fenced"), history, "And the mean per order?")
        transcript.add_edited_run(EDITED, kernel.kernel.run(EDITED).as_dict())
        yield Conversation(transcript, data, [first, second])


def code_entries(transcript: Transcript) -> list[dict[str, Any]]:
    return [e for e in transcript.entries if e["kind"] == "code"]


def stdout_of(outputs: list[dict[str, Any]]) -> str:
    return "".join(o["text"] for o in outputs if o["kind"] == "stream" and o["name"] == "stdout")


def fresh_folder(tmp_path: Path) -> Path:
    """Only the person's file, nothing the first run left behind."""
    folder = tmp_path / "rerun"
    folder.mkdir()
    write_sales(folder)
    return folder


def python(args: list[str], cwd: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MPLBACKEND": "agg"}
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, input=stdin, capture_output=True, text=True, timeout=120)


# ---------------------------------------------------------------- the record


def test_the_record_follows_the_conversation(conversation: Conversation) -> None:
    entries = conversation.transcript.entries
    assert [e["kind"] for e in entries] == [
        "user", "assistant", "code", "code", "code", "assistant",
        "user", "assistant", "code", "assistant",
        "code",
    ]
    assert entries[1]["text"] == "Let me look at the file first."
    look, typo, plot, fenced, edited = code_entries(conversation.transcript)
    assert [c["id"] for c in (look, typo, plot)] == ["cell-1-0", "cell-2-0", "cell-3-0"]  # the loop's ids, not the model's
    assert [c["code"] for c in (look, typo, plot, fenced, edited)] == [LOOK, TYPO, PLOT, FENCED, EDITED]
    assert [c["source"] for c in (look, typo, plot, fenced, edited)] == ["tool", "tool", "tool", "fenced", "edited"]
    assert [outcome(c) for c in (look, typo, plot, fenced, edited)] == ["ok", "failed", "ok", "ok", "ok"]
    assert entries[7]["text"] == FENCED_REPLY  # the fenced code stays in the reply text too
    assert entries[5]["text"].startswith(f"The total is **{TOTAL}**")

    assert look["outputs"][0]["kind"] == "result" and TABLE_MIME in look["outputs"][0]["data"]
    assert typo["error"]["ename"] == "NameError" and "totl" in typo["error"]["traceback"]
    assert stdout_of(plot["outputs"]) == f"total = {TOTAL}\n"
    assert [o["kind"] for o in plot["outputs"]] == ["stream", "display"] and "image/png" in plot["outputs"][1]["data"]
    assert plot["files"] == [{"path": "outputs/by_region.csv", "size": (conversation.data / "outputs/by_region.csv").stat().st_size, "mime": "text/csv"}]
    assert stdout_of(fenced["outputs"]) == f"mean = {MEAN:.2f}\n{XSS}\n"
    assert stdout_of(edited["outputs"]) == f"largest = {LARGEST}\n"
    assert edited["outputs"][-1]["data"]["text/html"] == HTML_OUTPUT
    counts = [c["execution_count"] for c in (look, typo, plot, fenced, edited)]
    assert counts == sorted(counts) and len(set(counts)) == 5
    assert all(c["duration"] > 0 and c["state"] == "finished" for c in (look, typo, plot, fenced, edited))


def test_each_turn_adds_up_its_tokens_and_says_how_it_ended(conversation: Conversation) -> None:
    users = [e for e in conversation.transcript.entries if e["kind"] == "user"]
    for user, events in zip(users, conversation.events):
        reports = [e for e in events if isinstance(e, UsageReport)]
        assert len(reports) >= 2
        assert user["usage"] == {
            "prompt": sum(r.prompt for r in reports),
            "completion": sum(r.completion for r in reports),
            "total": sum(r.total for r in reports),
            "estimated": False,
        }
        assert user["ended"] == "answered"
    assert not [e for e in conversation.transcript.entries if e["kind"] == "notice"]  # answers are no notices


def test_streamed_outputs_are_joined_as_the_kernel_joins_them(conversation: Conversation) -> None:
    """Applying only the streamed outputs (no result outputs) gives what the kernel recorded."""
    first = conversation.events[0]
    streamed = Transcript()
    for event in first:
        if isinstance(event, CodeFinished):
            event = CodeFinished(event.cell_id, {**event.result, "outputs": []})
        streamed.apply(event)
    assert streamed.entries == conversation.transcript.entries[1:6]


def test_a_cell_whose_kernel_was_lost_keeps_what_it_streamed() -> None:
    transcript = Transcript()
    transcript.add_user("Run it")
    transcript.apply(CodeStarted("c", "while True: print('tick')"))
    transcript.apply(KernelOutput("c", {"kind": "stream", "name": "stdout", "text": "tick\n"}))
    transcript.apply(KernelOutput("c", {"kind": "stream", "name": "stdout", "text": "tick\n"}))
    transcript.apply(CodeFinished("c", lost_result("The cell ran past the time limit.")))
    (entry,) = code_entries(transcript)
    assert entry["outputs"] == [{"kind": "stream", "name": "stdout", "text": "tick\ntick\n"}]
    assert entry["execution_count"] is None and outcome(entry) == "stopped"
    nbformat.validate(nbformat.reads(notebook_json(transcript, "Lost"), as_version=4))
    assert "# while True: print('tick')" in to_script(transcript)


def test_json_round_trip(conversation: Conversation) -> None:
    transcript = conversation.transcript
    stored = transcript.to_json()
    assert json.loads(stored)["version"] == 1
    again = Transcript.from_json(stored)
    assert again == transcript and again.to_json() == stored
    assert notebook_json(again, "T") == notebook_json(transcript, "T")
    assert to_html_report(again, title="T") == to_html_report(transcript, title="T")
    assert to_script(again) == to_script(transcript)
    with pytest.raises(ValueError, match="version 2"):
        Transcript.from_json(json.dumps({"version": 2, "entries": []}))


# ---------------------------------------------------------------- the notebook


def test_the_notebook_is_valid_nbformat(conversation: Conversation) -> None:
    text_ = notebook_json(conversation.transcript, "Sales")
    notebook = nbformat.reads(text_, as_version=4)
    nbformat.validate(notebook)
    assert (notebook.nbformat, notebook.nbformat_minor) == (4, 5)
    assert notebook.metadata.kernelspec.name == "python3" and notebook.metadata.language_info.name == "python"
    ids = [cell.id for cell in notebook.cells]
    assert len(set(ids)) == len(ids)
    first = notebook.cells[0]
    assert first.cell_type == "markdown" and first.source.startswith("# Sales") and "folder that holds the notebook" in first.source
    assert to_notebook(conversation.transcript, title="Sales") == json.loads(text_)


def test_the_notebook_holds_the_conversation_and_its_outputs(conversation: Conversation) -> None:
    notebook = nbformat.reads(notebook_json(conversation.transcript, "Sales"), as_version=4)
    look, typo, plot, fenced, edited = code_entries(conversation.transcript)
    code = {cell.source: cell for cell in notebook.cells if cell.cell_type == "code"}
    markdown = [cell.source for cell in notebook.cells if cell.cell_type == "markdown"]
    setup, *ran = code
    assert 'os.makedirs("outputs", exist_ok=True)' in setup and ran == [LOOK, TYPO, PLOT, FENCED, EDITED]

    assert "> What is the total amount in sales.csv? Plot it by region." in markdown[1]
    assert f"The total is **{TOTAL}**" in markdown[3]
    # the fenced code is a code cell, not also a block of the reply around it
    assert "I will compute it." in markdown[5] and "Then I will report it." in markdown[6] and not any("sales[" in m for m in markdown)
    assert "edited this code" in markdown[-1]

    (result,) = code[LOOK].outputs
    assert result.output_type == "execute_result" and result.execution_count == code[LOOK].execution_count == look["execution_count"]
    assert set(result.data) == {"text/plain", "text/html"} and "<table" in result.data["text/html"] and "region" in result.data["text/html"]

    assert code[TYPO].metadata.tags == ["raises-exception"] and not any("tags" in c.metadata for s, c in code.items() if s != TYPO)
    (error,) = code[TYPO].outputs
    assert error.output_type == "error" and error.ename == "NameError" and isinstance(error.traceback, list) and len(error.traceback) > 1

    stream, figure = code[PLOT].outputs
    assert stream.output_type == "stream" and stream.name == "stdout" and stream.text == f"total = {TOTAL}\n"
    assert figure.output_type == "display_data" and figure.data["image/png"] == plot["outputs"][1]["data"]["image/png"]
    assert code[EDITED].outputs[-1].data["text/html"] == HTML_OUTPUT


def run_in_jupyter(notebook: Any, folder: Path) -> Any:
    """Execute a notebook with a real Jupyter kernel (ipykernel, through nbclient) in
    ``folder``; cells tagged raises-exception may raise, any other error fails."""
    from nbclient import NotebookClient

    ran = nbformat.from_dict(json.loads(json.dumps(notebook)))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MPLBACKEND", "agg")
        NotebookClient(ran, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(folder)}}).execute()
    return ran


def test_the_notebook_runs_again_in_jupyter_on_the_same_files(conversation: Conversation, tmp_path: Path) -> None:
    """A real Jupyter kernel runs its code cells, in order, in a folder with only the CSV:
    they print what they printed the first time; the cell tagged raises-exception raises again."""
    notebook = nbformat.reads(notebook_json(conversation.transcript, "Sales"), as_version=4)
    folder = fresh_folder(tmp_path)
    ran = run_in_jupyter(notebook, folder)
    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    again = [cell for cell in ran.cells if cell.cell_type == "code"]
    assert [stdout_of_nb(cell) for cell in again] == [stdout_of_nb(cell) for cell in code_cells]
    raised = [any(o.output_type == "error" for o in cell.outputs) for cell in again]
    assert raised == ["raises-exception" in cell.metadata.get("tags", []) for cell in code_cells] and sum(raised) == 1
    printed = "".join(stdout_of_nb(cell) for cell in again)
    assert f"total = {TOTAL}\n" in printed and f"mean = {MEAN:.2f}\n" in printed and f"largest = {LARGEST}\n" in printed
    assert (folder / "outputs" / "by_region.csv").read_text() == (conversation.data / "outputs" / "by_region.csv").read_text()


def stdout_of_nb(cell: Any) -> str:
    return "".join(o.text for o in cell.outputs if o.output_type == "stream" and o.name == "stdout")


# ---------------------------------------------------------------- the script


def test_the_script_runs_and_prints_the_same_numbers(conversation: Conversation, tmp_path: Path) -> None:
    folder = fresh_folder(tmp_path)
    script = to_script(conversation.transcript)
    (folder / "analysis.py").write_text(script)
    run = python(["analysis.py"], folder)
    assert run.returncode == 0, run.stderr
    worked = [c for c in code_entries(conversation.transcript) if outcome(c) == "ok"]
    assert run.stdout == "".join(stdout_of(c["outputs"]) for c in worked)
    assert f"total = {TOTAL}\n" in run.stdout and f"mean = {MEAN:.2f}\n" in run.stdout
    assert script.startswith('"""A conversation with Localyst')
    assert "\n# print(totl)\n" in script and "\nprint(totl)" not in script
    assert "# What is the total amount in sales.csv? Plot it by region." in script
    assert script.count('mean = sales["amount"].mean()') == 1  # not also in the reply's comment


def test_text_in_comments_never_becomes_code(tmp_path: Path) -> None:
    transcript = Transcript()
    transcript.add_user("first line\rprint('injected by the question')")
    for separator in ("\r", "\r\n", "\x0b", "\x0c", "\u2028", "\x85"):
        transcript.apply(AssistantText(f"text{separator}print('injected by the reply')\n"))
    transcript.apply(Notice("note\rprint('injected by a notice')"))
    transcript.apply(AssistantText("nul\0byte"))
    (tmp_path / "script.py").write_text(to_script(transcript))
    run = python(["script.py"], tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.stdout == ""


# ---------------------------------------------------------------- the HTML report


def test_the_report_shows_the_conversation(conversation: Conversation) -> None:
    report = to_html_report(conversation.transcript, title="Sales <2024>")
    look, typo, plot, fenced, edited = code_entries(conversation.transcript)
    assert "<title>Sales &lt;2024&gt;</title>" in report and "<h1>Sales &lt;2024&gt;</h1>" in report
    assert "What is the total amount in sales.csv? Plot it by region." in report
    assert "<th>region</th>" in report  # Markdown, rendered, its figures marked with the cell each came from
    assert f"The total is <strong><span class='figure' title='From the output of a cell: " in report and f">{TOTAL}</span></strong>" in report
    assert "Let me look at the file first." in report
    assert report.count('sales = pd.read_csv(&quot;sales.csv&quot;)') == 1
    table = look["outputs"][0]["data"][TABLE_MIME]
    assert "<table class='dataframe'>" in report and f"<td>{table['rows'][0][1]}</td>" in report
    assert f"<caption>{len(table['rows'])} rows × 2 columns</caption>" in report
    png = plot["outputs"][1]["data"]["image/png"]
    assert re.search(r"<img alt='' src='data:image/png;base64,([A-Za-z0-9+/=]+)'>", report).group(1) == png
    assert f"total = {TOTAL}" in report and "NameError" in report and "Wrote outputs/by_region.csv" in report
    assert "Edited and run by you" in report and f"largest = {LARGEST}" in report
    assert report.count('mean = sales[&quot;amount&quot;].mean()') == 1  # the fenced block shows once


def test_the_report_is_self_contained_and_escapes_what_it_shows(conversation: Conversation) -> None:
    report = to_html_report(conversation.transcript, title="Sales")
    lowered = report.lower()
    assert "<script" not in lowered and "http://" not in lowered and "https://" not in lowered
    assert "href=" not in lowered and "<link" not in lowered and "@import" not in lowered and "url(" not in lowered
    assert all(source.startswith("data:") for source in re.findall(r"\bsrc=['\"]([^'\"]*)", report))
    assert "content=\"default-src 'none'; img-src data:; style-src 'unsafe-inline'\"" in report
    # in the model's text, the code, its output, and the title of the figure the code printed
    assert XSS not in report and report.count(XSS_ESCAPED) == 4
    assert re.search(r"<span class='figure' title='[^'<>]*" + re.escape(XSS_ESCAPED), report)
    frame = re.search(r"<iframe sandbox title='HTML output' srcdoc=\"([^\"]*)\"></iframe>", report)
    assert frame is not None and "&lt;b&gt;note&lt;/b&gt;" in frame.group(1) and "&lt;script" not in frame.group(1)  # cleaned: render/_html.py
    assert "Content-Security-Policy" in frame.group(1)


def test_markdown_images_and_links_load_nothing() -> None:
    transcript = Transcript()
    transcript.add_user("Show me")
    transcript.apply(AssistantText("![a chart](https://example.org/track.png) and [a link](javascript:alert(1))"))
    report = to_html_report(transcript, title="T")
    assert "[image: a chart]" in report and "track.png" not in report
    assert "javascript:" not in report.replace("[a link](javascript:alert(1))", "")


# ---------------------------------------------------------------- stopping and limits


def test_limits_and_stops_are_recorded_and_not_run_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    kernel = ThreadKernel(Kernel(tmp_path))
    transcript = Transcript()
    slow_cell = "import time\nprint('started')\nfor _ in range(500):\n    time.sleep(0.01)"
    with MockModel() as mock:
        endpoint = Endpoint(mock.base_url, model="mock-small")
        mock.script(tool_call("run_python", json.dumps({"code": "print(1)"}), id="one"))
        run_turn(transcript, Agent(endpoint, kernel, limits=Limits(max_steps=1)), [], "Count")
        mock.script(tool_calls(Call("run_python", json.dumps({"code": slow_cell}), "busy"), Call("run_python", json.dumps({"code": "print('never')"}), "next")))
        transcript.add_user("Wait a while")

        async def stop() -> None:
            agent = Agent(endpoint, kernel)
            events: list[Any] = []

            def on_event(event: Any) -> None:
                events.append(event)
                transcript.apply(event)

            task = asyncio.ensure_future(agent.run_turn([{"role": "user", "content": "Wait a while"}], Environment(), on_event))
            while not any(isinstance(e, KernelOutput) for e in events):
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.2)  # the interrupt lands in the loop, not in the print that got here
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task

        asyncio.run(stop())

    notices = [e for e in transcript.entries if e["kind"] == "notice"]
    assert [n["reason"] for n in notices] == ["step_limit", "stopped"]
    assert "limit is 1" in notices[0]["text"] and notices[1]["text"] == "Stopped by the person."
    assert [e["ended"] for e in transcript.entries if e["kind"] == "user"] == ["step_limit", "stopped"]
    one, busy, never = code_entries(transcript)
    assert [outcome(c) for c in (one, busy, never)] == ["ok", "stopped", "not run"]
    assert busy["error"]["ename"] == "KeyboardInterrupt" and stdout_of(busy["outputs"]) == "started\n"
    assert never["code"] == "print('never')" and never["execution_count"] is None

    notebook = nbformat.reads(notebook_json(transcript, "Stops"), as_version=4)
    nbformat.validate(notebook)
    assert [c.source for c in notebook.cells if c.cell_type == "code"] == ["print(1)"]
    markdown = "\n".join(c.source for c in notebook.cells if c.cell_type == "markdown")
    assert "stopped before it finished" in markdown and "for _ in range(500):" in markdown
    assert "never run" in markdown and "print('never')" in markdown
    assert "**Note:** Stopped by the person." in markdown and "limit is 1" in markdown

    script = to_script(transcript)
    (tmp_path / "stops.py").write_text(script)
    run = python(["stops.py"], tmp_path)
    assert run.returncode == 0 and run.stdout == "1\n", run.stderr
    assert "# for _ in range(500):" in script and "# print('never')" in script

    report = to_html_report(transcript, title="Stops")
    assert "stopped before it finished" in report and "written, never run" in report and "Stopped by the person." in report


# ---------------------------------------------------------------- other outputs


def test_bokeh_and_html_only_outputs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    kernel = Kernel(tmp_path)
    code = "from bokeh.plotting import figure\np = figure(title='<i>t</i>')\np.line([1, 2], [3, 4])\np"
    result = kernel.run(code).as_dict()
    assert result["error"] is None and BOKEH_MIME in result["outputs"][0]["data"]
    transcript = Transcript()
    transcript.add_edited_run(code, result)
    notebook = nbformat.reads(notebook_json(transcript, "Bokeh"), as_version=4)
    nbformat.validate(notebook)
    (output,) = notebook.cells[-1].outputs
    assert set(output.data) == {"text/plain"} and "Bokeh" in output.data["text/plain"]
    report = to_html_report(transcript, title="Bokeh")
    assert "interactive Bokeh plot" in report and "<script" not in report and "https://" not in report


def test_an_svg_shows_as_an_image(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    code = (
        "class Drawing:\n"
        "    def _repr_svg_(self):\n"
        "        return '<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>'\n"
        "Drawing()"
    )
    transcript = Transcript()
    transcript.add_edited_run(code, Kernel(tmp_path).run(code).as_dict())
    report = to_html_report(transcript, title="SVG")
    assert re.search(r"<img alt='' src='data:image/svg\+xml;base64,[A-Za-z0-9+/=]+'>", report)
    assert "<svg" not in report and "<script" not in report


def test_the_package_does_not_load_panel() -> None:
    """It is used in the app's worker and in plain CPython: Panel and Bokeh stay out of it."""
    check = "import sys, localyst.transcript; print(sorted(m for m in ('panel', 'bokeh') if m in sys.modules))"
    run = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, cwd=Path(__file__).parent.parent, timeout=60, env={**os.environ, "PYTHONPATH": "py"})
    assert run.returncode == 0 and run.stdout == "[]\n", run.stderr


def test_a_stored_conversation_is_drawn_again_marked_when_cut_off_and_its_code_replayed() -> None:
    from localyst.agent import AssistantText, CodeFinished, CodeStarted, KernelOutput, TurnEnded, UsageReport
    from localyst.transcript import INTERRUPTED, mark_interrupted, replayable_code, turns

    record = Transcript()
    record.add_user("first")
    record.apply(CodeStarted("c1", "x = 1\nprint(x)"))
    record.apply(KernelOutput("c1", {"kind": "stream", "name": "stdout", "text": "1\n"}))
    record.apply(CodeFinished("c1", {"outputs": [{"kind": "stream", "name": "stdout", "text": "1\n"}], "error": None, "duration": 0.1, "files": [], "execution_count": 1}))
    record.apply(CodeStarted("c2", "1/0"))
    record.apply(CodeFinished("c2", {"outputs": [], "error": {"ename": "ZeroDivisionError", "evalue": "division by zero", "traceback": ""}, "duration": 0.1, "files": [], "execution_count": 2}))
    record.apply(UsageReport(10, 5, 15))
    record.apply(AssistantText("Done."))
    record.apply(TurnEnded("answered", "Done."))
    assert mark_interrupted(record) is False
    record.add_user("second")
    record.apply(AssistantText("Half an ans"))

    stored = Transcript.from_json(record.to_json())
    assert mark_interrupted(stored) is True and mark_interrupted(stored) is False
    first, second = turns(stored)
    assert first.question == "first" and second.question == "second"
    kinds = [type(e).__name__ for e in first.events]
    assert kinds == ["CodeStarted", "KernelOutput", "CodeFinished", "CodeStarted", "CodeFinished", "AssistantText", "UsageReport"]
    assert first.events[-1].total == 15
    assert [type(e).__name__ for e in second.events] == ["AssistantText", "Notice"]
    assert second.events[-1].text == INTERRUPTED
    assert replayable_code(stored) == ["x = 1\nprint(x)"]  # the failed cell is not run again


def test_a_stored_record_of_the_wrong_shape_still_opens() -> None:
    """A record from storage or a crafted backup: entries that are not entries are left
    out, and a code entry's fields are checked like a fresh result."""
    link = '<link rel="preconnect" href="http://127.0.0.2:9/">'
    stored = json.dumps(
        {
            "version": 1,
            "entries": [
                {"kind": "user", "text": "q", "usage": "lots"},
                "not an entry",
                {"kind": "code", "id": 7, "code": "x", "outputs": [{"kind": "display", "data": {"image/png": link}}], "error": {"ename": 1}},
                {"kind": "magic"},
                {"kind": "assistant", "text": ["a"]},
            ],
        }
    )
    transcript = Transcript.from_json(stored)
    kinds = [entry["kind"] for entry in transcript.entries]
    assert kinds == ["user", "code", "assistant"]
    code = transcript.entries[1]
    assert code["error"]["ename"] == "BadResult" and code["id"] == "7"
    (turn,) = turns(transcript)
    assert turn.question == "q"
    nbformat.validate(nbformat.reads(notebook_json(transcript, "Odd"), as_version=4))


@pytest.mark.parametrize("ids", [("call_0", "call_0", "call_0"), ("", "", ""), (None, None, None)])
def test_cells_stay_apart_whatever_ids_the_endpoint_sends(tmp_path: Path, ids) -> None:
    """Some servers repeat one tool-call id at every step, or send none: each cell is still
    its own in the record, so the script made from it defines everything it uses."""
    transcript, history = Transcript(), []
    with MockModel() as mock:
        mock.script(
            tool_call("run_python", json.dumps({"code": "base = 40"}), id=ids[0]),
            tool_call("run_python", json.dumps({"code": "total = base + 2"}), id=ids[1]),
            tool_call("run_python", json.dumps({"code": "print('total', total)"}), id=ids[2]),
            text("The total is 42."),
        )
        kernel = ThreadKernel(Kernel(tmp_path))
        run_turn(transcript, Agent(Endpoint(mock.base_url, model="mock-small"), kernel), history, "Add it up.")
    cells = code_entries(transcript)
    assert [c["code"] for c in cells] == ["base = 40", "total = base + 2", "print('total', total)"]
    assert [outcome(c) for c in cells] == ["ok", "ok", "ok"]
    assert [m["tool_call_id"] for m in history if m["role"] == "tool"][0] == (ids[0] or history[1]["tool_calls"][0]["id"])
    (tmp_path / "script.py").write_text(to_script(transcript))
    run = python(["script.py"], tmp_path)
    assert run.returncode == 0 and "total 42" in run.stdout, run.stderr
    ran = run_in_jupyter(nbformat.reads(notebook_json(transcript, "Ids"), as_version=4), tmp_path)  # no NameError
    assert "total 42" in "".join(stdout_of_nb(cell) for cell in ran.cells if cell.cell_type == "code")


def test_plotly_charts_keep_their_mime_in_the_notebook_and_a_picture_or_a_note_in_the_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("plotly")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    code = "import plotly.express as px\ndisplay(px.pie(names=['a', 'b'], values=[1, 2]))\npx.bar(x=['a', 'b'], y=[4, 5], title='<b>bars</b>')"
    result = Kernel(tmp_path).run(code).as_dict()
    assert result["error"] is None
    transcript = Transcript()
    transcript.add_edited_run(code, result)
    notebook = nbformat.reads(notebook_json(transcript, "Plotly"), as_version=4)
    nbformat.validate(notebook)
    pie, bars = notebook.cells[-1].outputs
    assert PLOTLY_MIME in pie.data and "image/png" not in pie.data
    assert bars.data[PLOTLY_MIME]["layout"]["title"]["text"] == "<b>bars</b>" and "image/png" in bars.data
    report = to_html_report(transcript, title="Plotly")
    assert report.count("data:image/png;base64,") == 1 and "A static copy of an interactive plotly chart" in report
    assert "An interactive plotly chart: not kept in this report" in report and "1 pie trace" in report
    assert "<script" not in report
