// Attention center: drop images, see the predicted point and the model's weighting map.
// Python (codeclab.attention.service.predict) decodes, resizes like TensorFlow and maps the point back;
// the model runs in the worker through onnxruntime-web (one session, created on first use and reused).
import { el, formatMs, setResult, download, errorDetails, afterPython } from "../../lib/ui.js";
import { dropzone } from "../../lib/dropzone.js";
import { fileKind, refuseUnlessTaken } from "../../lib/filekind.js";
import { ensureLite, installLite, liteOverlay, liteText, modelSelect, offerLite, labelModels } from "./lite.js";
import { keptAttention } from "./keep.js";

// Images above this many pixels are downscaled in the browser before they reach Python,
// so a 20000×20000 file cannot exhaust the worker's memory.
const MAX_PIXELS_TO_PYTHON = 24e6;
// Files above this size are refused outright (no image we can use is that large once compressed).
const MAX_FILE_BYTES = 256e6;
const MODEL_TEXT = "Model: Google attention-center (TFLite → ONNX by codeclab), run by onnxruntime-web in this tab.";
// The images the hint names, and how every tab names them when refusing another kind of file.
const TAKES = { takes: ["png", "jpeg", "webp", "avif", "gif", "bmp", "tiff"], what: "an image (JPEG, PNG, WebP, AVIF, GIF…)" };
// What Pillow (in Pyodide and CPython) reads from the file itself; other images (AVIF) reach Python as the
// browser's decode.
const PILLOW_READS = new Set(["png", "jpeg", "webp", "gif", "bmp", "tiff"]);

export async function mount(panel, app) {
  panel.append(
    el("h2", { text: "Where do people look first?" }),
    el("p", { text: "Google's attention-center model predicts the point of an image that draws the eye first." }),
  );
  const card = el("div", { class: "card", id: "attention-card" });
  panel.append(card);
  await mountCard(card, app);
}

