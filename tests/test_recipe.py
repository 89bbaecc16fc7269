"""Recipes in CPython: the file format (made from a record, written, read back, every bad
file refused with its own message), the inputs found in the code, and a run of a recipe
made on one file against another file in the real kernel."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from localyst.agent import CodeFinished, CodeStarted, KernelOutput
from localyst.kernel import Kernel
from localyst.session import Progress, run_plan, run_recipe
from localyst.transcript import MAX_RECIPE_BYTES, Input, Recipe, RecipeError, Transcript, files_read, make_recipe, parse_recipe, to_recipe
from tests.test_agent import ThreadKernel

READ = 'import pandas as pd\nsales = pd.read_csv("/data/january.csv")'
TOTAL = 'print("total", sales.amount.sum())'
SECRET = "4417-secret-row"


def ok(outputs: list[dict] | None = None) -> dict[str, Any]:
    return {"execution_count": 1, "outputs": outputs or [], "error": None, "duration": 0.1, "files": []}


def failed(name: str = "NameError", value: str = "name 'totl' is not defined") -> dict[str, Any]:
    return {**ok(), "error": {"ename": name, "evalue": value, "traceback": f"{name}: {value}"}}


def conversation() -> Transcript:
    """A conversation that read january.csv, failed once, and printed a total; its outputs
    hold a row of the data, which a recipe must not."""
    transcript = Transcript()
    transcript.add_user("What is the total of january?")
    transcript.add_edited_run(READ, ok([{"kind": "stream", "name": "stdout", "text": SECRET}]))
    transcript.add_edited_run("print(totl)", failed())
    transcript.add_edited_run(TOTAL, ok([{"kind": "stream", "name": "stdout", "text": "total 6"}]))
    return transcript


def test_a_recipe_holds_the_code_that_worked_and_its_inputs_and_reads_back() -> None:
    recipe = make_recipe(conversation(), "January total", {"january.csv": "CSV", "notes.txt": "text"})
    assert recipe.cells == (READ, TOTAL)
    assert recipe.inputs == (Input("january", "january.csv", "CSV"),)
    text = to_recipe(recipe)
    assert SECRET not in text and "total 6" not in text and "totl" not in text
    assert "notes.txt" not in text
    assert parse_recipe(text) == recipe
    assert parse_recipe(text.encode()) == recipe
    assert parse_recipe(text.replace("\n", "\r\n").encode()) == recipe


def test_a_title_with_line_breaks_of_every_kind_reads_back() -> None:
    recipe = Recipe("two\u2028lines\rand\nmore", (), ("print(1)",))
    text = to_recipe(recipe)
    assert parse_recipe(text) == recipe
    assert text.splitlines()[0] == "# Localyst recipe: two lines and more"


def test_a_line_of_code_that_looks_like_a_cell_marker_stays_in_its_cell() -> None:
    tricky = "x = 1\n# %% cell 2 of 2\ny = x + 1"
    recipe = Recipe("t", (), (tricky, "print(y)"))
    back = parse_recipe(to_recipe(recipe))
    assert len(back.cells) == 2 and back.cells[0].startswith("x = 1") and back.cells[0].endswith("y = x + 1")
    assert back.cells[1] == "print(y)"


@pytest.mark.parametrize(
    "code",
    [
        'pd.read_csv("january.csv")',
        "pd.read_csv('/data/january.csv')",
        'pd.read_csv("data/january.csv")',
        'open(f"{folder}/january.csv")',
        "Path('/data') / 'january.csv'",
    ],
)
def test_the_files_the_code_names_are_found_however_it_spells_the_path(code: str) -> None:
    assert files_read([code], ["january.csv", "february.csv"]) == ["january.csv"]


def test_a_file_named_only_as_part_of_another_name_is_not_an_input() -> None:
    assert files_read(['pd.read_csv("old_january.csv")', "# january.csv in a comment"], ["january.csv"]) == []
    assert files_read(['a = "b.csv"', 'c = "a.csv"'], ["a.csv", "b.csv"]) == ["b.csv", "a.csv"]


def test_input_names_are_plain_and_distinct() -> None:
    transcript = Transcript()
    transcript.add_edited_run('open("2024 sales.csv"); open("2024-sales.csv")', ok())
    recipe = make_recipe(transcript, "t", {"2024 sales.csv": "CSV", "2024-sales.csv": "CSV"})
    assert [i.name for i in recipe.inputs] == ["input_2024_sales", "input_2024_sales_2"]
    assert parse_recipe(to_recipe(recipe)) == recipe


def good() -> str:
    return to_recipe(make_recipe(conversation(), "January total", {"january.csv": "CSV"}))


def header_with(**fields: Any) -> str:
    """The good recipe with its header's fields changed (None: removed)."""
    text = good()
    start, end = text.index("# /// localyst-recipe\n"), text.index("# ///\n", text.index("# /// localyst-recipe") + 5)
    header = json.loads("".join(line[2:] + "\n" for line in text[start:end].splitlines()[1:]))
    for key, value in fields.items():
        if value is None:
            header.pop(key)
        else:
            header[key] = value
    block = "# /// localyst-recipe\n" + "".join(f"# {line}\n" for line in json.dumps(header, indent=2).splitlines())
    return text[:start] + block + text[end:]


