// Opus through WebCodecs (the browser's own libopus): encode a clip at a given bitrate and
// decode it back, for the Lyra-vs-Opus comparison.

export function opusAvailable() { return typeof AudioEncoder === "function" && typeof AudioDecoder === "function"; }

async function encoderConfig(bitrate) {
  const base = { codec: "opus", sampleRate: 48000, numberOfChannels: 1, bitrate, bitrateMode: "constant" };
  // Speech tuning when this Chromium knows the option; fall back to the plain config.
  for (const config of [{ ...base, opus: { frameDuration: 20000, signal: "voice", application: "voip" } }, { ...base, opus: { frameDuration: 20000 } }, base]) {
    try { if ((await AudioEncoder.isConfigSupported(config)).supported) return config; } catch { /* try the next */ }
  }
  throw new Error(`this browser cannot encode Opus at ${bitrate} bps`);
}

/**
 * Encode 48 kHz mono samples with Opus at `bitrate` and decode them again.
 * @returns {{bytes: number, packets: number, decoded: Float32Array, sampleRate: 48000}}
 */
export async function opusRoundTrip(samples48k, bitrate) {
  if (!opusAvailable()) throw new Error("WebCodecs audio is not available in this browser");
  const chunks = [];
  let decoderConfig = null;
  let failure = null;
  const encoder = new AudioEncoder({
    output: (chunk, metadata) => { if (metadata?.decoderConfig) decoderConfig = metadata.decoderConfig; chunks.push(chunk); },
    error: (err) => { failure = err; },
  });
  encoder.configure(await encoderConfig(bitrate));
  const block = 960; // 20 ms
  for (let offset = 0; offset < samples48k.length; offset += block) {
    const data = new Float32Array(block);
    data.set(samples48k.subarray(offset, Math.min(offset + block, samples48k.length)));
    const audio = new AudioData({ format: "f32-planar", sampleRate: 48000, numberOfFrames: block, numberOfChannels: 1, timestamp: Math.round((offset / 48000) * 1e6), data });
    encoder.encode(audio);
    audio.close();
  }
  await encoder.flush();
  encoder.close();
  if (failure) throw failure;

  const parts = [];
  const decoder = new AudioDecoder({
    output: (audio) => {
      const plane = new Float32Array(audio.numberOfFrames);
      audio.copyTo(plane, { planeIndex: 0, format: "f32-planar" });
      parts.push(plane);
      audio.close();
    },
    error: (err) => { failure = err; },
  });
  decoder.configure(decoderConfig || { codec: "opus", sampleRate: 48000, numberOfChannels: 1 });
  let bytes = 0;
  for (const chunk of chunks) { bytes += chunk.byteLength; decoder.decode(chunk); }
  await decoder.flush();
  decoder.close();
  if (failure) throw failure;
  const total = parts.reduce((n, p) => n + p.length, 0);
  const decoded = new Float32Array(total);
  let o = 0;
  for (const p of parts) { decoded.set(p, o); o += p.length; }
  return { bytes, packets: chunks.length, decoded, sampleRate: 48000 };
}
