// Basis Universal textures panel.
//
// Drop a .ktx2/.basis file: Python (codeclab.basis.service) parses and validates it and chooses the
// transcode target from this WebGL2 context's extensions (the GPU format choice is
// pysrc/codeclab/basis/targets.py, called through "basis.plan"; this file only passes the extensions); the official Basis transcoder (wasm, in a
// worker) turns it into that GPU format; WebGL2 uploads it as-is and draws it. Drop a PNG/JPEG: the
// Basis encoder (npm ktx2-encoder, wasm, in a worker) makes a KTX2 of it first.
import { el, showError, clearError, setResult, formatBytes, formatMs, download, afterPython } from "../../lib/ui.js";
import { dropzone } from "../../lib/dropzone.js";
import { refuseUnlessTaken } from "../../lib/filekind.js";
import { TextureView } from "./view.js";
import { transcode, encodeKtx2, cancelEncode } from "./workers.js";
import { imageSize, downscaledPng, tooLargeError } from "../../lib/downscale.js";
import { keptBasis } from "./keep.js";

const TEXTURE_NAME = /\.(ktx2|basis)$/i;
// What the tab takes, in the words every tab uses for a file it cannot take (lib/filekind.js).
const TAKES = { takes: ["ktx2", "basis", "png", "jpeg"], what: "a KTX2 or .basis texture, or a PNG or JPEG image to encode" };
const TEXTURE_TAKES = { takes: ["ktx2", "basis"], what: "a KTX2 or .basis texture" };
// The Basis encoder's own source limit (v2.5; encode-worker.js refuses above it too).
const MAX_TEXELS = 12 * 1024 * 1024;

function toBase64(bytes) {
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  return btoa(text);
}

function figure(label, testid) {
  const value = el("b", { text: "–", "data-testid": testid });
  const note = el("span", { text: label });
  return { node: el("div", { class: "figure" }, value, note), value, note };
}

function labelled(text, control, attrs = {}) {
  return el("label", { class: "basis-field", ...attrs }, el("span", { text }), control);
}

const CUBE_FACES = ["+X", "−X", "+Y", "−Y", "+Z", "−Z"];

/** "face 2 (+Y)", "layer 3", "layer 1, face 0 (+X)" or "image 4" (a .basis file's images). */
function imageLabel(info, image) {
  if (info.container !== "ktx2") return `image ${image}`;
  const faces = Math.max(1, info.faces);
  const face = faces === 6 ? `face ${image % 6} (${CUBE_FACES[image % 6]})` : null;
  if (info.layers > 0) return face ? `layer ${Math.floor(image / faces)}, ${face}` : `layer ${image}`;
  return face ?? `image ${image}`;
}

