// Service worker, for three things:
// * Lockdown: every page and worker of the site gets its Content-Security-Policy here
//   (see POLICIES), the only place a static host lets the site set it for workers.
// * Cross-origin isolation on hosts that cannot set headers (GitHub Pages), so that the
//   kernel worker can be interrupted through a SharedArrayBuffer: it adds COOP/COEP to the
//   site's own responses, cached or not.
// * Offline use: the site's files are kept in a cache named after the build, and served
//   from it. Files are immutable within a build, so the cache is always right for the
//   page it serves; a new build gets a new cache (filled before it takes over) and a new
//   copy of this file, which is how the browser notices it.
// * What this browser makes from a build, kept in a cache of the build's own: the bundle of
//   packages inflated (pyodide/bundle.gz?inflated, once), and the memory snapshots of the
//   app and kernel workers (boot.js). A snapshot holds no secret (it is made in a throwaway
//   worker that runs only the site's code and reads no store; the app makes its per-visit
//   token after a restore), so any of the site's workers may read one; only the page,
//   through this worker, can keep one (the kernel worker reaches neither).
// Every other request is left alone: the model endpoint is cross-origin and must reach the
// network exactly as the page sent it.
"use strict";

const BUILD = "__BUILD_ID__";
const CACHE_PREFIX = "localyst-";
const CACHE_NAME = CACHE_PREFIX + BUILD;
const ROOT = new URL("./", self.location).href; // the site's folder: also under a sub-path
const MANIFEST = ROOT + "precache.json";
const SNAPSHOTS = ROOT + "snapshots/";
const MADE_CACHE = CACHE_NAME + "-made";
const BUNDLE = ROOT + "pyodide/bundle.gz";
const SNAPSHOT_WORKERS = ["app", "kernel"];

// COEP "credentialless", not "require-corp": the app tells a CORS refusal from an
// unreachable model server with a no-cors probe, whose opaque answer require-corp blocks.
const ISOLATION_HEADERS = {
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Embedder-Policy": "credentialless",
};

// What each part of the site may reach. A worker is bound by the policy of its own script's
// response (not its creator's), so each worker script gets its own:
// * the page: its own files only; model text and code output are data, never script (no
//   inline script or event handler runs; eval does, for Panel's own component scripts);
// * the app worker: its own files and the model endpoint, which the person types in at any
//   time, so any http(s) origin; only the app's own code runs there (with eval, which
//   Panel's Pyodide bridge uses to define a JavaScript helper);
// * the snapshot maker: its own files only, with eval (Panel's import defines its helper);
// * the model worker (the in-page model): its own files, and the blob: workers wllama starts
//   (which are bound by this same policy); `?download=URL` (a worker started to download a
//   model the person named) may reach that one URL too, and nothing else;
// * the kernel worker, where the model's code runs: its own files (the Python packages) and
//   nothing else, no other worker; `?internet=1` (the person's choice for a session) lets
//   its code reach http(s) and WebSocket servers too.
const BASE = "object-src 'none'; base-uri 'none'; form-action 'none'";
const SCRIPTS = "script-src 'self' 'wasm-unsafe-eval'";
const POLICIES = {
  page: `default-src 'self'; ${SCRIPTS} 'unsafe-eval'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; worker-src 'self'; frame-src 'none'; ${BASE}`,
  app: `default-src 'self'; ${SCRIPTS} 'unsafe-eval'; connect-src 'self' http: https:; worker-src 'self'; ${BASE}`,
  maker: `default-src 'none'; ${SCRIPTS} 'unsafe-eval'; connect-src 'self'; worker-src 'none'; ${BASE}`,
  kernel: `default-src 'none'; ${SCRIPTS}; connect-src 'self'; worker-src 'none'; ${BASE}`,
  kernelOnline: `default-src 'none'; ${SCRIPTS}; connect-src 'self' http: https: ws: wss:; worker-src 'none'; ${BASE}`,
};

function modelPolicy(download) {
  return `default-src 'none'; script-src 'self' blob: 'wasm-unsafe-eval'; connect-src 'self' blob:${download ? " " + download : ""}; worker-src blob:; ${BASE}`;
}

