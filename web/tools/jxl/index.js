// Attention-first progressive JPEG XL: drop a JXL (or a PNG/JPEG, encoded here with libjxl),
// predict the attention centre, rewrite the file so the groups around it come first
// (codeclab.jxl.service.reorder, lossless), and compare how both orders load byte by byte.
import { el, showError, clearError, setResult, formatBytes, formatMs, download, afterPython } from "../../lib/ui.js";
import { refuseUnlessTaken } from "../../lib/filekind.js";
import { dropzone } from "../../lib/dropzone.js";
import { sniff, encodeSettings, decodeToBitmap, rgbaOf, drawsSomething } from "./images.js";
import { encodeJxl, cancelEncode } from "./workers.js";
import { fitWithin, tooLargeError } from "../../lib/downscale.js";
import { showTruncated } from "./truncated.js";
import { keptJxl } from "./keep.js";
import { LoadSimulator } from "./sim.js";
import { mainFrame, groupBytes, loadRanks, secondsAt, salientWeights, salientCurve, bytesToShare, headline } from "./plan.js";
import { drawGrid, drawCurves } from "./draw.js";
import { SPEEDS, orderView, figure, progressLine, noticeLine, tocTable } from "./ui.js";

const ORIGINAL_COLOR = "#4cc9f0";
const FIRST_COLOR = "#ff6b35";
const SCANLINE_COLOR = "#9aa3b2";
// Pixels handed to the attention predictor (it works on a small frame anyway).
const MAX_ATTENTION_PIXELS = 4e6;
// The most pixels the page gives libjxl (the @jsquash/jxl wasm, whose heap cannot grow past 2 GB): the largest
// size that encodes at the page's settings (quality 85, effort 3, progressive), found with
// tests/jxl/jsquash_encode.mjs. Larger images are refused at once with a smaller copy offered.
const MAX_ENCODE_PIXELS = 12e6;
// Views are drawn at most this wide (canvas pixels); the LF image is still 1:8 of the real image.
const VIEW_PIXELS = 720;
// What the two rows of views show (the Chromium claims are checked by tests/e2e/test_jxl.py).
const NOTE = "Chromium's own decoder gets the first N bytes of each file. As measured by codeclab's tests: it draws nothing until the 1:8 LF image is complete (exactly where the frame's LF sections and HF global end), then that image, then a group's detail each time one of its sections is complete: half a section adds nothing, and in a multi-pass file a group gets coarse detail after its first pass. A file with a separate LF frame (progressive DC) is drawn while that frame arrives. The simulation is the idealised decoder from codeclab's load plan: the smooth 1:8 image, and full detail where all passes of a group are in, with softened group borders. Numbers give each group's load order and size; hover a group for details.";
// The play button never takes less than this, however fast the connection: slower is shown as slow motion.
const MIN_PLAY_SECONDS = 4;

export async function mount(panel, app) {
  panel.append(
    el("h2", { text: "Attention-first progressive JPEG XL" }),
    el("p", { text: "JPEG XL can store an image's 256×256 groups in any order: codeclab rewrites a JXL so the groups around the point people look at first arrive first, without re-encoding a single pixel." }),
  );
  const card = el("div", { class: "card", id: "jxl-card" });
  panel.append(card);
  await mountCard(card, app);
}

async function mountCard(card, app) {
  const ui = buildCard(card);
  let busy = false;
  let queued = null; // a file dropped while another is being processed: handled next

  // downscaleTo: encode a copy of at most this many pixels (the user accepted the offer of a smaller copy).
  // A bad file never replaces a good result: the result stays (dimmed while the new file loads) until the
  // new one is ready, and an error is shown above it, saying that the result below is the previous file's.
  ui.onFile = async (file, { downscaleTo = 0 } = {}) => {
    if (busy) { queued = file; return; }
    busy = true;
    clearError(ui.error);
    ui.notice.hide();
    ui.stopPlay();
    ui.markStale(true);
    try {
      await afterPython(app, () => ui.progress.start(`${file.name}: queued, Python is starting…`));
      const state = await load(app, file, ui, { downscaleTo, retry: (pixels) => ui.onFile(file, { downscaleTo: pixels }) });
      ui.clearResult();
      ui.markStale(false);
      ui.show(state);
      ui.kept.remember(file, downscaleTo); // for a reload (lib/kept.js)
    } catch (err) {
      ui.markStale(false);
      if (err.cancelled) { ui.notice.show(`Encoding ${file.name} cancelled.${ui.shownName() ? ` Still showing ${ui.shownName()}.` : ""}`); return; }
      // Offline without its files saved, the tool says so rather than blaming the file (lib/offline.js).
      const shown = await app.offline.explain(err, "jxl", "The JPEG XL encoder");
      const named = shown === err ? { message: `${file.name}: ${err.message}` } : {};
      showError(ui.error, Object.assign(shown, { ...named, kept: ui.shownName() }));
    } finally {
      ui.progress.stop();
      busy = false;
      if (queued) { const next = queued; queued = null; ui.onFile(next); }
    }
  };
}

