// The Lyra codec as the page sees it: the client of codeclab.lyra.service in a Python worker (which runs
// the models: LiteRT.js by default, onnxruntime-web with ?lyra-runtime=onnx). Every call is timed on the
// main thread, so the figures include the worker round trip that real-time playback depends on.
import { PythonWorker, WATCHDOG_MS } from "../../lib/rpc.js";
import { requestedRuntime, withRuntime } from "./runtime-choice.js";

export const ENCODER_MODEL = "soundstream_encoder";
export const DECODER_MODEL = "lyragan";
const HOP_16K = 320;
// Frames per request when a whole clip or file is encoded or decoded: one worker round trip and one
// model request per burst instead of per frame (1 s of audio: the worker stays responsive).
export const BURST = 50;

const now = () => performance.now();

/**
 * The receiving peer's own Python runtime: a second worker (Pyodide + onnxruntime-web), so the
 * two peers do not share a Python, just as two real endpoints would not, and encoding and
 * decoding run on different cores. Looks enough like `app` for makeCodec.
 */
let receiverPeer = null;
export function receiverRuntime(app, { bootTimeoutMs = 60000 } = {}) {
  if (!receiverPeer) {
    // One model thread: the receiver's work is a stream of tiny 20 ms frames; and the page's choice of
    // Lyra runtime (runtime-choice.js), which the worker's Lyra plug-in reads.
    const python = new PythonWorker(withRuntime(new URL("../../worker.js?threads=1", import.meta.url), requestedRuntime(location.search)));
    const ready = new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("the receiver's Python worker did not start in time")), bootTimeoutMs);
      python.on((message) => {
        if (message.type === "ready") { clearTimeout(timer); resolve(message); }
        else if (message.type === "boot-error") { clearTimeout(timer); reject(new Error(message.message)); }
      });
    });
    receiverPeer = { python, ready, get runtime() { return app.runtime; }, modelsReason: () => app.modelsReason(), separate: true };
    ready.catch(() => { python.terminate(); receiverPeer = null; });
  }
  return receiverPeer;
}

/**
 * The receiving peer's codec, started on first use: in its own Python worker (receiverRuntime), or the
 * page's when that cannot start. `current` is null until it has started.
 */
