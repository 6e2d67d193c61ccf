// Basis Universal textures panel.
//
// Drop a .ktx2/.basis file: Python (codeclab.basis.service) parses and validates it and chooses the
// transcode target from this WebGL2 context's extensions (the GPU format choice is
// pysrc/codeclab/basis/targets.py, called through "basis.plan"; this file only passes the extensions); the official Basis transcoder (wasm, in a
// worker) turns it into that GPU format; WebGL2 uploads it as-is and draws it. Drop a PNG/JPEG: the
// Basis encoder (npm ktx2-encoder, wasm, in a worker) makes a KTX2 of it first.
// The parts: ui.js (DOM), controller.js (the flows), figures.js (what is shown about a texture), view.js
// (WebGL2), workers.js (the client of transcode-worker.js and encode-worker.js).
import { showError, download } from "../../lib/ui.js";
import { buildPanel } from "./ui.js";
import { TextureController } from "./controller.js";
import { cancelEncode } from "./workers.js";
import { keptBasis } from "./keep.js";

function toBase64(bytes) {
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  return btoa(text);
}

export async function mount(panel, app) {
  const parts = buildPanel(panel, (file) => controller.openFile(file));
  parts.kept = keptBasis(parts.encodeOptions.controls, (file) => controller.openFile(file)); // for a reload
  parts.progress.node.before(parts.kept.node);
  const controller = new TextureController(panel, app, parts);
  panel.addEventListener("tool-shown", () => { try { controller.view(); } catch (err) { showError(parts.error, err); } });
  wireControls(parts, controller);
  app.basis = testHooks(controller);
}

function wireControls({ encodeOptions, progress, viewer }, controller) {
  const view = () => controller.view();
  progress.cancel.addEventListener("click", () => { cancelEncode(); });
  viewer.target.addEventListener("change", () => controller.retarget());
  viewer.imagePick.addEventListener("change", () => controller.showImage());
  viewer.level.addEventListener("change", () => { view().setLevel(Number(viewer.level.value)); if (controller.current) controller.publish(); });
  viewer.alpha.addEventListener("change", () => view().setAlpha(viewer.alpha.checked));
  viewer.fitButton.addEventListener("click", () => view().fit());
  viewer.actualButton.addEventListener("click", () => view().actualSize());
  encodeOptions.reencode.addEventListener("click", () => { if (controller.lastImage) controller.encodeImage(); });
  viewer.downloadButton.addEventListener("click", () => {
    const { current } = controller;
    if (current?.encoded) download(current.bytes, current.name, "image/ktx2");
  });
}

/** For tests and the console: what was transcoded, and what the GPU decodes, for one level. */
function testHooks(controller) {
  const view = () => controller.view();
  return {
    current: () => controller.current && { name: controller.current.name, plan: controller.current.plan, info: controller.current.info },
    transcoded(levelIndex = view().level) {
      const lv = controller.current.transcoded.levels[levelIndex];
      return { width: lv.width, height: lv.height, format: controller.current.plan.target_format, base64: toBase64(new Uint8Array(lv.data)) };
    },
    /** Where level 0's texel (0, 0) is on the canvas (device pixels), and the scale. */
    viewState: () => ({ pan: [...view().pan], zoom: view().zoom, dpr: view().dpr, level: view().level, alpha: view().alpha,
      canvas: [controller.parts.viewer.canvas.width, controller.parts.viewer.canvas.height] }),
    readback(levelIndex = view().level) {
      const { width, height, pixels } = view().readback(levelIndex);
      return { width, height, base64: toBase64(pixels) };
    },
  };
}