async function mountCard(card, app) {
  const results = [];
  const status = el("p", { class: "muted", "data-testid": "attention-model" }, "Waiting for Python…");
  const progress = el("progress", { class: "attention-progress", max: 1, value: 0, hidden: true, "aria-label": "Model download" });
  const error = el("div", { class: "error attention-errors", role: "alert", hidden: true, "data-testid": "attention-error" });
  const heatToggle = el("input", { type: "checkbox", id: "attention-heat", checked: true, "data-testid": "attention-heat" });
  const predictor = el("select", { id: "attention-predictor", "data-testid": "attention-predictor" },
    el("option", { value: "auto", text: "model (fallback if not installed)" }),
    el("option", { value: "fallback", text: "fallback: spectral residual saliency" }));
  const models = modelSelect();
  const kept = keptAttention({ predictor, models }, (files) => queue(files)); // for a reload (lib/kept.js)
  // The predictor menu chooses what fills the "full" place; the lite model alone has no such choice.
  const predictorNote = el("span", { class: "muted", "data-testid": "attention-predictor-note" });
  let lite = null;
  const modelText = () => MODEL_TEXT + (lite ? liteText(lite) : "");
  const summary = el("p", { class: "muted attention-summary", role: "status", "data-testid": "attention-summary" });
  const grid = el("div", { class: "attention-grid", "data-testid": "attention-result" });
  const exportJson = el("button", { class: "secondary", disabled: true, text: "Export JSON", "data-testid": "attention-export-json" });
  const exportCsv = el("button", { class: "secondary", disabled: true, text: "Export CSV", "data-testid": "attention-export-csv" });
  const clear = el("button", { class: "secondary", disabled: true, text: "Clear" });
  const zone = dropzone({
    testid: "attention-input", accept: "image/*", multiple: true,
    title: "Drop images here, paste, or click to choose",
    hint: "JPEG, PNG, WebP, AVIF, GIF… as many as you like",
    onFiles: (files) => queue(files),
  });
  zone.dataset.paste = "";
  card.append(
    el("h3", { text: "Attention center" }), status, progress, zone, kept.node, error,
    el("div", { class: "row attention-controls" },
      el("label", { for: "attention-heat" }, heatToggle, " show weighting map"),
      el("label", { for: "attention-predictor" }, "predictor ", predictor, predictorNote),
      el("label", { for: "attention-models" }, "model ", models),
      exportJson, exportCsv, clear),
    summary, grid,
  );
  heatToggle.addEventListener("change", () => grid.classList.toggle("hide-heat", !heatToggle.checked));
  exportJson.addEventListener("click", () => download(JSON.stringify(results.map(exported), null, 1), "attention-centers.json", "application/json"));
  exportCsv.addEventListener("click", () => download(toCsv(results), "attention-centers.csv", "text/csv"));
  // The menus mean what they say: they combine as labelled, and the images already shown are run again.
  const syncMenus = () => {
    labelModels(models, predictor.value, lite);
    predictor.disabled = models.value === "lite";
    predictorNote.textContent = models.value === "lite" ? " (not used: the lite model alone)" : "";
  };
  const chosen = new Map([[predictor, predictor.value], [models, models.value]]);
  for (const menu of [predictor, models]) {
    menu.addEventListener("change", () => {
      syncMenus();
      if (chosen.get(menu) === menu.value) return; // the same choice again: nothing to run
      chosen.set(menu, menu.value);
      chain = chain.then(() => {
        const files = results.map((r) => r.source);
        if (!files.length) return null;
        results.length = 0;
        for (const shot of grid.children) shot.revokePreview?.();
        grid.replaceChildren(); delete grid.dataset.result; clearErrors(); update();
        return run(files);
      });
    });
  }
  clear.addEventListener("click", () => {
    results.length = 0;
    for (const shot of grid.children) shot.revokePreview?.();
    grid.replaceChildren(); delete grid.dataset.result; clearErrors(); update();
  });

  const update = () => {
    for (const b of [exportJson, exportCsv, clear]) b.disabled = results.length === 0;
    const times = results.map((r) => r.ms).sort((a, b) => a - b);
    summary.textContent = results.length
      ? `${results.length} image${results.length > 1 ? "s" : ""} · median inference ${formatMs(times[Math.floor(times.length / 2)])}`
      : "";
  };
  const clearErrors = () => { error.hidden = true; error.replaceChildren(); };
  const addError = (fileName, err) => {
    error.hidden = false;
    error.append(el("div", {}, el("strong", { text: `${fileName}: ` }), err?.message || String(err), errorDetails(err?.details)));
    if (err?.traceback) console.warn(err.traceback);
  };

  app.ready.then(() => {
    status.textContent = app.modelAvailable("attention_center")
      ? MODEL_TEXT
      : `Fallback predictor: spectral-residual saliency (codeclab's own, not Google's model). The attention-center model is not installed: ${app.modelsReason()}.`;
    status.dataset.predictor = app.modelAvailable("attention_center") ? "model" : "fallback";
    return installLite(app).then((found) => {
      lite = found;
      if (!lite) return;
      offerLite(models, lite);
      chosen.set(models, models.value);
      syncMenus();
      status.append(liteText(lite));
      status.dataset.lite = lite.label;
    }, (err) => addError("lite model", err));
  }).catch(() => { status.textContent = "Python failed to start: this tool is unavailable."; });
  followModelDownload(app, { status, progress, modelText });

  // One file at a time, in drop order, however many drops arrive while busy.
  let chain = Promise.resolve();
  function queue(files) {
    clearErrors();
    chain = chain.then(() => run(files));
  }

  async function run(files) {
    // The cards and the browser's own decode of the photos appear at once; each point comes when Python answers.
    const shots = files.map((file) => grid.appendChild(renderPending(file)));
    try {
      await afterPython(app, () => { for (const shot of shots) pendingText(shot, "queued, Python is starting…"); });
    } catch {
      for (const shot of shots) shot.remove();
      addError("Python", new Error("Python failed to start"));
      return;
    }
    card.classList.add("busy");
    for (const [i, file] of files.entries()) {
      const shot = shots[i];
      pendingText(shot, "finding the attention center…");
      try {
        if (models.value !== "full") await ensureLite(app, lite);
        const chosen = models.value === "lite" ? "auto" : predictor.value; // the lite model alone takes no predictor
        const result = await predictFile(app, file, chosen, models.value);
        result.source = file;
        results.push(result);
        fillResult(shot, file, result, lite);
        setResult(grid, resultOf(result, results.length));
        update();
      } catch (err) {
        shot.remove();
        // Offline without its files saved, the tool says so rather than blaming the file (lib/offline.js).
        const shown = await app.offline.explain(err, "attention", "The attention-center model");
        addError(shown === err ? file.name : "Not available offline", shown);
      }
    }
    card.classList.remove("busy");
    kept.remember(results.map((r) => r.source));
    progress.hidden = true;
    if (app.modelAvailable("attention_center")) status.textContent = modelText();
  }
}

