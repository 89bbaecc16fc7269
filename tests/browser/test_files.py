"""Files in Chromium: brought in by picker, drop and paste; listed; read by the model's
code; outputs appear as they are written; downloaded one by one or as a ZIP; renamed and
deleted; bad names refused with a message; files of any size taken, big ones said to be
read from the disk (tests/browser/test_big_files.py reads one)."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PAGE_HAS_TEXT, answer, message_texts, run_code, start_new_conversation
from tests.browser.conftest import shows as wait_to_show
from tools.mock_model import text

pytestmark = pytest.mark.browser

# Drops or pastes files made in the page, as a person's drag or Ctrl+V would deliver them;
# all in one go, so their messages reach the app worker back to back.
OFFER = """(offers) => {
  for (const [how, name, content] of offers) {
    const transfer = new DataTransfer();
    transfer.items.add(new File([content], name));
    const event = how === "drop"
      ? new DragEvent("drop", { dataTransfer: transfer, bubbles: true, cancelable: true })
      : new ClipboardEvent("paste", { clipboardData: transfer, bubbles: true, cancelable: true });
    document.dispatchEvent(event);
  }
}"""

# A big File that costs no memory: one small Blob (of ``line`` repeated, or zeros) repeated by reference.
OFFER_HUGE = """([name, megabytes, line]) => {
  const mb = new Blob([line ? line.repeat((1 << 20) / line.length) : new Uint8Array(1 << 20)]);
  const transfer = new DataTransfer();
  transfer.items.add(new File(Array(megabytes).fill(mb), name));
  document.dispatchEvent(new DragEvent("drop", { dataTransfer: transfer, bubbles: true, cancelable: true }));
}"""


def shows(page, needle: str, timeout: float = 60_000) -> None:
    """conftest's shows(), naming what the files panel lists when it fails."""
    try:
        wait_to_show(page, needle, timeout)
    except Exception as exc:
        files = page.locator(".ly-file").all_inner_texts()
        raise AssertionError(f"the page never showed {needle!r}; the files panel lists {files}") from exc


def page_has(page, needle: str) -> bool:
    return page.evaluate(f"({PAGE_HAS_TEXT})({json.dumps(needle)})")


def file_row(page, name: str):
    """The row of the files panel for ``name`` (its label and its icons)."""
    return page.locator(".bk-panel-models-layout-Column", has=page.locator(".ly-file", has_text=name)).last


def test_files_come_in_three_ways_are_read_and_results_leave(app, mock, tmp_path):
    sales = tmp_path / "sales.csv"
    sales.write_text("month,sales\nJan,120\nFeb,135\nMar,90\n")
    app.locator("#file-picker").set_input_files(str(sales))
    app.evaluate(OFFER, [["drop", "dropped.txt", "dropped text"], ["paste", "pasted.json", '{"a": 1}']])
    for name in ("sales.csv", "dropped.txt", "pasted.json"):
        shows(app, name)
    assert page_has(app, "35 bytes · CSV")

    turn = answer(
        app,
        mock,
        "total, and save it",
        run_code(
            "import json, pandas as pd\n"
            "total = pd.read_csv('sales.csv').sales.sum()\n"
            "print('total', total, open('dropped.txt').read(), json.load(open('pasted.json'))['a'])\n"
            "pd.DataFrame({'total': [total]}).to_csv('outputs/total.csv', index=False)\n"
            "open('outputs/notes.txt', 'w').write('fine')"
        ),
        text("Saved the total."),
        marker="Saved the total.",
    )
    assert "total 345 dropped text 1" in turn
    shows(app, "outputs/total.csv")
    shows(app, "outputs/notes.txt")

    with app.expect_download() as download:
        app.get_by_role("button", name="Download all outputs").click()
    assert download.value.suggested_filename == "outputs.zip"
    with zipfile.ZipFile(io.BytesIO(open(download.value.path(), "rb").read())) as archive:
        assert sorted(archive.namelist()) == ["notes.txt", "total.csv"]
        assert archive.read("total.csv").decode().split() == ["total", "345"]

    with app.expect_download() as download:
        file_row(app, "sales.csv").locator(".ti-download").click()
    assert download.value.suggested_filename == "sales.csv"
    assert open(download.value.path(), "rb").read() == sales.read_bytes()

    file_row(app, "dropped.txt").locator(".ti-pencil").click()
    field = file_row(app, "dropped.txt").locator("input[type=text]")
    field.fill("renamed.txt")
    field.press("Enter")
    shows(app, "renamed.txt")
    file_row(app, "pasted.json").locator(".ti-trash").click()
    expect(app.locator(".ly-file", has_text="pasted.json")).to_have_count(0, timeout=30_000)

    turn = answer(
        app,
        mock,
        "what is there now?",
        run_code("import os\nprint(sorted(f for f in os.listdir('.') if os.path.isfile(f)))"),
        text("Listed."),
        marker="Listed.",
    )
    assert "['renamed.txt', 'sales.csv']" in turn

    mock.script(text("It holds three months."))
    file_row(app, "sales.csv").locator(".ti-message-dots").click()
    shows(app, "It holds three months.")
    asked = mock.chat_requests()[-1].body["messages"][-1]
    assert asked["role"] == "user" and "`sales.csv`" in asked["content"]


