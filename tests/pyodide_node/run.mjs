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
// it itself, as timers do not fire while Python holds it. The helper is started once, before
// the first snippet: a worker created while Pyodide holds this thread may not start at all
// until Python lets go (seen on Node 20), and then the interrupt never comes.
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
// Shared with the helper: [0] Pyodide's interrupt buffer (2 = SIGINT); [1] 1 once the
// snippet is done; [2] the round, raised to arm the helper; [3] the delay in ms; [4] the
// last round the helper has finished with.
const flags = new Int32Array(new SharedArrayBuffer(20));
const interrupt = flags.subarray(0, 1);
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
for (let round = 0; ; ) {
  Atomics.wait(flags, 2, round);
  round = Atomics.load(flags, 2);
  if (Atomics.wait(flags, 1, 0, Atomics.load(flags, 3)) === "timed-out") Atomics.store(flags, 0, 2);
  Atomics.store(flags, 4, round);
  Atomics.notify(flags, 4);
}
`;
const helper = new Worker(INTERRUPTER, { eval: true, workerData: { buffer: flags.buffer } });
await new Promise((resolve, reject) => helper.once("online", resolve).once("error", reject));
helper.unref(); // it loops forever; the process ends with stdin

// Runs a snippet, interrupting it after `seconds` (if given and it is still running).
async function runWithInterrupt(code, seconds) {
  if (seconds == null) return runSnippet(code);
  Atomics.store(flags, 0, 0);
  Atomics.store(flags, 1, 0);
  Atomics.store(flags, 3, Math.round(seconds * 1000));
  const round = Atomics.add(flags, 2, 1) + 1;
  Atomics.notify(flags, 2);
  try {
    return await runSnippet(code);
  } finally {
    Atomics.store(flags, 1, 1);
    Atomics.notify(flags, 1);
    while (Atomics.load(flags, 4) !== round) Atomics.wait(flags, 4, Atomics.load(flags, 4), 1000);
    Atomics.store(flags, 0, 0); // an interrupt written as the snippet ended must not reach the next
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
