"""llama.cpp server speed on this machine: time to first token and generation tokens/s.

    python benchmarks/llama_server.py [qwen-0.5b|qwen-1.5b ...]

A ~300-token prompt, 128 generated tokens, 2 threads, the server's own `timings` when it reports them.
"""

from __future__ import annotations

import json
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests._models import LlamaServer, fetch  # noqa: E402

PROMPT = "Summarise what this Python does, line by line.\n\n" + "\n".join(
    f"total_{i} = sum(x * {i} for x in range({i}, {i + 40}))  # running total {i}" for i in range(14)
)


def measure(name: str, threads: int = 2) -> dict:
    """One run: time to first token (s, as the client sees it) and the server's own rates."""
    fetch(name)
    with LlamaServer(name, threads=threads) as server:
        body = json.dumps({
            "model": server.model, "max_tokens": 128, "temperature": 0, "stream": True,
            "messages": [{"role": "user", "content": PROMPT}],
            "ignore_eos": True,
        }).encode()
        req = urllib.request.Request(f"{server.base_url}/chat/completions", body, {"Content-Type": "application/json"})
        started = time.monotonic()
        first = None
        timings = {}
        with urllib.request.urlopen(req) as resp:
            for line in resp:
                if not line.startswith(b"data: ") or line.strip() == b"data: [DONE]":
                    continue
                chunk = json.loads(line[6:])
                delta = (chunk.get("choices") or [{}])[0].get("delta", {}) if chunk.get("choices") else {}
                if first is None and delta.get("content"):
                    first = time.monotonic() - started
                timings = chunk.get("timings") or timings
        total = time.monotonic() - started
    print(f"{name}: ttft {first:.2f} s (client), total {total:.1f} s; server: prompt {timings.get('prompt_n')} tok "
          f"at {timings.get('prompt_per_second', 0):.1f} tok/s, generated {timings.get('predicted_n')} tok "
          f"at {timings.get('predicted_per_second', 0):.1f} tok/s")
    return {"ttft": first, "prompt_tokens": timings.get("prompt_n"), "tokens": timings.get("predicted_n"),
            "tok_s": timings.get("predicted_per_second", 0.0)}


if __name__ == "__main__":
    for name in sys.argv[1:] or ["qwen-0.5b"]:
        measure(name)
