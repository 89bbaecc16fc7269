"""benchmarks/eval.py end to end in Chromium: four questions of its self-check, the scripted
model answering through real cells in the page's kernel (a number right, a chart, a number
wrong, three failing cells that the app's budget stops), scored as scripted. The whole self-check is ``python benchmarks/eval.py --self-check``."""

from __future__ import annotations

import importlib.util
import sys

from tests.browser.conftest import REPO

sys.path.insert(0, str(REPO / "benchmarks"))
_spec = importlib.util.spec_from_file_location("localyst_eval", REPO / "benchmarks" / "eval.py")
evaluation = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(evaluation)


def test_the_evaluation_scores_the_scripted_answers(page, site, tmp_path):
    evaluation.eval_data.write(tmp_path)
    chosen = (9, 27, 1, 2)
    items = [q for q in evaluation.eval_questions.prepared(tmp_path) if q.id in chosen]
    results = evaluation.self_check(
        items, lambda chosen, **o: evaluation.ask_all(page, site.url, chosen, timeout=120, folder=tmp_path, **o)
    )
    assert evaluation.self_check_failures(results, chosen) == [], evaluation.table(results)
    by_id = {r["id"]: r for r in results}
    assert by_id[27]["figures"] >= 1
    assert by_id[2]["stopped"] == "budget" and by_id[2]["answer"].startswith("Stopped after 3 failed attempts"), by_id[2]
    assert all(r["steps"] >= 1 and r["tokens_sent"] for r in results)
