"""The evaluation's question set and checkers (benchmarks/eval_questions.py), without a
browser: every expected answer computed from the generated data, and each checker taking
the right answer and refusing a wrong one."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import eval_data  # noqa: E402
import eval_questions  # noqa: E402


@pytest.fixture(scope="module")
def items(tmp_path_factory):
    folder = tmp_path_factory.mktemp("eval")
    eval_data.write(folder)
    return eval_questions.prepared(folder)


def right_answer(q) -> str:
    if q.kind == "number":
        value = q.expected
        shown = f"{value:,}" if isinstance(value, int) else f"{value:,.2f}"
        return f"After cleaning the data, the answer is **{shown}**."
    if q.kind == "category":
        return f"It is **{q.accepted[0]}**."
    if q.kind == "cannot":
        return "This cannot be determined from the data: the files have no such column."
    return "Here is the chart."


def test_there_are_enough_questions_of_every_kind(items):
    assert len(items) >= 25
    kinds = {q.kind for q in items}
    assert kinds == {"number", "category", "chart", "cannot"}
    assert len({q.id for q in items}) == len(items)
    assert any(len(q.files) > 1 for q in items), "a question that joins two files"


def test_every_expected_answer_is_computed(items):
    for q in items:
        if q.kind in ("number", "category"):
            assert q.expected is not None and q.expected == q.expected, q.id  # not None, not NaN
            if q.kind == "number":
                assert isinstance(q.expected, (int, float)), q.id


def test_the_data_is_the_same_every_run(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    eval_data.write(a)
    eval_data.write(b)
    for name in ("orders.csv", "customers.csv", "products.json"):
        assert (a / name).read_bytes() == (b / name).read_bytes()
    assert "N/A" in (a / "orders.csv").read_text()  # it is messy
    assert '"1,' in (a / "orders.csv").read_text()  # thousands separators, quoted


def test_the_checker_takes_the_right_answer(items):
    for q in items:
        assert q.check(right_answer(q), figures=1 if q.kind == "chart" else 0) == "correct", (q.id, right_answer(q))


def test_the_checker_refuses_a_wrong_answer_and_one_without_a_number(items):
    for q in items:
        if q.kind == "number":
            off = q.expected * 1.5 + 7
            assert q.check(f"The answer is {off:,.2f}.") == "wrong", q.id
            assert q.check("I looked at the data and it is interesting.") == "wrong", q.id
        elif q.kind == "category":
            assert q.check("It is **Nothing-of-the-kind**.") == "wrong", q.id
            if q.choices:
                assert q.check("It is one of " + ", ".join(q.choices) + ".") == "wrong", q.id
        elif q.kind == "chart":
            assert q.check("Here is the chart.", figures=0) == "wrong"
        elif q.kind == "cannot":
            invented = "The margin is 23.5% (estimated)." if q.id == 28 else "The average age is 41.2 years."
            assert q.check(invented) == "wrong", q.id
            assert q.check("It cannot be determined exactly, but it is about " + invented) == "wrong", q.id


def test_numbers_are_read_as_written():
    assert eval_questions.numbers_in("revenue of 726,077.23 and 8.75% from 400 orders, -3") == [726077.23, 8.75, 400.0, -3.0]
    assert eval_questions.numbers_in("order O0012 on 2024-03-05") == [2024.0, 3.0, 5.0]
