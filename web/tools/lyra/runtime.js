// Which runtime runs Lyra's neural models, and a control to change it: LiteRT.js on the upstream
// .tflite files (the default) or onnxruntime-web on codeclab's ONNX conversion. The choice is the
// page parameter `?lyra-runtime=onnx`, which the Python workers read when they start, so changing
// it reloads the page (after asking, when the page shows something a reload would lose).
import { el } from "../../lib/ui.js";
import { requestedRuntime as runtimeIn, withRuntime } from "./runtime-choice.js";

const LABELS = { litert: "LiteRT.js (upstream .tflite)", onnx: "onnxruntime-web (converted ONNX)" };

const requestedRuntime = () => runtimeIn(location.search);

function describe(info, versions) {
  const name = info.active === "litert" ? `LiteRT.js ${versions["@litertjs/core"] ?? ""}` : `onnxruntime-web ${versions["onnxruntime-web"] ?? ""}`;
  const threads = `${info.threads} thread${info.threads === 1 ? "" : "s"}`;
  const fallback = info.active !== info.requested ? ` (LiteRT.js cannot run here: ${info.reason})` : "";
  return `${name.trim()}, ${threads}${fallback}`;
}

/**
 * The Speech tab's runtime details (`hasWork()`: a stream is running or a result is kept). `refresh()` asks the page's worker which runtime it uses
 * (loading LiteRT.js if that is the choice) and shows it; it resolves to the worker's answer.
 */
export function runtimeDetails(app, { hasWork = () => false } = {}) {
  const versions = Object.fromEntries((app.buildInfo?.vendor || []).map((v) => [v.name, v.version]));
  const shown = el("b", { "data-testid": "lyra-runtime", text: `${LABELS[requestedRuntime()]} (starts with the first stream)` });
  const select = el("select", { "data-testid": "lyra-runtime-select", "aria-label": "Lyra runtime" },
    Object.entries(LABELS).map(([value, label]) => el("option", { value, text: label })));
  select.value = requestedRuntime();
  const reload = () => {
    location.assign(withRuntime(new URL(location.href), select.value).href); // the workers read the choice when they start
  };
  // A reload loses whatever the page shows: with a result on screen in any tab (every tool marks
  // its results with data-result), ask first.
  const confirmText = el("span");
  const confirm = el("p", { class: "notice", hidden: true, "data-testid": "lyra-runtime-confirm" }, confirmText, " ",
    el("button", { "data-testid": "lyra-runtime-reload", onclick: reload }, "Reload now"), " ",
    el("button", { class: "secondary", "data-testid": "lyra-runtime-cancel", onclick: () => { select.value = requestedRuntime(); confirm.hidden = true; } }, "Keep my results"));
  select.addEventListener("change", () => {
    if (select.value === requestedRuntime()) { confirm.hidden = true; return; }
    if (!document.querySelector("[data-result]") && !hasWork()) { reload(); return; }
    confirmText.textContent = `Running Lyra on ${LABELS[select.value]} reloads the page, and what it shows now (streams, comparisons, other tabs' results) is lost.`;
    confirm.hidden = false;
  });
  let answer = null;
  const node = el("details", { class: "card lyra-runtime", "data-testid": "lyra-runtime-details" },
    el("summary", { text: "Model runtime" }),
    el("p", {}, el("span", { class: "muted", text: "Lyra's models run on " }), shown),
    el("label", {}, el("span", { text: "Run Lyra on " }), select),
    confirm,
    el("p", { class: "muted", text: "Both run the same models: LiteRT.js is Google's browser build of the TFLite runtime and runs the published .tflite files as they are (its output is identical to native TFLite); onnxruntime-web runs codeclab's conversion of them. Changing this reloads the page (you are asked first when results are shown)." }));
  node.addEventListener("toggle", () => { if (node.open) refresh(); });
  function refresh() {
    answer ??= app.ready.then(() => app.python.call("worker.lyra_runtime", {})).then((info) => {
      shown.textContent = describe(info, versions);
      node.dataset.active = info.active;
      return info;
    });
    answer.catch(() => { answer = null; });
    return answer;
  }
  return { node, refresh };
}
