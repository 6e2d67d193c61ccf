// The speech panel's audio: the 16 kHz stream player (AudioWorklet), A/B clip playback,
// file decoding by the browser and microphone capture (AudioWorklet).
import { PLAYBACK_RATE } from "./stream.js";

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export const SOURCE_RATE = 48000; // clips are decoded (and the microphone captured) at 48 kHz; Python resamples to 16 kHz

/** One context for the stream player (16 kHz), one for A/B clips and the microphone. */
export class AudioEngine {
  constructor({ resumeWaitMs = 3000 } = {}) {
    this.streamContext = null; this.mainContext = null; this.node = null; this.clip = null;
    this.resumeWaitMs = resumeWaitMs; // how long the stream player waits for the engine to start sound
  }

  /** Called inside a user gesture: engines that start audio only in one (WebKit) start both contexts now. */
  unlock() {
    this.#main().resume();
    this.#stream().resume();
  }

  #main() {
    if (!this.mainContext) this.mainContext = new AudioContext({ sampleRate: SOURCE_RATE });
    return this.mainContext;
  }

  #stream() {
    if (!this.streamContext) this.streamContext = new AudioContext({ sampleRate: PLAYBACK_RATE, latencyHint: "interactive" });
    return this.streamContext;
  }

  async player() {
    const context = this.#stream();
    if (!this.node) {
      await context.audioWorklet.addModule(new URL("./player-worklet.js", import.meta.url));
      this.node = new AudioWorkletNode(context, "lyra-player", { numberOfInputs: 0, outputChannelCount: [1] });
      this.node.connect(context.destination);
    }
    // resume() settles only once the engine may and can play: without a user gesture (WebKit) or without
    // a sound output device (Firefox, WebKit) it stays pending, so wait a bounded time and then say why.
    const settled = await Promise.race([context.resume().then(() => true), sleep(this.resumeWaitMs).then(() => false)]);
    if (context.state !== "running") {
      const err = new Error(settled
        ? "the browser has not allowed this page to play sound yet: click the panel once, then try again"
        : "the browser could not start sound output (it waits for a click in the page, or this computer has no sound device): click the panel once, then try again");
      err.expected = true;
      throw err;
    }
    return { context, node: this.node };
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
    await context.audioWorklet.addModule(new URL("./capture-worklet.js", import.meta.url));
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