def test_bad_names_get_a_message_files_over_the_old_limits_are_taken_and_nothing_breaks(app, mock):
    app.evaluate(OFFER, [["drop", "..\\..\\<img src=x onerror=window.pwned=1>.csv", "a\n1\n"]])
    shows(app, "onerror=window.pwned=1>.csv")  # only the last part of the path, shown as text
    assert app.evaluate("window.pwned") is None
    assert app.locator("img[src=x]").count() == 0

    app.evaluate(OFFER_HUGE, ["huge.csv", 1100, "1,2\n"])
    shows(app, "huge.csv is 1.2 GB: it is read where it is on your disk, and is not kept for your next visit")
    app.evaluate(OFFER_HUGE, ["huge.parquet", 1600, ""])
    shows(app, "huge.parquet is 1.7 GB: it is read where it is")
    shows(app, "huge.parquet: huge.parquet is not a Parquet file")  # what is wrong is found from its head
    app.evaluate(OFFER, [["drop", "..", "nothing"]])
    shows(app, "'..' is not a usable file name")

    # Many drops and pastes at once each arrive once (they once shared one global in the worker).
    app.evaluate(OFFER, [["drop" if i % 2 else "paste", f"batch-{i}.txt", "x" * i] for i in range(1, 9)])
    for i in range(1, 9):
        shows(app, f"batch-{i}.txt")

    turn = answer(
        app,
        mock,
        "list",
        run_code("import os\nprint(sorted(os.listdir('.')))"),
        text("Here."),
        marker="Here.",
    )
    assert "huge.csv" in turn and "huge.parquet" in turn
    assert "onerror=window.pwned=1>.csv" in turn
    assert all(f"batch-{i}.txt" in turn for i in range(1, 9))

    start_new_conversation(app)  # the line about what went wrong belonged to the one left
    assert app.locator(".ly-problem:visible").count() == 0


def test_the_analysis_leaves_as_a_notebook_that_reruns_a_script_and_a_report(app, mock, tmp_path):
    import os
    import subprocess
    import sys

    import nbformat

    data = tmp_path / "data"
    data.mkdir()
    (data / "sales.csv").write_text("month,sales\nJan,120\nFeb,135\nMar,90\n")
    app.locator("#file-picker").set_input_files(str(data / "sales.csv"))
    shows(app, "sales.csv")
    answer(
        app,
        mock,
        "What were March sales, and draw them",
        run_code("import pandas as pd\ndf = pd.read_csv('sales.csv')\nprint('march', df[df.month == 'Mar'].sales.sum())\ndf.plot(x='month', y='sales')"),
        text("March sales were **90**."),
        marker="March sales were",
    )

    with app.expect_download() as download:
        app.get_by_role("button", name="Download PNG").last.click()
    assert download.value.suggested_filename.endswith(".png")
    assert open(download.value.path(), "rb").read().startswith(b"\x89PNG\r\n\x1a\n")
    with app.expect_download() as download:
        app.get_by_role("button", name="Download SVG").last.click()
    assert download.value.suggested_filename.endswith(".svg")
    assert b"<svg" in open(download.value.path(), "rb").read()

    saved = {}
    for label in ("Notebook (.ipynb)", "Script (.py)", "Report (.html)"):
        with app.expect_download() as download:
            app.get_by_role("button", name=label).click()
        saved[label.split()[0]] = open(download.value.path(), "rb").read().decode()

    notebook = nbformat.reads(saved["Notebook"], as_version=4)
    nbformat.validate(notebook)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert any(o.get("output_type") == "display_data" and "image/png" in o.get("data", {}) for c in code for o in c.outputs)
    # In a process of its own, as Jupyter would: cells share one namespace, and the figures
    # they leave open stay out of this test process.
    (tmp_path / "analysis.ipynb").write_text(saved["Notebook"])
    run_cells = (
        "import json, sys\n"
        "namespace = {}\n"
        "for cell in json.load(open(sys.argv[1]))['cells']:\n"
        "    if cell['cell_type'] == 'code':\n"
        "        exec(compile(''.join(cell['source']), '<cell>', 'exec'), namespace)\n"
    )
    ran = subprocess.run(
        [sys.executable, "-c", run_cells, str(tmp_path / "analysis.ipynb")],
        cwd=data, capture_output=True, text=True, env={**os.environ, "MPLBACKEND": "Agg"},
    )
    assert ran.returncode == 0, ran.stderr
    assert "march 90" in ran.stdout

    script = tmp_path / "analysis.py"
    script.write_text(saved["Script"])
    ran = subprocess.run([sys.executable, str(script)], cwd=data, capture_output=True, text=True, env={**os.environ, "MPLBACKEND": "Agg"})
    assert ran.returncode == 0, ran.stderr
    assert "march 90" in ran.stdout

    report = saved["Report"]
    assert "March sales were" in report and "march 90" in report and "data:image/png;base64," in report
    assert "<script" not in report.lower()


