// Model worker: a model inside the page. llama.cpp compiled to WebAssembly (wllama, in
// vendor/wllama/) runs here, on a GGUF file the person picked or downloaded, kept in this
// browser's private file system (OPFS) so that the next visit loads it from there.
// Nothing it does leaves the tab: its policy (sw.js) allows the site's own files and the
// blob: workers wllama starts, and, only in a worker started to download one (the script's
// `?download=URL`), that one URL.
//
// Messages in (from the app worker, localyst.llm._inpage), and what each answers:
//   kept                                   -> kept {name, size} (name null: nothing kept)
//   keep {file | url, max_bytes}           -> progress {done, total}..., kept {name, size}
//   head {bytes}                           -> head {name, size, data} (the kept file's first bytes)
//   load {n_ctx, n_threads}                -> loaded {name, size, n_ctx, n_ctx_train, n_layer, threads, template}
//   forget                                 -> kept {name: null, size: 0}
//   chat {id, messages, max_tokens, temperature}
//                                          -> delta {id, text}..., done {id, finish_reason, prompt_tokens, tokens, first_token_ms, ms}
//   abort {id}                             -> (the chat ends with done, finish_reason "stop")
// Any failure answers error {id?, message} (id: the chat's, when a chat failed).
import { Wllama } from "./vendor/wllama/index.js";

const FOLDER = "localyst-models"; // in OPFS: one model at a time
const GGUF_MAGIC = [0x47, 0x47, 0x55, 0x46]; // "GGUF"
const ASSETS = {
  "single-thread/wllama.wasm": new URL("vendor/wllama/single-thread/wllama.wasm", self.location).href,
  "multi-thread/wllama.wasm": new URL("vendor/wllama/multi-thread/wllama.wasm", self.location).href,
};
const DOWNLOAD = new URL(self.location).searchParams.get("download");

let wllama = null;
let loadedName = null;
const aborts = new Map(); // chat id -> AbortController

class Refused extends Error {}

async function folder() {
  const root = await navigator.storage.getDirectory();
  return root.getDirectoryHandle(FOLDER, { create: true });
}

// The one kept model, as {name, file}, or null.
async function keptModel() {
  const dir = await folder();
  for await (const [name, handle] of dir.entries()) {
    if (handle.kind === "file" && !name.endsWith(".part")) return { name, file: await handle.getFile() };
  }
  return null;
}

async function forget() {
  const dir = await folder();
  const names = [];
  for await (const [name] of dir.entries()) names.push(name);
  for (const name of names) await dir.removeEntry(name);
}

// Copies a stream of `total` bytes into OPFS as `name`, with progress; the file takes its name
// only once complete (a cut copy stays a .part and is never loaded). It must start "GGUF".
async function keep(name, stream, total, maxBytes) {
  const tooBig = (size) => new Refused(`${name} is ${gb(size)}: more than the ${gb(maxBytes)} a model may take in this tab (WebAssembly here can address 4 GB in all).`);
  if (total > maxBytes) throw tooBig(total);
  const { quota, usage } = await navigator.storage.estimate();
  if (total && quota && total > quota - usage) {
    throw new Refused(`${name} is ${gb(total)}, and this browser lets the site keep only ${gb(quota - usage)} more. Free some disk space, or choose a smaller model.`);
  }
  const dir = await folder();
  const part = await dir.getFileHandle(name + ".part", { create: true });
  const writable = await part.createWritable();
  let done = 0;
  let lastShown = 0;
  const reader = stream.getReader();
  try {
    for (;;) {
      const { value, done: finished } = await reader.read();
      if (finished) break;
      if (done === 0 && !GGUF_MAGIC.every((byte, i) => value[i] === byte)) {
        throw new Refused(`${name} is not a GGUF model file (it does not start with "GGUF").`);
      }
      done += value.byteLength;
      if (done > maxBytes) throw tooBig(done);
      await writable.write(value);
      if (done - lastShown >= Math.max(1 << 23, total / 100) || done === total) {
        lastShown = done;
        self.postMessage({ type: "progress", done, total });
      }
    }
    await writable.close();
  } catch (err) {
    await writable.abort().catch(() => {});
    await dir.removeEntry(name + ".part").catch(() => {});
    throw err;
  }
  await unload();
  for await (const [other] of dir.entries()) {
    if (other !== name + ".part") await dir.removeEntry(other);
  }
  await part.move(name);
  self.postMessage({ type: "kept", name, size: done });
}

const gb = (bytes) => `${(bytes / 1e9).toFixed(2)} GB`;

async function keepUrl(url, maxBytes) {
  if (url !== DOWNLOAD) throw new Refused("This worker may download only the URL it was started for.");
  let response;
  try {
    response = await fetch(url, { credentials: "omit" });
  } catch (err) {
    throw new Refused(`${url} could not be reached (${err.message}). The server must allow this page (CORS), and it must answer at that address without redirecting to another.`);
  }
  if (!response.ok) throw new Refused(`${url} answered ${response.status} ${response.statusText}.`);
  const name = decodeURIComponent(new URL(url).pathname.split("/").pop() || "model.gguf");
  await keep(name, response.body, Number(response.headers.get("Content-Length")) || 0, maxBytes);
}

