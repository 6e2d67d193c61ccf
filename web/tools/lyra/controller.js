// The speech panel's flows: a file, the microphone or a call from another tab becomes a stream (stream.js)
// between two peers; the controller starts, pauses, stops and completes it, and keeps the finished one.
import { showError, clearError, setResult } from "../../lib/ui.js";
import { RecentAudio, retainedSeconds } from "./recording.js";
import { SOURCE_RATE } from "./audio.js";
import { figuresOf } from "./ui.js";
import { packetAccounting } from "./accounting.js";
import { bitrateOfPackets } from "./lyra-file.js";
import { ClipSource, openSession, openListenerSession, whenStalled, PLAYBACK_RATE } from "./stream.js";
import { call } from "./rtc-call.js";
import { showAfterwards, showLyraFile } from "./afterwards.js";
import { streamSummary, resultSentence, keptOriginal, round } from "./summary.js";

export class StreamController {
  /** `receiver`: receiverCodecOf(); `comparison` is set once mounted (it asks this to stop first). */
  /** `kept`: keptLyra() (the last input, for a reload). */
  constructor({ app, ui, codec, receiver, audio, runtime, kept }) {
    Object.assign(this, { app, ui, codec, receiver, audio, runtime, kept });
    this.comparison = null;
    this.session = null; // the running stream
    this.last = null; // the finished one (spectrograms, downloads, comparison)
    this.latestFile = 0; // each dropped file gets a ticket: an older, slower request never overwrites a newer one
  }

  /** Offline without its files saved, the tool says so rather than blaming the file (lib/offline.js). */
  showError(err) {
    return this.app.offline.explain(err, "lyra", "The Lyra speech codec").then((shown) => showError(this.ui.error, shown));
  }

  async openFile(file) {
    const ticket = ++this.latestFile;
    const current = () => ticket === this.latestFile;
    const { ui } = this;
    clearError(ui.error);
    if (this.session) await this.stop("replaced");
    try {
      await this.app.ready;
      const bytes = new Uint8Array(await file.arrayBuffer());
      if (/\.lyra$/i.test(file.name)) { await this.openLyraFile(file.name, bytes, current); this.kept.remember(file); return; }
      ui.status.textContent = `Decoding ${file.name}…`;
      const samples = await this.audio.decodeFile(bytes, file.name);
      if (!current()) return;
      this.comparison.setClip(samples, SOURCE_RATE, file.name); // the whole file, however much of it is streamed
      this.kept.remember(file);
      await this.startStream({ kind: "file", name: file.name, samples });
    } catch (err) {
      if (!current()) return;
      ui.status.textContent = "";
      this.showError(err);
    }
  }

  async toggleMicrophone() {
    clearError(this.ui.error);
    if (this.session?.mic) { await this.stop("stopped"); return; } // the button reads "Stop the microphone"
    if (this.session) await this.stop("replaced");
    try {
      await this.app.ready;
      const mic = await this.audio.openMicrophone();
      this.kept.microphone();
      await this.startStream({ kind: "mic", name: "microphone", mic });
    } catch (err) { this.showError(err); }
  }

  async togglePause() {
    const s = this.session;
    if (!s?.sender) return;
    if (s.paused) {
      s.paused = false;
      await s.sender.resume();
      s.source?.start();
      if (s.mic) s.mic.paused = false;
    } else {
      s.paused = true;
      s.source?.pause();
      if (s.mic) s.mic.paused = true;
      await s.sender.pause();
    }
    this.ui.setRunning(true, s.paused);
  }

  /** Figures cleared, no result of the stream before: a new stream starts. */
  resetResult() {
    this.ui.resetFigures();
    delete this.ui.result.dataset.result;
    this.ui.after.hidden = true;
  }

  /** The other end: a call to a listening tab, or the receiving peer in this page. */
  async connect() {
    const { ui } = this;
    const destination = ui.destination();
    if (!destination) {
      ui.status.textContent = this.receiver.current ? "Connecting the peers…" : "Starting the receiving peer's Python worker…";
      return { remoteLink: null, receiverCodec: await this.receiver.start() };
    }
    ui.status.textContent = "Calling the listening tab…";
    const remoteLink = await call(destination, {
      confirm: (code, signal) => ui.askPairing("Check that the other tab shows this code, then confirm to start the call.", code, signal),
    });
    return { remoteLink, receiverCodec: this.codec };
  }