/** Everything the card needs about one dropped file. Throws with a readable message. */
async function load(app, file, ui, { downscaleTo = 0, retry = null } = {}) {
  let bytes = new Uint8Array(await file.arrayBuffer());
  // Any image the browser decodes can be encoded; the same sentence as every tab for anything else.
  refuseUnlessTaken(bytes, { takes: ["jxl", "png", "jpeg", "webp", "gif", "bmp", "avif"], what: "a JPEG XL file or an image to encode (PNG, JPEG…)" });
  const kind = sniff(bytes);
  const isJxl = kind === "jxl" || (!kind && /\.jxl$/i.test(file.name));
  const state = { name: file.name.replace(/\.[^.]*$/, "") || "image", source: isJxl ? "jxl" : kind || file.type || "image" };
  let bitmap;
  if (isJxl) {
    // Python first: a malformed file gets codeclab's JxlError (with byte offset and field).
    ui.progress.start("Reading the JPEG XL codestream…");
    const cut = await call(app, "jxl.truncation", { data: bytes });
    if (cut.truncated) return { name: file.name, data: bytes, truncated: cut }; // shown for what it holds
    state.info = await call(app, "jxl.inspect", { data: bytes, name: file.name });
    ui.progress.start("Decoding…");
    bitmap = await decodeToBitmap(bytes, "image/jxl");
  } else {
    ui.progress.start("Decoding…");
    bitmap = await decodeToBitmap(bytes, file.type || `image/${kind || "png"}`);
    let downscaledFrom = null;
    const limit = downscaleTo || MAX_ENCODE_PIXELS;
    if (bitmap.width * bitmap.height > limit) {
      // libjxl in wasm has a 2 GB heap: refuse at once, in plain words, and offer a smaller copy.
      if (!downscaleTo) {
        const { width, height } = bitmap;
        bitmap.close();
        throw tooLargeError({ width, height, maxPixels: limit, what: "the JPEG XL encoder (libjxl in wasm)",
          why: "its memory is limited to 2 GB", testid: "jxl-downscale", run: () => retry(limit) });
      }
      downscaledFrom = `${bitmap.width}×${bitmap.height}`;
      const fit = fitWithin(bitmap.width, bitmap.height, limit);
      ui.progress.start(`Scaling ${downscaledFrom} down to ${fit.width}×${fit.height}…`);
      const smaller = await createImageBitmap(bitmap, { resizeWidth: fit.width, resizeHeight: fit.height, resizeQuality: "high" });
      bitmap.close();
      bitmap = smaller;
    }
    const settings = { ...encodeSettings(bitmap.width, bitmap.height), ...ui.encodeOptions() };
    ui.progress.start(`Encoding ${bitmap.width}×${bitmap.height} to JPEG XL with libjxl (wasm): ${settings.lossless ? "lossless" : `quality ${settings.quality}`}, effort ${settings.effort}, progressive…`, { onCancel: cancelEncode });
    const { rgba, width, height } = rgbaOf(bitmap);
    let encoded;
    try {
      encoded = await encodeJxl(rgba, width, height, settings);
    } catch (err) {
      if (!/Aborted\(|out of memory|memory access out of bounds/i.test(err.message)) throw err;
      // Under the limit and still too much for its heap (content-dependent): the same way forward, halved.
      const half = Math.floor((width * height) / 2);
      throw tooLargeError({ width, height, maxPixels: half, what: "the JPEG XL encoder (libjxl in wasm)",
        why: "it ran out of its 2 GB of memory on this image", testid: "jxl-downscale", run: () => retry(half) });
    }
    bytes = encoded.bytes;
    state.encoded = { ms: encoded.ms, settings, inputBytes: file.size, downscaledFrom };
    state.info = await call(app, "jxl.inspect", { data: bytes, name: `${state.name}.jxl` });
  }
  state.data = bytes;
  state.bitmap = bitmap;
  const { display_width: width, display_height: height } = state.info; // as shown (orientation applied)

  ui.progress.start("Predicting the attention centre…");
  state.attention = await predictAttention(app, bitmap, width, height, file.name);
  state.center = [state.attention.x, state.attention.y];

  ui.progress.start("Reordering the groups around the centre…");
  const first = await call(app, "jxl.reorder", { data: bytes, center: state.center, order: "center" });
  const scan = await call(app, "jxl.reorder", { data: bytes, center: null, order: "scanline" });
  state.first = { data: first.data, info: first.info, changed: first.changed, ms: first.ms };
  state.scanline = { data: scan.data, info: scan.info };
  ui.progress.start("Planning the byte-by-byte load…");
  state.original = { data: bytes, info: state.info, plan: await call(app, "jxl.load_plan", { data: bytes, center: state.center }) };
  state.first.plan = await call(app, "jxl.load_plan", { data: state.first.data, center: state.center });
  state.scanline.plan = await call(app, "jxl.load_plan", { data: state.scanline.data, center: state.center });

  for (const order of [state.original, state.first, state.scanline]) order.previewAt = previewAt(order.info, order.plan);
  const salient = salientWeights(state.first.plan, width, height, state.attention);
  state.salient = salient;
  for (const order of [state.original, state.first, state.scanline]) order.curve = salientCurve(order.plan, salient.weights);
  state.sim = new LoadSimulator(bitmap, width, height, Math.min(VIEW_PIXELS, width));
  return state;
}

/** Bytes until a decoder can show the 1:8 image: the end of a separate LF frame (progressive DC)
 *  when the file starts with one, else when the main frame's LF sections and HF global are in. */
function previewAt(info, plan) {
  const lfFrame = info.frames.find((f) => f.frame_type === "lf" && f.index < (plan.frame_index ?? Infinity));
  return lfFrame?.end_offset ? Math.min(lfFrame.end_offset, plan.lf_complete_at) : plan.lf_complete_at;
}

/** Call a Python service; the reply's buffers are ours. Sends a copy of `data` so ours stays usable. */
async function call(app, method, args) {
  const copy = { ...args };
  const transfer = [];
  if (args.data) { copy.data = args.data.slice(); transfer.push(copy.data.buffer); }
  const started = performance.now();
  const reply = await app.python.call(method, copy, transfer);
  if (reply && typeof reply === "object" && !Array.isArray(reply)) reply.ms ??= performance.now() - started;
  return reply;
}

async function predictAttention(app, bitmap, width, height, name) {
  const { rgba, width: w, height: h } = rgbaOf(bitmap, MAX_ATTENTION_PIXELS);
  try {
    const reply = await app.python.call("attention.predict", { rgba, width: w, height: h, name, original_width: width, original_height: height }, [rgba.buffer]);
    // Coordinates are in the original image's pixels; keep them inside it.
    return { ...reply, x: clamp(reply.x, 0, width - 1e-3), y: clamp(reply.y, 0, height - 1e-3) };
  } catch (err) {
    console.warn("attention.predict failed; using the image centre", err);
    return { x: width / 2, y: height / 2, width, height, model: "nothing: the attention predictor failed, so this is the image centre" };
  }
}

const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));