/** The model's download and compile, said in the status line and the progress bar (app.js's model-progress). */
function followModelDownload(app, { status, progress, modelText }) {
  document.addEventListener("model-progress", (e) => {
    if (e.detail.label !== "attention_center") return;
    const { received, total, compiling, ready } = e.detail;
    if (ready) {
      progress.hidden = true;
      status.textContent = app.modelAvailable("attention_center") ? modelText() : status.textContent;
      return;
    }
    progress.hidden = false;
    if (compiling) {
      status.textContent = "Preparing the model…";
      progress.removeAttribute("value");
    } else {
      status.textContent = `Loading the model… ${total ? Math.round((100 * received) / total) : "?"} %`;
      progress.value = total ? received / total : 0;
    }
  });
}

/** The result a test reads (data-result): the latest image's point, and how many images were run. */
function resultOf(result, count) {
  return {
    x: result.x, y: result.y, width: result.width, height: result.height, ms: result.ms,
    model: result.model, predictor: result.predictor, file: result.file, count,
    lite: result.lite ? { x: result.lite.x, y: result.lite.y, model: result.lite.model,
      ms: result.lite.timings.inference_ms, distance: result.lite_distance } : null,
  };
}

/** Every figure a card shows (the JSON export; the CSV has the same columns, flattened). */
function exported(r) {
  return { file: r.file, width: r.width, height: r.height, x: r.x, y: r.y, model: r.model, predictor: r.predictor,
    frame_x: r.frame_x, frame_y: r.frame_y, ms: r.ms, total_ms: r.total_ms, sent_to_python_as: r.downscaled ?? null,
    decoded_by: r.decodedBy, timings: r.timings,
    ...(r.lite ? { lite: { x: r.lite.x, y: r.lite.y, frame_x: r.lite.frame_x, frame_y: r.lite.frame_y, model: r.lite.model,
      timings: r.lite.timings }, lite_distance: r.lite_distance, lite_compared_with: r.lite_compared_with } : {}) };
}

const CSV_COLUMNS = ["file", "width", "height", "x", "y", "model", "predictor", "inference_ms", "total_ms", "sent_to_python_as",
  "decoded_by", "lite_model", "lite_x", "lite_y", "lite_inference_ms", "lite_distance_frame_px", "lite_compared_with"];

function toCsv(results) {
  const fixed = (v, digits) => (typeof v === "number" ? v.toFixed(digits) : "");
  const rows = [CSV_COLUMNS, ...results.map((r) => [r.file, r.width, r.height, fixed(r.x, 2), fixed(r.y, 2), r.model, r.predictor,
    fixed(r.ms, 1), fixed(r.total_ms, 1), r.downscaled ?? "", r.decodedBy,
    r.lite?.model ?? "", fixed(r.lite?.x, 2), fixed(r.lite?.y, 2), fixed(r.lite?.timings?.inference_ms, 1),
    fixed(r.lite_distance, 2), r.lite_compared_with?.model ?? ""])];
  return rows.map((row) => row.map((v) => `"${String(v).replaceAll('"', '""')}"`).join(",")).join("\n");
}

