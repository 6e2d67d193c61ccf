// The texture panel's flows: open a file, encode a PNG/JPEG, inspect and plan in Python, transcode in the
// worker, upload and show; a newer drop or control change makes older work stale (a generation count).
import { showError, clearError, setResult, afterPython } from "../../lib/ui.js";
import { refuseUnlessTaken } from "../../lib/filekind.js";
import { imageSize, downscaledPng, tooLargeError } from "../../lib/downscale.js";
import { TextureView } from "./view.js";
import { transcode, encodeKtx2 } from "./workers.js";
import { fillMenus, showFigures, resultOf } from "./figures.js";

const TEXTURE_NAME = /\.(ktx2|basis)$/i;
// What the tab takes, in the words every tab uses for a file it cannot take (lib/filekind.js).
const TAKES = { takes: ["ktx2", "basis", "png", "jpeg"], what: "a KTX2 or .basis texture, or a PNG or JPEG image to encode" };
const TEXTURE_TAKES = { takes: ["ktx2", "basis"], what: "a KTX2 or .basis texture" };
// The Basis encoder's own source limit (v2.5; encode-worker.js refuses above it too).
export const MAX_TEXELS = 12 * 1024 * 1024;

export class TextureController {
  /** `parts`: buildPanel()'s {error, encodeOptions, progress, notice, viewer}. */
  constructor(panel, app, parts) {
    this.panel = panel;
    this.app = app;
    this.parts = parts;
    this.current = null; // {bytes, name, container, info, plan, autoPlan, transcoded, encoded, image}
    this.lastImage = null; // {bytes, name, type, size} of the last PNG/JPEG, for "Re-encode"
    this.generation = 0; // a newer drop or target change makes older work stale
    this.textureView = null;
  }

  /**
   * The WebGL2 view, made when the tab is first shown (or a file arrives first), not at start-up: compiling
   * its shaders is long work on the main thread, and a tab never opened needs none of it. A browser without
   * WebGL2 hears why when the tab is shown and again at each drop (this throws).
   */
  view() {
    if (!this.textureView) {
      const { canvas, zoomText } = this.parts.viewer;
      const view = new TextureView(canvas);
      view.onchange = () => { zoomText.textContent = `${(view.cssZoom * 100).toFixed(view.cssZoom < 0.1 ? 1 : 0)} %`; };
      this.textureView = view;
    }
    return this.textureView;
  }

  busy(on) {
    const { target, level, imagePick } = this.parts.viewer;
    const { reencode } = this.parts.encodeOptions;
    for (const control of [target, level, imagePick, reencode]) control.disabled = on || (control === reencode ? !this.lastImage : !this.current);
    this.panel.classList.toggle("basis-busy", on);
  }

  /** Starting new work: no error, no result of the work before, controls off, the texture shown dimmed. */
  begin() {
    clearError(this.parts.error);
    delete this.parts.viewer.result.dataset.result;
    this.busy(true);
    this.parts.viewer.node.classList.toggle("basis-stale", Boolean(this.current));
  }

  async openFile(file) {
    // Synchronously, so a waiting test never sees the previous file's result as this file's.
    delete this.parts.viewer.result.dataset.result;
    try { this.view(); } catch (err) { showError(this.parts.error, err); return; }
    clearError(this.parts.error);
    this.parts.notice.hidden = true;
    const bytes = new Uint8Array(await file.arrayBuffer());
    let kind;
    try {
      // A file named .ktx2/.basis must be one; anything else may also be a PNG/JPEG to encode.
      kind = refuseUnlessTaken(bytes, TEXTURE_NAME.test(file.name) ? TEXTURE_TAKES : TAKES);
    } catch (err) {
      this.failed(err, file.name);
      return;
    }
    if (kind !== "png" && kind !== "jpeg") await this.showTexture(bytes, file.name, null);
    else await this.openImage(file, bytes, kind);
    const current = this.current;
    const shown = this.parts.viewer.result.dataset.result && (current?.name === file.name || current?.encoded?.original.name === file.name);
    if (shown) this.parts.kept.remember(file, this.parts.encodeOptions.settings());
  }

  async openImage(file, bytes, kind) {
    const size = await imageSize(file).catch(() => null); // undecodable: the encoder worker says so
    if (size && size.width * size.height > MAX_TEXELS) {
      // Refused at once, with a way forward, rather than after a decode in the worker.
      this.failed(tooLargeError({
        ...size, maxPixels: MAX_TEXELS, what: "the Basis Universal encoder", why: "its own source-image limit",
        testid: "basis-downscale", run: () => this.encodeDownscaled(file, size),
      }), file.name);
      return;
    }
    this.lastImage = { bytes, name: file.name, type: kind === "png" ? "image/png" : "image/jpeg", size: file.size };
    await this.encodeImage();
  }

  async encodeDownscaled(file, size) {
    delete this.parts.viewer.result.dataset.result; // a new job: the texture still shown is not its result
    this.parts.progress.show(0.02, `Scaling ${size.width}×${size.height} down to at most ${(MAX_TEXELS / 1e6).toFixed(1)} MP`);
    try {
      const copy = await downscaledPng(file, MAX_TEXELS);
      const stem = file.name.replace(/\.[^.]*$/, "");
      this.lastImage = { bytes: copy.bytes, name: `${stem}-${copy.width}x${copy.height}.png`, type: "image/png", size: file.size,
        downscaledFrom: `${size.width}×${size.height}` };
      await this.encodeImage();
    } catch (err) { this.failed(err, file.name); }
  }

