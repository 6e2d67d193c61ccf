// Lyra v2 speech panel: stream a clip or the microphone through Lyra over a real WebRTC data
// channel, with simulated loss, an adaptive jitter buffer and AudioWorklet playback; then
// compare original and decoded audio, and Lyra with Opus.
import { el, showError, clearError, setResult, download, formatBytes } from "../../lib/ui.js";
import { encodeWav } from "./wav.js";
import { RecentAudio, retainedSeconds } from "./recording.js";
import { drawSpectrogram } from "./spectrogram.js";
import { AudioEngine, SOURCE_RATE } from "./audio.js";
import { buildUi, figuresOf, playButton } from "./ui.js";
import { packetAccounting } from "./accounting.js";
import { bitrateOfPackets, lyraFileName } from "./lyra-file.js";
import { ClipSource, openSession, openListenerSession, PLAYBACK_RATE, FRAME_MS } from "./stream.js";
import { call, listen, watchListeners } from "./rtc-call.js";
import { makeCodec, modelFile, receiverRuntime, ENCODER_MODEL, DECODER_MODEL } from "./service-client.js";
import { mountComparison } from "./compare.js";
import { runtimeDetails } from "./runtime.js";

const MODELS = [ENCODER_MODEL, DECODER_MODEL];

export async function mount(panel, app) {
  const codec = makeCodec(app); // the sender peer (and the offline tools) use the page's Python worker
  let receiverCodec = null; // the receiver peer gets its own worker (see receiverRuntime)
  let receiverBoot = null;
  const receiverPeerCodec = () => {
    receiverBoot ??= (async () => {
      try {
        const peer = receiverRuntime(app);
        await peer.ready;
        receiverCodec = makeCodec(peer);
        receiverCodec.separate = true;
      } catch (err) {
        console.warn(`the receiver shares the page's Python worker: ${err.message}`);
        receiverCodec = codec;
      }
      return receiverCodec;
    })();
    return receiverBoot;
  };
  const ui = buildUi(panel);
  const runtime = runtimeDetails(app, { hasWork: () => Boolean(session || last) });
  ui.compareCard.before(runtime.node);
  const audio = new AudioEngine();
  let session = null; // the running stream
  let last = null; // the finished one (spectrograms, downloads, comparison)

  // The receiving peer's own Python worker takes seconds to boot: start it when the tab is opened,
  // not when the first stream asks for it.
  const bootReceiver = () => app.ready.then(() => {
    if (MODELS.every((name) => modelFile(app, name))) { receiverPeerCodec(); runtime.refresh(); }
  });
  panel.addEventListener("tool-shown", bootReceiver);
  // Any click in the panel counts as the user gesture that lets the page play sound.
  panel.addEventListener("pointerdown", () => { audio.unlock(); bootReceiver(); }, { capture: true });

  app.lyra = {
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

  // Offline without its files saved, the tool says so rather than blaming the file (lib/offline.js).
  const showLyraError = (err) => app.offline.explain(err, "lyra", "The Lyra speech codec").then((shown) => showError(ui.error, shown));

  // Each dropped file gets a ticket; a slower, older request never overwrites a newer one's outcome.
  let latestFile = 0;
  ui.onFile = async (file) => {
    const ticket = ++latestFile;
    const current = () => ticket === latestFile;
    clearError(ui.error);
    if (session) await stop("replaced");
    try {
      await app.ready;
      const bytes = new Uint8Array(await file.arrayBuffer());
      if (/\.lyra$/i.test(file.name)) { await openLyraFile(file.name, bytes, current); return; }
      ui.status.textContent = `Decoding ${file.name}…`;
      const samples = await audio.decodeFile(bytes, file.name);
      if (!current()) return;
      comparison.setClip(samples, SOURCE_RATE, file.name); // the whole file, however much of it is streamed
      await startStream({ kind: "file", name: file.name, samples });
    } catch (err) {
      if (!current()) return;
      ui.status.textContent = "";
      showLyraError(err);
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
    } catch (err) { showLyraError(err); }
  };

  ui.onPause = async () => {
    if (!session?.sender) return;
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

  ui.onStop = () => session && stop(session.mode === "listener" ? "replaced" : "stopped");
  ui.onBitrate = (bps) => session?.sender?.setBitrate(bps);
  ui.onLoss = (lossRate, meanBurst) => session?.loss?.configure({ lossRate, meanBurst });

  async function startStream(source) {
    await codec.ensureAssets(); // says clearly when this build has no Lyra models
    ui.resetFigures();
    delete ui.result.dataset.result;
    ui.result.textContent = ""; // the previous stream's summary does not belong under this one
    ui.after.hidden = true;
    const player = await audio.player();
    const seed = app.lyra.seed ?? Math.floor(Math.random() * 2 ** 31);
    const { lossRate, meanBurst } = ui.lossSettings();
    const destination = ui.destination();
    let remoteLink = null;
    if (destination) {
      ui.status.textContent = "Calling the listening tab…";
      remoteLink = await call(destination, {
        confirm: (code) => ui.askPairing("Check that the other tab shows this code, then confirm to start the call.", code),
      });
    } else ui.status.textContent = receiverCodec ? "Connecting the peers…" : "Starting the receiving peer's Python worker…";
    const s = await openSession({
      codec, receiverCodec: remoteLink ? codec : await receiverPeerCodec(), audioContext: player.context, playerNode: player.node,
      sourceRate: SOURCE_RATE, bitrate: ui.bitrate(), lossRate, meanBurst, seed, remoteLink,
    });
    session = s;
    s.loss?.configure(ui.lossSettings()); // a change made while the peers were starting counts too
    s.source = null;
    s.receiverSeparate = Boolean(receiverCodec?.separate) && !remoteLink;
    s.meta = { kind: source.kind, name: source.name, seed, started: performance.now(), original: source.samples || null, captured: new RecentAudio(retainedSeconds() * SOURCE_RATE) };
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
      s.receiver.onError = (err) => { if (s === session) { showLyraError(err); stop("error"); } };
    }
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
    s.ticker = setInterval(() => {
      ui.showLive(s);
      if (remoteLink) remoteLink.control({ type: "sender-stats", stats: s.sender.snapshot() });
    }, 250);
  }

  /** This tab as the receiving end of a call from another tab. */
  async function receiveCall(link) {
    clearError(ui.error);
    if (session) await stop("replaced");
    try {
      const player = await audio.player();
      const s = await openListenerSession({ codec, link, audioContext: player.context, playerNode: player.node });
      session = s;
      s.meta = { kind: "call", name: "a call from another tab", started: performance.now(), original: null, captured: [] };
      s.receiver.onOtherControl = (message) => { if (message.type === "sender-stats") s.remoteSender = message.stats; };
      s.ended = new Promise((resolve) => { s.receiver.onDrained = resolve; });
      s.receiver.onError = (err) => { if (s === session) { showLyraError(err); stop("error"); } };
      ui.resetFigures();
      delete ui.result.dataset.result;
      ui.after.hidden = true;
      ui.setRunning(true, false, "call");
      s.ticker = setInterval(() => { ui.showLive(s); link.control({ type: "receiver-stats", stats: s.receiver.snapshot() }); }, 250);
      await s.ended;
      const pair = await link.selectedPair().catch(() => null);
      link.control({ type: "report", stats: s.receiver.snapshot(), pair });
      await complete(s, pair);
    } catch (err) { showLyraError(err); }
  }

  ui.onListen = (on) => {
    if (!on) { listening?.close(); listening = null; return; }
    listening = listen({
      confirm: (code) => ui.askPairing("Another tab of this site is calling. Answer only if it shows this code.", code),
      onCall: (link) => receiveCall(link),
      onError: (err) => showLyraError(err),
    });
    // Be ready before a call comes: audio output, the models compiled.
    audio.player().catch((err) => showLyraError(err));
    codec.warmUp().catch((err) => showLyraError(err));
  };
  let listening = null;
  const listeners = watchListeners((ids) => ui.setListeners(ids.filter((id) => id !== listening?.id)));
  window.addEventListener("pagehide", () => { listening?.close(); listeners.close(); });

  function fail(s, err) {
    if (s !== session) return;
    showLyraError(err);
    stop("error");
  }

  async function finish(s) {
    if (s.finishing) return;
    s.finishing = true;
    if (s.mode === "caller") s.link.control({ type: "sender-stats", stats: s.sender.snapshot() });
    await s.sender.finish();
    // The receiver plays out everything up to the last packet (concealing losses), then drains.
    await Promise.race([s.ended, new Promise((resolve) => setTimeout(resolve, s.mode === "caller" ? 15000 : 5000))]);
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
    s.receiver?.halt();
    if (session === s) session = null;
    await s.close();
    ui.setRunning(false);
  }

  async function complete(s, knownPair = null) {
    s.finished = true;
    ui.showLive(s);
    s.mic?.close();
    const pair = knownPair ?? s.remotePair ?? await s.link.selectedPair().catch(() => null); // before the peers close
    await teardown(s);
    const v = figuresOf(s);
    const counted = packetAccounting(v, true);
    const decoded = s.receiver ? s.receiver.decodedAudio() : null;
    const { original, keptFromS } = keptOriginal(s, decoded);
    const summary = {
      packets_sent: v.sent ?? null,
      packets_received: v.received ?? null,
      // In the visitor's words (the figures and the sentence below): every packet sent arrived or
      // was lost on the way; a concealed slot is a lost packet or one that arrived too late.
      packets_arrived: v.received === undefined ? null : counted.arrived,
      lost_on_the_way: v.received === undefined || v.encoded === undefined ? null : counted.lost,
      concealed: v.concealed ?? null,
      bitrate: v.bitrate ?? s.receiver?.counts.bitrate ?? null,
      decode_ms_per_frame: round(v.decodeMean ?? 0, 3),
      encode_ms_per_frame: round(v.encodeMean ?? 0, 3),
      real_time_factor: round(((v.encodeMean ?? 0) + (v.decodeMean ?? 0)) / FRAME_MS, 4),
      packets_encoded: v.encoded ?? null,
      dropped: v.dropped ?? null,
      late: v.late ?? null,
      compressed: v.compressed ?? null,
      expanded: v.expanded ?? null,
      // One definition with the live figure: an underrun event (a stall) is a run of starved
      // render quanta; where each began, in seconds of the stream; the quanta themselves beside it.
      underrun_events: v.underrunEvents ?? null,
      underrun_event_at_s: (v.underrunEventAt ?? []).map((n) => round(n / PLAYBACK_RATE, 3)),
      underrun_quanta: v.underrunQuanta ?? null,
      frames_played: s.receiver ? s.receiver.engine.slots : v.played ?? null,
      jitter_target_frames: v.jitterTarget ?? null,
      ring_target_frames: v.ringTarget ?? null,
      target_delay_ms: v.targetMs ?? null,
      send_to_playout_ms: round(v.delayMean ?? 0, 1),
      send_to_playout_recent_ms: round(v.delayRecent ?? 0, 1),
      health: v.health || null,
      seed: s.meta.seed ?? null,
      source: s.meta.kind,
      mode: s.mode,
      receiver_worker: s.mode === "loopback" ? (s.receiverSeparate ? "own" : "shared") : "other tab",
      ice_candidate: pair ? `${pair.candidateType}/${pair.protocol}` : null,
      refused_candidates: s.link?.refusedCandidates?.() ?? null, // ICE candidates that would leave this machine
      duration_s: round((v.samples ?? 0) / PLAYBACK_RATE, 2),
      lyra_runtime: (await runtime.refresh().catch(() => null))?.active ?? null,
    };
    // The .lyra file records every bitrate the stream used (runs, when it changed mid-stream).
    const sizes = s.sender ? s.sender.packets.packetSizes() : [];
    const packetRates = s.sender ? bitrateOfPackets(sizes) : null;
    const lyra = s.sender && sizes.length ? await codec.lyraFile(s.sender.packets.bytes(), sizes) : new Uint8Array(0);
    if (packetRates) Object.assign(summary, { packet_bitrates: packetRates.bitrates, average_bitrate: round(packetRates.averageBps, 1), bitrate_label: packetRates.label });
    last = { summary, decoded, original, keptFromS, sender: s.sender, receiver: s.receiver, meta: s.meta, lyra, packetRates };
    setResult(ui.result, summary);
    const where = s.mode === "caller" ? " (played in the other tab)" : s.mode === "listener" ? " from another tab" : "";
    ui.result.textContent = `Streamed ${summary.duration_s} s${packetRates ? ` at ${packetRates.label}` : ""}${where}: ${counted.sent} packets sent, ${counted.arrived} arrived, ${counted.lost} lost on the way (${summary.dropped} by the simulated loss), ${counted.concealed} concealed (${counted.concealedLost} lost + ${counted.late} arrived too late), ${summary.underrun_events} playback stalls.`;
    showAfterwards(last);
  }

  /**
   * The original to compare with what was decoded: the same stretch of the stream. A stream longer
   * than retainedSeconds() keeps only its end (keptFromS: where that starts, in seconds).
   */
  function keptOriginal(s, decoded) {
    if (!s.sender) return { original: null, keptFromS: 0 };
    if (!s.meta.original) {
      const captured = s.meta.captured.window();
      return { original: captured, keptFromS: s.meta.captured.skipped / SOURCE_RATE };
    }
    const ratio = SOURCE_RATE / PLAYBACK_RATE;
    const streamed = Math.min(s.meta.original.length, (s.source?.index ?? Infinity) * Math.round(SOURCE_RATE / 50));
    const start = s.receiver ? s.receiver.decodedSkipped * ratio : Math.max(0, streamed - retainedSeconds() * SOURCE_RATE);
    const end = decoded ? Math.min(streamed, start + decoded.length * ratio) : streamed;
    return { original: start === 0 && end === s.meta.original.length ? s.meta.original : s.meta.original.subarray(start, end), keptFromS: start / SOURCE_RATE };
  }

  function showAfterwards(run) {
    ui.after.hidden = false;
    const blank = (canvas) => { canvas.width = 1; canvas.height = 1; };
    if (run.original) drawSpectrogram(ui.specOriginal, run.original, SOURCE_RATE); else blank(ui.specOriginal);
    if (run.decoded) drawSpectrogram(ui.specDecoded, run.decoded, PLAYBACK_RATE); else blank(ui.specDecoded);
    ui.captionOriginal.textContent = run.original ? `Original (${run.meta.name}, ${(run.original.length / SOURCE_RATE).toFixed(2)} s) · 0–8 kHz` : "(the original stayed in the calling tab)";
    ui.captionDecoded.textContent = run.decoded
      ? `Lyra ${run.packetRates?.label ?? `${(run.summary.bitrate / 1000).toFixed(1)} kbps`} after the data channel (${run.summary.concealed} frames concealed) · 0–8 kHz`
      : "(decoded and played in the other tab)";
    if (run.keptFromS > 0) {
      // A long stream keeps its last minutes for A/B, so that memory stays flat however long it runs.
      const streamed = (run.summary.frames_played ?? run.summary.packets_encoded) * (FRAME_MS / 1000);
      const kept = `last ${clock(retainedSeconds())} of ${clock(streamed)}, from ${clock(run.keptFromS)}`;
      ui.captionOriginal.textContent += ` · ${kept}`;
      if (run.decoded) ui.captionDecoded.textContent += ` · ${kept}`;
    }
    ui.ab.replaceChildren(
      run.original ? playButton(audio, "Play original", run.original, SOURCE_RATE, "lyra-play-original") : null,
      run.decoded ? playButton(audio, "Play Lyra", run.decoded, PLAYBACK_RATE, "lyra-play-decoded") : null,
      run.decoded ? el("button", { class: "secondary", "data-testid": "lyra-download-wav", onclick: () => download(encodeWav(run.decoded, PLAYBACK_RATE), "lyra-decoded.wav", "audio/wav") }, "Download decoded WAV") : null,
      run.lyra.length ? el("button", { class: "secondary", "data-testid": "lyra-download-lyra", onclick: () => download(run.lyra, lyraFileName(run.packetRates.bitrates)) },
        run.packetRates.bitrates.length > 1
          ? `Download .lyra (${formatBytes(run.lyra.length)}, ${run.packetRates.label}: codeclab's file of runs)`
          : `Download .lyra (${formatBytes(run.lyra.length)})`) : null,
    );
    if (run.original?.length && run.meta.kind !== "file") comparison.setClip(run.original, SOURCE_RATE, run.meta.name);
  }

  async function openLyraFile(name, bytes, current) {
    ui.status.textContent = `Decoding ${name}…`;
    const decodedFile = await codec.decodeFile(bytes, ui.bitrate(), PLAYBACK_RATE);
    if (!current()) return;
    const samples = decodedFile.samples;
    last = { summary: null, decoded: samples, original: null, meta: { kind: "lyra", name }, lyra: bytes };
    ui.after.hidden = false;
    drawSpectrogram(ui.specDecoded, samples, PLAYBACK_RATE);
    ui.specOriginal.width = 1; ui.specOriginal.height = 1;
    ui.captionOriginal.textContent = "(a .lyra file carries no original)";
    const trailing = decodedFile.trailing ? `, ${decodedFile.trailing} trailing bytes ignored` : "";
    const changeCount = decodedFile.runs.length - 1;
    const changes = changeCount ? ` (${changeCount} bitrate change${changeCount > 1 ? "s" : ""})` : "";
    ui.captionDecoded.textContent = `${name}: ${decodedFile.packets} packets at ${decodedFile.bitrateLabel}${changes}, ${(samples.length / PLAYBACK_RATE).toFixed(2)} s${trailing}`;
    ui.ab.replaceChildren(
      playButton(audio, "Play", samples, PLAYBACK_RATE, "lyra-play-decoded"),
      el("button", { class: "secondary", "data-testid": "lyra-download-wav", onclick: () => download(encodeWav(samples, PLAYBACK_RATE), name.replace(/\.lyra$/i, ".wav"), "audio/wav") }, "Download WAV"),
    );
    setResult(ui.fileResult, {
      name, packets: decodedFile.packets, bitrate: decodedFile.bitrate, runs: decodedFile.runs, bitrates: decodedFile.bitrates,
      average_bitrate: decodedFile.averageBps, bitrate_label: decodedFile.bitrateLabel, samples: samples.length, sample_rate: PLAYBACK_RATE,
    });
    ui.status.textContent = `Decoded ${name}.`;
  }

  const comparison = mountComparison(ui.compareCard, {
    app, codec, audio, playButton,
    beforeRun: async () => { if (session && session.mode !== "listener") await stop("stopped"); },
  });
}

function round(x, digits) { const f = 10 ** digits; return Math.round(x * f) / f; }

/** 125.4 -> "2:05" */
function clock(seconds) {
  const s = Math.round(seconds);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

function exportRun(run) {
  const r = run.receiver;
  return {
    summary: run.summary,
    sample_rate: PLAYBACK_RATE,
    decoded: run.decoded ? Array.from(run.decoded) : [],
    decoded_skipped: r ? r.decodedSkipped : 0, // samples before `decoded` starts (a stream longer than the kept window)
    slots: r ? r.engine.slots : 0, // slots played, of which `log` holds the latest
    log: r ? r.log : [],
    late: r ? r.engine.lateSeqs : [],
    received: r ? [...r.received.entries()].map(([seq, p]) => [seq, Array.from(p)]) : [],
    sent_packets: run.sender ? run.sender.packets.map((p) => Array.from(p)) : [],
    dropped: run.sender ? run.sender.dropped : [],
    captured_rms: run.meta.kind === "mic" && run.original ? Math.sqrt(run.original.reduce((a, x) => a + x * x, 0) / Math.max(1, run.original.length)) : null,
  };
}