def make_fixtures(folder) -> dict[str, str]:
    """One file of each kind a person brings, and a text each one's preview shows."""
    import sqlite3

    import pandas as pd
    from PIL import Image

    frame = pd.DataFrame({"region": ["Nord", "Süd", "Ost"], "revenue": [10.5, 20.25, 30.0]})
    (folder / "semicolons.csv").write_bytes("région;montant\nÉtoile;1,5\nCafé;2,5\n".encode("cp1252"))
    frame.to_csv(folder / "tabs.tsv", sep="\t", index=False)
    with pd.ExcelWriter(folder / "book.xlsx") as writer:
        frame.to_excel(writer, sheet_name="Sales", index=False)
        frame.head(1).to_excel(writer, sheet_name="Other", index=False)
    frame.to_json(folder / "records.json", orient="records")
    frame.to_json(folder / "lines.jsonl", orient="records", lines=True)
    frame.to_parquet(folder / "table.parquet")
    with sqlite3.connect(folder / "shop.sqlite") as db:
        db.execute("create table orders (item text, quantity integer)")
        db.executemany("insert into orders values (?, ?)", [("pen", 3), ("ink", 7)])
    for suffix, fmt in (("png", "PNG"), ("jpg", "JPEG"), ("gif", "GIF"), ("webp", "WEBP")):
        Image.new("RGB", (40, 30), (200, 80, 40)).save(folder / f"picture.{suffix}", fmt)
    (folder / "notes.md").write_text("# Findings\n\nRevenue rose.\n")
    (folder / "script.py").write_text("print('hello from a script')\n")
    with zipfile.ZipFile(folder / "bundle.zip", "w") as archive:
        archive.writestr("inner/data.csv", "x,y\n1,2\n")
    return {
        "semicolons.csv": "montant", "tabs.tsv": "revenue", "book.xlsx": "Other", "records.json": "Süd",
        "lines.jsonl": "Ost", "table.parquet": "revenue", "shop.sqlite": "orders", "picture.png": "40 × 30 px",
        "picture.jpg": "40 × 30 px", "picture.gif": "40 × 30 px", "picture.webp": "40 × 30 px",
        "notes.md": "Revenue rose.", "script.py": "hello from a script", "bundle.zip": "inner/data.csv",
    }


READ_EACH = """\
import json, sqlite3, zipfile
import pandas as pd
from PIL import Image
print('csv', pd.read_csv('semicolons.csv', sep=';', encoding='cp1252', decimal=',')['montant'].sum())
print('tsv', pd.read_csv('tabs.tsv', sep='\\t').revenue.sum())
print('xlsx', pd.read_excel('book.xlsx', sheet_name='Sales').revenue.sum())
print('json', pd.read_json('records.json').revenue.sum())
print('jsonl', pd.read_json('lines.jsonl', lines=True).revenue.sum())
print('parquet', pd.read_parquet('table.parquet').revenue.sum())
print('sqlite', sqlite3.connect('shop.sqlite').execute('select sum(quantity) from orders').fetchone()[0])
print('images', [Image.open(f'picture.{s}').size for s in ('png', 'jpg', 'gif', 'webp')])
print('md', open('notes.md').read().splitlines()[0])
print('zip', zipfile.ZipFile('bundle.zip').namelist())
"""