export function receiverCodecOf(app, codec) {
  let receiverCodec = null;
  let boot = null;
  return {
    get current() { return receiverCodec; },
    start() {
      boot ??= (async () => {
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
      return boot;
    },
  };
}

async function fetchBytes(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`could not load ${url} (HTTP ${response.status})`);
  return new Uint8Array(await response.arrayBuffer());
}

/** The ONNX file of a Lyra model in models/index.json (keys are model names, values paths such as "lyra/lyragan.onnx"). */
export function modelFile(app, name) {
  return (app.runtime?.models?.files || {})[name] ?? null;
}

/** A promise made once and kept; made again after it failed (a later attempt retries). */
function once(make) {
  let promise = null;
  return () => {
    if (!promise) {
      promise = make();
      promise.catch(() => { promise = null; });
    }
    return promise;
  };
}

/** Hand the small model files (codebooks, initial states) to Python. */
async function loadAssets(app, call) {
  await app.ready;
  const encoderFile = modelFile(app, ENCODER_MODEL);
  const decoderFile = modelFile(app, DECODER_MODEL);
  for (const [name, file] of [[ENCODER_MODEL, encoderFile], [DECODER_MODEL, decoderFile]]) {
    if (!file) {
      const err = new Error(`the Lyra model ${name} is not in this build (${app.modelsReason()})`);
      err.expected = true;
      throw err;
    }
  }
  // The small files live beside the ONNX models: <folder>/quantizer_codebooks.npy, <name>.state_init.npz.
  const folder = (file) => `./models/${file.replace(/[^/]*$/, "")}`;
  const [codebooks, encoderState, decoderState] = await Promise.all([
    fetchBytes(`${folder(encoderFile)}quantizer_codebooks.npy`),
    fetchBytes(`${folder(encoderFile)}${ENCODER_MODEL}.state_init.npz`),
    fetchBytes(`${folder(decoderFile)}${DECODER_MODEL}.state_init.npz`),
  ]);
  await call("set_assets", { codebooks, encoder_state_init: encoderState, decoder_state_init: decoderState });
}

/**
 * Run the whole encode -> packet -> decode path on a few frames of silence once, before any
 * real stream: it creates the model sessions (and their wasm warm-up) and runs Python's code
 * paths, which would otherwise make the first frames of a live stream late.
 */
async function warmUpSessions(call) {
  const { id: enc } = await call("encoder_open", { sample_rate: 16000, bitrate: 6000 });
  const { id: dec } = await call("decoder_open", { sample_rate: 16000 });
  try {
    for (let i = 0; i < 10; i++) {
      const packet = await call("encoder_encode", { session_id: enc, samples: new Float32Array(HOP_16K) });
      await call("decoder_receive", { session_id: dec, packet, count: HOP_16K });
    }
    // and the concealment paths (estimated features, then comfort noise) a lost packet takes
    for (let i = 0; i < 8; i++) await call("decoder_receive", { session_id: dec, count: HOP_16K });
  } finally {
    await call("close", { session_id: enc });
    await call("close", { session_id: dec });
  }
}

/** An open encoder session `id` in Python. */
function encoderSession(call, id, sampleRate) {
  return {
    async encode(samples) {
      const t = now();
      const packet = await call("encoder_encode", { session_id: id, samples }, [samples.buffer]);
      return { packet, ms: now() - t };
    },
    /** Whole 20 ms hops in one request -> their packets (one model request for all of them). */
    async encodeMany(samples) {
      const t = now();
      const frames = samples.length / Math.round(sampleRate / 50);
      const data = await call("encoder_encode_many", { session_id: id, samples }, [samples.buffer]);
      const size = data.length / frames;
      const packets = [];
      for (let i = 0; i < frames; i++) packets.push(data.subarray(i * size, (i + 1) * size));
      return { packets, ms: now() - t };
    },
    setBitrate(value) { return call("encoder_set_bitrate", { session_id: id, bitrate: value }); },
    close() { return call("close", { session_id: id }); },
  };
}

/** Packets (null: lost) back to back in one buffer, with their sizes (0: lost). */
function packBurst(packets) {
  const sizes = new Int32Array(packets.length);
  const bytes = packets.map((p) => (!p ? null : p instanceof Uint8Array ? p : new Uint8Array(p)));
  bytes.forEach((p, i) => { sizes[i] = p ? p.length : 0; });
  const data = new Uint8Array(sizes.reduce((a, b) => a + b, 0));
  let offset = 0;
  for (const p of bytes) if (p) { data.set(p, offset); offset += p.length; }
  return { data, sizes };
}

/** An open decoder session `id` in Python. */
function decoderSession(call, id, sampleRate) {
  const hop = Math.round(sampleRate / 50);
  return {
    /** One 20 ms frame: the packet's audio, or the decoder's concealment when `packet` is null. */
    async decode(packet) {
      const t = now();
      const { samples, rejected } = await call("decoder_receive", { session_id: id, count: hop, ...(packet ? { packet } : {}) });
      return { samples, ms: now() - t, rejected };
    },
    /** A burst of frames in one request (null packets concealed): the same audio as decode() one by one. */
    async decodeMany(packets) {
      const t = now();
      const { data, sizes } = packBurst(packets);
      const { samples, rejected } = await call("decoder_receive_many", { session_id: id, count: hop, packets: data, sizes },
        [data.buffer, sizes.buffer]);
      return { samples, ms: now() - t, rejected };
    },
    close() { return call("close", { session_id: id }); },
  };
}

/** Whole clip, offline (not paced): samples at `sampleRate` -> packets, BURST frames per request. */
async function encodeClip(encoder, samples, sampleRate, onProgress) {
  const hop = Math.round(sampleRate / 50);
  const frames = Math.ceil(samples.length / hop);
  const packets = [];
  try {
    for (let first = 0; first < frames; first += BURST) {
      const count = Math.min(BURST, frames - first);
      const chunk = new Float32Array(count * hop); // the last hop padded with silence
      chunk.set(samples.subarray(first * hop, Math.min((first + count) * hop, samples.length)));
      packets.push(...(await encoder.encodeMany(chunk)).packets);
      onProgress(first + count, frames);
    }
  } finally { await encoder.close(); }
  return packets;
}

/** Packets -> decoded audio at `sampleRate` (null entries are concealed), BURST frames per request. */
async function decodePackets(decoder, packets, sampleRate, onProgress) {
  const hop = Math.round(sampleRate / 50);
  const out = new Float32Array(packets.length * hop);
  try {
    for (let first = 0; first < packets.length; first += BURST) {
      out.set((await decoder.decodeMany(packets.slice(first, first + BURST))).samples, first * hop);
      onProgress(Math.min(first + BURST, packets.length), packets.length);
    }
  } finally { await decoder.close(); }
  return out;
}

/** A .lyra file's packets and bitrate, read in Python; the file's size picks the bitrate when it can. */
async function readLyraFile(call, data, bitrate) {
  try {
    return await call("read_lyra_file", { data });
  } catch (err) {
    if (!/pass the bitrate/.test(err.message) || !bitrate) throw err;
    return call("read_lyra_file", { data, bitrate });
  }
}

/** The Lyra codec in `app`'s Python worker: sessions, whole clips, .lyra files, scores. */
export function makeCodec(app) {
  const call = (method, args, transfer, options) => app.python.call(`lyra.${method}`, args, transfer, options);
  // Whole-clip calls take time in proportion to the clip: the watchdog (which takes a long call for a
  // stuck Python) allows them the usual limit plus half a second per second of audio.
  const forClip = (samples, rate) => ({ timeoutMs: WATCHDOG_MS + (samples.length / rate) * 500 });
  const ensureAssets = once(() => loadAssets(app, call));
  const warmUp = once(async () => { await ensureAssets(); await warmUpSessions(call); });
  async function openEncoder({ sampleRate, bitrate }) {
    await warmUp();
    const { id } = await call("encoder_open", { sample_rate: sampleRate, bitrate });
    return encoderSession(call, id, sampleRate);
  }
  async function openDecoder({ sampleRate }) {
    await warmUp();
    const { id } = await call("decoder_open", { sample_rate: sampleRate });
    return decoderSession(call, id, sampleRate);
  }
  const decodeAll = async (packets, sampleRate = 16000, onProgress = () => {}) =>
    decodePackets(await openDecoder({ sampleRate }), packets, sampleRate, onProgress);
  return {
    ensureAssets,
    warmUp,
    openEncoder,
    openDecoder,
    encodeClip: async (samples, sampleRate, bitrate, onProgress = () => {}) =>
      encodeClip(await openEncoder({ sampleRate, bitrate }), samples, sampleRate, onProgress),
    decodePackets: decodeAll,
    /** A .lyra file -> {packets, bitrate, samples}; the file's size picks the bitrate when it can. */
    async decodeFile(data, bitrate = null, sampleRate = 16000) {
      await ensureAssets();
      const info = await readLyraFile(call, data, bitrate);
      const samples = await decodeAll(info.packets, sampleRate);
      return {
        packets: info.packets.length, bitrate: info.bitrate, trailing: info.trailing_bytes, samples,
        runs: info.runs, bitrates: info.bitrates, averageBps: info.average_bitrate, bitrateLabel: info.bitrate_label,
      };
    },
    /** Packets back to back with their sizes -> a .lyra file (raw, or runs if the bitrate changed). */
    lyraFile(bytes, sizes) {
      const packets = bytes.slice();
      const packetSizes = Int32Array.from(sizes);
      return call("lyra_file", { packets, sizes: packetSizes }, [packets.buffer, packetSizes.buffer]);
    },
    resample: (samples, inRate, outRate) => call("resample", { samples, in_rate: inRate, out_rate: outRate }, [], forClip(samples, inRate)),
    /** {stoi, lsd_db, delay_ms} of `decoded` against `reference`, both at `rate`. */
    score: (reference, decoded, rate) => call("score", { reference, decoded, rate }, [], forClip(reference, rate)),
  };
}