  /** A bad file never replaces a good result: the error is shown above the texture shown before, and
   *  says whose it is ("Still showing … below"); the texture's controls work again. */
  async failed(err, name) {
    // Offline without its files saved, the tool says so rather than blaming the file (lib/offline.js).
    const shown = await this.app.offline.explain(err, "basis", "The Basis Universal codec");
    this.settle();
    const named = shown === err && name ? { message: `${name}: ${err.message}` } : {};
    showError(this.parts.error, Object.assign(shown, { ...named, kept: this.current?.name }));
    if (this.current) this.publish();
  }

  /** Work ended without a new texture: progress gone, controls on, the texture shown no longer dimmed. */
  settle() {
    this.parts.progress.hide();
    this.busy(false);
    this.parts.viewer.node.classList.remove("basis-stale");
  }

  async encodeImage() {
    const image = this.lastImage;
    const mine = ++this.generation;
    this.begin();
    const fractions = { decode: 0.08, load: 0.2, encode: 0.35 };
    const { progress } = this.parts;
    try {
      const settings = this.parts.encodeOptions.settings();
      progress.show(0.03, `Reading ${image.name}`);
      const encoded = await encodeKtx2(image.bytes, settings, ({ stage, text }) => {
        if (mine !== this.generation) return;
        progress.show(fractions[stage] ?? 0.5, text);
        progress.cancel.hidden = false;
      });
      if (mine !== this.generation) return;
      const name = image.name.replace(/\.[^.]*$/, "") + ".ktx2";
      await this.showTexture(new Uint8Array(encoded.ktx2), name, { original: image, encodeMs: encoded.encodeMs, settings }, mine);
    } catch (err) {
      if (mine !== this.generation) return;
      if (err.cancelled) this.cancelled(image.name);
      else this.failed(err, image.name);
    }
  }

  cancelled(name) {
    this.settle();
    const { notice } = this.parts;
    notice.hidden = false;
    notice.textContent = `Encoding ${name} cancelled.${this.current ? ` Still showing ${this.current.name}.` : ""}`;
    if (this.current) this.publish();
  }

  /** Inspect + plan in Python, transcode, upload, show. `encoded`: {original, encodeMs} for an encoded image. */
  async showTexture(bytes, name, encoded, mine = ++this.generation) {
    this.begin();
    const { progress } = this.parts;
    try {
      progress.show(0.6, `Reading ${name} in Python`);
      await afterPython(this.app, () => progress.show(0.05, `${name}: queued, Python is starting…`));
      const info = await this.app.python.call("basis.inspect", { data: bytes, name });
      if (mine !== this.generation) return;
      const plan = await this.app.python.call("basis.plan", { data: bytes, extensions: this.view().extensions(), force: null });
      if (mine !== this.generation) return;
      const next = { bytes, name, container: info.container, info, plan: null, autoPlan: plan, encoded, image: 0 };
      await this.transcodeAndShow(next, plan, mine);
    } catch (err) {
      if (mine === this.generation) this.failed(err, encoded ? encoded.original.name : name);
    }
  }

  async transcodeAndShow(texture, plan, mine) {
    this.parts.progress.show(0.8, `Transcoding to ${plan.target_format}`);
    const transcoded = await transcode(texture.bytes, texture.container, plan.transcoder_format_number, texture.image);
    if (mine !== this.generation) return;
    if (texture.image === 0 && transcoded.levels.length !== plan.level_count) {
      throw new Error(`the transcoder found ${transcoded.levels.length} mip levels, the parser ${plan.level_count}`);
    }
    // The plan's upload sizes are image 0's; another .basis image may have its own size.
    const sameSize = transcoded.levels.every((lv, i) => plan.levels[i]?.width === lv.width && plan.levels[i]?.height === lv.height);
    this.view().upload(transcoded.levels, plan.target, { flipY: texture.info.y_flipped, sizes: sameSize ? plan.levels : [] });
    this.parts.viewer.node.classList.remove("basis-stale");
    const sameTexture = texture === this.current;
    texture.plan = plan;
    texture.transcoded = transcoded;
    this.current = texture;
    this.parts.viewer.placeholder.hidden = true;
    this.parts.viewer.result.hidden = false;
    fillMenus(this.parts.viewer, texture, this.view(), sameTexture);
    showFigures(this.parts.viewer, texture);
    this.parts.progress.hide();
    this.busy(false);
    this.publish();
  }

  /** Show the texture on screen again after a control changed; a newer change makes this one stale. */
  async reshow(work) {
    if (!this.current) return;
    const mine = ++this.generation;
    const texture = this.current;
    clearError(this.parts.error);
    delete this.parts.viewer.result.dataset.result;
    this.busy(true);
    try {
      await work(texture, mine);
    } catch (err) {
      if (mine === this.generation) this.failed(err, null);
    }
  }

  /** Transcode to the target chosen in the menu ("auto": the plan's own choice). */
  retarget() {
    return this.reshow(async (texture, mine) => {
      const chosen = this.parts.viewer.target.value;
      const force = chosen === "auto" ? null : chosen;
      const plan = await this.app.python.call("basis.plan", { data: texture.bytes, extensions: this.view().extensions(), force });
      if (mine !== this.generation) return;
      await this.transcodeAndShow(texture, plan, mine);
    });
  }

  /** Show another face / layer / image of the texture on screen. */
  showImage() {
    return this.reshow(async (texture, mine) => {
      texture.image = Number(this.parts.viewer.imagePick.value);
      await this.transcodeAndShow(texture, texture.plan, mine);
    });
  }

  publish() {
    setResult(this.parts.viewer.result, resultOf(this.current, this.view().level));
  }
}
