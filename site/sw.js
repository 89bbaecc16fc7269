// Service worker: makes the page cross-origin isolated on hosts that cannot set headers
// (GitHub Pages), so that the kernel worker can be interrupted through a SharedArrayBuffer.
// It adds COOP/COEP to the site's own responses and leaves every other request alone: the
// model endpoint is cross-origin and must reach the network exactly as the page sent it.
// Offline caching will live here too; its caches are named after the build.
"use strict";

const CACHE_PREFIX = "localyst-";
const CACHE_NAME = CACHE_PREFIX + "__BUILD_ID__";

// COEP "credentialless", not "require-corp": the app tells a CORS refusal from an
// unreachable model server with a no-cors probe, whose opaque answer require-corp blocks.
const ISOLATION_HEADERS = {
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Embedder-Policy": "credentialless",
};

self.addEventListener("install", () => self.skipWaiting());

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      const names = await caches.keys();
      await Promise.all(names.filter((n) => n.startsWith(CACHE_PREFIX) && n !== CACHE_NAME).map((n) => caches.delete(n)));
      await self.clients.claim();
    })(),
  );
});

function isOwn(request) {
  return new URL(request.url).origin === self.location.origin;
}

async function isolated(request) {
  const response = await fetch(request);
  if (response.type === "opaqueredirect" || response.status === 0) return response;
  const headers = new Headers(response.headers);
  for (const [name, value] of Object.entries(ISOLATION_HEADERS)) headers.set(name, value);
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (!isOwn(request) || request.method !== "GET") return; // the browser handles it as if we were not here
  if (request.cache === "only-if-cached" && request.mode !== "same-origin") return;
  event.respondWith(isolated(request));
});
