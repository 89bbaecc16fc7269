"""The in-page model against llama.cpp's server, with the same weights on the same machine,
in the same run: time to first token and generation tokens/s (target: in-page ≥ 0.5× the server).

    python build.py && python benchmarks/inpage.py [--model qwen-0.5b] [--threads 1,2]

The page side is the real site in headless Chromium on 127.0.0.1: site/model-worker.js keeps
the GGUF in OPFS, loads it with wllama (llama.cpp in WebAssembly) and answers the same prompt
as benchmarks/llama_server.py (greedy, 128 tokens at most, a context of 8,192). Each thread
count is measured on both sides, one after the other, with nothing else of the page running.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from benchmarks.llama_server import PROMPT, measure  # noqa: E402
from tests._models import fetch  # noqa: E402
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, SiteServer, wait_for  # noqa: E402

N_CTX = 8192
MAX_TOKENS = 128

# In the page: the file from the input, into the model worker; loaded; one reply, timed.
RUN = """async ([threads, nCtx, maxTokens, prompt]) => {
  const file = document.getElementById("bench-model").files[0];
  const worker = new Worker("model-worker.js", { type: "module" });
  const ask = (message, until) => new Promise((resolve, reject) => {
    const hear = ({ data }) => {
      if (data.type === "error") reject(new Error(data.message));
      else if (until(data)) { worker.removeEventListener("message", hear); resolve(data); }
    };
    worker.addEventListener("message", hear);
    worker.postMessage(message);
  });
  let started = performance.now();
  await ask({ type: "keep", file, max_bytes: 3e9 }, (d) => d.type === "kept");
  const keptMs = performance.now() - started;
  started = performance.now();
  const loaded = await ask({ type: "load", n_ctx: nCtx, n_threads: threads }, (d) => d.type === "loaded");
  const loadMs = performance.now() - started;
  const done = await ask({ type: "chat", id: 1, messages: [{ role: "user", content: prompt }], max_tokens: maxTokens, temperature: 0 }, (d) => d.type === "done");
  worker.terminate();
  return { keptMs, loadMs, threads: loaded.threads, ...done };
}"""


def in_page(model: Path, threads: int, site_dir: Path = ROOT / "_site") -> dict:
    from playwright.sync_api import sync_playwright

    site = SiteServer(site_dir)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page()
            page.goto(site.url + "?snapshots=off")
            wait_for(page, "window.localyst && (window.localyst.ready || window.localyst.error)", 300_000)  # the app idle
            page.evaluate("() => { const i = document.createElement('input'); i.type = 'file'; i.id = 'bench-model'; i.hidden = true; document.body.append(i); }")
            page.set_input_files("#bench-model", str(model))
            out = page.evaluate(RUN, [threads, N_CTX, MAX_TOKENS, PROMPT])
            browser.close()
    finally:
        site.stop()
    generating = (out["ms"] - out["first_token_ms"]) / 1000
    out["tok_s"] = (out["tokens"] - 1) / generating if generating > 0 else 0.0
    out["ttft"] = out["first_token_ms"] / 1000
    print(f"in the page, {out['threads']} thread(s): kept in OPFS in {out['keptMs'] / 1000:.1f} s, loaded in {out['loadMs'] / 1000:.1f} s; "
          f"ttft {out['ttft']:.2f} s for {out['prompt_tokens']} prompt tokens, generated {out['tokens']} tok at {out['tok_s']:.1f} tok/s")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="qwen-0.5b")
    parser.add_argument("--threads", default="1,2", help="thread counts to compare, e.g. 1,2")
    parser.add_argument("--json", help="write the numbers here too")
    parser.add_argument("--site", type=Path, action="append",
                        help="a built site to measure (repeat to compare builds, e.g. two wllama versions); default _site")
    args = parser.parse_args()
    model = fetch(args.model)
    rows = []
    for threads in [int(t) for t in args.threads.split(",")]:
        server = measure(args.model, threads)
        for site_dir in args.site or [ROOT / "_site"]:
            page = in_page(model, threads, site_dir)
            rows.append({"threads": threads, "site": str(site_dir), "server": server, "page": page})
            print(f"{threads} thread(s), {site_dir.name}: in-page / llama-server tok/s = {page['tok_s']:.1f} / {server['tok_s']:.1f} = "
                  f"{page['tok_s'] / server['tok_s']:.2f}×; ttft {page['ttft']:.2f} s / {server['ttft']:.2f} s = {page['ttft'] / server['ttft']:.1f}×")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
