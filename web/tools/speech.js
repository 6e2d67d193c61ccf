// Lyra v2 speech panel: stream a clip or the microphone through Lyra over a real WebRTC data
// channel, with simulated loss, an adaptive jitter buffer and AudioWorklet playback; then
// compare original and decoded audio, and Lyra with Opus.
import { el, showError, clearError, setResult, download, formatBytes } from "../lib/ui.js";
import { dropzone } from "../lib/dropzone.js";
import { encodeWav, concat } from "../lib/wav.js";
import { drawSpectrogram } from "../lib/spectrogram.js";
import { HEADER_BYTES } from "../lib/jitter-buffer.js";
import { ClipSource, openSession, PLAYBACK_RATE, FRAME_MS } from "./speech-stream.js";
import { makeCodec, modelFile, ENCODER_MODEL, DECODER_MODEL } from "./speech-codec.js";
import { mountComparison } from "./speech-compare.js";

const BITRATES = [
  { bps: 3200, label: "3.2 kbps · 8-byte packets" },
  { bps: 6000, label: "6 kbps · 15-byte packets" },
  { bps: 9200, label: "9.2 kbps · 23-byte packets" },
];
const SOURCE_RATE = 48000; // clips are decoded (and the microphone captured) at 48 kHz; Python resamples to 16 kHz
const MODELS = [ENCODER_MODEL, DECODER_MODEL];