async function predictFile(app, file, predictor, models) {
  if (file.size > MAX_FILE_BYTES) throw new Error(`the file is ${(file.size / 1e6).toFixed(0)} MB; codeclab takes images up to ${MAX_FILE_BYTES / 1e6} MB`);
  const started = performance.now();
  const head = new Uint8Array(await file.slice(0, 4096).arrayBuffer());
  const kind = refuseUnlessTaken(head, TAKES);
  if (kind && !PILLOW_READS.has(kind)) {
    // Pillow cannot read it (AVIF): Python gets the browser's own decode of the file, as RGBA pixels.
    let decoded;
    try { decoded = await browserPixels(file, MAX_PIXELS_TO_PYTHON); } catch {
      throw Object.assign(new Error(`this browser cannot decode this ${fileKind(head).label.replace(/^an? /, "")}`), { expected: true });
    }
    const { rgba, width, height, original } = decoded;
    const reply = await app.python.call("attention.predict",
      { rgba, width, height, name: file.name, original_width: original.width, original_height: original.height, predictor, models },
      [rgba.buffer]);
    if (width !== original.width) reply.downscaled = `${width}×${height}`;
    return { ...reply, file: file.name, ms: reply.timings?.inference_ms ?? 0, total_ms: performance.now() - started, decodedBy: "browser" };
  }
  const size = await imageSize(file).catch(() => null);
  let reply;
  if (size && size.width * size.height > MAX_PIXELS_TO_PYTHON) {
    // Too big to hand to Python whole: let the browser decode and downscale it, send RGBA.
    const scale = Math.sqrt(MAX_PIXELS_TO_PYTHON / (size.width * size.height));
    const w = Math.max(1, Math.floor(size.width * scale));
    const h = Math.max(1, Math.floor(size.height * scale));
    let rgba;
    try {
      const bitmap = await createImageBitmap(file, { resizeWidth: w, resizeHeight: h, resizeQuality: "high" });
      const canvas = new OffscreenCanvas(w, h);
      const ctx = canvas.getContext("2d");
      ctx.drawImage(bitmap, 0, 0);
      bitmap.close();
      rgba = ctx.getImageData(0, 0, w, h).data;
    } catch {
      throw new Error(`the image is ${size.width}×${size.height} (${Math.round((size.width * size.height) / 1e6)} MP), too large for this browser to decode`);
    }
    reply = await app.python.call("attention.predict",
      { rgba, width: w, height: h, name: file.name, original_width: size.width, original_height: size.height, predictor, models },
      [rgba.buffer]);
    reply.downscaled = `${w}×${h}`;
  } else {
    const bytes = new Uint8Array(await file.arrayBuffer());
    const args = { data: bytes, name: file.name, predictor, models };
    if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) {
      // JPEG: Python still checks the file, but takes the pixels from the browser's libjpeg-turbo
      // decode, which matches upstream's (see codeclab.attention.service._decode).
      const decoded = await browserPixels(file).catch(() => null);
      if (decoded) Object.assign(args, { rgba: decoded.rgba, width: decoded.width, height: decoded.height });
    }
    const transfer = [bytes.buffer, ...(args.rgba ? [args.rgba.buffer] : [])];
    reply = await app.python.call("attention.predict", args, transfer);
  }
  return { ...reply, file: file.name, ms: reply.timings?.inference_ms ?? 0, total_ms: performance.now() - started,
    decodedBy: reply.downscaled ? "browser" : "python" };
}

/** RGBA exactly as decoded (no colour management, no premultiplication), EXIF orientation applied;
 *  scaled down to at most maxPixels (`original`: the decoded size before that). */
async function browserPixels(file, maxPixels = Infinity) {
  const options = { colorSpaceConversion: "none", premultiplyAlpha: "none", imageOrientation: "from-image" };
  let bitmap = await createImageBitmap(file, options);
  const original = { width: bitmap.width, height: bitmap.height };
  if (bitmap.width * bitmap.height > maxPixels) {
    const scale = Math.sqrt(maxPixels / (bitmap.width * bitmap.height));
    const smaller = await createImageBitmap(bitmap, { resizeWidth: Math.max(1, Math.floor(bitmap.width * scale)),
      resizeHeight: Math.max(1, Math.floor(bitmap.height * scale)), resizeQuality: "high" });
    bitmap.close();
    bitmap = smaller;
  }
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const ctx = canvas.getContext("2d");
  ctx.drawImage(bitmap, 0, 0);
  const rgba = ctx.getImageData(0, 0, bitmap.width, bitmap.height).data;
  const size = { width: bitmap.width, height: bitmap.height };
  bitmap.close();
  return { rgba, ...size, original };
}

function imageSize(file) {
  return new Promise((resolve, reject) => {
    const url = URL.createObjectURL(file);
    const img = new Image();
    img.onload = () => { resolve({ width: img.naturalWidth, height: img.naturalHeight }); URL.revokeObjectURL(url); };
    img.onerror = () => { reject(new Error("not decodable by the browser")); URL.revokeObjectURL(url); };
    img.src = url;
  });
}

/**
 * A card for a file Python has not answered for yet: the photo itself, as soon as the browser has decoded
 * it (an <img> on the file: no canvas redraw, no wait for Python), and "finding the attention center…".
 * It becomes an .attention-shot when the result comes (fillResult).
 */
