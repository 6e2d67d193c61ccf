// The JPEG XL card's DOM: controls, the side-by-side views and the figures. No Python, no decoding.
import { el, formatBytes } from "../../lib/ui.js";

export const SPEEDS = [
  { id: "slow3g", label: "Slow 3G · 0.4 Mbps", mbps: 0.4 },
  { id: "3g", label: "3G · 1.6 Mbps", mbps: 1.6 },
  { id: "4g", label: "4G · 10 Mbps", mbps: 10 },
  { id: "custom", label: "Custom…", mbps: null },
];

/** One column of the comparison: Chromium's rendering and codeclab's simulation of one byte order. */
export function orderView(key, title, color) {
  const img = el("img", { class: "jxl-native", decoding: "async", alt: `${title}: Chromium's rendering of the truncated file`, "data-testid": `jxl-native-${key}` });
  const nativeGrid = el("canvas", { class: "jxl-overlay", "aria-hidden": "true" });
  const sim = el("canvas", { class: "jxl-sim", role: "img", "aria-label": `${title}: codeclab's simulation of the truncated file`, "data-testid": `jxl-sim-${key}` });
  const simGrid = el("canvas", { class: "jxl-overlay", "aria-hidden": "true" });
  const nativeStatus = el("span", { class: "jxl-status" });
  const simStatus = el("span", { class: "jxl-status" });
  const centreStatus = el("span", { class: "jxl-centre-status" });
  const nativeStage = el("div", { class: "jxl-stage canvas-wrap" }, img, nativeGrid);
  const simStage = el("div", { class: "jxl-stage canvas-wrap" }, sim, simGrid);
  const node = el("div", { class: "jxl-view", "data-testid": `jxl-view-${key}` },
    el("div", { class: "jxl-view-head" }, el("span", { class: "jxl-swatch", style: { background: color } }), el("b", { text: title }), centreStatus),
    el("figure", { class: "jxl-shot" }, nativeStage, el("figcaption", {}, el("span", { class: "jxl-kind", text: "Chromium's decoder" }), nativeStatus)),
    el("figure", { class: "jxl-shot" }, simStage, el("figcaption", {}, el("span", { class: "jxl-kind", text: "codeclab simulation" }), simStatus)),
  );
  return { key, node, img, nativeGrid, sim, simGrid, nativeStage, simStage, nativeStatus, simStatus, centreStatus, url: null, decoding: false, wanted: null, timer: null, readyAt: 0 };
}

export function figure(label, testid) {
  const value = el("b", { text: "–" });
  const note = el("span", { text: label });
  const node = el("div", { class: "figure", "data-testid": testid }, value, note);
  const explanation = el("small", { class: "figure-why", hidden: true, "data-testid": testid && `${testid}-why` });
  node.append(explanation);
  return {
    node,
    set(text, title) { value.textContent = text; if (title) node.title = title; },
    label(text) { note.textContent = text; },
    /** An explanation under the figure (null: none). */
    note(text) { explanation.hidden = !text; explanation.textContent = text || ""; },
  };
}

/** An indeterminate progress line with a label, and a Cancel button for a step that can be stopped. */
export function progressLine() {
  const text = el("span", { class: "muted", id: "jxl-progress-text" });
  const cancel = el("button", { class: "secondary", type: "button", hidden: true, "data-testid": "jxl-cancel", text: "Cancel" });
  // Indeterminate (no aria-valuenow): its name is what is being done.
  const node = el("div", { class: "jxl-progress", hidden: true, "data-testid": "jxl-progress" },
    el("div", { class: "progress", role: "progressbar", "aria-labelledby": "jxl-progress-text" }, el("div", { class: "progress-fill" })), text, cancel);
  let timer = null;
  return {
    node,
    /** Show `label` and the seconds spent on it; `onCancel`: what the Cancel button does (none: no button). */
    start(label, { onCancel = null } = {}) {
      const started = performance.now();
      node.hidden = false;
      node.dataset.stage = label;
      cancel.hidden = !onCancel;
      cancel.onclick = onCancel;
      clearInterval(timer);
      const tick = () => { text.textContent = `${label} ${((performance.now() - started) / 1000).toFixed(1)} s`; };
      tick();
      timer = setInterval(tick, 100);
    },
    stop() { clearInterval(timer); node.hidden = true; cancel.hidden = true; cancel.onclick = null; },
  };
}

/** A line that says what happened to a job the visitor stopped ("Encoding a.png cancelled. Still showing b."). */
export function noticeLine() {
  const node = el("p", { class: "muted jxl-notice", role: "status", hidden: true, "data-testid": "jxl-notice" });
  return {
    node,
    show(text) { node.textContent = text; node.hidden = false; },
    hide() { node.hidden = true; node.textContent = ""; },
  };
}

/** The TOC of a frame in stream order, as a table. */
export function tocTable(frame, ranks) {
  const rows = frame.toc.map((s, i) => el("tr", {},
    el("td", { text: String(i) }),
    el("td", { text: s.kind.replace("_", " ") }),
    el("td", { text: s.pass ?? "–" }),
    el("td", { text: s.group ?? "–" }),
    el("td", { text: s.group !== null && s.group !== undefined && ranks.has(s.group) ? String(ranks.get(s.group)) : "–" }),
    el("td", { text: s.rect ? `${s.rect[2]}×${s.rect[3]} at (${s.rect[0]}, ${s.rect[1]})` : "–" }),
    el("td", { text: String(s.offset) }),
    el("td", { text: formatBytes(s.size) }),
  ));
  return el("table", { class: "table jxl-toc" },
    el("thead", {}, el("tr", {}, ...["#", "section", "pass", "group", "load rank", "pixels", "file offset", "size"].map((h) => el("th", { text: h })))),
    el("tbody", {}, rows));
}