export async function mount(panel, app) {
  const codec = makeCodec(app);
  const ui = buildUi(panel);
  const audio = new AudioEngine();
  let session = null; // the running stream
  let last = null; // the finished one (spectrograms, downloads, comparison)

  // Any click in the panel counts as the user gesture that lets the page play sound.
  panel.addEventListener("pointerdown", () => audio.unlock(), { capture: true });

  app.speech = {
    seed: null, // tests may fix the loss pattern
    get session() { return session; },
    get last() { return last; },
    /** Everything a test needs to check the stream against CPython (plain JSON). */
    export() { return last ? exportRun(last) : null; },
  };

  app.ready.then(() => {
    const missing = MODELS.filter((name) => !modelFile(app, name));
    if (missing.length) ui.notice.replaceChildren(`The Lyra models are not in this build (${app.modelsReason()}), so the codec cannot run here.`);
    ui.notice.hidden = missing.length === 0;
  });

  ui.onFile = async (file) => {
    clearError(ui.error);
    if (session) await stop("replaced");
    try {
      await app.ready;
      const bytes = new Uint8Array(await file.arrayBuffer());
      if (/\.lyra$/i.test(file.name)) { await openLyraFile(file.name, bytes); return; }
      ui.status.textContent = `Decoding ${file.name}…`;
      const samples = await audio.decodeFile(bytes, file.name);
      await startStream({ kind: "file", name: file.name, samples });
    } catch (err) {
      ui.status.textContent = "";
      showError(ui.error, err);
    }
  };

  ui.onMic = async () => {
    clearError(ui.error);
    if (session?.mic) { await stop("stopped"); return; } // the button reads "Stop the microphone"
    if (session) await stop("replaced");
    try {
      await app.ready;
      const mic = await audio.openMicrophone();
      await startStream({ kind: "mic", name: "microphone", mic });
    } catch (err) { showError(ui.error, err); }
  };

  ui.onPause = async () => {
    if (!session) return;
    if (session.paused) {
      session.paused = false;
      await session.sender.resume();
      session.source?.start();
      if (session.mic) session.mic.paused = false;
    } else {
      session.paused = true;
      session.source?.pause();
      if (session.mic) session.mic.paused = true;
      await session.sender.pause();
    }
    ui.setRunning(true, session.paused);
  };

  ui.onStop = () => session && stop("stopped");
  ui.onBitrate = (bps) => session?.sender.setBitrate(bps);
  ui.onLoss = (lossRate, meanBurst) => session?.loss.configure({ lossRate, meanBurst });

  async function startStream(source) {
    ui.resetFigures();
    delete ui.result.dataset.result;
    ui.after.hidden = true;
    const player = await audio.player();
    const seed = app.speech.seed ?? Math.floor(Math.random() * 2 ** 31);
    const { lossRate, meanBurst } = ui.lossSettings();
    const s = await openSession({
      codec, audioContext: player.context, playerNode: player.node, sourceRate: SOURCE_RATE,
      bitrate: ui.bitrate(), lossRate, meanBurst, seed,
    });
    session = s;
    s.source = null;
    s.meta = { kind: source.kind, name: source.name, seed, started: performance.now(), original: source.samples || null, captured: [] };
    s.ended = new Promise((resolve) => { s.receiver.onDrained = resolve; });
    s.receiver.onError = (err) => { if (s === session) { showError(ui.error, err); stop("error"); } };
    s.sender.start();
    if (source.kind === "file") {
      const clip = new ClipSource(source.samples, SOURCE_RATE);
      s.source = clip;
      clip.onFrame = (frame) => { s.sender.pushFrame(frame).catch((err) => fail(s, err)); };
      clip.onEnd = () => finish(s);
      s.totalFrames = clip.frames;
      clip.start();
    } else {
      s.mic = source.mic;
      source.mic.onFrame = (frame) => {
        if (s.mic.paused || s.finishing) return;
        s.meta.captured.push(frame.slice());
        s.sender.pushFrame(frame).catch((err) => fail(s, err));
      };
    }
    ui.setRunning(true, false, source.kind);
    s.ticker = setInterval(() => ui.showLive(s), 250);
  }

  function fail(s, err) {
    if (s !== session) return;
    showError(ui.error, err);
    stop("error");
  }

  async function finish(s) {
    if (s.finishing) return;
    s.finishing = true;
    await s.sender.finish();
    // The receiver plays out everything up to the last packet (concealing losses), then drains.
    await Promise.race([s.ended, new Promise((resolve) => setTimeout(resolve, 5000))]);
    await complete(s);
  }

  async function stop(reason) {
    const s = session;
    if (!s) return;
    s.source?.stop();
    s.mic?.close();
    if (reason === "error" || reason === "replaced") { await teardown(s); return; }
    await finish(s);
  }

  async function teardown(s) {
    clearInterval(s.ticker);
    s.receiver.halt();
    if (session === s) session = null;
    await s.close();
    ui.setRunning(false);
  }

  async function complete(s) {
    s.finished = true;
    ui.showLive(s);
    s.mic?.close();
    await teardown(s);
    const r = s.receiver;
    const sender = s.sender;
    const decoded = r.decodedAudio();
    const original = s.meta.original ?? concat(s.meta.captured);
    const frames = Math.max(1, r.log.length);
    const summary = {
      packets_sent: sender.counts.sent,
      packets_received: r.counts.received,
      concealed: r.counts.concealed,
      bitrate: sender.bitrate,
      decode_ms_per_frame: round(r.decodeTiming.mean, 3),
      encode_ms_per_frame: round(sender.encodeTiming.mean, 3),
      real_time_factor: round((sender.encodeTiming.mean + r.decodeTiming.mean) / FRAME_MS, 4),
      packets_encoded: sender.packets.length,
      dropped: sender.counts.dropped,
      late: r.counts.late,
      stretched: r.counts.stretched,
      skipped: r.counts.skipped,
      underruns: r.status.underruns ?? 0,
      frames_played: frames,
      jitter_ms: round(r.jb.jitterMs, 2),
      send_to_playout_ms: round(r.delay.mean, 1),
      seed: s.meta.seed,
      source: s.meta.kind,
      duration_s: round(decoded.length / PLAYBACK_RATE, 2),
    };
    const mixedBitrates = new Set(sender.packets.map((p) => p.length)).size > 1;
    last = { summary, decoded, original, sender, receiver: r, meta: s.meta, lyra: concat(sender.packets, Uint8Array), mixedBitrates };
    setResult(ui.result, summary);
    ui.result.textContent = `Streamed ${summary.duration_s} s: ${summary.packets_sent} packets sent, ${summary.dropped} dropped by the simulated channel, ${summary.concealed} concealed, ${summary.underruns} playback underruns.`;
    showAfterwards(last);
  }

  function showAfterwards(run) {
    ui.after.hidden = false;
    drawSpectrogram(ui.specOriginal, run.original, SOURCE_RATE);
    drawSpectrogram(ui.specDecoded, run.decoded, PLAYBACK_RATE);
    ui.captionOriginal.textContent = `Original (${run.meta.name}, ${(run.original.length / SOURCE_RATE).toFixed(2)} s) · 0–8 kHz`;
    ui.captionDecoded.textContent = `Lyra ${(run.summary.bitrate / 1000).toFixed(1)} kbps after the data channel (${run.summary.concealed} frames concealed) · 0–8 kHz`;
    ui.ab.replaceChildren(
      playButton(audio, "Play original", run.original, SOURCE_RATE, "lyra-play-original"),
      playButton(audio, "Play Lyra", run.decoded, PLAYBACK_RATE, "lyra-play-decoded"),
      el("button", { class: "secondary", "data-testid": "lyra-download-wav", onclick: () => download(encodeWav(run.decoded, PLAYBACK_RATE), "lyra-decoded.wav", "audio/wav") }, "Download decoded WAV"),
      run.lyra.length ? el("button", { class: "secondary", "data-testid": "lyra-download-lyra", onclick: () => download(run.lyra, `stream-${run.summary.bitrate}.lyra`) },
        run.mixedBitrates ? `Download packets (${formatBytes(run.lyra.length)}, mixed bitrates: not a standard .lyra)` : `Download .lyra (${formatBytes(run.lyra.length)})`) : null,
    );
    if (run.original?.length) comparison.setClip(run.original, SOURCE_RATE, run.meta.name);
  }

  async function openLyraFile(name, bytes) {
    ui.status.textContent = `Decoding ${name}…`;
    const decodedFile = await codec.decodeFile(bytes, ui.bitrate(), PLAYBACK_RATE);
    const samples = decodedFile.samples;
    last = { summary: null, decoded: samples, original: null, meta: { kind: "lyra", name }, lyra: bytes };
    ui.after.hidden = false;
    drawSpectrogram(ui.specDecoded, samples, PLAYBACK_RATE);
    ui.specOriginal.width = 1; ui.specOriginal.height = 1;
    ui.captionOriginal.textContent = "(a .lyra file carries no original)";
    const trailing = decodedFile.trailing ? `, ${decodedFile.trailing} trailing bytes ignored` : "";
    ui.captionDecoded.textContent = `${name}: ${decodedFile.packets} packets at ${(decodedFile.bitrate / 1000).toFixed(1)} kbps, ${(samples.length / PLAYBACK_RATE).toFixed(2)} s${trailing}`;
    ui.ab.replaceChildren(
      playButton(audio, "Play", samples, PLAYBACK_RATE, "lyra-play-decoded"),
      el("button", { class: "secondary", "data-testid": "lyra-download-wav", onclick: () => download(encodeWav(samples, PLAYBACK_RATE), name.replace(/\.lyra$/i, ".wav"), "audio/wav") }, "Download WAV"),
    );
    setResult(ui.fileResult, { name, packets: decodedFile.packets, bitrate: decodedFile.bitrate, samples: samples.length, sample_rate: PLAYBACK_RATE });
    ui.status.textContent = `Decoded ${name}.`;
  }

  const comparison = mountComparison(ui.compareCard, { app, codec, audio, playButton });
}

