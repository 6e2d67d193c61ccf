// Attention center: drop images, see the predicted point and the model's weighting map.
import { el, formatMs, showError, clearError, setResult, download } from "../lib/ui.js";
import { dropzone } from "../lib/dropzone.js";

// Images above this many pixels are downscaled in the browser before they reach Python,
// so a 20000×20000 file cannot exhaust the worker's memory.
const MAX_PIXELS_TO_PYTHON = 24e6;
const PREVIEW_WIDTH = 640;

export async function mountAttention(card, app) {
  const results = [];
  const status = el("p", { class: "muted", "data-testid": "attention-model" }, "Waiting for Python…");
  const error = el("p", { class: "error", role: "alert", hidden: true, "data-testid": "attention-error" });
  const heatToggle = el("input", { type: "checkbox", id: "attention-heat", checked: true });
  const grid = el("div", { class: "grid", "data-testid": "attention-result" });
  const exportJson = el("button", { class: "secondary", disabled: true, text: "Export JSON" });
  const exportCsv = el("button", { class: "secondary", disabled: true, text: "Export CSV" });
  const clear = el("button", { class: "secondary", disabled: true, text: "Clear" });
  const zone = dropzone({
    testid: "attention-input", accept: "image/*", multiple: true,
    title: "Drop images here, paste, or click to choose",
    hint: "JPEG, PNG, WebP, AVIF, JPEG XL… as many as you like",
    onFiles: (files) => run(files),
  });
  zone.dataset.paste = "";
  card.append(
    el("h3", { text: "Attention center" }), status, zone, error,
    el("div", { class: "row" }, el("label", { for: "attention-heat" }, heatToggle, " show weighting map"), exportJson, exportCsv, clear),
    grid,
  );
  heatToggle.addEventListener("change", () => grid.classList.toggle("hide-heat", !heatToggle.checked));
  exportJson.addEventListener("click", () => download(JSON.stringify(results, null, 1), "attention-centers.json", "application/json"));
  exportCsv.addEventListener("click", () => {
    const rows = [["file", "width", "height", "x", "y", "model", "ms"], ...results.map((r) => [r.file, r.width, r.height, r.x.toFixed(2), r.y.toFixed(2), r.model, r.ms.toFixed(1)])];
    download(rows.map((r) => r.map((v) => `"${String(v).replaceAll('"', '""')}"`).join(",")).join("\n"), "attention-centers.csv", "text/csv");
  });
  clear.addEventListener("click", () => { results.length = 0; grid.replaceChildren(); delete grid.dataset.result; update(); });

  const update = () => { for (const b of [exportJson, exportCsv, clear]) b.disabled = results.length === 0; };

  app.ready.then(() => {
    status.textContent = app.modelAvailable("attention_center")
      ? "Model: Google attention-center (TFLite → ONNX by codeclab), run by onnxruntime-web in this tab."
      : `Fallback predictor: spectral-residual saliency (codeclab's own). The attention-center model is not installed: ${app.modelsReason()}.`;
  }).catch(() => {});
  document.addEventListener("model-progress", (e) => {
    if (e.detail.label !== "attention_center") return;
    const { received, total, compiling } = e.detail;
    status.textContent = compiling ? "Preparing the model…" : `Loading the model… ${total ? Math.round((100 * received) / total) : "?"} %`;
  });

  async function run(files) {
    clearError(error);
    await app.ready;
    for (const file of files) {
      try {
        const result = await predictFile(app, file);
        results.push(result);
        grid.append(renderResult(file, result));
        const last = { x: result.x, y: result.y, width: result.width, height: result.height, ms: result.ms, model: result.model };
        setResult(grid, last);
        update();
      } catch (err) {
        showError(error, Object.assign(err, { message: `${file.name}: ${err.message}` }));
      }
    }
    if (app.modelAvailable("attention_center")) status.textContent = "Model: Google attention-center (TFLite → ONNX by codeclab), run by onnxruntime-web in this tab.";
  }
}

