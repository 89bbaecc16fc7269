"""Drives run.mjs: one long-lived Pyodide under Node that runs Python snippets on request."""

from __future__ import annotations

import json
import queue
import shutil
import subprocess
import threading
from collections import deque
from pathlib import Path
from typing import Any, Sequence

RUNNER = Path(__file__).with_name("run.mjs")


class SnippetFailed(AssertionError):
    """A snippet raised inside Pyodide; the message carries its Python traceback."""


class PyodideNode:
    """``run(code)`` returns the value of the snippet's last expression (as JSON data)."""

    def __init__(self, pyodide_dir: Path, packages: Sequence[str], start_timeout: float = 180) -> None:
        node = shutil.which("node")
        if node is None:
            raise RuntimeError("Node.js 18+ is needed for the Pyodide tests")
        self._process = subprocess.Popen(
            [node, str(RUNNER), str(pyodide_dir), *packages],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._answers: queue.Queue[str] = queue.Queue()
        self.stderr: deque[str] = deque(maxlen=200)
        threading.Thread(target=self._pump, args=(self._process.stdout, self._answers.put), daemon=True).start()
        threading.Thread(target=self._pump, args=(self._process.stderr, self.stderr.append), daemon=True).start()
        self.ready = self._next(start_timeout)

    @staticmethod
    def _pump(stream: Any, sink: Any) -> None:
        for line in stream:
            sink(line.rstrip("\n"))

    def _next(self, timeout: float) -> dict[str, Any]:
        try:
            return json.loads(self._answers.get(timeout=timeout))
        except queue.Empty:
            raise TimeoutError(f"no answer from Pyodide in {timeout} s; its stderr:\n" + "\n".join(self.stderr)) from None

    def run(self, code: str, timeout: float = 120, *, interrupt_after: float | None = None) -> Any:
        """`interrupt_after`: raise KeyboardInterrupt in the snippet after that many seconds
        (through Pyodide's interrupt buffer, from another thread), if it is still running."""
        request: dict[str, Any] = {"code": code}
        if interrupt_after is not None:
            request["interrupt_after"] = interrupt_after
        self._process.stdin.write(json.dumps(request) + "\n")
        self._process.stdin.flush()
        answer = self._next(timeout)
        if not answer["ok"]:
            raise SnippetFailed(f"{answer['error']}: {answer['message']}\n{answer['traceback']}")
        return answer["value"]

    def close(self) -> None:
        self._process.stdin.close()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
