// What a live stream keeps for afterwards (A/B playback, spectrograms, the .lyra download), with
// memory bounded however long the stream runs: audio as a window of the most recent seconds,
// packets as one growing byte buffer rather than one object each.
// Pure module: no DOM, no workers (tests/js/recording.test.mjs).

/** How much audio a stream keeps for A/B playback: the last two minutes (16 kHz: 7.7 MB decoded). */
export const RETAINED_SECONDS = 120;

/** The page parameter `?lyra-keep-seconds=N` keeps another length (a shorter one lets a test see the window). */
export function retainedSeconds(search = globalThis.location?.search ?? "") {
  const seconds = Number(new URLSearchParams(search).get("lyra-keep-seconds"));
  return seconds > 0 ? seconds : RETAINED_SECONDS;
}

/**
 * The most recent `capacity` samples of a stream that arrives in chunks. Old chunks are dropped
 * whole, so up to one chunk more than `capacity` is held; `window()` trims to exactly `capacity`.
 */
export class RecentAudio {
  constructor(capacity) {
    if (!(capacity > 0)) throw new RangeError(`RecentAudio capacity must be positive, got ${capacity}`);
    this.capacity = capacity;
    this.chunks = [];
    this.held = 0; // samples in this.chunks
    this.total = 0; // samples ever pushed
  }

  push(chunk) {
    if (!chunk.length) return;
    this.chunks.push(chunk);
    this.held += chunk.length;
    this.total += chunk.length;
    while (this.chunks.length > 1 && this.held - this.chunks[0].length >= this.capacity) {
      this.held -= this.chunks.shift().length;
    }
  }

  /** Samples pushed before the window starts (0 while the whole stream fits). */
  get skipped() { return this.total - Math.min(this.total, this.capacity); }

  /** The window as one array; kept as that one array, so a second call does not copy again. */
  window() {
    const start = this.held - Math.min(this.held, this.capacity);
    const out = new Float32Array(this.held - start);
    let offset = -start;
    for (const chunk of this.chunks) {
      if (offset + chunk.length > 0) out.set(offset < 0 ? chunk.subarray(-offset) : chunk, Math.max(0, offset));
      offset += chunk.length;
    }
    this.chunks = out.length ? [out] : [];
    this.held = out.length;
    return out;
  }
}

/** Every packet of a stream in order, in one byte buffer (a long stream is ~30,000 packets). */
export class PacketLog {
  constructor() {
    this.buffer = new Uint8Array(4096);
    this.used = 0;
    this.offsets = new Uint32Array(256); // offsets[i] = start of packet i; offsets[count] = used
    this.count = 0;
  }

  get length() { return this.count; }

  push(packet) {
    if (this.used + packet.length > this.buffer.length) this.buffer = grow(this.buffer, this.used + packet.length);
    if (this.count + 2 > this.offsets.length) this.offsets = grow(this.offsets, this.count + 2);
    this.buffer.set(packet, this.used);
    this.offsets[this.count] = this.used;
    this.used += packet.length;
    this.count += 1;
    this.offsets[this.count] = this.used;
  }

  /** Packet i (a view into the log: copy it to keep it past the next push). */
  at(i) {
    if (!(i >= 0 && i < this.count)) throw new RangeError(`packet ${i} of ${this.count}`);
    return this.buffer.subarray(this.offsets[i], this.offsets[i + 1]);
  }

  /** All packets back to back: the .lyra file. */
  bytes() { return this.buffer.slice(0, this.used); }

  /** Each packet's size in bytes, in order (sizes change where the bitrate did). */
  packetSizes() { return this.offsets.slice(1, this.count + 1).map((end, i) => end - this.offsets[i]); }

  /** The distinct packet sizes (one size = one bitrate). */
  sizes() {
    const sizes = new Set();
    for (let i = 0; i < this.count; i++) sizes.add(this.offsets[i + 1] - this.offsets[i]);
    return sizes;
  }

  map(fn) { return Array.from({ length: this.count }, (_, i) => fn(this.at(i), i)); }
}

function grow(array, needed) {
  let size = array.length * 2;
  while (size < needed) size *= 2;
  const out = new array.constructor(size);
  out.set(array);
  return out;
}