function buildCard(card) {
  const ui = {};
  ui.error = el("p", { class: "error", role: "alert", hidden: true, "data-testid": "jxl-error" });
  ui.progress = progressLine();
  ui.notice = noticeLine();
  const quality = el("select", { id: "jxl-quality", "data-testid": "jxl-quality" },
    ...[["70", "quality 70"], ["80", "quality 80"], ["85", "quality 85"], ["90", "quality 90"], ["95", "quality 95"], ["lossless", "lossless"]]
      .map(([v, t]) => el("option", { value: v, text: t, selected: v === "85" })));
  ui.encodeOptions = () => (quality.value === "lossless" ? { lossless: true, quality: 100 } : { quality: Number(quality.value) });
  ui.kept = keptJxl(quality, (file, options) => ui.onFile(file, options));
  const zone = dropzone({
    testid: "jxl-input", accept: ".jxl,image/jxl,image/png,image/jpeg",
    title: "Drop a JPEG XL file, or a PNG/JPEG to encode",
    hint: "Nothing leaves this tab: libjxl (wasm) encodes, codeclab (Python) reorders",
    onFiles: ([file]) => ui.onFile(file),
  });
  const result = el("div", { class: "jxl-result", hidden: true, "data-testid": "jxl-result" });
  // What the views and the plot show, said in words when a result arrives (a screen reader hears it).
  ui.announce = el("p", { class: "visually-hidden", role: "status", "data-testid": "jxl-announce" });
  card.append(ui.announce,
    el("h3", { text: "Attention-first progressive JPEG XL" }),
    el("p", { class: "muted jxl-intro", text: "A JPEG XL decoder shows a smooth 1:8 image first, then fills in 256×256 groups as their bytes arrive. codeclab rewrites the file's table of contents so the groups around the attention centre arrive first: the same pixels, losslessly, only in a different order." }),
    el("div", { class: "jxl-top" }, zone,
      el("div", { class: "jxl-encode" },
        el("span", { class: "jxl-encode-title", text: "PNG / JPEG → JPEG XL" }),
        el("label", { for: "jxl-quality" }, el("span", { text: "libjxl " }), quality),
        el("span", { class: "muted", text: "progressive, effort 7 (5 above 1 MP, 3 above 4 MP)" }))),
    ui.kept.node, ui.progress.node, ui.notice.node, ui.error, result,
  );
  ui.show = (state) => {
    result.dataset.name = state.name ?? "";
    return state.truncated ? showTruncated(result, state) : showState(ui, result, state);
  };
  ui.clearResult = () => { result.hidden = true; result.replaceChildren(); delete result.dataset.result; delete result.dataset.name; };
  // The name of the file whose result is on screen ("" when none), for "still showing … below".
  ui.shownName = () => (result.hidden || !result.dataset.result ? "" : result.dataset.name || "the previous result");
  ui.markStale = (on) => result.classList.toggle("jxl-result-stale", on);
  ui.stopPlay = () => ui.player?.stop();
  return ui;
}