function round(x, digits) { const f = 10 ** digits; return Math.round(x * f) / f; }

function exportRun(run) {
  const r = run.receiver;
  return {
    summary: run.summary,
    sample_rate: PLAYBACK_RATE,
    decoded: Array.from(run.decoded),
    log: r ? r.log : [],
    received: r ? [...r.received.entries()].map(([seq, p]) => [seq, Array.from(p)]) : [],
    sent_packets: run.sender ? run.sender.packets.map((p) => Array.from(p)) : [],
    dropped: run.sender ? run.sender.dropped : [],
    captured_rms: run.meta.kind === "mic" && run.original ? Math.sqrt(run.original.reduce((a, x) => a + x * x, 0) / Math.max(1, run.original.length)) : null,
  };
}

function playButton(audio, label, samples, sampleRate, testid) {
  const button = el("button", { class: "secondary play", "data-testid": testid }, `▶ ${label}`);
  button.addEventListener("click", () => {
    if (button.classList.contains("playing")) { audio.stopClip(); return; }
    for (const other of document.querySelectorAll("button.play.playing")) other.classList.remove("playing");
    button.classList.add("playing");
    audio.playClip(samples, sampleRate, () => button.classList.remove("playing"));
  });
  return button;
}

/** The page's audio: one context for the stream player (16 kHz), one for A/B clips and the microphone. */
class AudioEngine {
  constructor() { this.streamContext = null; this.mainContext = null; this.node = null; this.clip = null; }

  unlock() {
    this.#main();
    this.mainContext.resume();
    this.streamContext?.resume();
  }

