"""Evaluation: how well a model analyses data, in the real app.

In Debian's headless Chromium against the built site on 127.0.0.1, pointed at any
OpenAI-compatible endpoint (``--base-url``, ``--model``): for each question of
benchmarks/eval_questions.py, a new conversation (a fresh kernel, no files), the
question's files added through the file picker (made by benchmarks/eval_data.py in a
temporary folder, from a seed), the question sent, and the turn waited for (polling, at
most --timeout seconds) until Stop is gone. Then it reads the final answer (the model's
last text of the turn, not its code or the code's output), the figures the turn showed, the
number of model requests ("Sent to the model (N requests)"), the tokens (the turn's usage
line; "about" when the app had to estimate them) and the time from Enter to the end of the
turn, and scores it: correct, wrong, or no answer (no final text; the time ran out; or the
app stopped the turn on its budget — too many model requests or failed cells in a row — so
that the last text is the app's notice, not the model's answer).
The expected answers are computed by pandas in this CPython from the same files.

--self-check (which ignores --only and --limit) runs six questions against the scripted
model (tools/mock_model.py), which answers three through real run_python cells in the
page's kernel, draws the chart, answers one wrongly and writes three failing cells in a row
for the last: it proves the runner and its scoring, with no real model, and fails unless
the scores come out as scripted.

    python benchmarks/eval.py --base-url http://127.0.0.1:8080/v1 --model NAME [--only 1,9,17] [--limit 5]
        [--timeout 300] [--api-key-env OPENAI_API_KEY] [--json out.json] [--site _site]
    python benchmarks/eval.py --llama-server qwen-1.5b   # llama.cpp's server started here, the test suite's weights
    python benchmarks/eval.py --in-page MODEL.gguf       # the model inside the page
    python benchmarks/eval.py --self-check

The page calls the endpoint from the browser: a local server must allow the page's origin
(CORS; llama.cpp's llama-server does). Nothing here checks where requests go: with a
remote endpoint the questions (and what the model's code prints) are sent there.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import sys
import tempfile
import threading
import time
from collections import deque
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(HERE))

from buildsite import serve  # noqa: E402
from tests.browser.conftest import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    PAGE_HAS_TEXT,
    message_texts,
    run_code,
    send_message,
    start_new_conversation,
    wait_for,
)
from tests._models import MODELS, LlamaServer, fetch  # noqa: E402
from tools.mock_model import MockModel, echo, text  # noqa: E402

import eval_data  # noqa: E402
import eval_questions  # noqa: E402

LOAD_TIMEOUT_MS = 300_000

# The last message's parts, read through its shadow roots: the model's text panes outside
# code cells (the final answer is the last one), figures (images, canvases), and the
# turn's status lines.
READ_TURN = """(el) => {
  const panes = [], status = [];
  let figures = 0;
  const text = (node) => {
    let out = "";
    if (node.shadowRoot) out += text(node.shadowRoot);
    for (const child of node.childNodes) {
      if (child.nodeType === 3) out += child.textContent;
      else if (child.nodeType === 1 && child.tagName !== "STYLE" && child.tagName !== "SCRIPT") out += text(child);
    }
    return out;
  };
  const walk = (node, inCell) => {
    if (node.nodeType !== 1 && node.nodeType !== 11) return;
    if (node.nodeType === 1) {
      const cls = node.classList;
      if (cls.contains("ly-code")) inCell = true;
      if (node.tagName === "IMG" || node.tagName === "CANVAS") figures += 1;
      if (cls.contains("ly-status")) status.push(node.textContent);
      if (cls.contains("markdown") && !inCell) { panes.push(text(node)); return; }
      if (node.tagName === "H3") status.push(node.textContent);
    }
    if (node.shadowRoot) walk(node.shadowRoot, inCell);
    for (const child of node.children || []) walk(child, inCell);
  };
  walk(el, false);
  return {panes, figures, status};
}"""
TOKENS = re.compile(r"tokens: (about )?([\d,]+) sent · ([\d,]+) received")
REQUESTS = re.compile(r"Sent to the model \((\d+) requests?\)")
#: How the app's budget notices begin (localyst.agent's Budget): the turn ended without an answer.
BUDGET_STOP = "Stopped after "


def serve_site(root: Path) -> tuple[serve.SiteServer, str]:
    httpd = serve.SiteServer(("127.0.0.1", 0), serve.make_handler(root))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, f"http://127.0.0.1:{httpd.server_address[1]}/"


def page_has(page, needle: str) -> bool:
    return page.evaluate(f"({PAGE_HAS_TEXT})({json.dumps(needle)})")


def add_files(page, folder: Path, names: tuple[str, ...]) -> None:
    page.locator("#file-picker").set_input_files([str(folder / name) for name in names])
    deadline = time.monotonic() + 60
    while not all(page.locator(".ly-file", has_text=name).count() for name in names):
        if time.monotonic() > deadline:
            raise RuntimeError(f"the files panel never listed {names}")
        time.sleep(0.25)


def read_turn(page) -> dict:
    parts = page.locator(".chat-message").last.evaluate(READ_TURN)
    status = " ".join(parts["status"])
    tokens = TOKENS.search(status)
    requests = REQUESTS.search(status)
    final = next((p.strip() for p in reversed(parts["panes"]) if p.strip()), "")
    return {
        "answer": final,
        "figures": parts["figures"],
        "steps": int(requests.group(1)) if requests else 0,
        "tokens_sent": int(tokens.group(2).replace(",", "")) if tokens else None,
        "tokens_received": int(tokens.group(3).replace(",", "")) if tokens else None,
        "tokens_estimated": bool(tokens and tokens.group(1)),
    }


def ask(page, question: eval_questions.Question, folder: Path, timeout: float) -> dict:
    """One question in a new conversation; the turn read and scored."""
    start_new_conversation(page)
    add_files(page, folder, question.files)
    before = len(message_texts(page))
    stop = page.get_by_role("button", name="Stop")
    sent = time.perf_counter()
    send_message(page, question.text)
    deadline, quiet, timed_out = time.monotonic() + timeout, 0, False
    while True:
        time.sleep(0.5)  # each look walks the page: not too often, it shares the CPU
        if len(message_texts(page)) >= before + 2 and not stop.is_visible():
            quiet += 1
            if quiet >= 2:
                break
        else:
            quiet = 0
        if time.monotonic() > deadline:
            timed_out = True
            if stop.is_visible():
                stop.click()
                stop.wait_for(state="hidden", timeout=60_000)
            break
    seconds = time.perf_counter() - sent
    turn = read_turn(page)
    stopped = "time" if timed_out else "budget" if turn["answer"].startswith(BUDGET_STOP) else ""
    if stopped or not turn["answer"] and not (question.kind == "chart" and turn["figures"]):
        score = "no answer"
    else:
        score = question.check(turn["answer"], turn["figures"])
    return {"id": question.id, "kind": question.kind, "question": question.text, "expected": question.summary(),
            "score": score, "seconds": round(seconds, 2), "timed_out": timed_out, "stopped": stopped, **turn}


def open_app(page, site_url: str, base_url: str, model: str, api_key: str | None, model_file: Path | None = None) -> None:
    """The app pointed at the endpoint; with ``model_file``, that GGUF picked for the in-page model."""
    from urllib.parse import urlencode

    page.goto(site_url + "?" + urlencode({"base_url": base_url, "model": model, "snapshots": "off"}))
    wait_for(page, "window.localyst && (window.localyst.ready || window.localyst.error)", LOAD_TIMEOUT_MS)
    error = page.evaluate("window.localyst.error")
    if error:
        raise RuntimeError(f"the app failed to load: {error}")
    wait_for(page, f"({PAGE_HAS_TEXT})('Python kernel: ready')", LOAD_TIMEOUT_MS)
    if api_key:
        page.get_by_placeholder("not needed for local servers").fill(api_key)
    if model_file:
        page.set_input_files("#model-picker", str(model_file))
        wait_for(page, f"({PAGE_HAS_TEXT})('is loaded and kept in this browser')", LOAD_TIMEOUT_MS)


def ask_all(page, site_url: str, questions, *, base_url: str, model: str, timeout: float, folder: Path,
            api_key: str | None = None, before_each=None, model_file: Path | None = None) -> list[dict]:
    """The questions in one page (the app opened at ``site_url``), each in a new conversation."""
    open_app(page, site_url, base_url, model, api_key, model_file)
    results = []
    for question in questions:
        if before_each:
            before_each(question)
        try:
            result = ask(page, question, folder, timeout)
        except Exception as exc:  # the page broke: say so, and go on with the next
            result = {"id": question.id, "kind": question.kind, "question": question.text,
                      "expected": question.summary(), "score": "no answer", "error": f"{type(exc).__name__}: {exc}"[:500]}
        results.append(result)
        print(f"  {result['id']:>3} {result['score']:<9} {result.get('seconds', 0):6.1f} s  "
              f"{result.get('steps', 0)} steps  {result.get('answer', result.get('error', ''))[:70]!r}", flush=True)
    return results


def run(questions, *, site: Path, **options) -> list[dict]:
    """The questions in a fresh Chromium profile, against the site served on 127.0.0.1."""
    from playwright.sync_api import sync_playwright

    httpd, site_url = serve_site(site)
    try:
        with sync_playwright() as pw, tempfile.TemporaryDirectory(prefix="localyst-profile-") as profile:
            context = pw.chromium.launch_persistent_context(
                profile, executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True, viewport={"width": 1280, "height": 860}
            )
            try:
                page = context.pages[0] if context.pages else context.new_page()
                page.set_default_timeout(60_000)
                return ask_all(page, site_url, questions, **options)
            finally:
                context.close()
    finally:
        httpd.shutdown()


def table(results: list[dict]) -> str:
    lines = [f"{'id':>3}  {'kind':<8} {'score':<9} {'steps':>5} {'tokens':>8} {'time':>7}  expected / answer"]
    for r in results:
        tokens = "" if r.get("tokens_sent") is None else f"{'~' if r['tokens_estimated'] else ''}{r['tokens_sent'] + r['tokens_received']}"
        answer = " ".join((r.get("answer") or r.get("error") or "").split())[:60]
        lines.append(f"{r['id']:>3}  {r['kind']:<8} {r['score']:<9} {r.get('steps', 0):>5} {tokens:>8} "
                     f"{r.get('seconds', 0):>6.1f}s  {r['expected'][:24]} / {answer}")
    counts = {s: sum(r["score"] == s for r in results) for s in ("correct", "wrong", "no answer")}
    why = {s: sum(r.get("stopped") == s for r in results) for s in ("budget", "time")}
    lines.append(f"correct {counts['correct']}/{len(results)}, wrong {counts['wrong']}, no answer {counts['no answer']} "
                 f"(stopped by the app's budget {why['budget']}, by the time limit {why['time']})")
    return "\n".join(lines)


# ---------------------------------------------------------------- the self-check

CLEAN = """import pandas as pd
orders = pd.read_csv('orders.csv', dtype={'unit_price': str}, keep_default_na=False)
orders['quantity'] = pd.to_numeric(orders['quantity'], errors='coerce')
orders['unit_price'] = pd.to_numeric(orders['unit_price'].str.replace(',', ''), errors='coerce')
orders['revenue'] = orders['quantity'] * orders['unit_price']
"""
JOIN = "customers = pd.read_csv('customers.csv')\njoined = orders.merge(customers, on='customer_id', how='left')\n"


class ScriptedAnalyst(MockModel):
    """The mock model with a plan: each step a Reply, or a function of the messages sent
    (to answer with what the page's kernel printed)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.plan: deque = deque()

    def _next_reply(self, messages):
        with self._lock:
            step = self.plan.popleft() if self.plan else None
        if step is None:
            return echo(messages)
        return step(messages) if callable(step) else step


def _printed(messages) -> str:
    """What the last cell printed (the tool message's first line)."""
    tool = next(m for m in reversed(messages) if m.get("role") == "tool")
    content = tool.get("content")
    if isinstance(content, list):
        content = " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return str(content).strip().splitlines()[0]


SELF_CHECK = {
    # question id: (the plan, the score it must get)
    9: ([run_code(CLEAN + "print(round(orders.revenue.sum(), 2))"),
         lambda m: text(f"The total revenue is **{float(_printed(m)):,.2f}**.")], "correct"),
    17: ([run_code(CLEAN + JOIN + "print(joined.groupby('region').revenue.sum().idxmax())"),
          lambda m: text(f"The region with the highest revenue is **{_printed(m)}**.")], "correct"),
    27: ([run_code(CLEAN + JOIN + "import matplotlib.pyplot as plt\njoined.groupby('region').revenue.sum().plot.bar()\nplt.show()"),
          text("Here is total revenue by region.")], "correct"),
    28: ([text("The data cannot say: there is no cost column, so the profit margin cannot be determined.")], "correct"),
    1: ([run_code(CLEAN + "print(len(orders.drop_duplicates('customer_id')))"),
         lambda m: text(f"There are **{_printed(m)}** orders.")], "wrong"),
    # three failing cells in a row: the app stops the turn, and its notice is no answer
    2: ([run_code("1 / 0"), run_code("int('x')"), run_code("[][1]")], "no answer"),
}


def self_check(items: list, run_questions) -> list[dict]:
    """The SELF_CHECK questions of ``items`` against the scripted analyst (with a key, so that
    the key's way into the page is checked too); ``run_questions(chosen, **options)`` asks them."""
    chosen = [q for q in items if q.id in SELF_CHECK]
    key = "self-check-key"
    with ScriptedAnalyst(api_key=key) as mock:
        def before_each(question):
            mock.plan.clear()
            mock.plan.extend(SELF_CHECK[question.id][0])

        return run_questions(chosen, base_url=mock.base_url, model="mock-small", api_key=key, before_each=before_each)


def self_check_failures(results: list[dict], ids=SELF_CHECK) -> list[int]:
    """The self-check questions (of ``ids``) not scored as scripted (all if any is missing)."""
    if sorted(r["id"] for r in results) != sorted(ids):
        return sorted(ids)
    return [r["id"] for r in results if r["score"] != SELF_CHECK[r["id"]][1]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--site", type=Path, default=REPO / "_site")
    parser.add_argument("--base-url", help="the endpoint, e.g. http://127.0.0.1:8080/v1")
    parser.add_argument("--model", default="", help="the model id the endpoint expects")
    parser.add_argument("--in-page", type=Path, metavar="GGUF", help="the in-page model (llama.cpp in the tab) with this file")
    parser.add_argument("--llama-server", choices=sorted(MODELS), help="start llama.cpp's server (xllamacpp) with these weights "
                        "(tests/_models.py, fetched and checked) and its own chat template, for the run")
    parser.add_argument("--api-key-env", help="the name of an environment variable holding the endpoint's key")
    parser.add_argument("--only", help="question ids, comma-separated")
    parser.add_argument("--limit", type=int, help="at most this many questions")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per question")
    parser.add_argument("--seed", type=int, default=eval_data.SEED)
    parser.add_argument("--self-check", action="store_true", help="the scripted model: proves the runner and its scoring")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if not (args.site / "index.html").exists():
        sys.exit(f"no built site at {args.site}: run python build.py first")
    if args.in_page:
        from localyst.llm import IN_PAGE_URL

        args.base_url, args.model = IN_PAGE_URL, args.in_page.name
    if not args.self_check and not args.base_url and not args.llama_server:
        parser.error("--base-url is needed (or --llama-server, --in-page, or --self-check)")

    with contextlib.ExitStack() as stack:
        if args.llama_server:
            fetch(args.llama_server)
            server = stack.enter_context(LlamaServer(args.llama_server))
            args.base_url, args.model = server.base_url, server.model
        evaluate(args)


def evaluate(args: argparse.Namespace) -> None:
    """Make the data, ask the questions, print the table (and write the JSON)."""
    with tempfile.TemporaryDirectory(prefix="localyst-eval-") as tmp:
        folder = Path(tmp)
        eval_data.write(folder, args.seed)
        every = items = eval_questions.prepared(folder)
        if args.only:
            wanted = {int(i) for i in args.only.split(",") if i.strip()}
            items = [q for q in items if q.id in wanted]
        if args.limit:
            items = items[: args.limit]
        started = time.time()
        if args.self_check:
            model = "mock-small (self-check)"
            results = self_check(every, lambda chosen, **o: run(chosen, site=args.site, timeout=args.timeout, folder=folder, **o))
        else:
            model = args.model
            key = os.environ.get(args.api_key_env, "") if args.api_key_env else None
            results = run(items, site=args.site, base_url=args.base_url, model=args.model, timeout=args.timeout,
                          api_key=key, folder=folder, model_file=args.in_page)
    print(f"\nHow well {model} analyses: {len(results)} questions, one new conversation each, headless Chromium")
    print(table(results))
    if args.json:
        args.json.write_text(json.dumps({"model": model, "base_url": None if args.self_check else args.base_url,
                                         "seed": args.seed, "started": started, "results": results}, indent=2))
    if args.self_check:
        wrong = self_check_failures(results)
        if wrong:
            sys.exit(f"self-check failed: questions {wrong} were not scored as scripted")
        print("self-check passed: the scripted right answers scored correct, the wrong one wrong, the stopped one no answer")


if __name__ == "__main__":
    main()