/** Render a loaded file: figures, controls, both orders side by side, the plot and the TOC. */
function showState(ui, result, state) {
  ui.player?.stop();
  const { display_width: width, display_height: height } = state.info; // as shown (orientation applied)
  const frame = mainFrame(state.first.info, state.first.plan);
  const ranksFirst = loadRanks(state.first.plan);
  const ranksOriginal = loadRanks(state.original.plan);
  const sizes = groupBytes(frame);
  const maxTotal = Math.max(state.original.plan.total, state.first.plan.total, state.scanline.plan.total);

  const { speed, custom, mbps } = speedControl();
  const figures = figurePanel(state, mbps);

  // --- slider and player
  const slider = el("input", { type: "range", min: "0", max: "1000", step: "1", value: "1000", "data-testid": "jxl-slider", "aria-label": "bytes received" });
  const readout = el("output", { class: "jxl-readout", "data-testid": "jxl-readout" });
  const play = el("button", { class: "secondary jxl-play", "data-testid": "jxl-play", text: "▶ Play" });
  const gridToggle = el("input", { type: "checkbox", id: "jxl-grid-toggle", checked: true });
  const salientToggle = el("input", { type: "checkbox", id: "jxl-salient-toggle", checked: true });
  const originalLabel = state.source === "jxl" ? (mainFrame(state.info, state.original.plan).permuted ? "Original order (as dropped, permuted)" : "Original order (as dropped)") : "Original order (as encoded)";
  const views = [
    { ...orderView("original", originalLabel, ORIGINAL_COLOR), order: state.original, ranks: ranksOriginal },
    { ...orderView("first", "Attention-first order", FIRST_COLOR), order: state.first, ranks: ranksFirst },
  ];
  const plot = el("canvas", { class: "jxl-plot", role: "img", "aria-label": "Plot of the salient area complete against bytes received, one line per byte order (the figures above give the bytes to the centre)", "data-testid": "jxl-plot" });
  // Attention-first last, so it is drawn on top where the curves coincide.
  const series = [{ label: "scanline", color: SCANLINE_COLOR, points: state.scanline.curve }];
  if (mainFrame(state.info, state.original.plan).permuted && state.source === "jxl") series.push({ label: "original", color: ORIGINAL_COLOR, points: state.original.curve });
  series.push({ label: "attention-first", color: FIRST_COLOR, points: state.first.curve });

  const sim = state.sim;
  for (const v of views) {
    for (const stage of [v.nativeStage, v.simStage]) {
      stage.addEventListener("mousemove", (event) => { stage.title = groupTooltip(v, event, stage, width, height, sizes, mbps()); });
      stage.style.aspectRatio = `${width} / ${height}`;
      // At most 380 px high, and low enough that the slider and both panes of a view fit a 900 px window
      // below the sticky header (--sticky-height, style.css).
      stage.style.width = `min(100%, calc(${(width / height).toFixed(4)} * min(380px, (100vh - 250px - var(--sticky-height, 0px)) / 2)))`;
    }
  }

  const render = () => {
    const bytes = Math.round((Number(slider.value) / 1000) * maxTotal);
    const s = mbps();
    readout.textContent = `${formatBytes(bytes)} of ${formatBytes(maxTotal)} (${(Number(slider.value) / 10).toFixed(1)} %) · ${formatSeconds(secondsAt(bytes, s))} at ${s} Mbps`;
    slider.setAttribute("aria-valuetext", readout.textContent);
    for (const v of views) renderView(v, state, sim, bytes, sizes, gridToggle.checked, salientToggle.checked);
    drawCurves(plot, series, maxTotal, bytes);
    result.dataset.bytes = String(bytes);
    result.dataset.slider = slider.value;
  };
  let queued = false;
  const schedule = () => { if (!queued) { queued = true; requestAnimationFrame(() => { queued = false; render(); }); } };
  slider.addEventListener("input", () => { ui.player.stop(); schedule(); });
  gridToggle.addEventListener("change", schedule);
  salientToggle.addEventListener("change", schedule);
  speed.addEventListener("change", () => { custom.hidden = speed.value !== "custom"; figures.update(); schedule(); });
  custom.addEventListener("input", () => { figures.update(); schedule(); });
  ui.player = player(slider, play, () => secondsAt(maxTotal, mbps()), schedule);
  if (ui.onResize) window.removeEventListener("resize", ui.onResize);
  ui.onResize = schedule;
  window.addEventListener("resize", schedule);

  result.hidden = false;
  result.replaceChildren(
    factsLine(state),
    figures.headline,
    figures.node,
    el("div", { class: "jxl-controls" },
      play, el("div", { class: "jxl-slider" }, slider, readout),
      el("label", {}, el("span", { class: "muted", text: "connection " }), speed, custom),
      el("label", { for: "jxl-grid-toggle" }, gridToggle, " groups"),
      el("label", { for: "jxl-salient-toggle", title: "the area the plot below measures (shown over the simulation)" }, salientToggle, " salient area"),
    ),
    el("div", { class: "jxl-views" }, ...views.map((v) => v.node)),
    el("p", { class: "muted jxl-note", text: NOTE }),
    el("div", { class: "jxl-bottom" },
      el("div", { class: "jxl-plot-box" },
        el("div", { class: "jxl-plot-head" }, el("b", { text: "Salient area complete vs bytes received" }),
          el("span", { class: "jxl-legend" }, ...series.map((s) => el("span", {}, el("i", { style: { background: s.color } }), s.label)))),
        plot),
      el("div", { class: "jxl-actions" }, ...downloadButtons(state),
        el("details", { class: "jxl-toc-box" }, el("summary", { text: `Table of contents of the attention-first file (${frame.toc.length} sections, stream order)` }), tocTable(frame, ranksFirst))),
    ),
  );
  figures.update();
  render();
  ui.announce.textContent = `Attention centre at (${state.center.map(Math.round).join(", ")}): its group is complete after ${formatBytes(state.first.plan.bytes_to_center)} in attention-first order, ${formatBytes(state.scanline.plan.bytes_to_center)} in scanline order, of ${formatBytes(state.first.plan.total)}.`;
  setResult(result, {
    center: state.center,
    bytes_to_center_first: state.first.plan.bytes_to_center,
    bytes_to_center_scanline: state.scanline.plan.bytes_to_center,
    total: state.first.plan.total,
    bytes_to_center_original: state.original.plan.bytes_to_center,
    width, height, source: state.source, model: state.attention.model,
    center_group: state.first.plan.center_group,
    reorder_ms: state.first.ms, // the centre-first reorder, timed on the main thread (worker round trip included)
    downscaled_from: state.encoded?.downscaledFrom ?? null,
    groups: state.first.plan.groups.length,
    half_salient_first: bytesToShare(state.first.curve, 0.5),
    half_salient_scanline: bytesToShare(state.scanline.curve, 0.5),
    verdict: { centre: figures.verdict.centre, salient: figures.verdict.salient },
  });
}

