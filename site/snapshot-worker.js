// Makes the memory snapshot of one worker ("app" or "kernel") for the next visit: its Python
// started from the bundle and prepared as that worker would be (boot.js), in this throwaway
// worker, which runs no one's code but the site's. The page hands the file to the service
// worker, which keeps it (sw.js).
"use strict";

importScripts("boot.js");

self.onmessage = async ({ data: worker }) => {
  const started = performance.now();
  try {
    const file = await makeSnapshot(worker);
    self.postMessage({ file: file.buffer, ms: Math.round(performance.now() - started) }, [file.buffer]);
  } catch (err) {
    self.postMessage({ error: String((err && err.message) || err) });
  }
};
