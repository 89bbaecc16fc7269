"""What marking an answer's figures costs when it is drawn, against drawing it unmarked.

Each answer drawn from the record reads the outputs of every cell up to it (the figures may
come from an earlier turn), so the cost grows with the conversation. This builds records of
10, 50 and 200 turns (each a cell printing a few numbers and showing a 50-row table, and an
answer of five figures) and times, for the last answer, the Markdown rendering alone (the
baseline) and the record read plus the marked rendering, in the same run.

    .venv/bin/python benchmarks/figures.py
"""

from __future__ import annotations

import html
import time

from localyst.agent import AssistantText, CodeFinished, CodeStarted
from localyst.transcript import Transcript, provenance
from localyst.ui._figures import AnswerText, marker
from localyst.ui._markdown import lock_down_markdown

ROWS = 50
REPEATS = 20


def record(turns: int) -> Transcript:
    transcript = Transcript()
    for number in range(turns):
        rows = [[f"r{i}", number * 1000 + i * 1.2345] for i in range(ROWS)]
        table = {"columns": ["name", "value"], "dtypes": ["object", "float64"], "index": list(range(ROWS)), "index_name": None,
                 "rows": rows, "shape": [ROWS, 2], "truncated": False}
        text = "\n".join(f"{r[0]} {r[1]}" for r in rows)
        transcript.add_user(f"Question {number}: what are the totals?")
        transcript.apply(CodeStarted("cell-1-0", f"df = load({number})\nprint(df.value.sum())\ndf"))
        outputs = [{"kind": "stream", "name": "stdout", "text": f"{sum(r[1] for r in rows)}\n"},
                   {"kind": "result", "data": {"text/plain": text, "application/vnd.localyst.table+json": table}, "metadata": {}}]
        transcript.apply(CodeFinished("cell-1-0", {"execution_count": number + 1, "outputs": outputs, "error": None, "duration": 0.1, "files": []}))
        transcript.apply(AssistantText(
            f"The total is **{sum(r[1] for r in rows):,.2f}**; the largest value is {rows[-1][1]:.2f}, "
            f"up 12.5% on last year; {ROWS} rows in all, about 3.4 million overall."
        ))
    return transcript


def best(work) -> float:
    times = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    lock_down_markdown()
    print(f"{'turns':>6} {'unmarked ms':>12} {'marked ms':>10} {'ratio':>6}")
    for turns in (10, 50, 200):
        transcript = record(turns)
        last = transcript.entries[-1]["text"]
        plain = best(lambda: AnswerText(last)._transform_object(last))

        def marked() -> str:
            pane = AnswerText(last, mark=marker(provenance(transcript, turns - 1)))
            return pane._transform_object(last)["object"]

        shown = html.unescape(marked())
        # (at 200 turns "3.4 million" rounds an earlier turn's total: tied, rightly)
        assert shown.count("ly-figure") >= 3 and "12.5%<sup>?</sup>" in shown, shown
        cost = best(marked)
        print(f"{turns:>6} {plain * 1000:>12.2f} {cost * 1000:>10.2f} {cost / plain:>6.1f}")


if __name__ == "__main__":
    main()
