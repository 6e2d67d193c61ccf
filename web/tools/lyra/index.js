// Lyra v2 speech panel: stream a clip or the microphone through Lyra over a real WebRTC data
// channel, with simulated loss, an adaptive jitter buffer and AudioWorklet playback; then
// compare original and decoded audio, and Lyra with Opus.
// The parts: ui.js (the panel's DOM, live figures), afterwards.js (the after-stream card), controller.js
// (the stream's flows), summary.js (a finished stream in figures), compare.js (the comparison card),
// service-client.js (the Lyra codec in a Python worker), stream.js (the peers), playout.js, the worklets.
import { AudioEngine } from "./audio.js";
import { buildUi, playButton } from "./ui.js";
import { listen, watchListeners } from "./rtc-call.js";
import { makeCodec, modelFile, receiverCodecOf, ENCODER_MODEL, DECODER_MODEL } from "./service-client.js";
import { mountComparison } from "./compare.js";
import { runtimeDetails } from "./runtime.js";
import { StreamController } from "./controller.js";
import { exportRun } from "./summary.js";
import { keptLyra } from "./keep.js";

const MODELS = [ENCODER_MODEL, DECODER_MODEL];

export async function mount(panel, app) {
  const codec = makeCodec(app); // the sender peer (and the offline tools) use the page's Python worker
  const receiver = receiverCodecOf(app, codec); // the receiver peer gets its own worker (see receiverRuntime)
  const ui = buildUi(panel);
  const kept = keptLyra(ui, (file) => ui.onFile(file)); // for a reload (lib/kept.js)
  ui.dropNote.after(kept.node);
  const runtime = runtimeDetails(app, { hasWork: () => Boolean(streams.session || streams.last) });
  ui.compareCard.before(runtime.node);
  const audio = new AudioEngine();
  const streams = new StreamController({ app, ui, codec, receiver, audio, runtime, kept });
  bootReceiverEarly(panel, app, { receiver, runtime, audio });
  app.lyra = {
    seed: null, // tests may fix the loss pattern
    wrapDecoder: undefined, // ... and put a slower decoder in the receiver's place (stream.js openSession)
    get session() { return streams.session; },
    get last() { return streams.last; },
    /** Everything a test needs to check the stream against CPython (plain JSON). */
    export() { return streams.last ? exportRun(streams.last) : null; },
  };
  app.ready.then(() => {
    const missing = MODELS.filter((name) => !modelFile(app, name));
    if (missing.length) ui.notice.replaceChildren(`The Lyra models are not in this build (${app.modelsReason()}), so the codec cannot run here.`);
    ui.notice.hidden = missing.length === 0;
  });
  wireStreamControls(ui, streams);
  wireCalls(ui, streams, { codec, audio });
  streams.comparison = mountComparison(ui.compareCard, {
    app, codec, audio, playButton,
    beforeRun: async () => { if (streams.session && streams.session.mode !== "listener") await streams.stop("stopped"); },
  });
}

/** The receiving peer's own Python worker takes seconds to boot: start it when the tab is opened, not when
 *  the first stream asks for it. Any click in the panel counts as the gesture that lets the page play sound. */
function bootReceiverEarly(panel, app, { receiver, runtime, audio }) {
  const bootReceiver = () => app.ready.then(() => {
    if (MODELS.every((name) => modelFile(app, name))) { receiver.start(); runtime.refresh(); }
  });
  panel.addEventListener("tool-shown", bootReceiver);
  panel.addEventListener("pointerdown", () => { audio.unlock(); bootReceiver(); }, { capture: true });
}

function wireStreamControls(ui, streams) {
  ui.onFile = (file) => streams.openFile(file);
  ui.onMic = () => streams.toggleMicrophone();
  ui.onPause = () => streams.togglePause();
  ui.onStop = () => streams.session && streams.stop(streams.session.mode === "listener" ? "replaced" : "stopped");
  ui.onBitrate = (bps) => streams.session?.sender?.setBitrate(bps);
  ui.onLoss = (lossRate, meanBurst) => streams.session?.loss?.configure({ lossRate, meanBurst });
}

/** Calls between tabs: listening for one, and the listening tabs a stream can be sent to. */
function wireCalls(ui, streams, { codec, audio }) {
  let listening = null;
  ui.onListen = (on) => {
    if (!on) { listening?.close(); listening = null; return; }
    listening = listen({
      confirm: (code, signal) => ui.askPairing("Another tab of this site is calling. Answer only if it shows this code.", code, signal),
      onCall: (link) => streams.receiveCall(link),
      onError: (err) => streams.showError(err),
    });
    // Be ready before a call comes: audio output, the models compiled.
    audio.player().catch((err) => streams.showError(err));
    codec.warmUp().catch((err) => streams.showError(err));
  };
  const listeners = watchListeners((ids) => ui.setListeners(ids.filter((id) => id !== listening?.id)));
  window.addEventListener("pagehide", () => { listening?.close(); listeners.close(); });
}