// The one URL a model download may reach, as a CSP source; "" for anything that is not a
// plain http(s) URL that a policy can hold as it is.
function downloadSource(value) {
  let url;
  try {
    url = new URL(value || "");
  } catch (err) {
    return "";
  }
  if (!["http:", "https:"].includes(url.protocol) || url.username || url.password) return "";
  url.hash = "";
  return /^[^\s;,'"]+$/.test(url.href) ? url.href : "";
}

function policyFor(request) {
  if (request.mode === "navigate") return POLICIES.page;
  if (request.destination !== "worker") return null; // a script or file: its document's policy applies
  const url = new URL(request.url);
  if (url.pathname.endsWith("/app-worker.js")) return POLICIES.app;
  if (url.pathname.endsWith("/snapshot-worker.js")) return POLICIES.maker;
  if (url.pathname.endsWith("/model-worker.js")) return modelPolicy(downloadSource(url.searchParams.get("download")));
  return url.searchParams.get("internet") === "1" ? POLICIES.kernelOnline : POLICIES.kernel;
}

// A first install takes over at once (loader.js reloads the page to come under it), with
// only the build's manifest in its cache. An update is filled with the new build's files
// first and then waits: a running page keeps the build it started with, and the next load
// of the page switches (see "take-over").
self.addEventListener("install", (event) => {
  if (self.registration.active) event.waitUntil(precache());
  else event.waitUntil(caches.open(CACHE_NAME).then(manifestOf).catch(() => {})); // precache() tries again
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      const names = await caches.keys();
      const old = (n) => n.startsWith(CACHE_PREFIX) && n !== CACHE_NAME && n !== MADE_CACHE;
      await Promise.all(names.filter(old).map((n) => caches.delete(n)));
      await self.clients.claim();
    })(),
  );
});

let precaching = null;

self.addEventListener("message", (event) => {
  if (event.data === "take-over") {
    self.skipWaiting();
  } else if (event.data === "precache") {
    // The page asks once it is up; the answer says whether a visit can now work offline.
    precaching = precaching || precache().finally(() => (precaching = null));
    const reply = (answer) => event.ports[0] && event.ports[0].postMessage(answer);
    event.waitUntil(precaching.then(reply, (err) => reply({ error: String((err && err.message) || err) })));
  } else if (event.data && event.data.type === "keep-snapshot" && SNAPSHOT_WORKERS.includes(event.data.worker)) {
    // From the page (the kernel worker has no handle on this worker: see kernel-worker.js).
    const reply = (answer) => event.ports[0] && event.ports[0].postMessage(answer);
    const kept = caches
      .open(MADE_CACHE)
      .then((cache) => cache.put(SNAPSHOTS + event.data.worker, new Response(event.data.file, { headers: { "Content-Type": "application/octet-stream" } })));
    event.waitUntil(kept.then(() => reply({ kept: true }), (err) => reply({ error: String((err && err.message) || err) })));
  }
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (new URL(request.url).origin !== self.location.origin || request.method !== "GET") return; // as if we were not here
  if (request.cache === "only-if-cached" && request.mode !== "same-origin") return;
  // What this browser made is data for the workers, passed on as kept (no headers to add, and
  // a kept answer reaches the worker without being streamed through here).
  if (request.url.startsWith(SNAPSHOTS)) return event.respondWith(snapshot(event));
  if (request.url === BUNDLE + "?inflated") return event.respondWith(inflatedBundle(event));
  event.respondWith(answer(event).then((response) => withHeaders(response, policyFor(request))));
});

async function answer(event) {
  const key = cacheKey(event.request);
  if (!key) return fetch(event.request);
  const cache = await caches.open(CACHE_NAME);
  const cached = await cache.match(key);
  if (cached) return cached;
  const { response, kept } = fetchAndKeep(cache, event.request, key);
  event.waitUntil(kept);
  return response;
}

// A worker's kept snapshot; a 404 says why there is none.
async function snapshot(event) {
  const name = event.request.url.slice(SNAPSHOTS.length);
  const missing = (reason) => new Response("", { status: 404, headers: { "X-Localyst-Reason": reason } });
  if (!SNAPSHOT_WORKERS.includes(name)) return missing(`${name} is not a worker with a snapshot`);
  const kept = await (await caches.open(MADE_CACHE)).match(SNAPSHOTS + name);
  return kept || missing("no snapshot is kept for this build yet");
}

// The bundle inflated: kept the first time it is asked for, so that a visit reads it instead of
// inflating it in each worker. The header tells boot.js it needs no inflating. One request at
// a time: while one worker's copy is inflated (and streamed to it), the other waits for the
// kept one.
let inflating = null;

async function inflatedBundle(event) {
  while (inflating) await inflating;
  let release;
  inflating = new Promise((resolve) => (release = resolve)).then(() => (inflating = null));
  try {
    const made = await caches.open(MADE_CACHE);
    const kept = await made.match(BUNDLE + "?inflated");
    if (kept) return kept;
    const packed = await answer({ request: new Request(BUNDLE), waitUntil: (p) => event.waitUntil(p) });
    if (!packed.ok) return packed;
    const [mine, theirs] = packed.body.pipeThrough(new DecompressionStream("gzip")).tee();
    const headers = { "Content-Type": "application/octet-stream", "X-Localyst-Inflated": "1" };
    const keeping = made.put(BUNDLE + "?inflated", new Response(mine, { headers })).catch(() => {});
    event.waitUntil(keeping);
    keeping.then(release);
    release = null; // the lock goes with the copy being kept
    return new Response(theirs, { headers });
  } finally {
    if (release) release();
  }
}

