// Media framing and an adaptive jitter buffer for 20 ms speech packets.
//
// Framing: each data channel message is a 6-byte header + one Lyra packet:
//   u32 sequence number (big-endian), u16 sender clock in ms (mod 65536, for jitter), payload.
// Lyra packets carry no sequence number themselves (upstream relies on its transport, as RTP would).

export const HEADER_BYTES = 6;

export function frameMessage(seq, sendMs, payload) {
  const bytes = new Uint8Array(HEADER_BYTES + payload.length);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, seq >>> 0);
  view.setUint16(4, Math.round(sendMs) & 0xffff);
  bytes.set(payload, HEADER_BYTES);
  return bytes;
}

export function parseMessage(bytes) {
  if (bytes.length < HEADER_BYTES) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { seq: view.getUint32(0), sendMs: view.getUint16(4), payload: bytes.slice(HEADER_BYTES) };
}

/**
 * Holds packets by sequence number until the playout clock asks for them.
 * The target depth follows the observed inter-arrival jitter (RFC 3550's estimator, plus a
 * decaying peak so a single spike keeps the buffer deeper for a while).
 */
export class JitterBuffer {
  constructor({ frameMs = 20, minDepth = 2, maxDepth = 15 } = {}) {
    this.frameMs = frameMs;
    this.minDepth = minDepth;
    this.maxDepth = maxDepth;
    this.packets = new Map();
    this.next = null; // next sequence number to play
    this.jitterMs = 0;
    this.peakMs = 0;
    this.last = null; // {arrival, send} of the previous packet, for the transit difference
    this.counts = { received: 0, late: 0, duplicate: 0 };
  }

  start(firstSeq) { this.next = firstSeq; for (const seq of this.packets.keys()) if (seq < firstSeq) this.packets.delete(seq); }

  /** Reset the jitter history (after a pause the sender's clock jumps). */
  resync() { this.last = null; }

  push(seq, payload, sendMs, arrivalMs) {
    if (this.packets.has(seq)) { this.counts.duplicate += 1; return "duplicate"; }
    this.observe(sendMs, arrivalMs); // late packets count most for the jitter estimate
    if (this.next !== null && seq < this.next) { this.counts.late += 1; return "late"; }
    this.counts.received += 1;
    this.packets.set(seq, payload);
    return "ok";
  }

  observe(sendMs, arrivalMs) {
    if (this.last) {
      const sendDelta = ((sendMs - this.last.send + 0x8000) & 0xffff) - 0x8000; // mod-2^16 clock
      const d = Math.abs(arrivalMs - this.last.arrival - sendDelta);
      this.jitterMs += (d - this.jitterMs) / 16;
      this.peakMs = Math.max(d, this.peakMs * 0.98);
    }
    this.last = { send: sendMs, arrival: arrivalMs };
  }

  /** Packets to hold before playing: enough to ride out the jitter seen recently. */
  get targetDepth() {
    const spread = Math.max(4 * this.jitterMs, this.peakMs);
    return Math.min(this.maxDepth, Math.max(this.minDepth, Math.ceil(spread / this.frameMs) + 1));
  }

  /** Buffered packets at or after the playout point. */
  get depth() { return this.packets.size; }

  has(seq) { return this.packets.has(seq); }

  highest() { let h = -1; for (const seq of this.packets.keys()) h = Math.max(h, seq); return h; }

  /** Take the packet for the next playout slot (null: missing) and advance. */
  pop() {
    const seq = this.next;
    const payload = this.packets.get(seq) ?? null;
    this.packets.delete(seq);
    this.next = seq + 1;
    return { seq, payload };
  }

  /** Drop the oldest buffered packet to shrink the delay (the decoder simply skips 20 ms). */
  skip() { return this.pop(); }
}
