// Main-thread loader: shows start-up progress, starts the app worker, and renders the
// Bokeh document the worker sends. All application logic lives in Python in the worker.
"use strict";

(function () {
  const status = { stage: "starting", detail: "", progress: 0, ready: false, error: null, build: "__BUILD_ID__", offlineReady: false, startup: {}, snapshots: {} };
  window.localyst = status;

  const $ = (id) => document.getElementById(id);
  const domReady = new Promise((resolve) => {
    if (document.readyState !== "loading") resolve();
    else document.addEventListener("DOMContentLoaded", resolve, { once: true });
  });

  function showStage(stage, detail, progress) {
    status.stage = stage;
    status.detail = detail || "";
    if (typeof progress === "number") status.progress = Math.max(status.progress, progress);
    domReady.then(() => {
      $("stage-name").textContent = stage;
      $("stage-detail").textContent = detail ? " · " + detail : "";
      $("progress-fill").style.width = status.progress + "%";
      document.querySelector(".progress").setAttribute("aria-valuenow", String(Math.round(status.progress)));
    });
  }

  function fail(message) {
    status.error = message;
    if (status.ready) {
      // The app is up: keep it, and say what went wrong above it.
      domReady.then(() => {
        const banner = document.createElement("div");
        banner.className = "runtime-error";
        banner.setAttribute("role", "alert");
        banner.textContent = message;
        document.body.prepend(banner);
      });
      return;
    }
    status.stage = "failed";
    domReady.then(() => {
      document.body.classList.add("load-failed");
      $("load-error").hidden = false;
      $("load-error-text").textContent = message;
      $("load-retry").onclick = () => location.reload();
    });
  }

  // Cross-origin isolation (which the kernel's interrupt buffer needs) comes from sw.js,
  // which adds COOP/COEP headers. A first visit is not under its control yet, so the page
  // reloads once it is active (once: a sessionStorage flag stops loops), before any worker
  // starts. Without service workers (a private window, file://) it runs without isolation.
  async function isolate() {
    const RELOADED = "localyst-isolation-reload";
    if (!("serviceWorker" in navigator)) return;
    const registering = navigator.serviceWorker.register("sw.js");
    if (self.crossOriginIsolated) {
      sessionStorage.removeItem(RELOADED);
      await takeOver();
      return;
    }
    if (sessionStorage.getItem(RELOADED)) return;
    // A service worker that never becomes ready (blocked by policy, failed install) must not
    // hold the page: after a few seconds it goes on without isolation.
    const ready = registering.then(() => navigator.serviceWorker.ready).then(() => true);
    const giveUp = new Promise((resolve) => setTimeout(() => resolve(false), 5000));
    if (!(await Promise.race([ready, giveUp]))) {
      console.warn("The service worker did not become ready; running without cross-origin isolation.");
      return;
    }
    sessionStorage.setItem(RELOADED, "1");
    location.reload();
    await new Promise(() => {}); // nothing more happens on this copy of the page
  }

  // A new build that the service worker installed (and cached) while an older page ran
  // takes over on the next load, here, before any worker starts: the page reloads once so
  // that everything it runs comes from one build.
  async function takeOver() {
    const registration = await navigator.serviceWorker.getRegistration();
    const waiting = registration && registration.waiting;
    if (!waiting || !navigator.serviceWorker.controller) return;
    const switched = new Promise((resolve) => navigator.serviceWorker.addEventListener("controllerchange", () => resolve(true), { once: true }));
    const giveUp = new Promise((resolve) => setTimeout(() => resolve(false), 5000));
    waiting.postMessage("take-over");
    if (!(await Promise.race([switched, giveUp]))) return;
    location.reload();
    await new Promise(() => {});
  }

  // Says once, on its first load, that this browser now runs a different build than before.
  function noticeUpdate() {
    let last;
    try {
      last = localStorage.getItem("localyst-build");
      localStorage.setItem("localyst-build", status.build);
    } catch (err) {
      return; // no storage (blocked, or a file:// page): nothing to compare with
    }
    if (!last || last === status.build) return;
    status.updatedFrom = last;
    domReady.then(() => {
      const notice = document.createElement("div");
      notice.className = "update-notice";
      notice.setAttribute("role", "status");
      notice.textContent = `Localyst was updated to build ${status.build}. `;
      const ok = document.createElement("button");
      ok.type = "button";
      ok.textContent = "OK";
      ok.onclick = () => notice.remove();
      notice.append(ok);
      document.body.append(notice);
    });
  }

  // Once the app is up, the service worker makes sure it keeps every file of a visit (most
  // passed through it while the app loaded), so that the next visit works offline.
  function keepForOffline() {
    const controller = navigator.serviceWorker && navigator.serviceWorker.controller;
    if (!controller) return;
    const channel = new MessageChannel();
    channel.port1.onmessage = ({ data }) => {
      status.offline = data;
      status.offlineReady = !data.error;
      if (data.error) console.warn("Not every file could be kept for offline use:", data.error);
    };
    controller.postMessage("precache", [channel.port2]);
  }

  // How each worker's Python started (boot.js), in status.startup. One that was not restored
  // from a memory snapshot gets one made for the next visit, once the app is up, in a
  // throwaway worker (snapshot-worker.js), one at a time; the service worker keeps it.
  // `?snapshots=off` leaves them alone for this visit (the tests of a plain start use it).
  const makeSnapshots = new URLSearchParams(location.search).get("snapshots") !== "off";
  let appUp = null;
  const appIsUp = new Promise((resolve) => (appUp = resolve));
  let snapshotting = Promise.resolve();

  function noteStartup(msg) {
    // `at`: when it said so (a kernel says it again after each restart)
    status.startup[msg.worker] = { path: msg.path, reason: msg.reason || "", ms: msg.ms || null, at: performance.now() };
    if (msg.path === "restored" || !makeSnapshots) return;
    status.snapshots[msg.worker] = { state: "waiting" };
    snapshotting = snapshotting.then(() => appIsUp).then(() => makeSnapshot(msg.worker));
  }

  function makeSnapshot(name) {
    const controller = navigator.serviceWorker && navigator.serviceWorker.controller;
    const noted = status.snapshots[name];
    if (!controller) return Object.assign(noted, { state: "failed", error: "no service worker to keep it" });
    noted.state = "making";
    return new Promise((resolve) => {
      const maker = new Worker("snapshot-worker.js");
      const done = (outcome) => {
        maker.terminate();
        Object.assign(noted, outcome);
        if (outcome.error) console.warn(`No ${name} snapshot for the next visit:`, outcome.error);
        resolve();
      };
      maker.onerror = (event) => {
        event.preventDefault();
        done({ state: "failed", error: event.message || "snapshot-worker.js could not run" });
      };
      maker.onmessage = ({ data }) => {
        if (data.error) return done({ state: "failed", error: data.error });
        const bytes = data.file.byteLength; // the file itself moves to the service worker
        const channel = new MessageChannel();
        channel.port1.onmessage = ({ data: kept }) =>
          done(kept.error ? { state: "failed", error: kept.error } : { state: "kept", bytes, ms: data.ms });
        controller.postMessage({ type: "keep-snapshot", worker: name, file: data.file }, [channel.port2, data.file]);
      };
      maker.postMessage(name);
    });
  }

  // The first screen takes a question and files while Python starts; the app gets them
  // once it is up. The draft outlives the first visit's isolation reload (sessionStorage).
  const EARLY = "localyst-early";
  const early = { draft: "", question: "", files: [] };

  function showEarly() {
    const box = $("early-text");
    if (!box) return;
    const asked = Boolean(early.question);
    box.readOnly = asked;
    $("early-send").textContent = asked ? "Edit" : "Ask";
    $("early-send").classList.toggle("secondary", asked);
    const parts = [];
    if (asked) parts.push("Asked as soon as Python is ready.");
    if (early.files.length) parts.push(`${early.files.length} file${early.files.length > 1 ? "s" : ""} to add then.`);
    $("early-note").textContent = parts.join(" ");
  }

  function keepEarly() {
    try {
      sessionStorage.setItem(EARLY, JSON.stringify({ draft: early.draft, asked: Boolean(early.question) }));
    } catch (err) {
      // no session storage: the draft lives as long as this copy of the page
    }
  }

  function listenEarly() {
    const box = $("early-text");
    try {
      const kept = JSON.parse(sessionStorage.getItem(EARLY) || "null");
      if (kept) {
        box.value = early.draft = kept.draft || "";
        if (kept.asked) early.question = early.draft.trim();
      }
    } catch (err) {
      // nothing kept, or not readable: start empty
    }
    showEarly();
    box.addEventListener("input", () => {
      early.draft = box.value;
      keepEarly();
    });
    box.addEventListener("keydown", (event) => {
      if (event.key !== "Enter" || event.shiftKey || event.isComposing) return;
      event.preventDefault();
      $("early-ask").requestSubmit();
    });
    $("early-ask").addEventListener("submit", (event) => {
      event.preventDefault();
      early.question = early.question ? "" : box.value.trim();
      keepEarly();
      showEarly();
      if (!early.question) box.focus();
    });
  }

  // Files first, so that the question may be about them; an unsent draft goes to the chat box.
  function handOver() {
    try {
      sessionStorage.removeItem(EARLY);
    } catch (err) {
      // nothing was kept
    }
    if (!early.question && !early.draft.trim() && !early.files.length) return;
    worker.postMessage({ type: "action", action: "early", question: early.question, draft: early.question ? "" : early.draft, files: early.files });
    early.files = [];
  }

  const FORGET_AFTER_MS = 2000;
  let worker = null;
  let jsdoc = null;
  let actionToken = null; // this visit's token for the app's own action buttons (see render)
  let patching = 0;
  let busy = false;
  let queue = [];

  function sendChange(event) {
    if ((event.setter_id != null && event.setter_id === "py") || patching > 0) return;
    if (busy && event.model && event.attr) {
      queue = queue.filter((old) => !(old.model === event.model && old.attr === event.attr));
      queue.push(event);
      return;
    }
    busy = true;
    worker.postMessage({ type: "patch", patch: jsdoc.create_json_patch([event]) });
  }

  async function render(msg) {
    await domReady;
    if (!window.Bokeh || !window.Bokeh.Panel) {
      fail("The page's display library (BokehJS/Panel in vendor/) did not load. Reload the page; if it persists, the site is incomplete.");
      return;
    }
    actionToken = msg.action_token;
    const docsJson = JSON.parse(msg.docs_json);
    const renderItems = JSON.parse(msg.render_items);
    const rootIds = JSON.parse(msg.root_ids);
    const app = $("app");
    const roots = {};
    for (const rootId of rootIds) {
      const el = document.createElement("div");
      el.id = "root-" + rootId;
      el.style.display = "contents";
      app.appendChild(el);
      roots[rootId] = el.id;
    }
    renderItems[0].roots = roots;
    renderItems[0].root_ids = rootIds;
    app.hidden = false;
    const [views] = await window.Bokeh.embed.embed_items(docsJson, renderItems);
    jsdoc = [...views.roots.values()][0].model.document;
    // BokehJS forgets the models that left its document only after 30 s without a change,
    // which a conversation in use never has; the chat lets go of answers far from the
    // screen, and this lets the page forget them after 2 s of quiet.
    jsdoc._recompute_timeout = FORGET_AFTER_MS;
    jsdoc.on_change(sendChange, false);
    worker.postMessage({ type: "rendered" });
    $("loading").remove();
  }

  // plotly.js is big (4.8 MB) and only some conversations draw a plotly chart, so it is
  // loaded when the app first needs it: the app says "plotly" just before the patch that
  // holds the chart, and the messages after it wait, in order, until the script has run
  // (Panel's plotly view draws nothing without window.Plotly). A failed load is reported;
  // the app goes on.
  let held = null;

  function loadPlotly() {
    if (window.Plotly) return Promise.resolve();
    return new Promise((resolve) => {
      const script = document.createElement("script");
      script.src = "vendor/plotly/plotly.min.js";
      script.onload = resolve;
      script.onerror = () => {
        fail("The chart library (vendor/plotly/plotly.min.js) did not load: plotly charts cannot be drawn.");
        resolve();
      };
      document.head.append(script);
    });
  }

  function onWorkerMessage(event) {
    if (!held) return handleMessage(event.data);
    const mine = (held = held.then(() => handleMessage(event.data)).catch((err) => fail("A message from the app failed: " + err)));
    mine.then(() => {
      if (held === mine) held = null;
    });
  }

  function handleMessage(msg) {
    if (msg.type === "plotly") {
      held = domReady.then(loadPlotly);
    } else if (msg.type === "status") {
      showStage(msg.stage, msg.detail, msg.progress);
    } else if (msg.type === "startup") {
      noteStartup(msg);
    } else if (msg.type === "render") {
      render(msg).catch((err) => fail("Rendering the app failed: " + err));
    } else if (msg.type === "ready") {
      // Ask that the browser not evict the kept conversations and files under storage pressure.
      if (navigator.storage && navigator.storage.persist) {
        navigator.storage.persist().then((granted) => { status.persisted = granted; }, () => {});
      }
      status.stage = "ready";
      status.progress = 100;
      status.ready = true;
      status.readyAt = performance.now();
      document.body.classList.add("app-ready");
      handOver();
      keepForOffline();
      appUp();
    } else if (msg.type === "patch") {
      try {
        patching += 1;
        jsdoc.apply_json_patch(msg.patch, msg.buffers);
      } finally {
        patching -= 1;
      }
    } else if (msg.type === "idle") {
      if (queue.length) {
        worker.postMessage({ type: "patch", patch: jsdoc.create_json_patch(queue) });
        queue = [];
      } else {
        busy = false;
      }
    } else if (msg.type === "download") {
      save(msg);
    } else if (msg.type === "error") {
      fail(msg.stage ? `${msg.stage} failed: ${msg.message}` : msg.message);
    }
  }

  // Files come in three ways: dropped anywhere on the page, pasted, or picked. They go to
  // the app worker as File objects: nothing is read here; the kernel worker reads each one
  // straight into its file system. Before the app is up they wait with the first screen.
  function offerFiles(list) {
    const files = Array.from(list || []);
    if (!files.length) return;
    if (!status.ready) {
      early.files.push(...files);
      showEarly();
      return;
    }
    worker.postMessage({ type: "files", files });
  }

  const carriesFiles = (event) => event.dataTransfer && Array.from(event.dataTransfer.types).includes("Files");

  function listenForFiles() {
    const picker = $("file-picker");
    picker.addEventListener("change", () => {
      offerFiles(picker.files);
      picker.value = "";
    });
    const backupPicker = $("backup-picker");
    backupPicker.addEventListener("change", () => {
      if (backupPicker.files.length) worker.postMessage({ type: "action", action: "restore", file: backupPicker.files[0] });
      backupPicker.value = "";
    });
    // A model for the page itself: the File goes to the app worker, which hands it to the model
    // worker; nothing is read here.
    const modelPicker = $("model-picker");
    modelPicker.addEventListener("change", () => {
      if (modelPicker.files.length) worker.postMessage({ type: "action", action: "model-file", file: modelPicker.files[0] });
      modelPicker.value = "";
    });
    document.addEventListener("dragover", (event) => {
      if (!carriesFiles(event)) return;
      event.preventDefault();
      document.body.classList.add("dropping");
    });
    document.addEventListener("dragleave", (event) => {
      if (event.relatedTarget === null) document.body.classList.remove("dropping");
    });
    document.addEventListener("drop", (event) => {
      document.body.classList.remove("dropping");
      if (!carriesFiles(event)) return;
      event.preventDefault();
      offerFiles(event.dataTransfer.files);
    });
    document.addEventListener("paste", (event) => {
      const files = event.clipboardData && event.clipboardData.files;
      if (files && files.length) {
        event.preventDefault();
        offerFiles(files);
      }
    });
    // The app's own buttons ask for page actions with a data-action attribute; they sit in
    // Panel's shadow roots, so the click's composed path is searched. Only a button with
    // this visit's token is the app's: one that came in output or model text does nothing.
    document.addEventListener("click", (event) => {
      const target = event.composedPath().find((node) => node.dataset && node.dataset.action);
      if (!target || !actionToken || target.dataset.token !== actionToken) return;
      if (target.dataset.action === "add-files") picker.click();
      else if (target.dataset.action === "restore-backup") $("backup-picker").click();
      else if (target.dataset.action === "pick-model") $("model-picker").click();
      else if (target.dataset.action === "copy") {
        navigator.clipboard.writeText(target.dataset.text).then(() => {
          target.textContent = "Copied";
          setTimeout(() => (target.textContent = "Copy"), 1500);
        });
      } else if (target.dataset.action === "save-image") {
        const [header, encoded] = target.closest("figure").querySelector("img").src.split(",");
        const data = Uint8Array.from(atob(encoded), (c) => c.charCodeAt(0));
        save({ name: target.dataset.name, data, mime: header.slice(5, header.indexOf(";")) });
      } else if (target.dataset.action === "save-svg") {
        worker.postMessage({ type: "action", action: "save-svg", figure: target.dataset.figure, name: target.dataset.name });
      } else if (target.dataset.action === "show-cell") {
        showCell(target.dataset.cell);
      }
    });
  }

  // The first element under root, in any shadow root below it, that matches the selector.
  function deepQuery(root, selector) {
    const found = root.querySelector(selector);
    if (found) return found;
    for (const element of root.querySelectorAll("*")) {
      const inner = element.shadowRoot && deepQuery(element.shadowRoot, selector);
      if (inner) return inner;
    }
    return null;
  }

  // A figure of an answer was clicked: bring the code cell it came from into view and
  // outline it for a moment. A cell far from the screen is not drawn, so nothing happens.
  function showCell(key) {
    const anchor = deepQuery(document, `[data-ly-cell="${CSS.escape(key || "")}"]`);
    if (!anchor) return;
    let card = anchor.getRootNode().host;
    while (card && !card.classList.contains("ly-code")) card = card.getRootNode().host;
    const shown = card || anchor;
    shown.scrollIntoView({ block: "center", behavior: "smooth" });
    shown.style.outline = "3px solid #1f6feb";
    shown.style.outlineOffset = "2px";
    shown.dataset.lyShown = key;
    setTimeout(() => {
      shown.style.outline = "";
      shown.style.outlineOffset = "";
      delete shown.dataset.lyShown;
    }, 2500);
  }

  // A file the app hands over (an output, an export): saved through a temporary link.
  function save(msg) {
    const blob = msg.data instanceof Blob ? msg.data : new Blob([msg.data], { type: msg.mime || "application/octet-stream" });
    const url = URL.createObjectURL(blob);
    const link = document.createElement("a");
    link.href = url;
    link.download = msg.name;
    link.rel = "noopener";
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60000);
  }

  async function boot() {
    showStage("Starting", "", 1);
    domReady.then(() => {
      listenEarly();
      listenForFiles();
    });
    await isolate().catch((err) => console.warn("No cross-origin isolation (service worker unavailable):", err));
    noticeUpdate();
    status.isolated = self.crossOriginIsolated === true;
    worker = new Worker("app-worker.js");
    worker.onmessage = onWorkerMessage;
    worker.onerror = (event) => {
      event.preventDefault();
      fail("The app worker stopped: " + (event.message || "it could not be loaded (app-worker.js)"));
    };
    showStage("Starting", "app worker", 2);
    worker.postMessage({ type: "start", search: location.search, href: location.href });
  }

  boot();
})();
