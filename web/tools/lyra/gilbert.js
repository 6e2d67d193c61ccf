// Simulated packet loss: a two-state Gilbert–Elliott channel, like upstream Lyra's gilbert_model.
// In the "good" state every packet passes; in the "bad" state every packet is lost. The two
// transition probabilities are chosen so the long-run loss rate is `lossRate` and a run of
// losses lasts `meanBurst` packets on average (meanBurst = 1: isolated single losses).

/** A small seeded PRNG (mulberry32), so a loss pattern can be reproduced. */
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

export class GilbertElliott {
  constructor({ lossRate = 0, meanBurst = 1, seed = 1 } = {}) {
    this.random = seededRandom(seed);
    this.lost = false;
    this.configure({ lossRate, meanBurst });
  }

  /** Change the parameters mid-stream (the current state is kept). */
  configure({ lossRate, meanBurst }) {
    this.lossRate = Math.min(Math.max(Number(lossRate) || 0, 0), 0.95);
    this.meanBurst = Math.max(Number(meanBurst) || 1, 1);
    // bad -> good with probability r = 1/burst; good -> bad with p so that p / (p + r) = lossRate.
    this.toGood = 1 / this.meanBurst;
    // (A loss rate above meanBurst / (meanBurst + 1) is unreachable: p is capped at 1.)
    this.toBad = Math.min(1, (this.lossRate * this.toGood) / (1 - this.lossRate));
    if (this.lossRate === 0) this.lost = false;
  }

  /** True when the next packet is dropped. */
  drop() {
    if (this.lossRate === 0) return false;
    this.lost = this.lost ? this.random() >= this.toGood : this.random() < this.toBad;
    return this.lost;
  }
}
