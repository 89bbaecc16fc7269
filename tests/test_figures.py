"""The figures of an answer, and which of them some output holds (agent/_figures.py)."""

from __future__ import annotations

import pytest

from localyst.agent._figures import Ledger, figures, numbers, prose


def written(text: str) -> list[str]:
    return [f.text for f in figures(text) if not f.trivial]


def values(text: str) -> list[float]:
    return [f.value for f in figures(text) if not f.trivial]


def tied(answer: str, *outputs: str, given: tuple[str, ...] = (), cells: tuple[list[float], ...] = ()) -> dict[str, str | None]:
    """Each figure of the answer and the output text of the number it ties (None: not computed)."""
    ledger = Ledger(list(outputs) or [""] * len(cells), given, cells)
    return {t.figure.text: (t.computed.text if t.computed else None) for t in ledger.ties(prose(answer))}


# ---------------------------------------------------------------- reading figures


@pytest.mark.parametrize(
    "text, found",
    [
        ("The total is 12,345 and the mean 3.14.", [12345.0, 3.14]),
        ("The total is 12 345.", [12345.0]),
        ("It fell by -3.25 (or −3.25).", [-3.25, -3.25]),
        ("Up 45.7% on last year, or 45.7 percent.", [45.7, 45.7]),
        ("Revenue was $1.2k, then €30, then £1,250.50.", [1200.0, 30.0, 1250.5]),
        ("About 1.23 million rows, 2 bn in all, 3.4M here.", [1.23e6, 2e9, 3.4e6]),
        ("A rate of 1.5e-3.", [1.5e-3]),
        ("A rate of 1.5e-3 and 1,234,567.", [1.5e-3, 1234567.0]),
        ("Beyond a float: 1e999, then 12.5.", [12.5]),
    ],
)
def test_reads_the_figures_people_write(text: str, found: list[float]) -> None:
    assert values(text) == pytest.approx(found)


@pytest.mark.parametrize(
    "text",
    [
        "In Q3 the COVID-19 wave; version v1.2.3; column x2 and col_42.",
        "On 2024-01-31 and 31/01/2024 at 12:30.",
        "It has 3 columns and 10 rows; the top 5.",
        "Sales in 2023 beat 1999.",
        "1. first\n2. second\n3) third",
        "Run `df.head(20)` or\n```python\nx = 12345\n```\nthen stop.",
    ],
)
def test_leaves_out_what_is_not_a_figure(text: str) -> None:
    assert written(prose(text)) == []


def test_small_numbers_with_a_unit_are_figures() -> None:
    assert written("Only 5% of rows, $3 each, 2.5 on average") == ["5%", "$3", "2.5"]


def test_positions_point_at_the_figure_in_the_text() -> None:
    text = "Mean: `x.mean()` gives 3.14, and 12,345 in all."
    for figure in figures(prose(text)):
        assert text[figure.start : figure.end] == figure.text
    assert written(prose(text)) == ["3.14", "12,345"]


def test_numbers_of_an_output() -> None:
    text = "   total\n0  1.234568e+06\n1  -3.5\nrate 45.7%\nname col_2 Q3 1,234,567"
    assert [v for v, _ in numbers(text)] == pytest.approx([0, 1234568.0, 1, -3.5, 45.7, 1234567])


# ---------------------------------------------------------------- tying them to outputs


def test_a_figure_ties_the_output_that_holds_it() -> None:
    assert tied("The total is 12,345.", "12345\n") == {"12,345": "12345"}
    assert tied("The total is 12,345.", "12345.0\n") == {"12,345": "12345.0"}


def test_rounding_the_way_people_write() -> None:
    assert tied("Pi is about 3.14.", "3.14159") == {"3.14": "3.14159"}
    assert tied("That is 45.7% of them.", "0.4567") == {"45.7%": "0.4567"}
    assert tied("That is 45.67%.", "45.67") == {"45.67%": "45.67"}
    assert tied("About 1.23 million rows.", "1234567") == {"1.23 million": "1234567"}
    assert tied("Revenue was $1.2k.", "1234.5") == {"$1.2k": "1234.5"}
    assert tied("It fell by 3.2 points.", "-3.2") == {"3.2": "-3.2"}
    assert tied("The mean is 1.23e6.", "1.234568e+06") == {"1.23e6": "1.234568e+06"}


def test_rounding_does_not_tie_what_is_off() -> None:
    assert tied("Pi is about 3.15.", "3.14159") == {"3.15": None}
    assert tied("That is 46.7% of them.", "0.4567") == {"46.7%": None}
    assert tied("About 1.24 million rows.", "1234567") == {"1.24 million": None}
    assert tied("The total is 12,346.", "12345") == {"12,346": None}
    assert tied("Exactly 3.14159265.", "3.14159") == {"3.14159265": None}  # more digits than computed


