// About: versions and licences of everything bundled, runtime facts, model status.
import { el, showError } from "../../lib/ui.js";

export async function mount(panel, app) {
  const info = app.buildInfo || {};
  const runtimeList = el("dl", { class: "facts", "data-testid": "about-runtime" });
  const errorArea = el("p", { class: "error", role: "alert", hidden: true, "data-testid": "about-error" });
  panel.append(
    el("h2", { text: "About codeclab" }),
    el("p", { text: "codeclab runs Google's perceptual compression research entirely in this browser tab: Python (Pyodide) is the brain, neural models run in onnxruntime-web (Lyra's in LiteRT.js, on Google's own .tflite files), codecs run as WebAssembly. No file you open leaves your machine, and the page loads nothing from any other site." }),
    el("h3", { text: "Runtime" }), runtimeList,
    el("h3", { text: "Models" }), el("p", { "data-testid": "about-models", text: "…" }),
    el("h3", { text: "Bundled software" }),
    el("table", { class: "table" },
      el("thead", {}, el("tr", {}, el("th", { text: "Package" }), el("th", { text: "Version" }), el("th", { text: "Licence" }))),
      el("tbody", {}, (info.vendor || []).map((v) => el("tr", {}, el("td", { text: v.name }), el("td", { text: v.version }), el("td", { text: v.license }))))),
    el("p", { class: "muted", text: `Pyodide packages: ${(info.pyodide_packages || []).join(", ")}. Built ${info.built || "?"}.` }),
    el("p", { class: "muted", text: "Models: attention-center and Lyra v2 are © Google, Apache-2.0; converted to ONNX at build time by codeclab's own converter; Lyra's .tflite files also ship as published, for LiteRT.js." }),
    errorArea,
  );
  try {
    const runtime = await app.ready;
    const py = await app.python.call("platform.info");
    const facts = {
      "codeclab": py.codeclab, "Python": `${py.python} (${py.implementation}, ${py.platform})`, "numpy": py.numpy, "Pillow": py.pillow,
      "Boot time": `${Math.round(runtime.ms)} ms`, "Cross-origin isolated": runtime.crossOriginIsolated ? "yes" : "no",
      "onnxruntime-web threads": String(runtime.threads),
    };
    runtimeList.replaceChildren(...Object.entries(facts).flatMap(([k, v]) => [el("dt", { text: k }), el("dd", { text: String(v) })]));
    panel.querySelector('[data-testid="about-models"]').textContent = runtime.models.available
      ? `Installed: ${Object.keys(runtime.models.files).join(", ")}.`
      : `Not installed: ${runtime.models.reason}. Tools that need them use their fallbacks or say they are unavailable.`;
  } catch (err) { showError(errorArea, err); }
}