def test_every_kind_of_file_is_previewed_and_read_by_code(app, mock, tmp_path):
    expected = make_fixtures(tmp_path)
    app.locator("#file-picker").set_input_files([str(tmp_path / name) for name in expected])
    for name in expected:
        shows(app, name)
    for name, needle in expected.items():
        file_row(app, name).locator(".ti-eye").click()
        shows(app, needle)
    problems = app.locator(".ly-problem:visible")
    assert problems.count() == 0, problems.all_inner_texts()

    file_row(app, "bundle.zip").get_by_role("button", name="Extract here").click()
    shows(app, "bundle/inner/data.csv")

    turn = answer(app, mock, "read everything", run_code(READ_EACH), text("Read them all."), marker="Read them all.")
    for line in ("csv 4.0", "tsv 60.75", "xlsx 60.75", "json 60.75", "jsonl 60.75", "parquet 60.75", "sqlite 10",
                 "images [(40, 30), (40, 30), (40, 30), (40, 30)]", "md # Findings", "zip ['inner/data.csv']"):
        assert line in turn, f"{line!r} not in the turn: {turn[-1500:]}"


def test_files_that_cannot_be_used_say_why(app, mock, tmp_path):
    (tmp_path / "empty.csv").write_bytes(b"")
    (tmp_path / "binary.csv").write_bytes(b"\x00\x01\x02\x03binary\x00" * 200)
    (tmp_path / "broken.csv").write_bytes(b"id,name\n1," + bytes(range(128, 256)) * 40 + b"\n")
    (tmp_path / "fine.csv").write_text("a\n1\n")
    app.locator("#file-picker").set_input_files([str(tmp_path / n) for n in ("empty.csv", "binary.csv", "broken.csv", "fine.csv")])
    shows(app, "empty.csv: empty.csv is empty")
    shows(app, "binary.csv: binary.csv holds binary data, not text")
    shows(app, "broken.csv: broken.csv is in no text encoding that could be recognised")
    turn = answer(app, mock, "read the good one", run_code("import pandas as pd\nprint('rows', len(pd.read_csv('fine.csv')))"),
                  text("One row."), marker="One row.")
    assert "rows 1" in turn


def test_a_csv_code_wrote_downloads_as_written_or_with_formulas_as_text(app, mock):
    code = (
        "import pandas as pd\n"
        "pd.DataFrame({'note': ['=HYPERLINK(\"http://exfil.example/\")', '+44 20 7946'], 'n': [-5, 2]})"
        ".to_csv('outputs/risky.csv', index=False)"
    )
    answer(app, mock, "write it", run_code(code), text("Written."), marker="Written.")
    with app.expect_download() as plain:
        app.get_by_role("button", name="Download risky.csv", exact=False).click()
    with open(plain.value.path()) as saved:
        assert saved.read().splitlines() == ["note,n", '"=HYPERLINK(""http://exfil.example/"")",-5', "+44 20 7946,2"]
    with app.expect_download() as escaped:
        app.get_by_role("button", name="For a spreadsheet: formulas as text").click()
    assert escaped.value.suggested_filename == "risky.csv"
    with open(escaped.value.path()) as saved:
        assert saved.read().splitlines() == ["note,n", '"\'=HYPERLINK(""http://exfil.example/"")",-5', "'+44 20 7946,2"]


def notebook_and_report(app):
    """The conversation saved as a notebook (parsed) and as a report (its HTML)."""
    import nbformat

    saved = {}
    for label in ("Notebook (.ipynb)", "Report (.html)"):
        with app.expect_download() as download:
            app.get_by_role("button", name=label).click()
        saved[label] = open(download.value.path(), "rb").read().decode()
    return nbformat.reads(saved["Notebook (.ipynb)"], as_version=4), saved["Report (.html)"]


def pictures_in(notebook) -> list:
    return [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs if "image/png" in o.get("data", {})]


PLOTTING = """\
import seaborn as sns, networkx as nx, sympy as sp, pandas as pd, matplotlib.pyplot as plt
frame = pd.DataFrame({"group": list("aabbb"), "value": [1, 2, 3, 4, 5]})
sns.barplot(data=frame, x="group", y="value")
plt.show()
graph = nx.path_graph(4)
nx.draw(graph, with_labels=True)
plt.show()
x = sp.symbols("x")
print("integral", sp.integrate(x**2, (x, 0, 3)), "edges", graph.number_of_edges())
"""


def test_seaborn_networkx_and_sympy_load_on_first_import_and_draw_into_the_exports(app, mock):
    answer(app, mock, "Chart it", run_code(PLOTTING), text("Both drawn."), marker="Both drawn.")
    assert "integral 9 edges 3" in message_texts(app)[-1]
    assert app.locator(".chat-message img").count() >= 2, "the seaborn and networkx figures were not shown"
    told = mock.chat_requests()[0].body["messages"][0]["content"]
    assert all(name in told for name in ("seaborn", "networkx", "sympy")), "the system prompt does not list them"

    notebook, report = notebook_and_report(app)
    assert len(pictures_in(notebook)) >= 2
    assert report.count("data:image/png;base64,") >= 2 and "integral 9" in report


