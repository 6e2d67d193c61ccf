// codeclab's main thread: boots the Python worker, shows progress, hosts one panel per tool.
import { PythonWorker } from "./lib/rpc.js";
import { el, toast } from "./lib/ui.js";
import { installPasteRouting } from "./lib/dropzone.js";
import { startOffline } from "./lib/offline.js";
import { startUpdates } from "./lib/update.js";
import { addKinds } from "./lib/filekind.js";

// One tab per tool, written into index.html by the build from the tools' manifests (web/tools/<id>/tool.json),
// so the page does not move when the tools mount; then the page's own tabs (About). The id is the tool's one
// name everywhere (tools/<id>/, its Python package, RPC "<id>.*", data-testid "<id>-*", tab-<id>, panel-<id>).
const TOOLS = [...document.querySelectorAll('[role="tab"]')].map((tab) => ({
  id: tab.id.replace(/^tab-/, ""),
  tab,
  module: tab.dataset.module,
  aliases: (tab.dataset.aliases || "").split(" ").filter(Boolean),
  mounted: null, // the mount's promise, once the tab was first opened
}));
// What the build says of each tool (dist/tools.json): its offline groups, the file kinds it names.
const toolIndex = fetch(new URL("./tools.json", import.meta.url)).then((r) => (r.ok ? r.json() : { tools: [] }))
  .catch(() => ({ tools: [] }));

const root = document.documentElement;
const boot = document.getElementById("boot");
const bar = boot.querySelector(".progress");
const fill = boot.querySelector(".progress-fill");
const stageText = boot.querySelector(".boot-stage");
const startedAt = performance.now();

// The page's parameters are handed to the worker as they are: it reads `?threads=N` (model threads), and
// its tools' plug-ins read their own (worker.js).
const python = new PythonWorker(new URL(`./worker.js${location.search}`, import.meta.url));
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

// What the page needs before a tool mounts: the build's facts, and the file kinds every tool names (a tab
// says what a dropped file is even when that file belongs to a tool not opened yet).
const beforeMount = Promise.all([
  fetch("./build-info.json").then((r) => r.json()).catch(() => ({})).then((info) => { app.buildInfo = info; }),
  toolIndex.then((index) => { for (const tool of index.tools) addKinds(tool.kinds || []); }),
]).then(() => toolIndex);

function mountTools() {
  for (const tool of TOOLS) {
    tool.tab.addEventListener("click", () => select(tool.id));
    saveWhenUsed(document.getElementById(`panel-${tool.id}`), tool.id);
  }
  select(toolOfHash() || TOOLS[0].id);
  window.addEventListener("hashchange", () => {
    const id = toolOfHash();
    if (id) select(id);
  });
}

/** Import a tab's module and mount it, the first time the tab is opened (a tab never opened costs nothing). */
function mountOnce(tool, panel) {
  const failed = (err) => {
    panel.append(el("p", { class: "error", role: "alert", text: `This panel failed to load: ${err.message}` }));
    console.error(err);
  };
  tool.mounted ??= beforeMount.then(async (index) => {
    const module = await import(new URL(tool.module, document.baseURI).href);
    // A mount may wait for Python (About does); the page does not wait for it.
    Promise.resolve(module.mount(panel, app)).catch(failed);
    // Each tool's panel says Python is on its way (the tabs can be browsed meanwhile; the boot card has
    // the progress). Under the tool, so that nothing above moves when it goes.
    if (index.tools.some((t) => t.id === tool.id) && root.dataset.state === "booting") {
      panel.append(el("p", { class: "python-wait", "data-testid": `${tool.id}-python-wait`, text: "Python is starting: this tool runs as soon as it is ready." }));
    }
    // The tab was shown before its module loaded: the tool hears that it is shown now.
    if (!panel.hidden) panel.dispatchEvent(new CustomEvent("tool-shown"));
  }).catch(failed);
  return tool.mounted;
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

// Links made before the tabs were named after their tools still open the right one (a manifest's "aliases").
function toolOfHash() {
  const hash = location.hash.slice(1);
  return (TOOLS.find((t) => t.id === hash) || TOOLS.find((t) => t.aliases.includes(hash)))?.id ?? null;
}

function select(id) {
  for (const tool of TOOLS) {
    const active = tool.id === id;
    tool.tab.setAttribute("aria-selected", String(active));
    tool.tab.tabIndex = active ? 0 : -1;
    const panel = document.getElementById(`panel-${tool.id}`);
    const shown = active && (panel.hidden || !panel.dataset.shown);
    panel.hidden = !active;
    // A tool may start what it will need as soon as it is looked at (a receiver, a WebGL2 context): nothing
    // of the kind is made, nor its module loaded, for a tab never opened.
    if (shown) {
      panel.dataset.shown = "";
      if (tool.mounted) panel.dispatchEvent(new CustomEvent("tool-shown"));
    }
    if (active) mountOnce(tool, panel);
  }
  if (location.hash.slice(1) !== id) history.replaceState(null, "", `#${id}`);
}

// What a tool needs is saved for offline use once the visitor has used it (given it a file, changed a
// setting, pressed one of its buttons), not because its tab is shown: the default tab alone must not
// download a model runtime. The files the tool fetched as it ran are kept as they arrive (lib/downloads.js);
// the rest of its groups are fetched once Python is idle, and not on a Save-Data connection (lib/offline.js).
const USE_EVENTS = ["change", "drop", "click"];

function saveWhenUsed(panel, id) {
  const used = (event) => {
    if (event.type === "click" && !event.target.closest?.("button")) return;
    for (const type of USE_EVENTS) panel.removeEventListener(type, used, true);
    Promise.all([app.ready, app.offline.toolGroups]).then(([, groups]) => groups[id] && app.offline.cacheWhenIdle(groups[id]), () => {});
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

// A tool's groups (dist/tools.json's "needs"); the page's own tabs (About) have none.
const toolGroups = toolIndex.then((index) => Object.fromEntries(index.tools.map((tool) => [tool.id, tool.needs])));
app.offline = startOffline(app, toolGroups);
app.updates = startUpdates(app); // a new deploy is noticed; a required one switches over when idle
installPasteRouting();
installTabKeys();
mountTools();
window.codeclab = app; // for the console and for tests
