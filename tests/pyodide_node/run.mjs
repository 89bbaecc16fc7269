// Runs Python snippets inside Pyodide under Node, one JSON request per stdin line.
//
//   node tests/pyodide_node/run.mjs <pyodide-dir> [package ...]
//
// <pyodide-dir> is the built site's pyodide/ folder (core files, wheels and the site-level
// pyodide-lock.json). The packages are loaded by their lock names before the first snippet.
// Each stdin line {"code": "..."} gets one stdout line: {"ok": true, "value": <the
// snippet's last expression, as JSON>, "seconds": s} or {"ok": false, "error", "message",
// "traceback"}. Top-level await works in snippets; they share one namespace. Python's own output goes to stderr, so
// stdout carries only answers. The first stdout line is {"ready": true, "seconds": s}.
//
// A request may add "interrupt_after": s. A helper thread then writes 2 into Pyodide's
// interrupt buffer after s seconds unless the snippet has finished: this thread cannot do
// it itself, as timers do not fire while Python holds it.
import { createInterface } from "node:readline";
import { Worker } from "node:worker_threads";
import path from "node:path";
import { pathToFileURL } from "node:url";

const [dir, ...packages] = process.argv.slice(2);
if (!dir) {
  process.stderr.write("usage: node run.mjs <pyodide-dir> [package ...]\n");
  process.exit(2);
}
const indexURL = path.resolve(dir) + path.sep;
const started = performance.now();
const { loadPyodide } = await import(pathToFileURL(indexURL + "pyodide.mjs").href);
const toStderr = (line) => process.stderr.write(line + "\n");
const pyodide = await loadPyodide({
  indexURL,
  lockFileURL: indexURL + "pyodide-lock.json",
  stdout: toStderr,
  stderr: toStderr,
});
// [0]: Pyodide's interrupt buffer (2 = SIGINT); [1]: set to 1 when the snippet is done.
const interrupt = new Int32Array(new SharedArrayBuffer(8));
pyodide.setInterruptBuffer(interrupt);
if (packages.length) await pyodide.loadPackage(packages, { messageCallback: () => {} });

const runSnippet = pyodide.runPython(`
import json, time, traceback
from pyodide.code import eval_code_async

_namespace = {"__name__": "__snippet__"}

async def _run_snippet(code):
    started = time.perf_counter()
    try:
        value = await eval_code_async(code, _namespace)
        return json.dumps({"ok": True, "value": value, "seconds": time.perf_counter() - started}, default=repr)
    except BaseException as exc:
        return json.dumps({"ok": False, "error": type(exc).__name__, "message": str(exc),
                           "traceback": traceback.format_exc()})
_run_snippet
`);

const INTERRUPTER = `
const { workerData } = require("node:worker_threads");
const flags = new Int32Array(workerData.buffer);
if (Atomics.wait(flags, 1, 0, workerData.ms) === "timed-out") Atomics.store(flags, 0, 2);
`;

// Runs a snippet, interrupting it after `seconds` (if given and it is still running).
async function runWithInterrupt(code, seconds) {
  if (seconds == null) return runSnippet(code);
  Atomics.store(interrupt, 0, 0);
  Atomics.store(interrupt, 1, 0);
  const helper = new Worker(INTERRUPTER, { eval: true, workerData: { buffer: interrupt.buffer, ms: seconds * 1000 } });
  try {
    return await runSnippet(code);
  } finally {
    Atomics.store(interrupt, 1, 1);
    Atomics.notify(interrupt, 1);
    await new Promise((resolve) => helper.once("exit", resolve));
    Atomics.store(interrupt, 0, 0);
  }
}

console.log(JSON.stringify({ ready: true, seconds: (performance.now() - started) / 1000 }));
const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of lines) {
  if (!line.trim()) continue;
  let answer;
  try {
    const request = JSON.parse(line);
    answer = await runWithInterrupt(request.code, request.interrupt_after);
  } catch (err) {
    answer = JSON.stringify({ ok: false, error: "RunnerError", message: String(err), traceback: err.stack || "" });
  }
  console.log(answer);
}
process.exit(0); // undici keeps idle connections open for seconds; do not wait for them