  #main() {
    if (!this.mainContext) this.mainContext = new AudioContext({ sampleRate: SOURCE_RATE });
    return this.mainContext;
  }

  async player() {
    if (!this.node) {
      this.streamContext = new AudioContext({ sampleRate: PLAYBACK_RATE, latencyHint: "interactive" });
      await this.streamContext.audioWorklet.addModule(new URL("../worklets/lyra-player.js", import.meta.url));
      this.node = new AudioWorkletNode(this.streamContext, "lyra-player", { numberOfInputs: 0, outputChannelCount: [1] });
      this.node.connect(this.streamContext.destination);
    }
    await this.streamContext.resume();
    if (this.streamContext.state !== "running") {
      throw new Error("the browser has not allowed this page to play sound yet: click the panel once, then try again");
    }
    return { context: this.streamContext, node: this.node };
  }

  /** Decode any audio file the browser understands to mono at 48 kHz. */
  async decodeFile(bytes, name) {
    const offline = new OfflineAudioContext(1, 1, SOURCE_RATE);
    let buffer;
    try {
      buffer = await offline.decodeAudioData(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    } catch {
      const err = new Error(`the browser could not decode “${name}” as audio (WAV, MP3, OGG, FLAC or a .lyra file expected)`);
      err.expected = true;
      throw err;
    }
    if (buffer.length < SOURCE_RATE / 50) {
      const err = new Error(`“${name}” is shorter than one 20 ms frame`);
      err.expected = true;
      throw err;
    }
    const mono = new Float32Array(buffer.length);
    for (let c = 0; c < buffer.numberOfChannels; c++) {
      const data = buffer.getChannelData(c);
      for (let i = 0; i < mono.length; i++) mono[i] += data[i] / buffer.numberOfChannels;
    }
    return mono;
  }

  async openMicrophone() {
    if (!navigator.mediaDevices?.getUserMedia) throw new Error("this browser offers no microphone access here (it needs https or localhost)");
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: { channelCount: 1, echoCancellation: false, noiseSuppression: false, autoGainControl: false } });
    } catch (err) {
      const e = new Error(`the microphone is not available: ${err.message || err.name}`);
      e.expected = true;
      throw e;
    }
    const context = this.#main();
    await context.resume();
    await context.audioWorklet.addModule(new URL("../worklets/lyra-capture.js", import.meta.url));
    const source = context.createMediaStreamSource(stream);
    const node = new AudioWorkletNode(context, "lyra-capture", { numberOfOutputs: 0, channelCount: 1, channelCountMode: "explicit" });
    source.connect(node);
    const mic = {
      onFrame: null,
      paused: false,
      close() {
        node.port.postMessage({ type: "stop" });
        source.disconnect();
        for (const track of stream.getTracks()) track.stop();
      },
    };
    node.port.onmessage = (event) => { if (event.data.type === "frame") mic.onFrame?.(event.data.samples); };
    return mic;
  }

  playClip(samples, sampleRate, onEnded) {
    this.stopClip();
    const context = this.#main();
    context.resume();
    const buffer = context.createBuffer(1, samples.length, sampleRate);
    buffer.copyToChannel(samples, 0);
    const node = context.createBufferSource();
    node.buffer = buffer;
    node.connect(context.destination);
    node.onended = () => { if (this.clip === node) this.clip = null; onEnded?.(); };
    node.start();
    this.clip = node;
  }

  stopClip() { try { this.clip?.stop(); } catch { /* already stopped */ } this.clip = null; }
}

function figure(label, testid) {
  const value = el("b", { "data-testid": testid, text: "–" });
  const note = el("span", { text: label });
  return { node: el("div", { class: "figure" }, value, note), value, note, label };
}