@pytest.mark.parametrize(
    "data, message",
    [
        (b"\x89PNG\r\n\x1a\n\xff\xfe", "not text (not UTF-8)"),
        ("a = 1\0", "NUL"),
        (b"#" * (MAX_RECIPE_BYTES + 1), "at most 1,000,000 bytes"),
        ("import pandas\nprint(1)\n", "not a Localyst recipe"),
        ("# /// localyst-recipe\n# {\n", "not closed"),
        ("# /// localyst-recipe\n# {\n'format': 1\n# ///\n", "Line 3 is inside the recipe's header but is not a comment"),
        ("# /// localyst-recipe\n# {\"format\": 1,,}\n# ///\n", "not valid JSON (line 2"),
        ("# /// localyst-recipe\n# [1]\n# ///\n", "must be a JSON object"),
    ],
)
def test_a_file_that_is_not_a_recipe_is_refused_saying_why(data: bytes | str, message: str) -> None:
    with pytest.raises(RecipeError, match=None) as caught:
        parse_recipe(data)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"format": 2}, "a newer Localyst made it"),
        ({"format": "1"}, "not a format Localyst wrote"),
        ({"format": None}, "lacks 'format'"),
        ({"title": None, "cells": None}, "lacks 'title', 'cells'"),
        ({"title": 5}, "title must be text"),
        ({"title": "x" * 201}, "at most 200"),
        ({"inputs": {}}, "inputs must be a list"),
        ({"inputs": [{"name": "a"}]}, "Input 1 of the recipe must have a name, a file and a kind"),
        ({"inputs": [{"name": "a b", "file": "a.csv", "kind": "CSV"}]}, "not a plain name"),
        ({"inputs": [{"name": "a", "file": "../etc/passwd", "kind": "CSV"}]}, "not a plain file name"),
        ({"inputs": [{"name": "a", "file": "/data/a.csv", "kind": "CSV"}]}, "not a plain file name"),
        ({"inputs": [{"name": "a", "file": "a.csv", "kind": "CSV"}, {"name": "a", "file": "b.csv", "kind": "CSV"}]}, "Two inputs of the recipe are named 'a'"),
        ({"inputs": [{"name": "a", "file": "a.csv", "kind": "CSV"}, {"name": "b", "file": "a.csv", "kind": "CSV"}]}, "the same file"),
        ({"cells": 3}, "out of order: cell 1 of 3 was expected"),
        ({"cells": 0}, "at least one"),
    ],
)
def test_a_recipe_with_a_bad_header_is_refused_saying_what(fields: dict, message: str) -> None:
    with pytest.raises(RecipeError) as caught:
        parse_recipe(header_with(**fields))
    assert message in str(caught.value)


