// Kernel worker bootstrap: starts Python (boot.js: the site's bundle, and the kernel's memory
// snapshot when one is kept), then hands every message to Python (localyst.kernel.worker),
// which runs the cells. It knows nothing of the model or the UI. Start-up problems are
// reported as {type: "failed", message}, never a silent hang.
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

// The model's code runs here, and Python in Pyodide reaches every JavaScript API this worker
// has. What it may contact is the service worker's policy for this script (see sw.js); this
// checks that the policy is in force and refuses to run without it. A blob: script is the
// probe: the policy forbids it, and without the policy loading it does nothing anywhere.
function lockedDown() {
  const probe = URL.createObjectURL(new Blob([""], { type: "text/javascript" }));
  try {
    importScripts(probe);
    return false;
  } catch (err) {
    return true;
  } finally {
    URL.revokeObjectURL(probe);
  }
}

// The app's stores (conversations, files, settings, a remembered key) and the site's cache
// share this origin, and any store the code could open would keep data across visits and
// conversations: the code gets no handle on one. This is every entry point Chromium gives a
// dedicated worker (tests/browser/test_lockdown_storage.py checks it against the browser's
// own list); what is left are interface objects that cannot be constructed. Pyodide uses
// none of these. A property that cannot be deleted throws (strict mode): the kernel fails.
const STORES_ON_SELF = [
  "indexedDB",
  "caches",
  "cookieStore",
  "BroadcastChannel",
  "SharedWorker",
  // The old FileSystem API: PERSISTENT file systems outlive the visit.
  "webkitRequestFileSystem",
  "webkitRequestFileSystemSync",
  "webkitResolveLocalFileSystemURL",
  "webkitResolveLocalFileSystemSyncURL",
  "requestFileSystem",
  "requestFileSystemSync",
  "resolveLocalFileSystemURL",
  "resolveLocalFileSystemSyncURL",
  "FileSystemObserver",
];
// storage: quota and the origin private file system; storageBuckets: new buckets, each with
// its own IndexedDB, Cache Storage and file system.
const STORES_ON_NAVIGATOR = ["storage", "storageBuckets", "locks", "serviceWorker"];

function dropStorage() {
  const remove = (object, name) => {
    for (let o = object; o; o = Object.getPrototypeOf(o)) delete o[name];
  };
  for (const name of STORES_ON_SELF) remove(self, name);
  for (const name of STORES_ON_NAVIGATOR) remove(navigator, name);
}

async function start() {
  if (!lockedDown()) {
    throw new Error(
      "the page was not loaded through its service worker, which keeps the code it runs off the network. " +
        "Reload the page (a normal reload, not one that bypasses the cache).",
    );
  }
  dropStorage();
  self.postMessage({ type: "status", text: "loading Python…" });
  importScripts("boot.js");
  const [lockText, booted] = await Promise.all([fetchText(siteRoot + "pyodide/pyodide-lock.json"), bootPython("kernel")]);
  pyodide = booted.pyodide;
  if (interrupt) pyodide.setInterruptBuffer(interrupt);
  const startup = pyodide.toPy(booted.startup);
  bridge = pyodide.pyimport("localyst.kernel.worker").Bridge(post, lockText, startup);
  startup.destroy();
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