function buildUi(panel) {
  const ui = {};
  ui.error = el("p", { class: "error", role: "alert", hidden: true, "data-testid": "lyra-error" });
  ui.notice = el("p", { class: "notice", hidden: true, "data-testid": "lyra-notice" });
  ui.result = el("p", { class: "muted lyra-result", "data-testid": "lyra-result" });
  ui.fileResult = el("span", { hidden: true, "data-testid": "lyra-file-result" });
  ui.status = el("span", { class: "muted", "data-testid": "lyra-status" });

  const zone = dropzone({
    testid: "lyra-input", accept: "audio/*,.wav,.mp3,.ogg,.flac,.lyra",
    title: "Drop a speech recording", hint: "WAV, MP3, OGG, FLAC (decoded by your browser) — or a .lyra file",
    onFiles: ([file]) => ui.onFile(file),
  });
  zone.dataset.paste = "";
  const mic = el("button", { class: "secondary lyra-mic", "data-testid": "lyra-mic", onclick: () => ui.onMic() }, "Use the microphone");

  const bitrate = el("select", { "data-testid": "lyra-bitrate", "aria-label": "Bitrate" },
    BITRATES.map((b) => el("option", { value: String(b.bps), selected: b.bps === 6000 }, b.label)));
  bitrate.addEventListener("change", () => ui.onBitrate(Number(bitrate.value)));
  const loss = el("input", { type: "range", min: "0", max: "30", step: "1", value: "0", "data-testid": "lyra-loss", "aria-label": "Simulated loss (%)" });
  const lossValue = el("output", { text: "0 %" });
  const burst = el("input", { type: "range", min: "1", max: "8", step: "0.5", value: "1", "data-testid": "lyra-burst", "aria-label": "Mean loss burst (packets)" });
  const burstValue = el("output", { text: "1 packet (independent)" });
  const onLoss = () => {
    lossValue.textContent = `${loss.value} %`;
    burstValue.textContent = Number(burst.value) === 1 ? "1 packet (independent)" : `${burst.value} packets`;
    ui.onLoss(Number(loss.value) / 100, Number(burst.value));
  };
  loss.addEventListener("input", onLoss);
  burst.addEventListener("input", onLoss);
  ui.lossSettings = () => ({ lossRate: Number(loss.value) / 100, meanBurst: Number(burst.value) });
  ui.bitrate = () => Number(bitrate.value);

  const pause = el("button", { class: "secondary", "data-testid": "lyra-pause", disabled: true, onclick: () => ui.onPause() }, "Pause");
  const stop = el("button", { class: "secondary", "data-testid": "lyra-stop", disabled: true, onclick: () => ui.onStop() }, "Stop");
  const progress = el("div", { class: "progress lyra-progress" }, el("div", { class: "progress-fill" }));

  const figures = {
    wire: figure("on the wire", "lyra-fig-wire"),
    sent: figure("packets sent", "lyra-fig-sent"),
    received: figure("received", "lyra-fig-received"),
    lost: figure("lost", "lyra-fig-lost"),
    concealed: figure("concealed", "lyra-fig-concealed"),
    depth: figure("jitter buffer (target)", "lyra-fig-depth"),
    delay: figure("send → playout", "lyra-fig-delay"),
    decode: figure("decode / frame", "lyra-fig-decode"),
    encode: figure("encode / frame", "lyra-fig-encode"),
    rtf: figure("real-time factor", "lyra-fig-rtf"),
    underruns: figure("playback underruns", "lyra-fig-underruns"),
  };

  ui.specOriginal = el("canvas", { class: "spectrogram", "data-testid": "lyra-spec-original", width: 1, height: 1 });
  ui.specDecoded = el("canvas", { class: "spectrogram", "data-testid": "lyra-spec-decoded", width: 1, height: 1 });
  ui.captionOriginal = el("figcaption");
  ui.captionDecoded = el("figcaption");
  ui.ab = el("div", { class: "row lyra-ab" });
  ui.after = el("div", { class: "card lyra-after", hidden: true },
    el("h3", { text: "Original vs decoded" }),
    el("div", { class: "lyra-specs" },
      el("figure", { class: "shot" }, el("div", { class: "spec-wrap" }, ui.specOriginal), ui.captionOriginal),
      el("figure", { class: "shot" }, el("div", { class: "spec-wrap" }, ui.specDecoded), ui.captionDecoded)),
    ui.ab);
  ui.compareCard = el("div", { class: "card lyra-compare" });

  panel.append(
    el("h2", { text: "Lyra v2: speech at 3.2 kbps" }),
    el("p", { text: "Lyra v2 (SoundStream) turns each 20 ms of speech into 8, 15 or 23 bytes. This tab runs the encoder, quantizer, decoder and packet-loss concealment, and carries every packet as one message over a real WebRTC data channel between two peers in this page — unordered and never retransmitted, like a media transport." }),
    ui.notice,
    el("div", { class: "card lyra-stream" },
      el("div", { class: "lyra-sources" }, zone, el("div", { class: "lyra-or" }, el("span", { class: "muted", text: "or" }), mic, el("span", { class: "muted", text: "streams live until you press Stop" }))),
      el("div", { class: "lyra-controls" },
        el("label", {}, el("span", { text: "Bitrate" }), bitrate),
        el("label", {}, el("span", { text: "Simulated loss" }), loss, lossValue),
        el("label", {}, el("span", { text: "Burstiness" }), burst, burstValue),
        el("div", { class: "row" }, pause, stop)),
      el("div", { class: "row lyra-statusline" }, progress, ui.status),
      el("div", { class: "figures lyra-figures", "data-testid": "lyra-figures" }, Object.values(figures).map((f) => f.node)),
      ui.error, ui.result, ui.fileResult),
    ui.after,
    ui.compareCard,
  );

  ui.resetFigures = () => {
    for (const f of Object.values(figures)) { f.value.textContent = "–"; f.value.className = ""; }
    progress.firstChild.style.width = "0%";
  };

  ui.setRunning = (running, paused = false, kind = null) => {
    pause.disabled = stop.disabled = !running;
    pause.textContent = paused ? "Resume" : "Pause";
    mic.textContent = running && (kind === "mic" || mic.dataset.live) ? "Stop the microphone" : "Use the microphone";
    if (kind === "mic") mic.dataset.live = "1"; else if (!running) delete mic.dataset.live;
    panel.querySelector(".lyra-stream").classList.toggle("live", running && !paused);
  };

  ui.showLive = (s) => {
    const r = s.receiver, snd = s.sender;
    const payload = s.finished ? snd.payloadRate.averageBps(snd.counts.sent) : snd.payloadRate.bps();
    const wire = s.finished ? snd.wireRate.averageBps(snd.counts.sent) : snd.wireRate.bps();
    figures.wire.value.textContent = `${(payload / 1000).toFixed(1)} kbps`;
    figures.wire.note.textContent = `on the wire (+${((wire - payload) / 1000).toFixed(1)} kbps framing, ${HEADER_BYTES} B/packet)`;
    figures.sent.value.textContent = String(snd.counts.sent);
    figures.received.value.textContent = String(r.counts.received);
    // Lost as the receiver sees it: every playout slot whose packet never came in time.
    const lost = r.counts.concealed;
    const other = Math.max(0, lost - snd.counts.dropped);
    figures.lost.value.textContent = String(lost);
    figures.lost.note.textContent = `lost (${snd.counts.dropped} by the simulated channel${other ? `, ${other} on the link or late` : ""})`;
    figures.concealed.value.textContent = String(r.counts.concealed);
    figures.depth.value.textContent = `${r.jb.depth} (${r.jb.targetDepth})`;
    figures.depth.note.textContent = `jitter buffer, packets (target) · jitter ${r.jb.jitterMs.toFixed(1)} ms`;
    figures.delay.value.textContent = r.delay.count ? `${r.delay.recentMean.toFixed(0)} ms` : "–";
    figures.decode.value.textContent = `${r.decodeTiming.recentMean.toFixed(2)} ms`;
    figures.encode.value.textContent = `${snd.encodeTiming.recentMean.toFixed(2)} ms`;
    const rtf = (snd.encodeTiming.recentMean + r.decodeTiming.recentMean) / FRAME_MS;
    figures.rtf.value.textContent = rtf ? `${rtf.toFixed(3)}×` : "–";
    figures.rtf.value.className = rtf > 1 ? "bad" : rtf > 0.5 ? "warn" : "good";
    figures.underruns.value.textContent = String(r.status.underruns ?? 0);
    figures.underruns.value.className = r.status.underruns ? "bad" : "good";
    const played = (r.status.consumed ?? 0) / PLAYBACK_RATE;
    if (s.totalFrames) {
      progress.firstChild.style.width = `${Math.min(100, (snd.packets.length / s.totalFrames) * 100).toFixed(1)}%`;
      ui.status.textContent = `${s.meta.name}: sent ${(snd.packets.length * FRAME_MS / 1000).toFixed(1)} of ${(s.totalFrames * FRAME_MS / 1000).toFixed(1)} s, played ${played.toFixed(1)} s${s.paused ? " (paused)" : ""}`;
    } else {
      progress.firstChild.style.width = "100%";
      ui.status.textContent = `Microphone: ${(snd.packets.length * FRAME_MS / 1000).toFixed(1)} s sent, ${played.toFixed(1)} s played${s.paused ? " (paused)" : ""}`;
    }
  };
  return ui;
}