  async startStream(source) {
    const { ui, app } = this;
    await this.codec.ensureAssets(); // says clearly when this build has no Lyra models
    ui.resetFigures();
    delete ui.result.dataset.result;
    ui.result.textContent = ""; // the previous stream's summary does not belong under this one
    ui.after.hidden = true;
    const player = await this.audio.player();
    const seed = app.lyra.seed ?? Math.floor(Math.random() * 2 ** 31);
    const { lossRate, meanBurst } = ui.lossSettings();
    const { remoteLink, receiverCodec } = await this.connect();
    const s = await openSession({
      codec: this.codec, receiverCodec, audioContext: player.context, playerNode: player.node,
      sourceRate: SOURCE_RATE, bitrate: ui.bitrate(), lossRate, meanBurst, seed, remoteLink, wrapDecoder: app.lyra.wrapDecoder,
    });
    this.session = s;
    s.releaseUpdate = app.updates?.hold(); // a required update waits until the stream ended (lib/update.js)
    ui.showLinkLimits(s.link.limits);
    s.loss?.configure(ui.lossSettings()); // a change made while the peers were starting counts too
    s.source = null;
    s.receiverSeparate = Boolean(this.receiver.current?.separate) && !remoteLink;
    s.meta = { kind: source.kind, name: source.name, seed, started: performance.now(), original: source.samples || null, captured: new RecentAudio(retainedSeconds() * SOURCE_RATE) };
    this.watchEnd(s, remoteLink);
    s.sender.start();
    this.feed(s, source);
    ui.setRunning(true, false, source.kind);
    s.ticker = setInterval(() => {
      ui.showLive(s);
      if (remoteLink) remoteLink.control({ type: "sender-stats", stats: s.sender.snapshot() });
    }, 250);
  }

  /** `s.ended` resolves when the receiver has played everything out (here, or in the other tab). */
  watchEnd(s, remoteLink) {
    if (remoteLink) {
      // The other tab reports its receiver's figures; its final report ends the stream here.
      s.ended = new Promise((resolve) => {
        remoteLink.onControl = (message) => {
          if (message.type === "receiver-stats" || message.type === "report") s.remoteReceiver = message.stats;
          if (message.type === "report") { s.remotePair = message.pair; resolve(); }
        };
      });
    } else {
      s.ended = new Promise((resolve) => { s.receiver.onDrained = resolve; });
      s.receiver.onError = (err) => { if (s === this.session) { this.showError(err); this.stop("error"); } };
    }
  }

  /** The source's 20 ms frames go to the sender: a clip paced in real time, or the microphone. */
  feed(s, source) {
    if (source.kind === "file") {
      const clip = new ClipSource(source.samples, SOURCE_RATE);
      s.source = clip;
      clip.onFrame = (frame) => { s.sender.pushFrame(frame).catch((err) => this.fail(s, err)); };
      clip.onEnd = () => this.finish(s);
      s.totalFrames = clip.frames;
      clip.start();
      return;
    }
    s.mic = source.mic;
    source.mic.onFrame = (frame) => {
      if (s.mic.paused || s.finishing) return;
      s.meta.captured.push(frame.slice());
      s.sender.pushFrame(frame).catch((err) => this.fail(s, err));
    };
  }