export async function mount(panel, app) {
  // ---------------------------------------------------------------- DOM
  const error = el("p", { class: "error", role: "alert", hidden: true, "data-testid": "basis-error" });
  const zone = dropzone({
    testid: "basis-input", accept: ".ktx2,.basis,image/png,image/jpeg",
    title: "Drop a .ktx2 or .basis texture",
    hint: "or a PNG / JPEG to encode to KTX2 right here (nothing leaves this tab)",
    onFiles: ([file]) => openFile(file),
  });
  zone.dataset.paste = "";

  const mode = el("select", { "data-testid": "basis-mode" },
    el("option", { value: "etc1s", text: "ETC1S (small files)" }),
    el("option", { value: "uastc", text: "UASTC (high quality)" }));
  const quality = el("input", { type: "range", min: 1, max: 255, value: 128, "data-testid": "basis-quality" });
  const qualityOut = el("output", { text: "128" });
  const uastcLevel = el("select", { "data-testid": "basis-uastc-level" },
    ...["0 fastest", "1 faster", "2 default", "3 slower", "4 slowest"].map((t, i) => el("option", { value: i, text: t, selected: i === 2 })));
  const mipmaps = el("input", { type: "checkbox", checked: true, "data-testid": "basis-mipmaps" });
  const zstd = el("input", { type: "checkbox", checked: true, "data-testid": "basis-zstd" });
  const reencode = el("button", { class: "secondary", type: "button", disabled: true, "data-testid": "basis-reencode", text: "Re-encode" });
  const qualityField = labelled("ETC1S quality", el("span", { class: "basis-range" }, quality, qualityOut));
  const levelField = labelled("UASTC level", uastcLevel, { hidden: true });
  const zstdField = labelled("Zstandard", zstd, { hidden: true });
  const encodeOptions = el("div", { class: "basis-options" },
    el("span", { class: "basis-options-title", text: "PNG/JPEG → KTX2" }),
    labelled("Mode", mode), qualityField, levelField, labelled("Mipmaps", mipmaps), zstdField, reencode);

  const progressFill = el("div", { class: "progress-fill" });
  const progressText = el("span", { class: "muted", id: "basis-progress-text" });
  const progressBar = el("div", { class: "progress", role: "progressbar", "aria-labelledby": "basis-progress-text", "aria-valuemin": "0", "aria-valuemax": "100" }, progressFill);
  // An encode can take long (UASTC level 4): it can be cancelled, and the texture shown before stays.
  const cancelButton = el("button", { class: "secondary basis-cancel", type: "button", hidden: true, "data-testid": "basis-cancel", text: "Cancel" });
  const progress = el("div", { class: "basis-progress", hidden: true, "data-testid": "basis-progress", role: "status" },
    progressBar, progressText, cancelButton);
  const notice = el("p", { class: "muted basis-notice", role: "status", hidden: true, "data-testid": "basis-notice" });
  const kept = keptBasis({ mode, quality, uastcLevel, mipmaps, zstd }, (file) => openFile(file)); // for a reload

  const target = el("select", { "data-testid": "basis-target", disabled: true, "aria-label": "Transcode target" });
  const level = el("select", { "data-testid": "basis-level", disabled: true, "aria-label": "Mip level" });
  // A cubemap's faces, an array's layers, a .basis file's images: each can be shown.
  const imagePick = el("select", { "data-testid": "basis-image", "aria-label": "Face or layer" });
  const imageField = labelled("Image", imagePick, { hidden: true });
  const alpha = el("input", { type: "checkbox", checked: true, "data-testid": "basis-alpha" });
  const fitButton = el("button", { class: "secondary", type: "button", text: "Fit", "data-testid": "basis-fit" });
  const actualButton = el("button", { class: "secondary", type: "button", text: "1:1", "data-testid": "basis-actual" });
  const zoomText = el("span", { class: "muted basis-zoom" });
  const downloadButton = el("button", { type: "button", hidden: true, "data-testid": "basis-download", text: "Download .ktx2" });
  const toolbar = el("div", { class: "basis-toolbar" },
    labelled("GPU format", target), labelled("Mip level", level), imageField, labelled("Alpha over checkerboard", alpha),
    el("span", { class: "basis-spacer" }), zoomText, fitButton, actualButton, downloadButton);

  const canvas = el("canvas", { class: "basis-canvas", role: "img", "aria-label": "The texture as the GPU samples it (its GPU format, sizes and timings are given beside it)", "data-testid": "basis-canvas" });
  const placeholder = el("p", { class: "basis-placeholder muted", text: "No texture yet. Wheel to zoom, drag to pan, double-click to fit." });
  const stage = el("div", { class: "canvas-wrap basis-stage" }, canvas, placeholder);

  const figures = {
    file: figure("file size", "basis-file-size"),
    original: figure("original image", "basis-original-size"),
    gpu: figure("on the GPU", "basis-gpu-bytes"),
    rgba: figure("as RGBA8", "basis-rgba-bytes"),
    ratio: figure("smaller than RGBA8 in GPU memory", "basis-ratio"),
    time: figure("transcode", "basis-ms"),
    encode: figure("encode in this tab", "basis-encode-ms"),
  };
  figures.original.node.hidden = true;
  figures.encode.node.hidden = true;
  const result = el("div", { class: "figures basis-figures", role: "status", "data-testid": "basis-result" }, ...Object.values(figures).map((f) => f.node));
  const facts = el("dl", { class: "facts basis-facts" });
  const levelsTable = el("table", { class: "table basis-levels", "data-testid": "basis-levels" });
  const details = el("div", { class: "basis-details", hidden: true }, facts, levelsTable);
  const viewer = el("div", { class: "card basis-viewer" }, toolbar, stage, result, details);

  panel.append(
    el("h2", { text: "Basis Universal: textures that stay compressed on the GPU" }),
    el("p", { text: "A .basis or KTX2 file is transcoded when it loads into the compressed format your GPU understands (ASTC, BC7, ETC2, S3TC…), so it also stays compressed in GPU memory — unlike a PNG or JPEG, which the GPU holds as 4 bytes per pixel." }),
    el("div", { class: "basis-top" }, zone, encodeOptions), kept.node, progress, notice, error, viewer,
  );

  // ---------------------------------------------------------------- state
  // Declared before the view starts: the drop zone is live even when it cannot (see openFile).
  let current = null; // {bytes, name, container, info, plan, transcoded, original, encodeMs, ktx2Bytes}
  let lastImage = null; // {bytes, name, type, size} of the last PNG/JPEG, for "Re-encode"
  let generation = 0; // a newer drop or target change makes older work stale

  // The WebGL2 context is made when the tab is first shown (or a file arrives first), not at start-up:
  // compiling its shaders is long work on the main thread, and a tab never opened needs none of it. A
  // browser without WebGL2 hears why when the tab is shown and again at each drop (view() throws).
  let textureView = null;
  const view = () => {
    if (!textureView) {
      textureView = new TextureView(canvas);
      textureView.onchange = () => { zoomText.textContent = `${(textureView.cssZoom * 100).toFixed(textureView.cssZoom < 0.1 ? 1 : 0)} %`; };
    }
    return textureView;
  };
  panel.addEventListener("tool-shown", () => { try { view(); } catch (err) { showError(error, err); } });

  function busy(on) {
    for (const control of [target, level, imagePick, reencode]) control.disabled = on || (control === reencode ? !lastImage : !current);
    panel.classList.toggle("basis-busy", on);
  }

  let progressTimer = null;
  function showProgress(fraction, text) {
    progress.hidden = false;
    progress.dataset.stage = text;
    progressFill.style.width = `${Math.round(fraction * 100)}%`;
    progressBar.setAttribute("aria-valuenow", String(Math.round(fraction * 100)));
    const started = performance.now();
    clearInterval(progressTimer);
    progressText.textContent = text;
    // The encoder cannot report inside a stage, so show that time is passing.
    progressTimer = setInterval(() => { progressText.textContent = `${text} — ${((performance.now() - started) / 1000).toFixed(1)} s`; }, 200);
  }
  function hideProgress() { clearInterval(progressTimer); progress.hidden = true; cancelButton.hidden = true; }

  function updateEncodeFields() {
    const uastc = mode.value === "uastc";
    qualityField.hidden = uastc;
    levelField.hidden = !uastc;
    zstdField.hidden = !uastc;
    qualityOut.textContent = quality.value;
  }
  mode.addEventListener("change", updateEncodeFields);
  quality.addEventListener("input", updateEncodeFields);
  updateEncodeFields();

  // ---------------------------------------------------------------- flows
  async function openFile(file) {
    // Synchronously, so a waiting test never sees the previous file's result as this file's.
    delete result.dataset.result;
    try { view(); } catch (err) { showError(error, err); return; }
    clearError(error);
    notice.hidden = true;
    const bytes = new Uint8Array(await file.arrayBuffer());
    let kind;
    try {
      // A file named .ktx2/.basis must be one; anything else may also be a PNG/JPEG to encode.
      kind = refuseUnlessTaken(bytes, TEXTURE_NAME.test(file.name) ? TEXTURE_TAKES : TAKES);
    } catch (err) {
      failed(err, file.name);
      return;
    }
    if (kind !== "png" && kind !== "jpeg") {
      await showTexture(bytes, file.name, null);
    } else {
      const size = await imageSize(file).catch(() => null); // undecodable: the encoder worker says so
      if (size && size.width * size.height > MAX_TEXELS) {
        // Refused at once, with a way forward, rather than after a decode in the worker.
        failed(tooLargeError({
          ...size, maxPixels: MAX_TEXELS, what: "the Basis Universal encoder", why: "its own source-image limit",
          testid: "basis-downscale", run: () => encodeDownscaled(file, size),
        }), file.name);
        return;
      }
      lastImage = { bytes, name: file.name, type: kind === "png" ? "image/png" : "image/jpeg", size: file.size };
      await encodeImage();
    }
    const shown = result.dataset.result && (current?.name === file.name || current?.encoded?.original.name === file.name);
    if (shown) kept.remember(file, encodeSettings());
  }

  async function encodeDownscaled(file, size) {
    delete result.dataset.result; // a new job: the texture still shown is not its result
    showProgress(0.02, `Scaling ${size.width}×${size.height} down to at most ${(MAX_TEXELS / 1e6).toFixed(1)} MP`);
    try {
      const copy = await downscaledPng(file, MAX_TEXELS);
      const stem = file.name.replace(/\.[^.]*$/, "");
      lastImage = { bytes: copy.bytes, name: `${stem}-${copy.width}x${copy.height}.png`, type: "image/png", size: file.size,
        downscaledFrom: `${size.width}×${size.height}` };
      await encodeImage();
    } catch (err) { failed(err, file.name); }
  }

  /** A bad file never replaces a good result: the error is shown above the texture shown before, and
   *  says whose it is ("Still showing … below"); the texture's controls work again. */
  async function failed(err, name) {
    // Offline without its files saved, the tool says so rather than blaming the file (lib/offline.js).
    const shown = await app.offline.explain(err, "basis", "The Basis Universal codec");
    hideProgress();
    busy(false);
    viewer.classList.remove("basis-stale");
    const named = shown === err && name ? { message: `${name}: ${err.message}` } : {};
    showError(error, Object.assign(shown, { ...named, kept: current?.name }));
    if (current) publish();
  }

  function encodeSettings() {
    return { mode: mode.value, quality: Number(quality.value), uastcLevel: Number(uastcLevel.value), mipmaps: mipmaps.checked, zstd: zstd.checked };
  }

  async function encodeImage() {
    const image = lastImage;
    const mine = ++generation;
    clearError(error);
    delete result.dataset.result;
    busy(true);
    const fractions = { decode: 0.08, load: 0.2, encode: 0.35 };
    viewer.classList.toggle("basis-stale", Boolean(current));
    try {
      const settings = encodeSettings();
      showProgress(0.03, `Reading ${image.name}`);
      const encoded = await encodeKtx2(image.bytes, settings, ({ stage: s, text }) => {
        if (mine !== generation) return;
        showProgress(fractions[s] ?? 0.5, text);
        cancelButton.hidden = false;
      });
      if (mine !== generation) return;
      const ktx2 = new Uint8Array(encoded.ktx2);
      const name = image.name.replace(/\.[^.]*$/, "") + ".ktx2";
      await showTexture(ktx2, name, { original: image, encodeMs: encoded.encodeMs, settings }, mine);
    } catch (err) {
      if (mine !== generation) return;
      if (err.cancelled) cancelled(image.name);
      else failed(err, image.name);
    }
  }

  function cancelled(name) {
    hideProgress();
    busy(false);
    viewer.classList.remove("basis-stale");
    notice.hidden = false;
    notice.textContent = `Encoding ${name} cancelled.${current ? ` Still showing ${current.name}.` : ""}`;
    if (current) publish();
  }
  cancelButton.addEventListener("click", () => { cancelEncode(); });

  /** Inspect + plan in Python, transcode, upload, show. `encoded`: {original, encodeMs} for an encoded image. */
  async function showTexture(bytes, name, encoded, mine = ++generation) {
    clearError(error);
    delete result.dataset.result;
    busy(true);
    viewer.classList.toggle("basis-stale", Boolean(current));
    try {
      showProgress(0.6, `Reading ${name} in Python`);
      await afterPython(app, () => showProgress(0.05, `${name}: queued, Python is starting…`));
      const info = await app.python.call("basis.inspect", { data: bytes, name });
      if (mine !== generation) return;
      const plan = await app.python.call("basis.plan", { data: bytes, extensions: view().extensions(), force: null });
      if (mine !== generation) return;
      const next = { bytes, name, container: info.container, info, plan: null, autoPlan: plan, encoded, image: 0 };
      await transcodeAndShow(next, plan, mine);
    } catch (err) {
      if (mine === generation) failed(err, encoded ? encoded.original.name : name);
    }
  }

  async function transcodeAndShow(texture, plan, mine) {
    showProgress(0.8, `Transcoding to ${plan.target_format}`);
    const transcoded = await transcode(texture.bytes, texture.container, plan.transcoder_format_number, texture.image);
    if (mine !== generation) return;
    if (texture.image === 0 && transcoded.levels.length !== plan.level_count) {
      throw new Error(`the transcoder found ${transcoded.levels.length} mip levels, the parser ${plan.level_count}`);
    }
    // The plan's upload sizes are image 0's; another .basis image may have its own size.
    const sameSize = transcoded.levels.every((lv, i) => plan.levels[i]?.width === lv.width && plan.levels[i]?.height === lv.height);
    view().upload(transcoded.levels, plan.target, { flipY: texture.info.y_flipped, sizes: sameSize ? plan.levels : [] });
    viewer.classList.remove("basis-stale");
    const sameTexture = texture === current;
    texture.plan = plan;
    texture.transcoded = transcoded;
    current = texture;
    placeholder.hidden = true;
    result.hidden = false;
    fillMenus(sameTexture);
    showFigures();
    hideProgress();
    busy(false);
    publish();
  }

  /** Show the texture on screen again after a control changed; a newer change makes this one stale. */
  async function reshow(work) {
    if (!current) return;
    const mine = ++generation;
    const texture = current;
    clearError(error);
    delete result.dataset.result;
    busy(true);
    try {
      await work(texture, mine);
    } catch (err) {
      if (mine === generation) failed(err, null);
    }
  }

  /** Transcode to the target chosen in the menu ("auto": the plan's own choice). */
  const retarget = () => reshow(async (texture, mine) => {
    const force = target.value === "auto" ? null : target.value;
    const plan = await app.python.call("basis.plan", { data: texture.bytes, extensions: view().extensions(), force });
    if (mine !== generation) return;
    await transcodeAndShow(texture, plan, mine);
  });

  /** Show another face / layer / image of the texture on screen. */
  const showImage = () => reshow(async (texture, mine) => {
    texture.image = Number(imagePick.value);
    await transcodeAndShow(texture, texture.plan, mine);
  });

  // ---------------------------------------------------------------- display
  function fillMenus(sameTexture) {
    const { plan, autoPlan } = current;
    const chosen = target.value && plan.target.chosen_by === "force" ? plan.target_format : "auto";
    target.replaceChildren(
      el("option", { value: "auto", text: `Auto: ${autoPlan.target_format} (${autoPlan.target.chosen_by.replace("auto:", "")})` }),
      ...autoPlan.available.map((t) => el("option", {
        value: t.name,
        text: `${t.name}${t.compressed ? "" : " (uncompressed)"}${t.keeps_alpha ? "" : " — drops alpha"}`,
      })),
      // What cannot be used here, and why (no extension, not from this payload, size rules).
      el("optgroup", { label: "Not available here" }, ...(autoPlan.unavailable || []).map((t) => el("option", {
        value: t.name, disabled: true, title: t.reason, text: `${t.name}: ${t.reason}`,
      }))));
    target.value = chosen;
    const keep = sameTexture ? Math.min(Number(level.value) || 0, plan.levels.length - 1) : 0;
    level.replaceChildren(...plan.levels.map((lv) => el("option", { value: lv.level, text: `${lv.level}: ${lv.width}×${lv.height}` })));
    level.value = String(keep);
    view().setLevel(keep);
    fillImages(sameTexture);
    downloadButton.hidden = !current.encoded;
  }

  /** The image menu: a cubemap's six faces, an array's layers (× faces), a .basis file's images. */
  function fillImages(sameTexture) {
    const { info } = current;
    imageField.hidden = info.images <= 1;
    if (sameTexture && imagePick.options.length === info.images) { imagePick.value = String(current.image); return; }
    imagePick.replaceChildren(...Array.from({ length: info.images }, (_, i) => el("option", { value: i, text: imageLabel(info, i) })));
    imagePick.value = String(current.image);
  }

  function showFigures() {
    const { info, plan, transcoded, encoded } = current;
    figures.file.value.textContent = formatBytes(info.file_size);
    figures.file.note.textContent = `${info.container === "ktx2" ? "KTX2" : ".basis"} file, ${info.source_format.toUpperCase()}`;
    figures.original.node.hidden = !encoded;
    figures.encode.node.hidden = !encoded;
    if (encoded) {
      const kind = encoded.original.type === "image/png" ? "PNG" : "JPEG";
      figures.original.value.textContent = formatBytes(encoded.original.size);
      figures.original.note.textContent = `original ${kind} (KTX2 is ${(info.file_size / encoded.original.size).toFixed(2)}×)`
        + (encoded.original.downscaledFrom ? `, encoded from a copy scaled down from ${encoded.original.downscaledFrom}` : "");
      figures.encode.value.textContent = formatMs(encoded.encodeMs);
    }
    figures.gpu.value.textContent = formatBytes(plan.gpu_bytes);
    figures.gpu.note.textContent = `on the GPU as ${plan.target_format}`;
    figures.rgba.value.textContent = formatBytes(plan.rgba_bytes);
    // RGBA32/RGBA8 targets hold as many bytes as RGBA8: "1.0× smaller" would be nonsense.
    const ratio = plan.rgba_bytes / plan.gpu_bytes;
    const sameSize = Math.abs(ratio - 1) < 0.05;
    figures.ratio.value.textContent = sameSize ? "same size" : `${ratio.toFixed(1)}×`;
    figures.ratio.note.textContent = sameSize ? "as RGBA8 in GPU memory (an uncompressed format)"
      : ratio > 1 ? "smaller than RGBA8 in GPU memory" : "of RGBA8 in GPU memory";
    figures.time.value.textContent = formatMs(transcoded.ms);
    figures.time.note.textContent = `transcode, ${plan.level_count} level${plan.level_count > 1 ? "s" : ""} (wasm)`;

    const t = plan.target;
    const rows = [
      ["Size", `${info.width} × ${info.height}, ${plan.level_count} mip level${plan.level_count > 1 ? "s" : ""}${info.images > 1 ? `, ${info.images} images (${imageLabel(info, current.image)} shown: pick another in the Image menu)` : ""}`],
      ["Payload", `${info.source_format.toUpperCase()}, supercompression ${info.supercompression}${info.has_alpha ? ", with alpha" : ", opaque"}`],
      ["Upload", `${t.gl_internal_format_name || t.name}${t.extension ? ` via ${t.extension}` : " (core WebGL2)"}`],
      ["Chosen by", t.chosen_by === "force" ? "you (menu)" : `three.js KTX2Loader's rule: ${t.chosen_by.replace("auto:", "")}`],
    ];
    if (info.srgb !== null && info.srgb !== undefined) rows.push(["Colour", info.srgb ? "sRGB" : "linear"]);
    if (info.key_values?.KTXwriter) rows.push(["Writer", info.key_values.KTXwriter]);
    if (t.keeps_alpha === false) rows.push(["Note", `${t.name} has no alpha channel: the texture's alpha is dropped`]);
    facts.replaceChildren(...rows.flatMap(([k, v]) => [el("dt", { text: k }), el("dd", { text: v })]));
    levelsTable.replaceChildren(
      el("thead", {}, el("tr", {}, ...["Level", "Size", "In the file", `GPU (${plan.target_format})`, "RGBA8", "Transcode"].map((h) => el("th", { text: h })))),
      el("tbody", {}, ...plan.levels.map((lv, i) => el("tr", {},
        el("td", { text: String(lv.level) }),
        el("td", { text: `${lv.width}×${lv.height}` }),
        el("td", { text: formatBytes(info.levels[i]?.byte_length) }),
        el("td", { text: formatBytes(lv.gpu_bytes) }),
        el("td", { text: formatBytes(lv.rgba_bytes) }),
        el("td", { text: formatMs(transcoded.levels[i]?.ms) }))))
    );
    details.hidden = false;
  }

  function publish() {
    const { info, plan, transcoded, encoded } = current;
    setResult(result, {
      name: current.name,
      width: plan.width,
      height: plan.height,
      levels: plan.level_count,
      source_format: plan.source_format,
      target_format: plan.target_format,
      gpu_bytes: plan.gpu_bytes,
      rgba_bytes: plan.rgba_bytes,
      ms: Math.round(transcoded.ms * 1000) / 1000,
      container: info.container,
      file_size: info.file_size,
      has_alpha: info.has_alpha,
      chosen_by: plan.target.chosen_by,
      level: view().level,
      image: current.image,
      images: info.images,
      image_label: imageLabel(info, current.image),
      encoded: Boolean(encoded),
      original_size: encoded ? encoded.original.size : null,
      encode_ms: encoded ? Math.round(encoded.encodeMs) : null,
      downscaled_from: encoded?.original.downscaledFrom ?? null,
    });
  }

  // ---------------------------------------------------------------- controls
  target.addEventListener("change", retarget);
  imagePick.addEventListener("change", showImage);
  level.addEventListener("change", () => { view().setLevel(Number(level.value)); if (current) publish(); });
  alpha.addEventListener("change", () => view().setAlpha(alpha.checked));
  fitButton.addEventListener("click", () => view().fit());
  actualButton.addEventListener("click", () => view().actualSize());
  reencode.addEventListener("click", () => { if (lastImage) encodeImage(); });
  downloadButton.addEventListener("click", () => { if (current?.encoded) download(current.bytes, current.name, "image/ktx2"); });

  // For tests and the console: what was transcoded, and what the GPU decodes, for one level.
  app.basis = {
    current: () => current && { name: current.name, plan: current.plan, info: current.info },
    transcoded(levelIndex = view().level) {
      const lv = current.transcoded.levels[levelIndex];
      return { width: lv.width, height: lv.height, format: current.plan.target_format, base64: toBase64(new Uint8Array(lv.data)) };
    },
    /** Where level 0's texel (0, 0) is on the canvas (device pixels), and the scale. */
    viewState: () => ({ pan: [...view().pan], zoom: view().zoom, dpr: view().dpr, level: view().level, alpha: view().alpha,
      canvas: [canvas.width, canvas.height] }),
    readback(levelIndex = view().level) {
      const { width, height, pixels } = view().readback(levelIndex);
      return { width, height, base64: toBase64(pixels) };
    },
  };
}
