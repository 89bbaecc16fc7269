// App worker bootstrap: starts Python (boot.js: the site's bundle, and the app's memory
// snapshot when one is kept), then hands over to Python (localyst.ui), which builds the
// Panel app. Speaks Panel's pyodide-worker protocol with loader.js: render, patch, idle,
// rendered; and says how Python started (startup).
"use strict";

importScripts("boot.js");

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

// The runtime's big files, and how far along the bar each one's arrival puts it (the bundle
// of packages moves it from 5 to 60 as it arrives: see start).
const STARTING_FILES = { "pyodide.asm.wasm": 65, "python_stdlib.zip": 75 };

const realFetch = self.fetch.bind(self);
self.fetch = async (input, init) => {
  const response = await realFetch(input, init);
  const url = input instanceof Request ? input.url : String(input);
  const name = url.split("?")[0].split("/").pop();
  if (name in STARTING_FILES) status("Loading the Python runtime", name, STARTING_FILES[name]);
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
  status("Loading packages", "Pyodide 0.27.7 and the site's bundle", 5);
  let shown = -1;
  const booted = await bootPython("app", (share) => {
    const percent = Math.floor(share * 100);
    if (percent !== shown) status("Loading packages", `${(shown = percent)}%`, 5 + 0.55 * percent);
  });
  pyodide = booted.pyodide;
  self.postMessage({ type: "startup", worker: "app", ...booted.startup });
  status("Starting the app", "Panel", 88);
  const result = await pyodide.pyimport("localyst.ui.worker").render(search); // a coroutine: awaited as a Promise
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
