// Simulated packet loss: a two-state Gilbert–Elliott channel, like upstream Lyra's gilbert_model.
// A port of codeclab.lyra.gilbert.GilbertModel, draw for draw: the same generator (mulberry32),
// the same transition probabilities, the same order (report the current state, then step), the
// same limits. tests/lyra/test_gilbert.py runs both and requires identical loss patterns.
// With loss rate p and mean burst b: P(received -> lost) = p / (b (1 - p)), P(lost -> received) = 1 / b.

/** mulberry32: 32-bit state, floats in [0, 1). */
export function seededRandom(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The highest stationary loss rate a chain with this mean burst length can have. */
export const maxLossRate = (meanBurst) => meanBurst / (meanBurst + 1);

export class GilbertElliott {
  constructor({ lossRate = 0, meanBurst = 1, seed = 5489 } = {}) {
    this.random = seededRandom(seed);
    this.received = true;
    this.configure({ lossRate, meanBurst });
  }

  /** Change the parameters mid-stream (the current state is kept). Throws RangeError when impossible. */
  configure({ lossRate, meanBurst = 1 }) {
    if (!(meanBurst >= 1)) throw new RangeError(`average burst length must be at least 1, got ${meanBurst}`);
    if (!(lossRate >= 0)) throw new RangeError(`packet loss rate must not be negative, got ${lossRate}`);
    const limit = maxLossRate(meanBurst);
    if (lossRate > limit) {
      throw new RangeError(`packet loss rate ${lossRate} is too high for bursts of ${meanBurst}: at most ${limit.toFixed(4)}`);
    }
    this.lossRate = lossRate;
    this.meanBurst = meanBurst;
    this.receivedToLost = lossRate / (meanBurst * (1 - lossRate));
    this.lostToReceived = 1 / meanBurst;
  }

  /** Is this packet received? Reports the current state, then steps the chain. */
  isPacketReceived() {
    const current = this.received;
    const draw = this.random();
    if (this.received) { if (draw < this.receivedToLost) this.received = false; }
    else if (draw < this.lostToReceived) this.received = true;
    return current;
  }

  /** True when the next packet is dropped. */
  drop() { return !this.isPacketReceived(); }
}
