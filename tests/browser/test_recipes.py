"""Recipes in Chromium: a conversation's code saved as a recipe from one file runs again on
another file, in a kernel of its own, and shows that file's numbers; a failing cell stops
the run with a message naming it."""

from __future__ import annotations

import os

import pytest

from localyst.transcript import Input, Recipe, to_recipe
from tests.browser.conftest import answer, message_texts, run_code, shows, wait_for
from tools.mock_model import text

pytestmark = pytest.mark.browser

JANUARY = [120, 80, 45, 310]
FEBRUARY = [17, 250, 3, 41, 9]


def amounts_csv(amounts: list[int]) -> str:
    return "day,amount\n" + "".join(f"{day},{amount}\n" for day, amount in enumerate(amounts, 1))


def screenshot(page, name: str) -> None:
    """Where LOCALYST_SCREENSHOTS names a folder, a picture of the page for a person to look at."""
    folder = os.environ.get("LOCALYST_SCREENSHOTS")
    if folder:
        page.screenshot(path=os.path.join(folder, name))


def test_a_recipe_saved_from_january_gives_februarys_total(app, mock, tmp_path):
    (tmp_path / "january.csv").write_text(amounts_csv(JANUARY))
    (tmp_path / "february.csv").write_text(amounts_csv(FEBRUARY))
    app.locator("#file-picker").set_input_files(str(tmp_path / "january.csv"))
    shows(app, "january.csv")
    answer(
        app,
        mock,
        "What is the January total?",
        run_code("import pandas as pd\nsales = pd.read_csv('/data/january.csv')\nprint('total', sales.amount.sum())"),
        run_code("sales.plot(x='day', y='amount', kind='bar')\nsales.nlargest(1, 'amount')"),
        text("The total is in the output."),
        marker="The total is in the output",
    )
    assert f"total {sum(JANUARY)}" in message_texts(app)[-1]

    with app.expect_download() as download:
        app.get_by_role("button", name="Recipe (.py)").click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    recipe = saved.read_text()
    assert saved.suffix == ".py"
    assert "pd.read_csv('/data/january.csv')" in recipe
    assert '"file": "january.csv"' in recipe and '"name": "january"' in recipe
    assert all(f"{day},{amount}" not in recipe for day, amount in enumerate(JANUARY, 1)), "the recipe holds data"
    assert f"total {sum(JANUARY)}" not in recipe, "the recipe holds an output"

    app.locator("#file-picker").set_input_files(str(tmp_path / "february.csv"))
    shows(app, "february.csv")
    app.locator(".ly-recipe-file input[type=file]").set_input_files(str(saved))
    shows(app, "in place of january.csv (CSV)")
    app.locator(".ly-recipe-input select").select_option(label="february.csv")
    shows(app, "Ready: it runs in a fresh kernel")
    app.get_by_role("button", name="Run the recipe").scroll_into_view_if_needed()
    screenshot(app, "recipes-run-ui.png")
    app.get_by_role("button", name="Run the recipe").click()
    shows(app, "Putting the files into a fresh kernel")  # while the recipe's own kernel starts

    shows(app, "The recipe ran to its end: 2 cells", 240_000)
    shown = message_texts(app)[-1]
    assert "february.csv as january.csv" in shown
    assert f"total {sum(FEBRUARY)}" in shown
    assert f"total {sum(JANUARY)}" not in shown
    run = app.locator(".chat-message").last
    assert run.locator("img").first.evaluate("img => img.naturalWidth") > 100, "no chart"
    assert run.locator(".tabulator-cell", has_text=str(max(FEBRUARY))).count() >= 1, "no table of February's largest day"
    # Each kernel numbers its charts from 1: the run's chart is saved from the run's kernel,
    # a bar a day, not the conversation's chart of the same number.
    svgs = []
    for message in (app.locator(".chat-message").nth(-2), run):
        with app.expect_download() as download:
            message.get_by_role("button", name="Download SVG").click()
        svgs.append(open(download.value.path()).read())
    assert svgs[1].count('id="patch_') - svgs[0].count('id="patch_') == len(FEBRUARY) - len(JANUARY)
    screenshot(app, "recipes-after-run.png")

    # The conversation's own kernel was not touched: its variables are January's still.
    answer(app, mock, "And the total again?", run_code("print('still', sales.amount.sum())"), text("Same as before."), marker="Same as before")
    assert f"still {sum(JANUARY)}" in message_texts(app)[-1]


def test_a_failing_cell_stops_the_run_saying_which_and_why(app, tmp_path):
    (tmp_path / "march.csv").write_text(amounts_csv(FEBRUARY))
    (tmp_path / "notes.py").write_text("print('not a recipe')\n")
    recipe = Recipe(
        "Revenue by day",
        (Input("sales", "sales.csv", "CSV"),),
        ("import pandas as pd\nsales = pd.read_csv('sales.csv')", "print(sales['revenue'].sum())", "print('THIRD-CELL-RAN')"),
    )
    (tmp_path / "revenue.py").write_text(to_recipe(recipe))
    app.locator("#file-picker").set_input_files(str(tmp_path / "march.csv"))
    shows(app, "march.csv")

    chooser = app.locator(".ly-recipe-file input[type=file]")
    chooser.set_input_files(str(tmp_path / "notes.py"))
    shows(app, "This is not a Localyst recipe")

    chooser.set_input_files(str(tmp_path / "revenue.py"))
    shows(app, "in place of sales.csv (CSV)")
    shows(app, "Ready: it runs in a fresh kernel")  # the only CSV is chosen for the CSV input
    app.get_by_role("button", name="Run the recipe").click()

    shows(app, "The recipe stopped", 240_000)
    shown = message_texts(app)[-1]
    # The cell's first line is shown as code (Markdown), so without its backticks here.
    assert "The recipe stopped at cell 2 of 3 (print(sales['revenue'].sum())), which failed: KeyError: 'revenue'" in shown
    screenshot(app, "recipes-stopped.png")
    assert "THIRD-CELL-RAN" not in shown
