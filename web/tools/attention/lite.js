// The lite attention model: a RigL-trained sparse student (models/rigl/), beside Google's full model.
// Its download is a weightless ONNX graph plus the packed weights (nonzeros + bitmask, zlib), which
// Python unpacks once (codeclab.attention.lite); this module fetches them, offers the model choice and
// draws the student's centre next to the full model's.
import { el, formatBytes, formatMs } from "../../lib/ui.js";

const LITE = "attention_lite";
const FULL = "attention_center";

/** Fetch and install the packed weights; null when this build has no lite model. */
export async function installLite(app) {
  if (!app.modelAvailable(LITE)) return null;
  const manifest = await (await fetch("./models/manifest.json")).json();
  const entry = (name) => (manifest.models || []).find((m) => m.name === name) || {};
  const lite = entry(LITE);
  const data = new Uint8Array(await (await fetch(`./models/${lite.weights_file}`)).arrayBuffer());
  const info = await app.python.call("attention.set_lite_weights", { data: data.slice() });
  return { ...info, liteBytes: (lite.bytes || 0) + info.bytes, fullBytes: entry(FULL).bytes || 0,
    data, restarts: app.python.restarts };
}

/** A watchdog restart gives a fresh Python without the weights: install them again before use. */
export async function ensureLite(app, lite) {
  if (!lite || lite.restarts === app.python.restarts) return;
  await app.python.call("attention.set_lite_weights", { data: lite.data.slice() });
  lite.restarts = app.python.restarts;
}

/** The "model" select: full, full + lite side by side, or lite alone (disabled until installed). */
export function modelSelect() {
  return el("select", { id: "attention-models", "data-testid": "attention-models", disabled: true },
    el("option", { value: "full", text: "full (Google attention-center)" }));
}

export function offerLite(select, lite) {
  select.replaceChildren(
    el("option", { value: "both", text: `full + ${lite.label}` }),
    el("option", { value: "full", text: "full (Google attention-center)" }),
    el("option", { value: "lite", text: lite.label }));
  select.disabled = false;
  select.value = "both";
}

/** The model menu's words follow the predictor menu: with the fallback chosen, the "full" place is the fallback. */
export function labelModels(select, predictor, lite) {
  const full = predictor === "fallback" ? "fallback (spectral residual saliency)" : "full (Google attention-center)";
  for (const option of select.options) {
    if (option.value === "full") option.textContent = full;
    else if (option.value === "both" && lite) option.textContent = `${predictor === "fallback" ? "fallback" : "full"} + ${lite.label}`;
    else if (option.value === "lite" && lite) option.textContent = `${lite.label} alone`;
  }
}

export function liteText(lite) {
  return ` Lite: ${lite.label}, ${formatBytes(lite.liteBytes)} download vs ${formatBytes(lite.fullBytes)} for the full model.`;
}

/** What the lite centre was compared with: whatever filled the "full" place for this image. */
function comparedWith(r) {
  return r.predictor === "fallback" ? "the fallback predictor's centre (spectral residual saliency)" : "the full model's centre";
}

/** The student's marker and caption line for a result computed with models = "both". */
export function liteOverlay(r, lite) {
  if (!r.lite) return { marker: null, line: null };
  const l = r.lite;
  const marker = el("div", { class: "attention-marker attention-marker-lite", title: l.model,
    style: { left: `${((l.x + 0.5) / r.width) * 100}%`, top: `${((l.y + 0.5) / r.height) * 100}%` } });
  const sizes = lite ? ` · ${formatBytes(lite.liteBytes)} vs ${formatBytes(lite.fullBytes)}` : "";
  const line = el("div", { class: "attention-lite", "data-testid": "attention-lite" },
    el("span", { class: "badge badge-lite", text: l.model }),
    ` (${l.x.toFixed(1)}, ${l.y.toFixed(1)}) · inference ${formatMs(l.timings.inference_ms)}${sizes}`
    + ` · ${r.lite_distance.toFixed(1)} px from ${comparedWith(r)} (640×480 frame)`);
  return { marker, line };
}
