// Starts Python in a worker (app, kernel, or the snapshot maker), from the site's bundle of
// pre-unpacked packages and, when one is kept for this build and this browser, from a
// memory snapshot of the same worker made on an earlier visit.
//
// The bundle (pyodide/bundle.gz, its index pyodide/bundle.json; buildsite/bundle.py) goes on
// sys.path without being unpacked: on a plain start its files are views of one buffer in the
// in-memory file system; on a restored one, slices of the kept Blob, read when opened. Before
// the runtime starts (a preRun hook), the worker's extension modules are loaded in the
// index's order. That is what makes a snapshot usable: every library gets the same memory
// and table addresses in the making run and in the restoring one, and the restored heap
// points at them.
//
// A snapshot is a file the service worker keeps (sw.js: GET snapshots/<worker>): a JSON
// header (what it was made from, the heap's sha256) and Pyodide's own snapshot. Anything
// wrong with it, or with restoring it, falls back to a plain start, and says why.
"use strict";

const BOOT_BUILD = "__BUILD_ID__";
const BOOT_ROOT = new URL("./", self.location).href;
const SNAPSHOT_MAGIC = "localyst-snapshot-1\n";

importScripts(BOOT_ROOT + "pyodide/pyodide.js", BOOT_ROOT + "pyodide/pyodide.asm.js");
const createPyodideModule = globalThis._createPyodideModule;

