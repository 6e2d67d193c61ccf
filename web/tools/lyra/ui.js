// The speech panel's DOM: sources, live controls, figures, the after-stream card.
import { el } from "../../lib/ui.js";
import { dropzone } from "../../lib/dropzone.js";
import { HEADER_BYTES } from "./jitter-buffer.js";
import { PLAYBACK_RATE, FRAME_MS } from "./stream.js";
import { packetAccounting } from "./accounting.js";
import { linkLimits } from "./rtc-link.js";

const BITRATES = [
  { bps: 3200, label: "3.2 kbps · 8-byte packets" },
  { bps: 6000, label: "6 kbps · 15-byte packets" },
  { bps: 9200, label: "9.2 kbps · 23-byte packets" },
];

/** One flat set of live figures, whether each end runs in this tab or reports from another. */
export function figuresOf(s) {
  const sender = s.sender ? s.sender.snapshot() : s.remoteSender ?? {};
  const receiver = s.receiver ? s.receiver.snapshot() : s.remoteReceiver ?? {};
  return { ...sender, ...receiver };
}

export function playButton(audio, label, samples, sampleRate, testid) {
  const button = el("button", { class: "secondary play", "data-testid": testid }, `▶ ${label}`);
  button.addEventListener("click", () => {
    if (button.classList.contains("playing")) { audio.stopClip(); return; }
    for (const other of document.querySelectorAll("button.play.playing")) other.classList.remove("playing");
    button.classList.add("playing");
    audio.playClip(samples, sampleRate, () => button.classList.remove("playing"));
  });
  return button;
}

function figure(label, testid) {
  const value = el("b", { "data-testid": testid, text: "–" });
  const note = el("span", { text: label });
  return { node: el("div", { class: "figure" }, value, note), value, note, label };
}

/** The messages: errors, notices, the result line, the status line. */
function messagesPart(ui) {
  ui.error = el("p", { class: "error", role: "alert", hidden: true, "data-testid": "lyra-error" });
  ui.notice = el("p", { class: "notice", hidden: true, "data-testid": "lyra-notice" });
  ui.result = el("p", { class: "muted lyra-result", role: "status", "data-testid": "lyra-result" });
  ui.fileResult = el("span", { hidden: true, "data-testid": "lyra-file-result" });
  ui.status = el("span", { class: "muted", "data-testid": "lyra-status" });
  ui.dropNote = el("p", { class: "notice", hidden: true, "data-testid": "lyra-drop-note" });
  // Said in plain words when this device decodes slower than real time (the playout engine's check).
  ui.health = el("p", { class: "notice", hidden: true, "data-testid": "lyra-health" });
  // Said once the stream's first seconds show decoding slower than real time (speed.js), and kept.
  ui.speed = el("p", { class: "notice", hidden: true, "data-testid": "lyra-speed" });
  // What this browser lacks for the stream, and what still works (feature-detected in rtc-link.js).
  ui.lacks = el("p", { class: "notice", hidden: !linkLimits(), "data-testid": "lyra-lacks", text: linkLimits() });
}

/** A recording dropped or picked, or the microphone. */
function sourcesPart(ui) {
  const zone = dropzone({
    testid: "lyra-input", accept: "audio/*,.wav,.mp3,.ogg,.flac,.lyra",
    title: "Drop a speech recording", hint: "WAV, MP3, OGG, FLAC (decoded by your browser) — or a .lyra file",
    multiple: true, // so that a drop of several files can be answered, not silently cut to one
    onFiles: (files) => {
      ui.dropNote.hidden = files.length < 2;
      ui.dropNote.textContent = files.length < 2 ? "" : `${files.length} files dropped: only the first, ${files[0].name}, is used (this tab streams one recording at a time).`;
      ui.onFile(files[0]);
    },
  });
  zone.dataset.paste = "";
  const mic = el("button", { class: "secondary lyra-mic", "data-testid": "lyra-mic", onclick: () => ui.onMic() }, "Use the microphone");
  const node = el("div", { class: "lyra-sources" }, zone, el("div", { class: "lyra-or" }, el("span", { class: "muted", text: "or" }), mic, el("span", { class: "muted", text: "streams live until you press Stop" })));
  return { node, mic };
}