function speedControl() {
  const speed = el("select", { "data-testid": "jxl-speed" }, ...SPEEDS.map((s) => el("option", { value: s.id, text: s.label, selected: s.id === "3g" })));
  const custom = el("input", { type: "number", min: "0.05", max: "10000", step: "0.1", value: "5", class: "jxl-mbps", "aria-label": "custom speed in Mbps", hidden: true });
  const mbps = () => (speed.value === "custom" ? Math.max(0.01, Number(custom.value) || 1) : SPEEDS.find((s) => s.id === speed.value).mbps);
  return { speed, custom, mbps };
}

/** The figures that matter: bytes and seconds until the centre group is complete, per order, and the
 *  headline sentence, computed from the same figures (plan.js headline). */
function figurePanel(state, mbps) {
  const fFirst = figure("centre group complete · attention-first", "jxl-fig-first");
  const fScan = figure("centre group complete · scanline order", "jxl-fig-scanline");
  const fRatio = figure("sooner with attention-first (scanline ÷ attention-first)", "jxl-fig-ratio");
  const fLf = figure("1:8 LF preview complete", "jxl-fig-lf");
  const fHalf = figure("half the salient area complete · attention-first / scanline", "jxl-fig-salient");
  const centre = { first: state.first.plan.bytes_to_center, scanline: state.scanline.plan.bytes_to_center };
  const half = { first: bytesToShare(state.first.curve, 0.5), scanline: bytesToShare(state.scanline.curve, 0.5) };
  const verdict = headline({ centre, half, groups: state.first.plan.groups.length,
    centreFirstInScanline: loadRanks(state.scanline.plan).get(state.scanline.plan.center_group) === 1 }, formatBytes);
  const sentence = el("p", { class: `jxl-headline jxl-headline-${verdict.centre}`, "data-testid": "jxl-headline", text: verdict.sentence });
  Object.assign(sentence.dataset, { centre: verdict.centre, salient: verdict.salient });
  const update = () => {
    const s = mbps();
    fFirst.set(`${formatBytes(centre.first)} · ${formatSeconds(secondsAt(centre.first, s))}`);
    fScan.set(`${formatBytes(centre.scanline)} · ${formatSeconds(secondsAt(centre.scanline, s))}`);
    fRatio.set(verdict.ratioText);
    fRatio.label(verdict.centre === "sooner" ? "sooner with attention-first (scanline ÷ attention-first)" : "centre group: attention-first vs scanline order");
    fRatio.note(verdict.why ? `no gain: ${verdict.why}` : null);
    fLf.set(`${formatBytes(state.first.previewAt)} · ${formatSeconds(secondsAt(state.first.previewAt, s))}`);
    fHalf.set(`${formatBytes(half.first)} / ${formatBytes(half.scanline)}`);
    fHalf.note(verdict.salient === "later" ? "later attention-first: the salient area spreads over groups scanline order loads early" : null);
  };
  return { node: el("div", { class: "figures jxl-figures" }, fFirst.node, fScan.node, fRatio.node, fLf.node, fHalf.node), headline: sentence, verdict, update };
}

