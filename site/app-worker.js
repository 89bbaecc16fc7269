// App worker bootstrap: loads Pyodide and the site's packages by name from the site's own
// lock file, then hands over to Python (localyst.ui), which builds the Panel app. Speaks
// Panel's pyodide-worker protocol with loader.js: render, patch, idle, rendered.
"use strict";

importScripts("pyodide/pyodide.js");

const siteRoot = new URL("./", self.location).href;
let pyodide = null;
// localyst.ui.worker once the app is drawn. Its functions are called directly, never through
// a shared global, so messages that arrive together each keep their own arguments.
let app = null;

let currentStage = "Starting";

function status(stage, detail, progress) {
  currentStage = stage;
  self.postMessage({ type: "status", stage, detail, progress });
}

function sendPatch(patch, buffers) {
  self.postMessage({ type: "patch", patch, buffers });
}

// The runtime's big files, and how far along the bar each one's arrival puts it.
const RUNTIME_FILES = { "pyodide.asm.wasm": 18, "python_stdlib.zip": 24, "pyodide-lock.json": 28 };

// Counts the package files as they arrive, so the progress bar moves with real work.
const packageProgress = { expected: 0, done: 0 };
const realFetch = self.fetch.bind(self);
self.fetch = async (input, init) => {
  const response = await realFetch(input, init);
  const url = input instanceof Request ? input.url : String(input);
  const name = url.split("?")[0].split("/").pop();
  if (name in RUNTIME_FILES) {
    status("Loading the Python runtime", name, RUNTIME_FILES[name]);
  } else if (/\.(whl|zip)$/.test(name) && packageProgress.expected > 0) {
    packageProgress.done += 1;
    const share = Math.min(1, packageProgress.done / packageProgress.expected);
    status("Loading packages", `${packageProgress.done} of ${packageProgress.expected} · ${name.split("-")[0]}`, 30 + 55 * share);
  }
  return response;
};

// The kernel worker starts with this one instead of after the app is drawn, so that both
// load Python at once. What it says before Python takes it over waits here.
const KERNEL_SCRIPT = "kernel-worker.js";
let earlyKernel = null;

function startKernelEarly() {
  const worker = new Worker(KERNEL_SCRIPT);
  const messages = [];
  worker.onmessage = worker.onerror = (event) => messages.push(event);
  earlyKernel = { worker, messages };
}

// Called once by localyst.kernel.client: the worker started early, if it runs that script.
self.takeEarlyKernel = (script) => {
  const early = earlyKernel;
  earlyKernel = null;
  if (early && script !== KERNEL_SCRIPT) early.worker.terminate();
  return early && script === KERNEL_SCRIPT ? early : null;
};

async function start(search) {
  startKernelEarly();
  status("Loading the Python runtime", "Pyodide 0.27.7", 5);
  pyodide = await loadPyodide({
    indexURL: siteRoot + "pyodide/",
    lockFileURL: siteRoot + "pyodide/pyodide-lock.json",
  });
  status("Loading packages", "resolving", 30);
  const failures = [];
  await pyodide.loadPackage(["localyst"], {
    messageCallback: (msg) => {
      const listed = /^Loading (.+)$/.exec(msg);
      if (listed) packageProgress.expected = listed[1].split(", ").length;
    },
    errorCallback: (msg) => failures.push(msg),
  });
  if (failures.length) {
    throw new Error(`Some packages could not be loaded from this site (pyodide/): ${failures.join("; ")}`);
  }
  status("Starting the app", "Panel", 88);
  pyodide.globals.set("sendPatch", sendPatch);
  pyodide.globals.set("page_search", search);
  pyodide.globals.set("panel_cdn_root", siteRoot + "vendor/panel/");
  const result = await pyodide.runPythonAsync(`
import os
import pyodide.ffi
# Panel 1.8 expects pyodide.ffi.jsnull, which only exists from Pyodide 0.28.
pyodide.ffi.jsnull = getattr(pyodide.ffi, "jsnull", object())
os.environ["PANEL_CDN_ROOT"] = panel_cdn_root
from localyst.ui.worker import render
await render(page_search)
`);
  const [docsJson, renderItems, rootIds] = result.toJs();
  result.destroy();
  status("Starting the app", "drawing", 95);
  // The page acts only on buttons that carry this token (see localyst.ui._actions).
  const actionToken = pyodide.pyimport("localyst.ui._actions").TOKEN;
  self.postMessage({ type: "render", docs_json: docsJson, render_items: renderItems, root_ids: rootIds, action_token: actionToken });
}

async function linkDocument() {
  app = pyodide.pyimport("localyst.ui.worker");
  app.link(sendPatch);
  self.postMessage({ type: "ready" });
}

async function applyPatch(patch) {
  try {
    app.apply_patch(patch);
  } finally {
    self.postMessage({ type: "idle" });
  }
}

async function receiveFiles(files) {
  await app.receive_files(files);
}

async function pageAction(msg) {
  await app.page_action(msg);
}

function reportFailure(err) {
  const text = String(err && err.message ? err.message : err);
  const lines = text.trim().split("\n");
  console.error(text);
  self.postMessage({ type: "error", stage: currentStage, message: lines[lines.length - 1] || text });
}

self.onmessage = (event) => {
  const msg = event.data;
  if (msg.type === "start") start(msg.search).catch(reportFailure);
  else if (msg.type === "rendered") linkDocument().catch(reportFailure);
  else if (msg.type === "patch") applyPatch(msg.patch).catch(reportFailure);
  else if (msg.type === "files") receiveFiles(msg.files).catch(reportFailure);
  else if (msg.type === "action") pageAction(msg).catch(reportFailure);
};