/** Bitrate, simulated loss and its burstiness; ui.lossSettings() and ui.bitrate() read them. */
function channelControls(ui) {
  const bitrate = el("select", { "data-testid": "lyra-bitrate", "aria-label": "Bitrate" },
    BITRATES.map((b) => el("option", { value: String(b.bps), selected: b.bps === 6000 }, b.label)));
  bitrate.addEventListener("change", () => ui.onBitrate(Number(bitrate.value)));
  const loss = el("input", { type: "range", min: "0", max: "30", step: "1", value: "0", "data-testid": "lyra-loss", "aria-label": "Simulated loss (%)" });
  const lossValue = el("output", { text: "0 %" });
  const burst = el("input", { type: "range", min: "1", max: "8", step: "0.5", value: "1", "data-testid": "lyra-burst", "aria-label": "Mean loss burst (packets)" });
  const burstValue = el("output", { text: "1 packet (isolated losses)" });
  const onLoss = () => {
    lossValue.textContent = `${loss.value} %`;
    burstValue.textContent = Number(burst.value) === 1 ? "1 packet (isolated losses)" : `${burst.value} packets`;
    ui.onLoss(Number(loss.value) / 100, Number(burst.value));
  };
  loss.addEventListener("input", onLoss);
  burst.addEventListener("input", onLoss);
  ui.lossSettings = () => ({ lossRate: Number(loss.value) / 100, meanBurst: Number(burst.value) });
  ui.bitrate = () => Number(bitrate.value);
  ui.setBitrate = (bps) => { if (BITRATES.some((b) => b.bps === bps)) bitrate.value = String(bps); };
  return [
    el("label", {}, el("span", { text: "Bitrate" }), bitrate),
    el("label", {}, el("span", { text: "Simulated loss" }), loss, lossValue),
    el("label", {}, el("span", { text: "Burstiness" }), burst, burstValue),
  ];
}

/** Calls between tabs: this tab can listen, or send to a tab that listens. */
function callControls(ui) {
  const destination = el("select", { "data-testid": "lyra-destination", "aria-label": "Receiver" });
  const destinationLabel = el("label", { hidden: true }, el("span", { text: "Play in" }), destination);
  const listenBox = el("input", { type: "checkbox", "data-testid": "lyra-listen" });
  listenBox.addEventListener("change", () => ui.onListen(listenBox.checked));
  // A call between tabs is a WebRTC connection: without WebRTC the choice is not offered (ui.lacks says why).
  const listenLabel = el("label", { class: "lyra-listen", hidden: Boolean(linkLimits()), title: "Another tab of codeclab can then send its stream here, over WebRTC with BroadcastChannel signalling" },
    listenBox, el("span", { text: "Receive calls from other tabs" }));
  ui.setListeners = (ids) => {
    const chosen = destination.value;
    destination.replaceChildren(
      el("option", { value: "" }, "this tab (two peers in this page)"),
      ...ids.map((id, i) => el("option", { value: id }, ids.length > 1 ? `the listening tab #${i + 1}` : "the listening tab")));
    destination.value = ids.includes(chosen) ? chosen : "";
    destinationLabel.hidden = ids.length === 0;
  };
  ui.destination = () => destination.value || null;
  return { destinationLabel, listenLabel };
}

