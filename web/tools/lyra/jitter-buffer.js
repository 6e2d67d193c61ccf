// Media framing for 20 ms speech packets (the playout engine, web/tools/lyra/playout.js, holds them).
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
