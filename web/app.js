// codeclab's main thread: boots the Python worker, shows progress, hosts one panel per tool.
import { PythonWorker } from "./lib/rpc.js";
import { el, toast } from "./lib/ui.js";
import { installPasteRouting } from "./lib/dropzone.js";
import { startOffline, TOOL_GROUPS } from "./lib/offline.js";
import { startUpdates } from "./lib/update.js";

// One tab per tool, written in index.html so the page does not move when the tools mount. The id is the
// tool's one name everywhere (tools/<id>/, codeclab.<id>, RPC "<id>.*", data-testid "<id>-*", tab-<id>, panel-<id>).
const TOOLS = [...document.querySelectorAll('[role="tab"]')].map((tab) => ({ id: tab.id.replace(/^tab-/, ""), tab }));

const root = document.documentElement;
const boot = document.getElementById("boot");
const bar = boot.querySelector(".progress");
const fill = boot.querySelector(".progress-fill");
const stageText = boot.querySelector(".boot-stage");
const startedAt = performance.now();

// `?threads=N` (model threads) and `?lyra-runtime=onnx` (Lyra on onnxruntime-web instead of
// LiteRT.js) on the page are handed to the worker (see worker.js).
const pageParams = new URLSearchParams(location.search);
const workerParams = new URLSearchParams();
if (/^\d+$/.test(pageParams.get("threads") || "")) workerParams.set("threads", pageParams.get("threads"));
if (pageParams.get("lyra-runtime") === "onnx") workerParams.set("lyra-runtime", "onnx");
const python = new PythonWorker(new URL(`./worker.js${workerParams.size ? `?${workerParams}` : ""}`, import.meta.url));
const app = {
  python,
  buildInfo: null,
  runtime: null, // {ms, crossOriginIsolated, threads, models}
  ready: null,
  modelAvailable(name) { return Boolean(app.runtime?.models?.files?.[name]); },
  modelsReason() { return app.runtime?.models?.reason || "the upstream model files were not given to the build"; },
};

let resolveReady;
let rejectReady;
app.ready = new Promise((resolve, reject) => { resolveReady = resolve; rejectReady = reject; });

// Downloads report progress many times a frame: the latest report is drawn once a frame.
let pendingProgress = null;

function setProgress(fraction, text, stage) {
  if (pendingProgress === null) requestAnimationFrame(drawProgress);
  pendingProgress = { fraction, text, stage: stage || pendingProgress?.stage };
}

function drawProgress() {
  const { fraction, text, stage } = pendingProgress;
  pendingProgress = null;
  const percent = Math.round(fraction * 100);
  fill.style.width = `${percent}%`;
  bar.setAttribute("aria-valuenow", String(percent));
  stageText.textContent = text;
  if (stage) {
    let reached = true;
    for (const li of boot.querySelectorAll("li[data-stage]")) {
      if (li.dataset.stage === stage) { li.className = "active"; reached = false; } else li.className = reached ? "done" : "";
    }
  }
}

python.on((message) => {
  if (message.type === "progress") setProgress(message.fraction, message.text, message.stage);
  else if (message.type === "ready") {
    app.runtime = message;
    root.dataset.state = "ready";
    root.dataset.bootMs = String(Math.round(performance.now() - startedAt));
    root.dataset.readyAt = String(Math.round(performance.now())); // ms since navigation start
    root.dataset.bootStages = JSON.stringify(message.stages || {}); // ms per stage, in the worker
    root.dataset.pythonSnapshot = message.snapshot || "off"; // "made", "restored", "off" or why it failed
    boot.hidden = true;
    for (const notice of document.querySelectorAll(".python-wait")) notice.remove();
    resolveReady(message);
    app.offline.cacheGroups(["shell", "python"]);
  } else if (message.type === "boot-error") {
    root.dataset.state = "error";
    setProgress(1, `Python failed to start: ${message.message}`);
    boot.classList.add("failed");
    rejectReady(new Error(message.message));
  } else if (message.type === "watchdog") {
    // The stuck call's own panel shows its error; this says what happened to Python as a whole.
    root.dataset.watchdogRestarts = String(message.restarts);
    toast("Python was busy for too long and has been restarted. Everything else keeps working.", "error");
  } else if (message.type === "model-progress") {
    document.dispatchEvent(new CustomEvent("model-progress", { detail: message }));
  }
});