async function predictFile(app, file) {
  const bytes = new Uint8Array(await file.arrayBuffer());
  const started = performance.now();
  let reply;
  const size = await imageSize(file).catch(() => null);
  if (size && size.width * size.height > MAX_PIXELS_TO_PYTHON) {
    const scale = Math.sqrt(MAX_PIXELS_TO_PYTHON / (size.width * size.height));
    const w = Math.max(1, Math.round(size.width * scale));
    const h = Math.max(1, Math.round(size.height * scale));
    const bitmap = await createImageBitmap(file, { resizeWidth: w, resizeHeight: h, resizeQuality: "high" });
    const canvas = new OffscreenCanvas(w, h);
    canvas.getContext("2d").drawImage(bitmap, 0, 0);
    const rgba = canvas.getContext("2d").getImageData(0, 0, w, h).data;
    reply = await app.python.call("attention.predict", { rgba, width: w, height: h, name: file.name, original_width: size.width, original_height: size.height }, [rgba.buffer]);
  } else {
    reply = await app.python.call("attention.predict", { data: bytes, name: file.name }, [bytes.buffer]);
  }
  return { ...reply, file: file.name, ms: reply.timings?.inference_ms ?? performance.now() - started, total_ms: performance.now() - started };
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

function renderResult(file, r) {
  const canvas = el("canvas", { width: PREVIEW_WIDTH, height: Math.max(1, Math.round((PREVIEW_WIDTH * r.height) / r.width)) });
  const heat = el("canvas", { class: "heat" });
  const figure = el("figure", {}, canvas, heat);
  const caption = el("figcaption", {},
    el("strong", { text: file.name }), el("br"),
    `centre (${r.x.toFixed(1)}, ${r.y.toFixed(1)}) of ${r.width}×${r.height} · inference ${formatMs(r.ms)} · total ${formatMs(r.total_ms)}`, el("br"),
    el("span", { class: "muted", text: r.model }));
  drawPreview(file, canvas, r).catch(() => {});
  if (r.heatmap && r.heatmap_shape) drawHeat(heat, r);
  return el("div", { class: "shot" }, figure, caption);
}

async function drawPreview(file, canvas, r) {
  const ctx = canvas.getContext("2d");
  try {
    const bitmap = await createImageBitmap(file, { resizeWidth: canvas.width, resizeHeight: canvas.height, resizeQuality: "high" });
    ctx.drawImage(bitmap, 0, 0);
  } catch {
    ctx.fillStyle = "#333"; ctx.fillRect(0, 0, canvas.width, canvas.height);
  }
  const sx = (r.x / r.width) * canvas.width;
  const sy = (r.y / r.height) * canvas.height;
  ctx.lineWidth = 3;
  ctx.strokeStyle = "#ff6b35";
  ctx.beginPath(); ctx.arc(sx, sy, 14, 0, 2 * Math.PI); ctx.stroke();
  ctx.strokeStyle = "#fff";
  ctx.lineWidth = 1.5;
  ctx.beginPath(); ctx.moveTo(sx - 22, sy); ctx.lineTo(sx + 22, sy); ctx.moveTo(sx, sy - 22); ctx.lineTo(sx, sy + 22); ctx.stroke();
}

function drawHeat(canvas, r) {
  const [h, w] = r.heatmap_shape;
  canvas.width = w; canvas.height = h;
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(w, h);
  for (let i = 0; i < w * h; i++) {
    const v = r.heatmap[i];
    image.data[4 * i] = 255; image.data[4 * i + 1] = 90 + v * 0.6; image.data[4 * i + 2] = 30;
    image.data[4 * i + 3] = Math.round(v * 0.65);
  }
  ctx.putImageData(image, 0, 0);
  // The map covers the image area of the padded model frame: place it over the image only.
  if (r.heatmap_box) {
    const [bx, by, bw, bh] = r.heatmap_box; // fractions of the heatmap that cover the image
    canvas.style.cssText = `position:absolute;left:${-bx / bw * 100}%;top:${-by / bh * 100}%;width:${100 / bw}%;height:${100 / bh}%;pointer-events:none;image-rendering:auto`;
    canvas.parentElement.style.overflow = "hidden";
  } else {
    canvas.style.cssText = "position:absolute;inset:0;width:100%;height:100%;pointer-events:none";
  }
}