// The cache key of a request for one of the site's files (null: not kept). A navigation
// to the site's folder, with any query, is index.html; a worker script's query only
// chooses its policy.
function cacheKey(request) {
  if (!request.url.startsWith(ROOT) || request.headers.has("range")) return null;
  const url = new URL(request.url);
  if (request.mode === "navigate" || request.destination === "worker") {
    url.search = "";
    if (url.pathname.endsWith("/")) url.pathname += "index.html";
  }
  url.hash = "";
  return url.href;
}

// Network answers are kept as they pass through, so a first visit fills the cache while
// the app loads, and a package the kernel loads later (scipy, pyarrow...) is there the
// next time, offline too. `keeping` lets precache() wait for a file already on its way
// instead of downloading it a second time. `kept` says whether the answer is in the cache.
const keeping = new Map();

function fetchAndKeep(cache, request, key) {
  let stored = Promise.resolve(false);
  const response = fetch(request).then((answer) => {
    if (answer.ok && answer.type === "basic" && !answer.redirected) {
      stored = cache.put(key, answer.clone()).then(() => true);
    }
    return answer;
  });
  const kept = response
    .then(() => stored)
    .catch(() => false)
    .finally(() => keeping.delete(key));
  keeping.set(key, kept);
  return { response, kept };
}

function withHeaders(response, policy) {
  if (response.type === "opaqueredirect" || response.status === 0) return response;
  const headers = new Headers(response.headers);
  for (const [name, value] of Object.entries(ISOLATION_HEADERS)) headers.set(name, value);
  if (policy) headers.set("Content-Security-Policy", policy);
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}

// precache.json of this build, kept in its cache from the install on: it is what says
// which files an update may reuse, and with it in the cache no visit needs the network.
async function manifestOf(cache) {
  const kept = await cache.match(MANIFEST);
  if (kept) return kept.json();
  const got = await fetch(MANIFEST, { cache: "no-cache" });
  if (!got.ok) throw new Error(`precache.json answered ${got.status}`);
  const manifest = await got.clone().json();
  if (manifest.build !== BUILD) throw new Error(`the site now has build ${manifest.build}; this is ${BUILD}`);
  await cache.put(MANIFEST, got);
  return manifest;
}

// Makes sure every file of a first visit (precache.json) is in this build's cache. Files an
// older build's cache holds unchanged (same sha256 in both manifests) are copied from it,
// so an update downloads only what changed. Safe to repeat, and it resumes where a cut
// one stopped.
async function precache() {
  const started = Date.now();
  const cache = await caches.open(CACHE_NAME);
  const manifest = await manifestOf(cache);
  await reuseOlderCaches(cache, manifest);
  let downloaded = 0;
  const queue = [...manifest.precache];
  const fill = async () => {
    for (let path; (path = queue.shift()) !== undefined; ) {
      const key = ROOT + path;
      if (keeping.has(key)) await keeping.get(key);
      if (await cache.match(key)) continue;
      const { response, kept } = fetchAndKeep(cache, new Request(key, { cache: "no-cache" }), key);
      response.then((answer) => answer.body && answer.body.cancel(), () => {}); // no page reads this copy
      if (!(await kept)) throw new Error(`could not keep ${path}`);
      downloaded += manifest.files[path].size;
    }
  };
  await Promise.all([fill(), fill(), fill(), fill()]); // a few at a time, like a page load
  const bytes = manifest.precache.reduce((sum, path) => sum + manifest.files[path].size, 0);
  return { build: BUILD, files: manifest.precache.length, bytes, downloaded, ms: Date.now() - started };
}

async function reuseOlderCaches(cache, manifest) {
  for (const name of await caches.keys()) {
    if (!name.startsWith(CACHE_PREFIX) || name === CACHE_NAME) continue;
    const old = await caches.open(name);
    const oldManifest = await old.match(MANIFEST).then((r) => r && r.json());
    if (!oldManifest) continue;
    for (const request of await old.keys()) {
      const path = request.url.slice(ROOT.length); // every key is under ROOT (see cacheKey)
      const now = manifest.files[path];
      const then = oldManifest.files[path];
      if (!now || !then || now.sha256 !== then.sha256 || (await cache.match(request.url))) continue;
      await cache.put(request.url, await old.match(request.url));
    }
  }
}