  /** This tab as the receiving end of a call from another tab. */
  async receiveCall(link) {
    const { ui } = this;
    clearError(ui.error);
    if (this.session) await this.stop("replaced");
    try {
      const player = await this.audio.player();
      const s = await openListenerSession({ codec: this.codec, link, audioContext: player.context, playerNode: player.node });
      this.session = s;
      s.releaseUpdate = this.app.updates?.hold();
      s.meta = { kind: "call", name: "a call from another tab", started: performance.now(), original: null, captured: [] };
      s.receiver.onOtherControl = (message) => { if (message.type === "sender-stats") s.remoteSender = message.stats; };
      s.ended = new Promise((resolve) => { s.receiver.onDrained = resolve; });
      s.receiver.onError = (err) => { if (s === this.session) { this.showError(err); this.stop("error"); } };
      this.resetResult();
      ui.setRunning(true, false, "call");
      s.ticker = setInterval(() => { ui.showLive(s); link.control({ type: "receiver-stats", stats: s.receiver.snapshot() }); }, 250);
      await s.ended;
      const pair = await link.selectedPair().catch(() => null);
      link.control({ type: "report", stats: s.receiver.snapshot(), pair });
      await this.complete(s, pair);
    } catch (err) { this.showError(err); }
  }

  fail(s, err) {
    if (s !== this.session) return;
    this.showError(err);
    this.stop("error");
  }

  async finish(s) {
    if (s.finishing) return;
    s.finishing = true;
    if (s.mode === "caller") s.link.control({ type: "sender-stats", stats: s.sender.snapshot() });
    await s.sender.finish();
    // The receiver plays out everything up to the last packet (concealing losses), then drains: waited for
    // as long as it makes progress, however slowly; a receiver that went quiet is given up on.
    await Promise.race([s.ended, whenStalled(() => s.receiver?.engine.slots ?? s.remoteReceiver?.frames, s.mode === "caller" ? 15000 : 5000)]);
    await this.complete(s);
  }

  async stop(reason) {
    const s = this.session;
    if (!s) return;
    s.source?.stop();
    s.mic?.close();
    if (reason === "error" || reason === "replaced") { await this.teardown(s); return; }
    await this.finish(s);
  }

  async teardown(s) {
    s.releaseUpdate?.();
    clearInterval(s.ticker);
    s.receiver?.halt();
    if (this.session === s) this.session = null;
    await s.close();
    this.ui.setRunning(false);
  }

  async complete(s, knownPair = null) {
    const { ui } = this;
    s.finished = true;
    ui.showLive(s);
    s.mic?.close();
    const pair = knownPair ?? s.remotePair ?? await s.link.selectedPair().catch(() => null); // before the peers close
    await this.teardown(s);
    const v = figuresOf(s);
    const counted = packetAccounting(v, true);
    const decoded = s.receiver ? s.receiver.decodedAudio() : null;
    const { original, keptFromS } = keptOriginal(s, decoded);
    const lyraRuntime = (await this.runtime.refresh().catch(() => null))?.active ?? null;
    const summary = streamSummary(s, v, counted, pair, lyraRuntime);
    // The .lyra file records every bitrate the stream used (runs, when it changed mid-stream).
    const sizes = s.sender ? s.sender.packets.packetSizes() : [];
    const packetRates = s.sender ? bitrateOfPackets(sizes) : null;
    const lyra = s.sender && sizes.length ? await this.codec.lyraFile(s.sender.packets.bytes(), sizes) : new Uint8Array(0);
    if (packetRates) Object.assign(summary, { packet_bitrates: packetRates.bitrates, average_bitrate: round(packetRates.averageBps, 1), bitrate_label: packetRates.label });
    this.last = { summary, decoded, original, keptFromS, sender: s.sender, receiver: s.receiver, meta: s.meta, lyra, packetRates };
    setResult(ui.result, summary);
    ui.result.textContent = resultSentence(s, summary, counted, packetRates);
    showAfterwards(ui, this.audio, this.last);
    const run = this.last;
    if (run.original?.length && run.meta.kind !== "file") this.comparison.setClip(run.original, SOURCE_RATE, run.meta.name);
  }

  async openLyraFile(name, bytes, current) {
    const { ui } = this;
    ui.status.textContent = `Decoding ${name}…`;
    const decodedFile = await this.codec.decodeFile(bytes, ui.bitrate(), PLAYBACK_RATE);
    if (!current()) return;
    this.last = { summary: null, decoded: decodedFile.samples, original: null, meta: { kind: "lyra", name }, lyra: bytes };
    showLyraFile(ui, this.audio, name, decodedFile);
    ui.status.textContent = `Decoded ${name}.`;
  }
}
