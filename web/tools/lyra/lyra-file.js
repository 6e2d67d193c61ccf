// What a stream's packets say about its bitrate, in the words codeclab.lyra.lyrafile uses
// (describe_bitrate): "6 kbps", or "mixed 3.2–6 kbps, 3.7 kbps average" after a change mid-stream.

const BITRATE_OF_SIZE = new Map([[8, 3200], [15, 6000], [23, 9200]]); // Lyra's packet sizes
const FRAME_S = 0.02;

const kbps = (bps) => (bps / 1000).toFixed(1).replace(/\.0$/, "");

/** {bitrates (distinct, lowest first), averageBps, label} of packets with these sizes in bytes. */
export function bitrateOfPackets(sizes) {
  const rates = new Set();
  let bytes = 0;
  for (const size of sizes) { rates.add(BITRATE_OF_SIZE.get(size) ?? Math.round((size * 8) / FRAME_S)); bytes += size; }
  const bitrates = [...rates].sort((a, b) => a - b);
  const averageBps = sizes.length ? (bytes * 8) / (sizes.length * FRAME_S) : 0;
  return { bitrates, averageBps, label: describeBitrate(bitrates, averageBps) };
}

export function describeBitrate(bitrates, averageBps) {
  if (bitrates.length <= 1) return `${kbps(bitrates[0] ?? averageBps)} kbps`;
  return `mixed ${kbps(bitrates[0])}–${kbps(bitrates[bitrates.length - 1])} kbps, ${kbps(averageBps)} kbps average`;
}

/** The download's name: the bitrate, or the bitrates of a stream that changed. */
export function lyraFileName(bitrates) {
  return `stream-${bitrates.length > 1 ? `mixed-${bitrates.join("-")}` : bitrates[0]}.lyra`;
}
