// Kernel worker bootstrap: loads Pyodide and the localyst wheel (by its URL, so without
// the app's dependencies: Panel, Bokeh, openai, ...), then hands every message to Python
// (localyst.kernel._bridge), which runs the cells. It knows nothing of the model or the UI.
// Start-up problems are reported as {type: "failed", message}, never a silent hang.
"use strict";

const siteRoot = new URL("./", self.location).href;
let pyodide = null;
let bridge = null;
let interrupt = null;

function post(text, bytes) {
  const message = JSON.parse(text);
  if (bytes === undefined) {
    self.postMessage(message);
  } else {
    message.bytes = bytes;
    self.postMessage(message, [bytes.buffer]);
  }
}

async function fetchText(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url} answered ${response.status}`);
  return response.text();
}

async function start() {
  self.postMessage({ type: "status", text: "loading Python…" });
  importScripts("pyodide/pyodide.js");
  const lockURL = siteRoot + "pyodide/pyodide-lock.json";
  const [lockText, loaded] = await Promise.all([
    fetchText(lockURL),
    loadPyodide({ indexURL: siteRoot + "pyodide/", lockFileURL: lockURL }),
  ]);
  pyodide = loaded;
  if (interrupt) pyodide.setInterruptBuffer(interrupt);
  const failures = [];
  const wheel = siteRoot + "pyodide/" + JSON.parse(lockText).packages.localyst.file_name;
  await pyodide.loadPackage(wheel, { errorCallback: (msg) => failures.push(msg) });
  if (failures.length) throw new Error(failures.join("; "));
  bridge = pyodide.pyimport("localyst.kernel._bridge").Bridge(post, lockText);
  await bridge.start();
}

// Messages are handled one at a time, in order, once start-up is over.
let queue = start().catch((err) => {
  bridge = null;
  self.postMessage({ type: "failed", message: String((err && err.message) || err) });
});

async function handle(message) {
  if (message.type === "run" && interrupt) interrupt[0] = 0; // a stale interrupt must not stop this cell
  const converted = pyodide.toPy(message);
  try {
    await bridge.handle(converted);
  } catch (err) {
    self.postMessage({ type: "error", id: message.id, message: String((err && err.message) || err) });
  } finally {
    converted.destroy();
  }
}

self.onmessage = ({ data }) => {
  if (data.type === "interrupt-buffer") {
    interrupt = new Int32Array(data.buffer); // applied at once: a busy cell is what it is for
    if (pyodide) pyodide.setInterruptBuffer(interrupt);
  } else {
    queue = queue.then(() => bridge && handle(data));
  }
};