def test_an_hvplot_chart_draws_live_in_the_chat_and_as_a_picture_in_the_exports(app, mock):
    code = "import pandas as pd, hvplot.pandas\npd.DataFrame({'day': range(6), 'visits': [3, 5, 4, 8, 6, 9]}).hvplot.line(x='day', y='visits', title='visits by day')"
    answer(app, mock, "Plot visits", run_code(code), text("Visits rose."), marker="Visits rose.")
    app.locator(".bk-Canvas, .bk-Figure canvas, canvas").first.wait_for(timeout=30_000)
    told = mock.chat_requests()[0].body["messages"][0]["content"]
    assert "hvplot" in told and "statsmodels" in told

    notebook, report = notebook_and_report(app)
    assert pictures_in(notebook), "the notebook has no picture of the live plot"
    assert "data:image/png;base64," in report


PLOTLY_CHARTS = """\
import pandas as pd, plotly.express as px
sales = pd.DataFrame({"month": ["Jan", "Feb", "Mar"], "sales": [3, 5, 4]})
px.scatter(x=[1, 2, 3, 4], y=[2, 1, 4, 3], title="points").show()
px.bar(sales, x="month", y="sales", title="sales by month")
"""


def test_a_plotly_chart_draws_live_with_the_sites_plotly_js_and_into_the_exports(app, mock):
    assert app.evaluate("typeof window.Plotly") == "undefined", "plotly.js was loaded before any chart needed it"
    answer(app, mock, "Chart sales", run_code(PLOTLY_CHARTS), text("Sales peaked in Feb."), marker="Sales peaked in Feb.")
    charts = app.locator(".js-plotly-plot")
    expect(charts).to_have_count(2, timeout=60_000)
    expect(charts.nth(0).locator(".scatterlayer .point")).to_have_count(4)
    expect(charts.nth(1).locator(".barlayer .point")).to_have_count(3)
    expect(charts.nth(1).locator(".gtitle")).to_have_text("sales by month")
    assert app.locator(".modebar-btn--logo").count() == 0, "the 'Produced with Plotly' link is shown"
    from buildsite.pins import load_pins

    site_copy = f"{app.evaluate('location.origin')}/vendor/plotly/plotly.min.js"
    assert any(request.url == site_copy for request in app.requests), "plotly.js did not come from the site"
    assert app.evaluate("window.Plotly.version") == load_pins().plotly_js.version
    told = mock.chat_requests()[0].body["messages"][0]["content"]
    assert "plotly" in told, "the system prompt does not list plotly"
    assert "[interactive plotly figure: 1 bar trace" in json.dumps(mock.chat_requests()[1].body["messages"])

    notebook, report = notebook_and_report(app)
    shown = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs if "application/vnd.plotly.v1+json" in o.get("data", {})]
    assert len(shown) == 2 and all("image/png" in o["data"] for o in shown), "the notebook lacks the plotly MIME or its picture"
    assert shown[1]["data"]["application/vnd.plotly.v1+json"]["layout"]["title"]["text"] == "sales by month"
    assert report.count("data:image/png;base64,") == 2 and report.count("A static copy of an interactive plotly chart") == 2


PLOTLY_FORBIDDEN = """\
import plotly.express as px, plotly.graph_objects as go
from IPython.display import display
display(go.Figure(go.Scattergeo(lat=[48.85], lon=[2.35])))
display(px.bar(x=["a", "b"], y=[1, 2], title='<a href="http://exfil.example/">click</a>'))
print("both shown")
"""


def test_a_plotly_figure_with_a_map_or_a_link_is_refused_and_shown_as_text(app, mock):
    answer(app, mock, "Map it", run_code(PLOTLY_FORBIDDEN), text("Done."), marker="Done.")
    shows(app, "both shown")
    shows(app, "the plotly chart is not drawn: it holds scattergeo traces")
    shows(app, "the plotly chart is not drawn: its text '<a href=")
    assert app.locator(".js-plotly-plot").count() == 0, "a refused figure was drawn"
    notebook, report = notebook_and_report(app)
    outputs = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs]
    assert outputs and not any("application/vnd.plotly.v1+json" in o.get("data", {}) for o in outputs)
    assert "<a href=\"http://exfil.example" not in report