function downloadButtons(state) {
  const first = el("button", { "data-testid": "jxl-download", text: "Download attention-first .jxl" });
  first.addEventListener("click", () => download(state.first.data, `${state.name}.attention-first.jxl`, "image/jxl"));
  if (state.source === "jxl") return [first];
  const encoded = el("button", { class: "secondary", "data-testid": "jxl-download-encoded", text: "Download encoded .jxl" });
  encoded.addEventListener("click", () => download(state.original.data, `${state.name}.jxl`, "image/jxl"));
  return [first, encoded];
}

/** One paragraph about the file, how it was made, and where the centre came from. */
function factsLine(state) {
  const { width, height, frames } = state.info;
  const f0 = mainFrame(state.info, state.original.plan);
  const plural = (n, word, suffix = "s") => `${n} ${word}${n === 1 ? "" : suffix}`;
  const frameText = frames.length > 1 ? `${frames.length} frames (${frames.map((f) => f.frame_type ?? "frame").join(" + ")}), shown frame:` : "1 frame,";
  const enc = state.encoded;
  return el("p", { class: "muted jxl-facts", "data-testid": "jxl-facts" },
    `${state.name}: ${width}×${height}, ${formatBytes(state.original.data.length)}, ${state.info.container ? "ISOBMFF container" : "bare codestream"}, ${frameText} ${f0.encoding}, ${plural(f0.num_groups, "group")} of ${f0.group_dim}×${f0.group_dim}, ${plural(f0.passes, "pass", "es")}`,
    enc?.downscaledFrom ? ` · a copy scaled down from ${enc.downscaledFrom}` : "",
    enc ? ` · encoded here from ${formatBytes(enc.inputBytes)} in ${formatMs(enc.ms)} (${enc.settings.lossless ? "lossless" : `quality ${enc.settings.quality}`}, effort ${enc.settings.effort}, progressive)` : "",
    el("br"),
    `Attention centre (${state.center[0].toFixed(1)}, ${state.center[1].toFixed(1)}) by ${state.attention.model} · reordered in ${formatMs(state.first.ms)}${state.first.changed ? "" : " (already in this order)"} · salient area: ${state.salient.source}`);
}