async function mountTools() {
  select(toolOfHash() || TOOLS[0].id);
  window.addEventListener("hashchange", () => {
    const id = toolOfHash();
    if (id) select(id);
  });
  app.buildInfo = await fetch("./build-info.json").then((r) => r.json()).catch(() => ({}));
  for (const tool of TOOLS) {
    const panel = document.getElementById(`panel-${tool.id}`);
    tool.tab.addEventListener("click", () => select(tool.id));
    saveWhenUsed(panel, tool.id);
    const failed = (err) => {
      panel.append(el("p", { class: "error", role: "alert", text: `This panel failed to load: ${err.message}` }));
      console.error(err);
    };
    // A mount may wait for Python (About does); the next tabs do not wait for it.
    try {
      const module = await import(`./tools/${tool.id}/index.js`);
      Promise.resolve(module.mount(panel, app)).catch(failed);
      // Each tool's panel says Python is on its way (the tabs can be browsed meanwhile; the boot card has
      // the progress). Under the tool, so that nothing above moves when it goes.
      if (tool.id !== "about" && root.dataset.state === "booting") {
        panel.append(el("p", { class: "python-wait", "data-testid": `${tool.id}-python-wait`, text: "Python is starting: this tool runs as soon as it is ready." }));
      }
      // A tool shown before its module loaded hears that it is shown now.
      if (!panel.hidden) panel.dispatchEvent(new CustomEvent("tool-shown"));
    } catch (err) { failed(err); }
  }
}

// The WAI-ARIA tabs pattern: the tab list is one Tab stop (the selected tab); the arrow keys, Home and End
// move between tabs and select them (automatic activation: showing a panel costs nothing until it is used).
function installTabKeys() {
  const list = document.querySelector('[role="tablist"]');
  list.addEventListener("keydown", (event) => {
    const at = TOOLS.findIndex((tool) => tool.tab === document.activeElement);
    if (at < 0) return;
    const last = TOOLS.length - 1;
    const next = { ArrowRight: at + 1, ArrowDown: at + 1, ArrowLeft: at - 1, ArrowUp: at - 1, Home: 0, End: last }[event.key];
    if (next === undefined || event.altKey || event.ctrlKey || event.metaKey) return;
    event.preventDefault();
    const tool = TOOLS[(next + TOOLS.length) % TOOLS.length];
    select(tool.id);
    tool.tab.focus();
  });
}

// Links made before the tabs were named after their tools still open the right one.
const OLD_HASHES = { image: "attention", speech: "lyra", textures: "basis" };

function toolOfHash() {
  const hash = location.hash.slice(1);
  const id = OLD_HASHES[hash] || hash;
  return TOOLS.some((t) => t.id === id) ? id : null;
}

function select(id) {
  for (const tool of TOOLS) {
    const active = tool.id === id;
    tool.tab.setAttribute("aria-selected", String(active));
    tool.tab.tabIndex = active ? 0 : -1;
    const panel = document.getElementById(`panel-${tool.id}`);
    const shown = active && (panel.hidden || !panel.dataset.shown);
    panel.hidden = !active;
    // A tool may start what it will need as soon as it is looked at (the Lyra tab boots its receiver,
    // the Basis tab makes its WebGL2 context): nothing of the kind is made for a tab never opened.
    if (shown) {
      panel.dataset.shown = "";
      panel.dispatchEvent(new CustomEvent("tool-shown"));
    }
  }
  if (location.hash.slice(1) !== id) history.replaceState(null, "", `#${id}`);
}

// What a tool needs is saved for offline use once the visitor has used it (given it a file, changed a
// setting, pressed one of its buttons), not because its tab is shown: the default tab alone must not
// download a model runtime. The files the tool fetched as it ran are kept as they arrive (lib/downloads.js);
// the rest of its groups are fetched once Python is idle, and not on a Save-Data connection (lib/offline.js).
const USE_EVENTS = ["change", "drop", "click"];

function saveWhenUsed(panel, id) {
  if (!TOOL_GROUPS[id]) return;
  const used = (event) => {
    if (event.type === "click" && !event.target.closest?.("button")) return;
    for (const type of USE_EVENTS) panel.removeEventListener(type, used, true);
    app.ready.then(() => app.offline.cacheWhenIdle(TOOL_GROUPS[id]), () => {});
  };
  for (const type of USE_EVENTS) panel.addEventListener(type, used, true);
}

window.addEventListener("unhandledrejection", (event) => {
  toast(`Unexpected error: ${event.reason?.message || event.reason}`, "error");
});

// The sticky header's height, for scroll-padding-top (style.css): a focused control is scrolled into view
// below it, never under it.
new ResizeObserver(([entry]) => {
  root.style.setProperty("--topbar-height", `${Math.ceil(entry.borderBoxSize[0].blockSize)}px`);
}).observe(document.querySelector(".topbar"));

app.offline = startOffline(app);
app.updates = startUpdates(app); // a new deploy is noticed; a required one switches over when idle
installPasteRouting();
installTabKeys();
mountTools();
window.codeclab = app; // for the console and for tests