/** The stream's controls; ui.setRunning() turns them on and off. */
function controlsPart(ui, mic, panel) {
  const pause = el("button", { class: "secondary", "data-testid": "lyra-pause", disabled: true, onclick: () => ui.onPause() }, "Pause");
  const stop = el("button", { class: "secondary", "data-testid": "lyra-stop", disabled: true, onclick: () => ui.onStop() }, "Stop");
  const { destinationLabel, listenLabel } = callControls(ui);
  ui.setRunning = (running, paused = false, kind = null) => {
    pause.disabled = stop.disabled = !running;
    if (kind === "call") pause.disabled = true; // the calling tab owns the stream
    pause.textContent = paused ? "Resume" : "Pause";
    mic.textContent = running && (kind === "mic" || mic.dataset.live) ? "Stop the microphone" : "Use the microphone";
    if (kind === "mic") mic.dataset.live = "1"; else if (!running) delete mic.dataset.live;
    panel.querySelector(".lyra-stream").classList.toggle("live", running && !paused);
  };
  return el("div", { class: "lyra-controls" }, ...channelControls(ui), destinationLabel, el("div", { class: "row" }, pause, stop), listenLabel);
}

function progressPart() {
  const node = el("div", { class: "progress lyra-progress", role: "progressbar", "aria-label": "Stream progress", "aria-valuemin": "0", "aria-valuemax": "100" }, el("div", { class: "progress-fill" }));
  const set = (percent) => { node.firstChild.style.width = `${percent}%`; node.setAttribute("aria-valuenow", String(Math.round(percent))); };
  return { node, set };
}

function figuresPart() {
  return {
    wire: figure("on the wire", "lyra-fig-wire"),
    sent: figure("packets sent", "lyra-fig-sent"),
    received: figure("arrived", "lyra-fig-received"),
    lost: figure("lost on the way", "lyra-fig-lost"),
    concealed: figure("concealed", "lyra-fig-concealed"),
    depth: figure("buffered now (target)", "lyra-fig-depth"),
    delay: figure("send → playout", "lyra-fig-delay"),
    decode: figure("decode / frame", "lyra-fig-decode"),
    encode: figure("encode / frame", "lyra-fig-encode"),
    rtf: figure("real-time factor", "lyra-fig-rtf"),
    stalls: figure("playback stalls", "lyra-fig-stalls"),
  };
}

/** The after-stream card (spectrograms, A/B buttons) and the comparison's card. */
function afterPart(ui) {
  ui.specOriginal = el("canvas", { class: "spectrogram", role: "img", "aria-label": "Spectrogram of the original", "data-testid": "lyra-spec-original", width: 1, height: 1 });
  ui.specDecoded = el("canvas", { class: "spectrogram", role: "img", "aria-label": "Spectrogram of the decoded speech", "data-testid": "lyra-spec-decoded", width: 1, height: 1 });
  ui.captionOriginal = el("figcaption", { "data-testid": "lyra-caption-original" });
  ui.captionDecoded = el("figcaption", { "data-testid": "lyra-caption-decoded" });
  ui.ab = el("div", { class: "row lyra-ab" });
  ui.after = el("div", { class: "card lyra-after", hidden: true },
    el("h3", { text: "Original vs decoded" }),
    el("div", { class: "lyra-specs" },
      el("figure", { class: "shot" }, el("div", { class: "spec-wrap" }, ui.specOriginal), ui.captionOriginal),
      el("figure", { class: "shot" }, el("div", { class: "spec-wrap" }, ui.specDecoded), ui.captionDecoded)),
    ui.ab);
  ui.compareCard = el("div", { class: "card lyra-compare" });
}

/** Pairing a call: both tabs show the same code; the user confirms it on each (rtc-call.js). */
function pairingPart(ui) {
  const pairing = el("div", { class: "card lyra-pairing", "data-testid": "lyra-pair", role: "alertdialog", hidden: true });
  ui.error.before(pairing);
  let question = null; // the one on screen: a question that ended late does not close a newer one
  ui.askPairing = (message, code, signal) => new Promise((resolve) => {
    if (signal?.aborted) { resolve(false); return; }
    const asked = question = {};
    const answer = (agreed) => {
      if (question === asked) { pairing.hidden = true; pairing.replaceChildren(); question = null; }
      resolve(agreed);
    };
    signal?.addEventListener("abort", () => answer(false), { once: true }); // the call ended before an answer
    pairing.replaceChildren(
      el("p", { text: message }),
      el("strong", { class: "lyra-pair-code", "data-testid": "lyra-pair-code", text: code }),
      el("div", { class: "row" },
        el("button", { type: "button", "data-testid": "lyra-pair-accept", onclick: () => answer(true) }, "The codes match"),
        el("button", { type: "button", class: "secondary", "data-testid": "lyra-pair-decline", onclick: () => answer(false) }, "Decline")));
    pairing.hidden = false;
  });
}