function renderView(v, state, sim, bytes, sizes, showGrid, showSalient) {
  const { plan, data } = v.order;
  const n = Math.min(bytes, data.length);
  // (a) Chromium's decoder on the truncated file.
  showNative(v, data, n);
  // (b) The simulation from the load plan.
  const shown = sim.render(v.sim, plan, n, v.order.previewAt);
  const complete = plan.groups.filter((g) => g.complete_at <= n).length;
  v.simStatus.textContent = !shown.lf ? `waiting for the LF image (${formatBytes(v.order.previewAt)})` : `${complete} of ${plan.groups.length} groups complete`;
  const centreIn = plan.bytes_to_center <= n;
  v.centreStatus.textContent = centreIn ? "centre group complete" : `centre group at ${formatBytes(plan.bytes_to_center)}`;
  v.centreStatus.classList.toggle("done", centreIn);
  v.node.dataset.centerComplete = String(centreIn);
  v.node.dataset.bytes = String(n);
  // The overlay is drawn at the stage's on-screen size, so labels stay readable however the image is scaled.
  const dpr = window.devicePixelRatio || 1;
  for (const [canvas, stage] of [[v.nativeGrid, v.nativeStage], [v.simGrid, v.simStage]]) {
    const cssWidth = stage.clientWidth || sim.w;
    canvas.width = Math.max(1, Math.round(cssWidth * dpr));
    canvas.height = Math.max(1, Math.round((cssWidth * dpr * state.info.display_height) / state.info.display_width));
    drawGrid(canvas, { groups: showGrid ? plan.groups : [], ranks: v.ranks, sizes, scale: canvas.width / state.info.display_width, dpr, center: state.center,
      centerGroup: plan.center_group, bytes: n, salient: showSalient ? state.salient.mask : null });
  }
}

function groupTooltip(v, event, stage, width, height, sizes, mbps) {
  const box = stage.getBoundingClientRect();
  const x = ((event.clientX - box.left) / box.width) * width;
  const y = ((event.clientY - box.top) / box.height) * height;
  const g = v.order.plan.groups.find(({ rect: [gx, gy, gw, gh] }) => x >= gx && x < gx + gw && y >= gy && y < gy + gh);
  if (!g) return "";
  const [gx, gy, gw, gh] = g.rect;
  return `group ${g.group} (${gw}×${gh} at ${gx}, ${gy}) · loads ${ordinal(v.ranks.get(g.group))} · ${formatBytes(sizes.get(g.group))}`
    + ` · complete at ${formatBytes(g.complete_at)} (${formatSeconds(secondsAt(g.complete_at, mbps))} at ${mbps} Mbps)`;
}