def test_a_cut_or_rearranged_recipe_is_refused() -> None:
    text = good()
    cut = text[: text.index("# %% cell 2 of 2")]
    with pytest.raises(RecipeError, match="says it has 2 cells, but it holds 1"):
        parse_recipe(cut)
    swapped = text.replace("# %% cell 1 of 2", "# %% cell X").replace("# %% cell 2 of 2", "# %% cell 1 of 2")
    with pytest.raises(RecipeError, match="code before its first"):
        parse_recipe(swapped.replace("# %% cell X", "x = 1"))
    with pytest.raises(RecipeError, match="Cell 2 of the recipe holds no code"):
        parse_recipe(text.replace(TOTAL, ""))


class DataKernel(ThreadKernel):
    """The real kernel in a thread, given files as the browser's kernel is: under /data."""

    async def put_file(self, path: str, data: Any) -> int:
        target = Path(self.kernel.data_dir) / path
        target.write_bytes(data)
        return len(data)


def run(kernel: DataKernel, recipe: Recipe, files: dict[str, bytes]) -> tuple[Any, list[Any]]:
    events: list[Any] = []
    ended = asyncio.run(run_recipe(kernel, recipe, files, events.append))
    return ended, events


def stdout(events: list[Any]) -> str:
    return "".join(e.output.get("text", "") for e in events if isinstance(e, KernelOutput))


def amounts_csv(amounts: list[int]) -> bytes:
    return ("day,amount\n" + "".join(f"{day},{amount}\n" for day, amount in enumerate(amounts, 1))).encode()


FEBRUARY = [17, 250, 3, 41]


@pytest.fixture
def kernel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> DataKernel:
    monkeypatch.chdir(tmp_path)
    return DataKernel(Kernel(data_dir=tmp_path))


def test_a_recipe_made_on_one_file_gives_another_files_numbers(kernel: DataKernel) -> None:
    recipe = make_recipe(conversation(), "January total", {"january.csv": "CSV"})
    recipe = Recipe(recipe.title, recipe.inputs, tuple(c.replace("/data/", "") for c in recipe.cells))  # the kernel's folder here
    ended, events = run(kernel, recipe, {"january": amounts_csv(FEBRUARY)})
    assert ended.failed is None and ended.ran == ended.count == 2
    assert f"total {sum(FEBRUARY)}" in stdout(events)
    assert [e.number for e in events if isinstance(e, Progress)] == [0, 1, 2]
    assert [type(e) for e in events if not isinstance(e, (Progress, KernelOutput))] == [CodeStarted, CodeFinished] * 2
    assert run_plan(recipe, {"january": "february.csv"}) == "february.csv as january.csv"


def test_a_failing_cell_stops_the_run_with_a_message_naming_it(kernel: DataKernel) -> None:
    recipe = Recipe("t", (Input("sales", "sales.csv", "CSV"),), (
        "import pandas as pd\nsales = pd.read_csv('sales.csv')",
        "print(sales['revenue'].sum())",
        "print('after')",
    ))
    ended, events = run(kernel, recipe, {"sales": amounts_csv([1, 2])})
    assert ended.failed == 2 and ended.ran == 1
    assert "cell 2 of 3 (`print(sales['revenue'].sum())`)" in ended.message
    assert "KeyError" in ended.message and "revenue" in ended.message
    assert "after" not in stdout(events)
    assert sum(isinstance(e, CodeStarted) for e in events) == 2


def test_a_run_without_a_file_for_each_input_does_not_start(kernel: DataKernel) -> None:
    recipe = Recipe("t", (Input("sales", "sales.csv", "CSV"),), ("print(1)",))
    with pytest.raises(ValueError, match="No file was chosen for sales"):
        run(kernel, recipe, {})


