// codeclab's main thread: boots the Python worker, shows progress, hosts one panel per tool.
import { PythonWorker } from "./lib/rpc.js";
import { el, toast } from "./lib/ui.js";
import { installPasteRouting } from "./lib/dropzone.js";

// One tab per tool. The id is the tool's one name everywhere (tools/<id>/, codeclab.<id>, RPC
// "<id>.*", data-testid "<id>-*"); the label is for people.
const TOOLS = [
  { id: "attention", label: "Attention center" },
  { id: "jxl", label: "JPEG XL" },
  { id: "lyra", label: "Speech (Lyra)" },
  { id: "basis", label: "Textures (Basis)" },
  { id: "about", label: "About" },
];

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

function setProgress(fraction, text, stage) {
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
    boot.hidden = true;
    resolveReady(message);
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
  const nav = document.querySelector(".tabs");
  const main = document.getElementById("panels");
  app.buildInfo = await fetch("./build-info.json").then((r) => r.json()).catch(() => ({}));
  for (const tool of TOOLS) {
    const tab = el("button", { role: "tab", id: `tab-${tool.id}`, "aria-controls": `panel-${tool.id}`, "data-testid": `tab-${tool.id}`, text: tool.label });
    const panel = el("section", { class: "panel", id: `panel-${tool.id}`, role: "tabpanel", "aria-labelledby": tab.id, hidden: true });
    tab.addEventListener("click", () => select(tool.id));
    nav.append(tab);
    main.append(panel);
    try {
      const module = await import(`./tools/${tool.id}/index.js`);
      await module.mount(panel, app);
    } catch (err) {
      panel.append(el("p", { class: "error", role: "alert", text: `This panel failed to load: ${err.message}` }));
      console.error(err);
    }
  }
  const wanted = toolOfHash();
  select(wanted || TOOLS[0].id);
  window.addEventListener("hashchange", () => {
    const id = toolOfHash();
    if (id) select(id);
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
    document.getElementById(`tab-${tool.id}`).setAttribute("aria-selected", String(active));
    const panel = document.getElementById(`panel-${tool.id}`);
    const shown = active && panel.hidden;
    panel.hidden = !active;
    // A tool may start what it will need as soon as it is looked at (the Lyra tab boots its receiver).
    if (shown) panel.dispatchEvent(new CustomEvent("tool-shown"));
  }
  if (location.hash.slice(1) !== id) history.replaceState(null, "", `#${id}`);
}

window.addEventListener("unhandledrejection", (event) => {
  toast(`Unexpected error: ${event.reason?.message || event.reason}`, "error");
});

installPasteRouting();
mountTools();
window.codeclab = app; // for the console and for tests