const ordinal = (n) => `${n}${[, "st", "nd", "rd"][(n % 100 >> 3) ^ 1 && n % 10] || "th"}`;

/** Give Chromium the first n bytes. The truncated file is decoded in a fresh <img> that replaces the
 *  shown one when ready (no blank frame in between). One decode at a time, with a pause as long as it
 *  took after each: a big truncated JXL keeps the main thread busy, and the play button asks for a new
 *  byte count every frame. Only the latest request is kept. */
function showNative(v, data, n) {
  v.wanted = n;
  if (!v.decoding && !v.timer && v.img.dataset.bytes === String(n)) { v.wanted = null; return; } // already shown
  // Until the pane shows these bytes it must not look like their answer (the previous image, labelled
  // "complete file", stayed up for 10–15 s on a 6000×4000 file): say so, and dim it.
  v.nativeStatus.textContent = "decoding…";
  v.nativeStage.classList.add("jxl-stale");
  v.node.dataset.nativeWanted = String(n);
  if (v.decoding || v.timer) return;
  const wait = v.readyAt - performance.now();
  if (wait > 0) {
    v.timer = setTimeout(() => { v.timer = null; showNative(v, data, v.wanted); }, wait);
    return;
  }
  const bytes = v.wanted;
  v.wanted = null;
  v.decoding = true;
  v.nativeStatus.textContent = "decoding…";
  const started = performance.now();
  const url = URL.createObjectURL(new Blob([data.subarray(0, bytes)], { type: "image/jxl" }));
  const next = v.img.cloneNode();
  next.src = url;
  next.decode().catch(() => null).then(() => {
    // Look every time: with a separate LF frame, Chromium draws it while it arrives, then nothing while
    // the main frame's table of contents is incomplete, then the LF image again.
    const drawn = drawsSomething(next);
    v.img.replaceWith(next);
    v.img = next;
    next.dataset.drawn = String(drawn);
    next.dataset.bytes = String(bytes);
    if (v.url) URL.revokeObjectURL(v.url);
    v.url = url;
    v.decoding = false;
    v.readyAt = performance.now() + (performance.now() - started);
    if (v.wanted !== null && v.wanted !== bytes) { showNative(v, data, v.wanted); return; } // still behind the slider
    v.wanted = null;
    v.nativeStatus.textContent = bytes >= data.length ? "complete file" : drawn ? "partial image drawn" : "nothing drawn yet";
    v.nativeStage.classList.remove("jxl-stale");
  });
}

const REDUCED_MOTION = matchMedia("(prefers-reduced-motion: reduce)");

/** Animate the slider from where it is (or from 0) to the end at the chosen connection speed. */
function player(slider, button, seconds, onFrame) {
  let frame = null;
  const stop = () => {
    if (frame !== null) cancelAnimationFrame(frame);
    frame = null;
    button.textContent = "▶ Play";
    button.classList.remove("playing");
  };
  button.addEventListener("click", () => {
    if (frame !== null) { stop(); return; }
    if (Number(slider.value) >= 1000) slider.value = "0";
    const real = seconds();
    const duration = Math.max(real, MIN_PLAY_SECONDS);
    const slow = duration / real;
    button.textContent = slow > 1.05 ? `❚❚ ×${slow < 10 ? slow.toFixed(1) : Math.round(slow)} slow motion` : "❚❚ Pause";
    button.classList.add("playing");
    const startValue = Number(slider.value);
    const startTime = performance.now();
    const step = () => {
      const t = (performance.now() - startTime) / 1000;
      const value = Math.min(1000, startValue + (1000 * t) / duration);
      // With reduced motion the views change in ten steps (each tenth of the file), not in every frame.
      const shown = REDUCED_MOTION.matches && value < 1000 ? Math.floor(value / 100) * 100 : Math.round(value);
      if (String(shown) !== slider.value) { slider.value = String(shown); onFrame(); }
      if (value >= 1000) stop();
      else frame = requestAnimationFrame(step);
    };
    frame = requestAnimationFrame(step);
  });
  return { stop };
}

function formatSeconds(s) {
  return s < 1 ? `${Math.round(s * 1000)} ms` : `${s.toFixed(s < 10 ? 2 : 1)} s`;
}
