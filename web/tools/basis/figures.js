// What the texture panel shows about the texture on screen: the menus (GPU format, mip level, image), the
// figures, the facts and the levels table, and the result a test reads. `texture` is the controller's
// current texture: {bytes, name, container, info, plan, autoPlan, transcoded, encoded, image}.
import { el, formatBytes, formatMs } from "../../lib/ui.js";

const CUBE_FACES = ["+X", "−X", "+Y", "−Y", "+Z", "−Z"];

/** "face 2 (+Y)", "layer 3", "layer 1, face 0 (+X)" or "image 4" (a .basis file's images). */
export function imageLabel(info, image) {
  if (info.container !== "ktx2") return `image ${image}`;
  const faces = Math.max(1, info.faces);
  const face = faces === 6 ? `face ${image % 6} (${CUBE_FACES[image % 6]})` : null;
  if (info.layers > 0) return face ? `layer ${Math.floor(image / faces)}, ${face}` : `layer ${image}`;
  return face ?? `image ${image}`;
}

/** The GPU format, mip level and image menus for `texture`; the level shown is set on `view`. */
export function fillMenus(viewer, texture, view, sameTexture) {
  const { target, level } = viewer;
  const { plan, autoPlan } = texture;
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
  view.setLevel(keep);
  fillImages(viewer, texture, sameTexture);
  viewer.downloadButton.hidden = !texture.encoded;
}

/** The image menu: a cubemap's six faces, an array's layers (× faces), a .basis file's images. */
function fillImages({ imageField, imagePick }, texture, sameTexture) {
  const { info } = texture;
  imageField.hidden = info.images <= 1;
  if (sameTexture && imagePick.options.length === info.images) { imagePick.value = String(texture.image); return; }
  imagePick.replaceChildren(...Array.from({ length: info.images }, (_, i) => el("option", { value: i, text: imageLabel(info, i) })));
  imagePick.value = String(texture.image);
}

function showEncoded(figures, { info, encoded }) {
  figures.original.node.hidden = !encoded;
  figures.encode.node.hidden = !encoded;
  if (!encoded) return;
  const kind = encoded.original.type === "image/png" ? "PNG" : "JPEG";
  figures.original.value.textContent = formatBytes(encoded.original.size);
  figures.original.note.textContent = `original ${kind} (KTX2 is ${(info.file_size / encoded.original.size).toFixed(2)}×)`
    + (encoded.original.downscaledFrom ? `, encoded from a copy scaled down from ${encoded.original.downscaledFrom}` : "");
  figures.encode.value.textContent = formatMs(encoded.encodeMs);
}

/** The figures: file, original, GPU and RGBA8 bytes, their ratio, transcode and encode times. */
function showNumbers(figures, texture) {
  const { info, plan, transcoded } = texture;
  figures.file.value.textContent = formatBytes(info.file_size);
  figures.file.note.textContent = `${info.container === "ktx2" ? "KTX2" : ".basis"} file, ${info.source_format.toUpperCase()}`;
  showEncoded(figures, texture);
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
}

function factRows({ info, plan, image }) {
  const t = plan.target;
  const rows = [
    ["Size", `${info.width} × ${info.height}, ${plan.level_count} mip level${plan.level_count > 1 ? "s" : ""}${info.images > 1 ? `, ${info.images} images (${imageLabel(info, image)} shown: pick another in the Image menu)` : ""}`],
    ["Payload", `${info.source_format.toUpperCase()}, supercompression ${info.supercompression}${info.has_alpha ? ", with alpha" : ", opaque"}`],
    ["Upload", `${t.gl_internal_format_name || t.name}${t.extension ? ` via ${t.extension}` : " (core WebGL2)"}`],
    ["Chosen by", t.chosen_by === "force" ? "you (menu)" : `three.js KTX2Loader's rule: ${t.chosen_by.replace("auto:", "")}`],
  ];
  if (info.srgb !== null && info.srgb !== undefined) rows.push(["Colour", info.srgb ? "sRGB" : "linear"]);
  if (info.key_values?.KTXwriter) rows.push(["Writer", info.key_values.KTXwriter]);
  if (t.keeps_alpha === false) rows.push(["Note", `${t.name} has no alpha channel: the texture's alpha is dropped`]);
  return rows;
}

function levelsTableRows({ info, plan, transcoded }) {
  return [
    el("thead", {}, el("tr", {}, ...["Level", "Size", "In the file", `GPU (${plan.target_format})`, "RGBA8", "Transcode"].map((h) => el("th", { text: h })))),
    el("tbody", {}, ...plan.levels.map((lv, i) => el("tr", {},
      el("td", { text: String(lv.level) }),
      el("td", { text: `${lv.width}×${lv.height}` }),
      el("td", { text: formatBytes(info.levels[i]?.byte_length) }),
      el("td", { text: formatBytes(lv.gpu_bytes) }),
      el("td", { text: formatBytes(lv.rgba_bytes) }),
      el("td", { text: formatMs(transcoded.levels[i]?.ms) })))),
  ];
}

/** Figures, facts and the levels table of `texture`. */
export function showFigures(viewer, texture) {
  showNumbers(viewer.figures, texture);
  viewer.facts.replaceChildren(...factRows(texture).flatMap(([k, v]) => [el("dt", { text: k }), el("dd", { text: v })]));
  viewer.levelsTable.replaceChildren(...levelsTableRows(texture));
  viewer.details.hidden = false;
}

/** The result a test reads (data-result), for the mip level shown. */
export function resultOf(texture, level) {
  const { info, plan, transcoded, encoded } = texture;
  return {
    name: texture.name,
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
    level,
    image: texture.image,
    images: info.images,
    image_label: imageLabel(info, texture.image),
    encoded: Boolean(encoded),
    original_size: encoded ? encoded.original.size : null,
    encode_ms: encoded ? Math.round(encoded.encodeMs) : null,
    downscaled_from: encoded?.original.downscaledFrom ?? null,
  };
}