/** The panel: every part, appended; `ui` carries the nodes index.js uses and the on* hooks it sets. */
export function buildUi(panel) {
  const ui = {};
  messagesPart(ui);
  const sources = sourcesPart(ui);
  const controls = controlsPart(ui, sources.mic, panel);
  const progress = progressPart();
  const figures = figuresPart();
  afterPart(ui);
  panel.append(
    el("h2", { text: "Lyra v2: speech at 3.2 kbps" }),
    el("p", { text: "Lyra v2 (SoundStream) turns each 20 ms of speech into 8, 15 or 23 bytes. This tab runs the encoder, quantizer, decoder and packet-loss concealment, and carries every packet as one message over a real WebRTC data channel between two peers in this page — unordered and never retransmitted, like a media transport." }),
    ui.notice,
    el("div", { class: "card lyra-stream" },
      sources.node,
      controls,
      ui.dropNote,
      el("div", { class: "row lyra-statusline" }, progress.node, ui.status),
      ui.lacks, ui.speed, ui.health,
      el("div", { class: "figures lyra-figures", "data-testid": "lyra-figures" }, Object.values(figures).map((f) => f.node)),
      ui.error, ui.result, ui.fileResult),
    ui.after,
    ui.compareCard,
  );
  ui.resetFigures = () => {
    for (const f of Object.values(figures)) { f.value.textContent = "–"; f.value.className = ""; }
    ui.health.hidden = true;
    ui.speed.hidden = true;
    progress.set(0);
  };
  ui.showLive = (s) => showLive(ui, figures, progress.set, s);
  /** Say what the stream's link lacks (a MessageChannel in place of WebRTC), or that nothing is missing. */
  ui.showLinkLimits = (text) => {
    const said = text || linkLimits();
    ui.lacks.hidden = !said;
    ui.lacks.textContent = said;
  };
  pairingPart(ui);
  return ui;
}

const show = (f, value) => { f.value.textContent = value; };

function showWire(figures, v, finished) {
  const payload = finished ? v.payloadAvgBps : v.payloadBps;
  const wire = finished ? v.wireAvgBps : v.wireBps;
  if (payload === undefined) return;
  show(figures.wire, `${(payload / 1000).toFixed(1)} kbps`);
  figures.wire.note.textContent = `Lyra on the wire, +${((wire - payload) / 1000).toFixed(1)} kbps framing`;
  figures.wire.note.title = `each message carries a ${HEADER_BYTES}-byte header (sequence number, send time) before the Lyra packet`;
}

function showPackets(figures, v, finished) {
  const a = packetAccounting(v, finished);
  show(figures.sent, String(a.sent));
  figures.sent.note.textContent = a.inFlight ? `packets sent (${a.inFlight} on the way now)` : "packets sent";
  show(figures.received, String(a.arrived));
  figures.received.note.textContent = a.late ? `arrived (${a.late} too late to play)` : "arrived";
  show(figures.lost, String(a.lost));
  const where = [v.dropped ? `${Math.min(v.dropped, a.lost)} by the simulated loss` : "", a.lostOnLink ? `${a.lostOnLink} on the link` : ""].filter(Boolean);
  figures.lost.note.textContent = where.length ? `lost on the way (${where.join(", ")})` : "lost on the way";
  show(figures.concealed, String(a.concealed));
  figures.concealed.note.textContent = `concealed (${a.concealedLost} lost + ${a.late} too late)`;
}