def test_a_recipe_runs_as_a_plain_script_in_a_folder_of_its_inputs(tmp_path: Path) -> None:
    recipe = make_recipe(conversation(), "January total", {"january.csv": "CSV"})
    recipe = Recipe(recipe.title, recipe.inputs, tuple(c.replace("/data/", "") for c in recipe.cells))
    (tmp_path / "january.csv").write_bytes(amounts_csv(FEBRUARY))
    (tmp_path / "recipe.py").write_text(to_recipe(recipe))
    ran = subprocess.run([sys.executable, "recipe.py"], cwd=tmp_path, capture_output=True, text=True, env=dict(os.environ))
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == f"total {sum(FEBRUARY)}"


def test_an_input_starts_with_a_file_of_its_name_or_the_only_one_of_its_type() -> None:
    from localyst.ui._recipes import NOT_CHOSEN, default_choice

    assert default_choice("january.csv", ["february.csv", "january.csv"]) == "january.csv"
    assert default_choice("january.csv", ["february.csv", "notes.txt"]) == "february.csv"
    assert default_choice("january.csv", ["february.csv", "march.CSV"]) == NOT_CHOSEN
    assert default_choice("january.csv", []) == NOT_CHOSEN


def test_the_run_panel_asks_a_file_for_each_input_runs_and_marks_the_runs_charts(kernel: DataKernel) -> None:
    """The sidebar's Run a recipe, in CPython with the real kernel: a bad file is refused
    in words, Run waits for a file per input, and the run's message shows the new file's
    numbers, its chart marked as drawn by the run's kernel."""
    pytest.importorskip("panel")
    from localyst.ui._recipes import RECIPE_FIGURE, RecipePanel

    posted: list[Any] = []
    files = {"february.csv": amounts_csv(FEBRUARY), "notes.txt": b"x"}

    async def file_data(path: str) -> bytes:
        return files[path]

    panel = RecipePanel(lambda: kernel, file_data, posted.append, lambda: None)
    panel.files_listed(["february.csv", "notes.txt", "outputs/chart.png"])
    panel.chooser.value = b"print('hello')\n"
    assert "not a Localyst recipe" in panel.status.object and not panel.run.visible

    recipe = Recipe("Total", (Input("sales", "sales.csv", "CSV"), Input("notes", "notes.md", "Markdown")), (
        "import pandas as pd, matplotlib.pyplot as plt\nsales = pd.read_csv('sales.csv')",
        "print('total', sales.amount.sum())\nsales.plot(x='day', y='amount')\nplt.show()",
    ))
    panel.chooser.value = to_recipe(recipe).encode()
    sales, notes = panel.selects["sales"], panel.selects["notes"]
    assert sales.value == "february.csv", "the only CSV is chosen for the CSV input"
    assert notes.value == "" and panel.run.disabled and "Choose a file for notes" in panel.status.object
    assert "outputs/chart.png" not in sales.options.values()
    notes.value = "notes.txt"
    assert not panel.run.disabled

    asyncio.run(panel._on_run(None))
    assert "ran to its end: 2 cells" in panel.status.object
    assert (Path(kernel.kernel.data_dir) / "sales.csv").read_bytes() == files["february.csv"]
    assert "february.csv as sales.csv" in posted[-1].objects[0].object
    shown = [pane.object for pane in _panes(posted[-1]) if isinstance(getattr(pane, "object", None), str)]
    assert any(f"total {sum(FEBRUARY)}" in text for text in shown)
    assert any(f'data-figure="{RECIPE_FIGURE}figure-' in text for text in shown), "the chart is not marked as the run's"


def _panes(component: Any) -> list[Any]:
    """Every component inside a Panel layout."""
    found = [component]
    for child in getattr(component, "objects", None) or []:
        found += _panes(child)
    return found