async function unload() {
  if (wllama) await wllama.exit().catch(() => {});
  wllama = null;
  loadedName = null;
}

const NOTHING_KEPT = "No model is kept in this browser yet: choose a .gguf file first.";

// The kept file's first bytes, for the app to read the model's shape before it is loaded.
async function head({ bytes }) {
  const model = await keptModel();
  if (!model) throw new Refused(NOTHING_KEPT);
  const data = new Uint8Array(await model.file.slice(0, bytes).arrayBuffer());
  self.postMessage({ type: "head", name: model.name, size: model.file.size, data }, [data.buffer]);
}

async function load({ n_ctx, n_threads }) {
  const model = await keptModel();
  if (!model) throw new Refused(NOTHING_KEPT);
  if (loadedName === model.name && wllama) return describe(model);
  await unload();
  const instance = new Wllama(ASSETS, { suppressNativeLog: true, logger: { debug() {}, log() {}, warn() {}, error: console.error } });
  try {
    await instance.loadModel([model.file], { n_ctx, n_threads: n_threads || undefined }); // 0: wllama's choice
  } catch (err) {
    await instance.exit().catch(() => {});
    throw new Refused(`${model.name} could not be loaded as a model: ${err.message || err}. It may be damaged, or of a kind this llama.cpp build does not know.`);
  }
  wllama = instance;
  loadedName = model.name;
  return describe(model);
}

function describe(model) {
  const info = wllama.getLoadedContextInfo();
  return {
    type: "loaded",
    name: model.name,
    size: model.file.size,
    n_ctx: info.n_ctx,
    n_ctx_train: info.n_ctx_train,
    n_layer: info.n_layer,
    threads: wllama.getNumThreads(),
    template: wllama.getChatTemplate() || "",
  };
}

async function chat({ id, messages, max_tokens, temperature }) {
  if (!wllama) throw new Refused("The in-page model is not loaded.");
  const controller = new AbortController();
  aborts.set(id, controller);
  const started = performance.now();
  let firstToken = null;
  let tokens = 0;
  let sent = "";
  try {
    const prompt = await wllama.formatChat(messages, true);
    const promptTokens = (await wllama.tokenize(prompt, true)).length;
    const room = wllama.getLoadedContextInfo().n_ctx - promptTokens;
    if (room <= 0) throw new Refused(`The conversation (${promptTokens} tokens) does not fit the model's context of ${wllama.getLoadedContextInfo().n_ctx} tokens.`);
    const limit = Math.min(max_tokens || room, room);
    await wllama.createCompletion(prompt, {
      nPredict: limit,
      useCache: true, // the history's tokens stay computed from one step to the next
      sampling: temperature == null ? {} : { temp: temperature },
      abortSignal: controller.signal,
      onNewToken: (_token, _piece, text) => {
        tokens += 1;
        if (firstToken === null) firstToken = performance.now() - started;
        // A token can end inside a UTF-8 character: hold back a trailing replacement mark.
        const whole = text.endsWith("\uFFFD") ? text.slice(0, -1) : text;
        if (whole.length > sent.length && whole.startsWith(sent)) {
          self.postMessage({ type: "delta", id, text: whole.slice(sent.length) });
          sent = whole;
        }
      },
    });
    const finish = tokens >= limit && !controller.signal.aborted ? "length" : "stop";
    const ms = performance.now() - started;
    self.postMessage({ type: "done", id, finish_reason: finish, prompt_tokens: promptTokens, tokens, first_token_ms: firstToken, ms });
  } finally {
    aborts.delete(id);
  }
}

const handlers = {
  kept: async () => {
    const model = await keptModel();
    self.postMessage({ type: "kept", name: model ? model.name : null, size: model ? model.file.size : 0 });
  },
  keep: (msg) => (msg.url ? keepUrl(msg.url, msg.max_bytes) : keep(msg.file.name, msg.file.stream(), msg.file.size, msg.max_bytes)),
  head,
  load: async (msg) => self.postMessage(await load(msg)),
  forget: async () => {
    await unload();
    await forget();
    self.postMessage({ type: "kept", name: null, size: 0 });
  },
  chat,
  abort: async ({ id }) => {
    const controller = aborts.get(id);
    if (controller) controller.abort();
  },
};

self.onmessage = ({ data }) => {
  const handler = data && handlers[data.type];
  if (!handler) return self.postMessage({ type: "error", message: `no message ${String(data && data.type).slice(0, 40)}` });
  Promise.resolve(handler(data)).catch((err) => {
    if (!(err instanceof Refused)) console.error(err);
    self.postMessage({ type: "error", id: data.id, message: String((err && err.message) || err).slice(0, 1000) });
  });
};
