// The texture panel's DOM parts: the drop zone with the encoder's options, the progress line, the viewer
// (toolbar, WebGL canvas, figures, facts). Each part returns its nodes; index.js wires them to the controller.
import { el } from "../../lib/ui.js";
import { dropzone } from "../../lib/dropzone.js";

function figure(label, testid) {
  const value = el("b", { text: "–", "data-testid": testid });
  const note = el("span", { text: label });
  return { node: el("div", { class: "figure" }, value, note), value, note };
}

function labelled(text, control, attrs = {}) {
  return el("label", { class: "basis-field", ...attrs }, el("span", { text }), control);
}

/** PNG/JPEG -> KTX2 settings; `settings()` reads them, the fields a mode does not use are hidden. */
export function encodeOptionsPart() {
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
  const node = el("div", { class: "basis-options" },
    el("span", { class: "basis-options-title", text: "PNG/JPEG → KTX2" }),
    labelled("Mode", mode), qualityField, levelField, labelled("Mipmaps", mipmaps), zstdField, reencode);
  const showFields = () => {
    const uastc = mode.value === "uastc";
    qualityField.hidden = uastc;
    levelField.hidden = !uastc;
    zstdField.hidden = !uastc;
    qualityOut.textContent = quality.value;
  };
  mode.addEventListener("change", showFields);
  quality.addEventListener("input", showFields);
  showFields();
  const settings = () => ({ mode: mode.value, quality: Number(quality.value), uastcLevel: Number(uastcLevel.value), mipmaps: mipmaps.checked, zstd: zstd.checked });
  return { node, reencode, settings, controls: { mode, quality, uastcLevel, mipmaps, zstd } };
}

/** The encoder's progress: a bar, the stage's text with the seconds passing, and Cancel. */
export function progressPart() {
  const fill = el("div", { class: "progress-fill" });
  const text = el("span", { class: "muted", id: "basis-progress-text" });
  const bar = el("div", { class: "progress", role: "progressbar", "aria-labelledby": "basis-progress-text", "aria-valuemin": "0", "aria-valuemax": "100" }, fill);
  // An encode can take long (UASTC level 4): it can be cancelled, and the texture shown before stays.
  const cancel = el("button", { class: "secondary basis-cancel", type: "button", hidden: true, "data-testid": "basis-cancel", text: "Cancel" });
  const node = el("div", { class: "basis-progress", hidden: true, "data-testid": "basis-progress", role: "status" }, bar, text, cancel);
  let timer = null;
  const show = (fraction, stage) => {
    node.hidden = false;
    node.dataset.stage = stage;
    fill.style.width = `${Math.round(fraction * 100)}%`;
    bar.setAttribute("aria-valuenow", String(Math.round(fraction * 100)));
    const started = performance.now();
    clearInterval(timer);
    text.textContent = stage;
    // The encoder cannot report inside a stage, so show that time is passing.
    timer = setInterval(() => { text.textContent = `${stage} — ${((performance.now() - started) / 1000).toFixed(1)} s`; }, 200);
  };
  const hide = () => { clearInterval(timer); node.hidden = true; cancel.hidden = true; };
  return { node, cancel, show, hide };
}

/** The viewer's toolbar: GPU format, mip level, image, alpha, zoom, download. */
function toolbarPart() {
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
  const node = el("div", { class: "basis-toolbar" },
    labelled("GPU format", target), labelled("Mip level", level), imageField, labelled("Alpha over checkerboard", alpha),
    el("span", { class: "basis-spacer" }), zoomText, fitButton, actualButton, downloadButton);
  return { node, target, level, imagePick, imageField, alpha, fitButton, actualButton, zoomText, downloadButton };
}

function figuresPart() {
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
  return figures;
}

/** The texture on screen: toolbar, canvas, figures, facts and the levels table. */
export function viewerPart() {
  const toolbar = toolbarPart();
  const canvas = el("canvas", { class: "basis-canvas", role: "img", "aria-label": "The texture as the GPU samples it (its GPU format, sizes and timings are given beside it)", "data-testid": "basis-canvas" });
  const placeholder = el("p", { class: "basis-placeholder muted", text: "No texture yet. Wheel to zoom, drag to pan, double-click to fit." });
  const stage = el("div", { class: "canvas-wrap basis-stage" }, canvas, placeholder);
  const figures = figuresPart();
  const result = el("div", { class: "figures basis-figures", role: "status", "data-testid": "basis-result" }, ...Object.values(figures).map((f) => f.node));
  const facts = el("dl", { class: "facts basis-facts" });
  const levelsTable = el("table", { class: "table basis-levels", "data-testid": "basis-levels" });
  const details = el("div", { class: "basis-details", hidden: true }, facts, levelsTable);
  const node = el("div", { class: "card basis-viewer" }, toolbar.node, stage, result, details);
  return { ...toolbar, node, canvas, placeholder, figures, result, facts, levelsTable, details };
}

/** The whole panel; `onFile(file)` hears a drop, a pick or a paste. */
export function buildPanel(panel, onFile) {
  const error = el("p", { class: "error", role: "alert", hidden: true, "data-testid": "basis-error" });
  const zone = dropzone({
    testid: "basis-input", accept: ".ktx2,.basis,image/png,image/jpeg",
    title: "Drop a .ktx2 or .basis texture",
    hint: "or a PNG / JPEG to encode to KTX2 right here (nothing leaves this tab)",
    onFiles: ([file]) => onFile(file),
  });
  zone.dataset.paste = "";
  const encodeOptions = encodeOptionsPart();
  const progress = progressPart();
  const notice = el("p", { class: "muted basis-notice", role: "status", hidden: true, "data-testid": "basis-notice" });
  const viewer = viewerPart();
  panel.append(
    el("h2", { text: "Basis Universal: textures that stay compressed on the GPU" }),
    el("p", { text: "A .basis or KTX2 file is transcoded when it loads into the compressed format your GPU understands (ASTC, BC7, ETC2, S3TC…), so it also stays compressed in GPU memory — unlike a PNG or JPEG, which the GPU holds as 4 bytes per pixel." }),
    el("div", { class: "basis-top" }, zone, encodeOptions.node), progress.node, notice, error, viewer.node,
  );
  return { error, encodeOptions, progress, notice, viewer };
}