function renderPending(file) {
  const url = URL.createObjectURL(file);
  const photo = el("img", { class: "attention-photo", alt: file.name, decoding: "async", "data-testid": "attention-preview" });
  photo.addEventListener("load", () => { photo.dataset.shownAt = String(performance.now()); }, { once: true });
  photo.addEventListener("error", () => { photo.replaceWith(unreadablePreview()); URL.revokeObjectURL(url); }, { once: true });
  photo.src = url;
  const figure = el("div", { class: "attention-figure", style: { aspectRatio: "3/2" } }, photo);
  photo.addEventListener("load", () => {
    figure.style.aspectRatio = `${photo.naturalWidth}/${photo.naturalHeight}`;
  }, { once: true });
  const caption = el("figcaption", {}, el("strong", { text: file.name }),
    el("div", { class: "muted", "data-testid": "attention-pending", text: "finding the attention center…" }));
  const shot = el("figure", { class: "attention-pending" }, figure, caption);
  shot.revokePreview = () => URL.revokeObjectURL(url);
  return shot;
}

function pendingText(shot, text) {
  const line = shot.querySelector('[data-testid="attention-pending"]');
  if (line) line.textContent = text;
}

function unreadablePreview() {
  return el("div", { class: "attention-photo attention-unreadable", text: "(this browser cannot display the file; Python read it)" });
}

/** Turn a pending card into the result: the point, the weighting map and the figures. */
function fillResult(shot, file, r, lite) {
  const figure = shot.querySelector(".attention-figure");
  figure.style.aspectRatio = `${r.width}/${r.height}`;
  const heat = el("canvas", { class: "heat", "aria-hidden": "true" }); // a picture of the weighting; the point is in the caption as text
  const marker = el("div", { class: "attention-marker", style: { left: `${((r.x + 0.5) / r.width) * 100}%`, top: `${((r.y + 0.5) / r.height) * 100}%` } });
  const second = liteOverlay(r, lite);
  figure.append(heat, marker, ...(second.marker ? [second.marker] : []));
  const fallback = r.predictor === "fallback";
  shot.querySelector("figcaption").replaceChildren(
    el("strong", { text: file.name }),
    el("div", { class: "attention-coords", "data-testid": "attention-coords" },
      `(${r.x.toFixed(1)}, ${r.y.toFixed(1)})`, el("span", { class: "muted", text: ` of ${r.width}×${r.height}` })),
    el("div", { class: "muted" }, `inference ${formatMs(r.ms)} · total ${formatMs(r.total_ms)}`,
      r.downscaled ? ` · sent to Python as ${r.downscaled}` : "", r.decodedBy === "browser" ? " · decoded by the browser" : ""),
    el("span", { class: fallback ? "badge badge-fallback" : "badge", text: fallback ? "fallback predictor" : r.predictor === "lite" ? r.model : "attention-center model" }),
    ...(second.line ? [second.line] : []));
  shot.className = "attention-shot";
  Object.assign(shot.dataset, { x: r.x, y: r.y, predictor: r.predictor, resultAt: String(performance.now()) });
  shot.title = r.model;
  if (r.heatmap && r.heatmap_shape && r.heatmap_box) drawHeat(heat, r);
  else heat.remove();
}

function drawHeat(canvas, r) {
  const [h, w] = r.heatmap_shape;
  canvas.width = w; canvas.height = h;
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(w, h);
  for (let i = 0; i < w * h; i++) {
    const v = Math.sqrt(Math.max(0, Math.min(1, r.heatmap[i]))); // the model's map is peaky: gamma 0.5 shows its shape
    image.data[4 * i] = 255; image.data[4 * i + 1] = Math.round(60 + 150 * v); image.data[4 * i + 2] = 40;
    image.data[4 * i + 3] = Math.round(200 * v);
  }
  ctx.putImageData(image, 0, 0);
  // heatmap_box: the rectangle of original pixels the map covers (it may reach a little past the image).
  const [x0, y0, x1, y1] = r.heatmap_box;
  Object.assign(canvas.style, {
    left: `${(x0 / r.width) * 100}%`, top: `${(y0 / r.height) * 100}%`,
    width: `${((x1 - x0) / r.width) * 100}%`, height: `${((y1 - y0) / r.height) * 100}%`,
  });
}