function showReceiver(ui, figures, v) {
  show(figures.depth, `${(v.delayNowMs ?? 0).toFixed(0)} ms (${v.targetMs} ms)`);
  figures.depth.note.textContent = `buffered now (target: ${v.jitterTarget} for jitter + ${v.ringTarget} decoded ahead) · ${v.compressed} shortened, ${v.expanded} stretched`;
  show(figures.delay, v.delayCount ? `${v.delayRecent.toFixed(0)} ms` : "–");
  show(figures.decode, `${v.decodeRecent.toFixed(2)} ms`);
  // A stall is one underrun event: the ring ran dry and the player bridged the gap for one or
  // more render quanta (the same grouping the playout engine adapts to).
  show(figures.stalls, String(v.underrunEvents ?? 0));
  figures.stalls.value.className = v.underrunEvents ? "bad" : "good";
  figures.stalls.note.textContent = `playback stalls (${v.underrunQuanta ?? 0} audio quanta bridged)`;
  // The playout engine judges the decoder; the sender's encoder is judged the same way here.
  const slowEncoder = (v.encodeRecent ?? 0) > FRAME_MS
    ? `This device needs ${v.encodeRecent.toFixed(1)} ms to encode each 20 ms of speech, slower than real time: the stream falls behind.`
    : "";
  ui.speed.hidden = !v.speedMessage;
  ui.speed.textContent = v.speedMessage ?? "";
  // Once the stream's speed is judged slow, the moment-to-moment decode check would only repeat it.
  const health = [v.speedMessage ? "" : v.health, slowEncoder].filter(Boolean).join(" ");
  ui.health.hidden = !health;
  ui.health.textContent = health;
}

function showSpeed(figures, v) {
  if (v.encodeRecent !== undefined) show(figures.encode, `${v.encodeRecent.toFixed(2)} ms`);
  if (v.encodeRecent !== undefined && v.decodeRecent !== undefined) {
    const rtf = (v.encodeRecent + v.decodeRecent) / FRAME_MS;
    show(figures.rtf, rtf ? `${rtf.toFixed(3)}×` : "–");
    figures.rtf.value.className = rtf > 1 ? "bad" : rtf > 0.5 ? "warn" : "good";
  }
}

function showProgress(ui, setProgress, s, v) {
  const played = (v.consumed ?? 0) / PLAYBACK_RATE;
  const sentSeconds = ((v.encoded ?? 0) * FRAME_MS) / 1000;
  const paused = s.paused ? " (paused)" : "";
  if (s.mode === "listener") {
    setProgress(100);
    ui.status.textContent = `Receiving a call from another tab: ${sentSeconds.toFixed(1)} s sent there, ${played.toFixed(1)} s played here`;
  } else if (s.totalFrames) {
    setProgress(Math.min(100, ((v.encoded ?? 0) / s.totalFrames) * 100));
    const there = s.mode === "caller" ? " in the other tab" : "";
    ui.status.textContent = `${s.meta.name}: sent ${sentSeconds.toFixed(1)} of ${((s.totalFrames * FRAME_MS) / 1000).toFixed(1)} s, played ${played.toFixed(1)} s${there}${paused}`;
  } else {
    setProgress(100);
    ui.status.textContent = `Microphone: ${sentSeconds.toFixed(1)} s sent, ${played.toFixed(1)} s played${paused}`;
  }
}

/** The live figures of stream `s` (ends in this tab or reporting from another), and its progress. */
function showLive(ui, figures, setProgress, s) {
  const v = figuresOf(s);
  showWire(figures, v, s.finished);
  if (v.encoded !== undefined) showPackets(figures, v, s.finished);
  if (v.received !== undefined) showReceiver(ui, figures, v);
  showSpeed(figures, v);
  showProgress(ui, setProgress, s, v);
}