def test_the_zeros_of_a_whole_number_count_as_written() -> None:
    assert tied("About 12,000 rows.", "12345") == {"12,000": None}
    assert tied("About 12k rows, or 12 thousand.", "12345") == {"12k": "12345", "12 thousand": "12345"}


def test_a_single_significant_digit_ties_only_an_equal_number() -> None:
    assert tied("Roughly 0.5 of them.", "0.46") == {"0.5": None}
    assert tied("Roughly 0.5 of them.", "0.5") == {"0.5": "0.5"}
    assert tied("About 300 rows.", "312") == {"300": None}


def test_a_table_s_cells_are_outputs_too() -> None:
    assert tied("The largest is 98.76.", cells=([1, 2.5, 98.7612],)) == {"98.76": "98.7612"}


def test_the_latest_output_wins() -> None:
    ledger = Ledger(["total 42.5", "mean 42.5"])
    [tie] = ledger.ties("It is 42.5.")
    assert tie.computed is not None and tie.computed.source == 1


def test_given_numbers_are_left_alone_unless_computed() -> None:
    asked = ("Which customers spent over 250?", "df[df.spent > 250]")
    assert tied("12 customers spent over 250.", "12", given=asked) == {"12": "12"}
    assert tied("Over 250: 17 of them.", "12", given=asked) == {"17": None}


def test_an_invented_figure_is_uncomputed_and_a_computed_one_is_not() -> None:
    ledger = Ledger(["12345\n"], given=["What is the total?"])
    missing = ledger.uncomputed("The total is **12,345**, up 12.5% on 2023 (see `df.total.sum()`).")
    assert [f.text for f in missing] == ["12.5%"]
    assert ledger.uncomputed("The total is 12,345.") == []


# ---------------------------------------------------------------- read from the record


def test_the_record_says_which_cell_each_figure_came_from() -> None:
    from localyst.agent import AssistantText, CodeDelta, CodeFinished, CodeStarted
    from localyst.transcript import Source, Transcript, provenance

    table = {"columns": ["v"], "dtypes": ["float64"], "index": [0], "index_name": None, "rows": [[98.7612]], "shape": [1, 1], "truncated": False}
    record = Transcript()
    record.add_user("Use a threshold of 250.")
    record.apply(CodeDelta("cell-1-0", "print('never ran')"))  # written, never run: a cell, no output
    record.apply(CodeStarted("cell-2-0", "df.describe()"))
    record.apply(CodeFinished("cell-2-0", {"outputs": [{"kind": "display", "data": {"text/plain": "v", "application/vnd.localyst.table+json": table}, "metadata": {}}], "error": None, "duration": 0.1, "files": []}))
    record.apply(AssistantText("The top is 98.76."))
    record.add_user("And then?")
    record.apply(CodeStarted("cell-1-0", "print(4321)"))
    record.apply(CodeFinished("cell-1-0", {"outputs": [{"kind": "stream", "name": "stdout", "text": "4321\n"}], "error": None, "duration": 0.1, "files": []}))

    first = provenance(record, 0)
    assert first.sources == [Source(0, 1, "df.describe()")]
    [top] = first.ledger.ties("The top is 98.76, over 250, not 4,321.")[:1]
    assert top.computed is not None and first.sources[top.computed.source].index == 1
    assert [t.figure.text for t in first.ledger.ties("over 250, not 4,321") if t.computed is None] == ["4,321"]  # a later turn's cell is not this one's
    second = provenance(record, 1)
    assert second.sources[-1] == Source(1, 0, "print(4321)")
    assert second.ledger.uncomputed("not 4,321 but 98.76") == []
    assert first.ledger.uncomputed("A table of 1 row") == [] and [f.text for f in first.ledger.uncomputed("of 11 rows")] == ["11"]


def test_the_report_marks_the_figures_as_the_chat_does() -> None:
    from localyst.agent import AssistantText, CodeFinished, CodeStarted
    from localyst.transcript import UNCOMPUTED, Transcript, to_html_report

    record = Transcript()
    record.add_user("Total?")
    record.apply(CodeStarted("cell-1-0", "print(12000 + 345)"))
    record.apply(CodeFinished("cell-1-0", {"outputs": [{"kind": "stream", "name": "stdout", "text": "12345\n"}], "error": None, "duration": 0.1, "files": []}))
    record.apply(AssistantText("It is 12,345, up 12.5% <b>really</b>."))
    report = to_html_report(record, title="T")
    assert "<span class='figure' title='From the output of a cell: print(12000 + 345) → 12345.'>12,345</span>" in report
    assert f"<mark class='uncomputed' title='{UNCOMPUTED}'>12.5%<sup>?</sup></mark>" in report
    assert "&lt;b&gt;really&lt;/b&gt;" in report and "<b>really" not in report