async function fetchOk(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url} answered ${response.status}`);
  return response;
}

function bundleIndex() {
  return fetchOk(BOOT_ROOT + "pyodide/bundle.json").then((r) => r.json());
}

// The bundle of this index: its answer, inflated by the service worker, which keeps it so
// (sw.js answers pyodide/bundle.gz?inflated), or as the host sends it when no service worker
// answers. `inflated` says which.
async function fetchBundle() {
  const response = await fetchOk(BOOT_ROOT + "pyodide/bundle.gz?inflated");
  return { response, inflated: response.headers.get("x-localyst-inflated") === "1" };
}

// The bundle's bytes in this worker's memory; `progress(share)` hears how much has arrived.
async function readBundle(index, { response, inflated }, progress = () => {}) {
  const body = inflated ? response.body : response.body.pipeThrough(new DecompressionStream("gzip"));
  const bytes = new Uint8Array(index.size);
  let at = 0;
  for (const reader = body.getReader(); ; ) {
    const { done, value } = await reader.read();
    if (done) break;
    if (at + value.length > bytes.length) throw new Error(`pyodide/bundle.gz holds more than the ${index.size} bytes its index says`);
    bytes.set(value, at);
    at += value.length;
    progress(at / bytes.length);
  }
  if (at !== bytes.length) throw new Error(`pyodide/bundle.gz inflated to ${at} bytes, not ${index.size}`);
  return { index, bytes };
}

// The bundle as the kept Blob, read only where a file is opened: for a restored worker, whose
// heap already holds nearly every module it imports. Its extension modules are read ahead,
// all at once (a synchronous read of a Blob, file by file, is slow).
async function bundleBlob(index, { response }, dynlibs) {
  const blob = await response.blob();
  if (blob.size !== index.size) throw new Error(`the kept bundle has ${blob.size} bytes, not ${index.size}`);
  const where = new Map(index.files.map(([name, offset, size]) => [name, [offset, size]]));
  const read = async (lib) => {
    const [offset, size] = where.get(lib);
    return [index.root + "/" + lib, new Uint8Array(await blob.slice(offset, offset + size).arrayBuffer())];
  };
  return { index, blob, libraries: new Map(await Promise.all(dynlibs.map(read))) };
}

// Puts the bundle's files in place and loads the worker's extension modules, in the index's
// order, as Pyodide itself does (not global; each with its own symbol scope). The files are
// views of the bundle's buffer (canOwn: not copied), or, from a Blob, a read-only WORKERFS.
function installBundle(Module, bundle, dynlibs) {
  const { FS, PATH } = Module;
  const root = bundle.index.root;
  if (bundle.blob) mountBlob(FS, root, bundle);
  else placeFiles(FS, PATH, root, bundle);
  loadDynlibs(Module, root, dynlibs, bundle.libraries || new Map());
}

// Each file a stand-in for its slice of the Blob, cut only when the file is read (WORKERFS
// asks a file for its size and its slices): cutting thousands of slices up front takes a second.
function mountBlob(FS, root, { index, blob }) {
  FS.mkdirTree(root);
  const part = (offset, size) => ({ size, slice: (start, end) => blob.slice(offset + start, offset + Math.min(end, size)) });
  const blobs = index.files.map(([name, offset, size]) => ({ name, data: part(offset, size) }));
  FS.mount(FS.filesystems.WORKERFS, { blobs }, root);
}

function placeFiles(FS, PATH, root, { index, bytes }) {
  const made = new Set();
  for (const [name, offset, size] of index.files) {
    const path = PATH.join2(root, name);
    const dir = PATH.dirname(path);
    if (!made.has(dir)) {
      FS.mkdirTree(dir);
      made.add(dir);
    }
    FS.writeFile(path, bytes.subarray(offset, offset + size), { canOwn: true });
  }
}

// `read` holds the bytes of libraries read ahead, by path.
function loadDynlibs(Module, root, dynlibs, read) {
  const { FS, PATH } = Module;
  const sharedLibs = PATH.join2(root, ".libs");
  for (const lib of dynlibs) {
    const path = PATH.join2(root, lib);
    const dirs = [PATH.dirname(path), sharedLibs];
    const resolve = (name) => {
      if (PATH.isAbs(name)) return name;
      for (const dir of dirs) {
        const full = PATH.join2(dir, name);
        if (FS.findObject(full) !== null) return full;
      }
      return name;
    };
    const readFile = (name) => read.get(resolve(name)) || FS.readFile(resolve(name));
    const fs = { findObject: (name, dontResolveLast) => FS.findObject(resolve(name), dontResolveLast), readFile };
    Module.loadDynamicLibrary(path, { loadAsync: false, nodelete: true, allowUndefined: true, global: false, fs }, {});
    // A library another one needs is looked up by its file name.
    const name = PATH.basename(path);
    if (!Module.LDSO.loadedLibsByName[name]) Module.LDSO.loadedLibsByName[name] = Module.LDSO.loadedLibsByName[path];
  }
}

// JavaScript functions Python holds that the global object does not reach, which a snapshot
// records by name and a restore gives back: Panel's converter of undefined to null
// (panel/io/pyodide.py, made with run_js at import). Matched by source, spaces aside; any
// other such function makes the snapshot fail, and the worker keeps starting plain.
const HELD_FUNCTIONS = {
  "panel-dict-converter": {
    source: "((entries)=>{for(letentryofentries){if(entry[1]===undefined){entry[1]=null;}}returnObject.fromEntries(entries);})",
    make: () => (entries) => {
      for (const entry of entries) if (entry[1] === undefined) entry[1] = null;
      return Object.fromEntries(entries);
    },
  },
};

function serializeHeld(value) {
  const source = typeof value === "function" ? String(value).replace(/\s+/g, "") : null;
  for (const [name, held] of Object.entries(HELD_FUNCTIONS)) {
    if (source === held.source || "(" + source + ")" === held.source) return { held: name };
  }
  throw new Error(`the snapshot cannot hold this JavaScript value: ${String(value).slice(0, 80)}`);
}

function deserializeHeld(record) {
  const held = record && HELD_FUNCTIONS[record.held];
  if (!held) throw new Error(`the snapshot holds an unknown JavaScript value (${JSON.stringify(record)})`);
  return held.make();
}

async function sha256Hex(bytes) {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

// The snapshot file: magic, header length (4 bytes, little-endian), the JSON header, then
// Pyodide's snapshot (from a 16-byte boundary of the file).
function packSnapshot(header, heap) {
  const head = new TextEncoder().encode(SNAPSHOT_MAGIC + "    " + JSON.stringify(header));
  const start = Math.ceil(head.length / 16) * 16;
  const file = new Uint8Array(start + heap.length);
  file.set(head);
  new DataView(file.buffer).setUint32(SNAPSHOT_MAGIC.length, head.length, true);
  file.set(heap, start);
  return file;
}

function unpackSnapshot(buffer) {
  const file = new Uint8Array(buffer);
  const magic = new TextDecoder().decode(file.subarray(0, SNAPSHOT_MAGIC.length));
  if (magic !== SNAPSHOT_MAGIC) throw new Error("not a Localyst snapshot");
  const headLength = new DataView(buffer).getUint32(SNAPSHOT_MAGIC.length, true);
  if (headLength > file.length) throw new Error("the snapshot is cut short");
  const header = JSON.parse(new TextDecoder().decode(file.subarray(SNAPSHOT_MAGIC.length + 4, headLength)));
  return { header, heap: file.subarray(Math.ceil(headLength / 16) * 16) };
}

// The answer for this worker's kept snapshot, or why there is none.
async function askSnapshot(worker) {
  try {
    const response = await fetch(BOOT_ROOT + "snapshots/" + worker);
    if (response.ok) return { response };
    return { reason: response.headers.get("x-localyst-reason") || `no snapshot (${response.status})` };
  } catch (err) {
    return { reason: `the snapshot could not be read: ${err.message || err}` };
  }
}

// The kept snapshot, checked against what this visit runs: {header, heap}, or {reason} when
// it is not one to use.
async function readSnapshot(worker, index, response) {
  try {
    const { header, heap } = unpackSnapshot(await response.arrayBuffer());
    if (header.build !== BOOT_BUILD) return { reason: `the snapshot is of build ${header.build}, this is ${BOOT_BUILD}` };
    if (header.worker !== worker) return { reason: `the snapshot is of the ${header.worker} worker` };
    if (header.bundle !== index.sha256) return { reason: "the snapshot is of another bundle" };
    if (header.browser !== navigator.userAgent) return { reason: "the snapshot was made by another browser" };
    if (header.size !== heap.length || header.sha256 !== (await sha256Hex(heap))) return { reason: "the snapshot is corrupt" };
    return { header, heap };
  } catch (err) {
    return { reason: `the snapshot is unreadable: ${err.message || err}` };
  }
}

// Runs Pyodide with the bundle installed before the runtime starts; `snapshot` is a heap to
// restore, `make` prepares the instance for makeMemorySnapshot.
async function startPyodide(worker, bundle, { snapshot = null, make = false } = {}) {
  let module = null;
  globalThis._createPyodideModule = (settings) => {
    settings.preRun.push((Module) => installBundle(Module, bundle, bundle.index.workers[worker].dynlibs));
    return createPyodideModule(settings).then((m) => (module = m));
  };
  const pyodide = await loadPyodide({
    indexURL: BOOT_ROOT + "pyodide/",
    lockFileURL: BOOT_ROOT + "pyodide/pyodide-lock.json",
    env: { PYTHONPATH: bundle.index.root },
    _makeSnapshot: make,
    _loadSnapshot: snapshot ? snapshot.heap : undefined,
    _snapshotDeserializer: deserializeHeld,
  });
  if (snapshot) {
    // Open dlopen handles are JavaScript state, not heap: give them back their libraries.
    for (const [handle, name] of Object.entries(snapshot.header.handles || {})) {
      module.LDSO.loadedLibsByHandle[handle] = module.LDSO.loadedLibsByName[name];
    }
    // The heap holds the making visit's random state: start from fresh entropy. Each start
    // puts "" first on sys.path, the restored one too.
    pyodide.runPython(`
import random, sys
random.seed()
if "numpy" in sys.modules:
    sys.modules["numpy"].random.seed()
while sys.path.count("") > 1:
    sys.path.remove("")
`);
  }
  markBundleLoaded(pyodide, bundle);
  return { pyodide, module };
}

// The bundle's packages count as loaded: pyodide.loadPackage must not unpack them again.
function markBundleLoaded(pyodide, bundle) {
  for (const name of Object.keys(bundle.index.packages)) pyodide.loadedPackages[name] = "bundle";
}

// What each worker's Python does before it is of use, and what its snapshot holds: `full`
// for the snapshot (everything a start would do), not for a plain start (the kernel says it
// is ready first and imports its common packages after, while the person types).
const PREPARE = {
  kernel: (pyodide, full) => pyodide.runPythonAsync(full ? "import localyst.kernel.worker as w\nw.warm_up()" : "import localyst.kernel.worker"),
  app: (pyodide, full) => {
    pyodide.globals.set("panel_cdn_root", BOOT_ROOT + "vendor/panel/");
    return pyodide.runPythonAsync(`
import os
import pyodide.ffi
# Panel 1.8 expects pyodide.ffi.jsnull, which only exists from Pyodide 0.28.
pyodide.ffi.jsnull = getattr(pyodide.ffi, "jsnull", object())
os.environ["PANEL_CDN_ROOT"] = panel_cdn_root
del panel_cdn_root
import localyst.ui.worker
${full ? "import localyst.ui.app, panel.io.pyodide" : ""}
`);
  },
};

// Python up for `worker` ("app" or "kernel"): restored from its kept snapshot if there is a
// good one, else started plain. Returns {pyodide, startup: {path: "restored" | "plain",
// reason (why not restored), ms: milliseconds to each step}}. `progress` hears the share of
// the bundle that has arrived.
async function bootPython(worker, progress) {
  const started = performance.now();
  const ms = {};
  const lap = (name) => (ms[name] = Math.round(performance.now() - started));
  const [index, fetched] = await Promise.all([bundleIndex(), fetchBundle()]);
  // Only the service worker keeps snapshots: without it (it answered for the bundle) there is none.
  const asked = fetched.inflated ? await askSnapshot(worker) : { reason: "no service worker keeps snapshots for this page" };
  let snapshot = asked;
  let bundle = null;
  if (asked.response) {
    // The bundle is read as a Blob while the snapshot is checked: a restore needs little of it.
    [snapshot, bundle] = await Promise.all([readSnapshot(worker, index, asked.response), bundleBlob(index, fetched, index.workers[worker].dynlibs)]);
    lap("files");
  }
  if (snapshot.heap) {
    try {
      const { pyodide } = await startPyodide(worker, bundle, { snapshot });
      lap("python");
      return { pyodide, startup: { path: "restored", ms } };
    } catch (err) {
      snapshot.reason = `restoring the snapshot failed: ${err.message || err}`;
      console.warn(snapshot.reason);
    }
  }
  bundle = bundle ? { index, bytes: new Uint8Array(await bundle.blob.arrayBuffer()) } : await readBundle(index, fetched, progress);
  lap("files");
  const { pyodide } = await startPyodide(worker, bundle);
  lap("python");
  await PREPARE[worker](pyodide, false);
  lap("prepared");
  return { pyodide, startup: { path: "plain", reason: snapshot.reason, ms } };
}

// A snapshot of `worker`, made in this (throwaway) worker: the file to keep.
async function makeSnapshot(worker) {
  const index = await bundleIndex();
  const bundle = await readBundle(index, await fetchBundle());
  const { pyodide, module } = await startPyodide(worker, bundle, { make: true });
  await PREPARE[worker](pyodide, true);
  // A snapshot must be made with no package recorded as loaded (Pyodide's rule).
  for (const name of Object.keys(pyodide.loadedPackages)) delete pyodide.loadedPackages[name];
  const heap = pyodide.makeMemorySnapshot({ serializer: serializeHeld });
  const handles = {};
  for (const [handle, dso] of Object.entries(module.LDSO.loadedLibsByHandle)) {
    if (Number(handle) !== 0) handles[handle] = dso.name;
  }
  const header = {
    build: BOOT_BUILD,
    worker,
    bundle: bundle.index.sha256,
    browser: navigator.userAgent,
    size: heap.length,
    sha256: await sha256Hex(heap),
    handles,
  };
  return packSnapshot(header, heap);
}
