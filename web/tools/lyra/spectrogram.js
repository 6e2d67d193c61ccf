// Draw a log-magnitude spectrogram of mono samples on a canvas (a picture, not a measurement:
// the objective scores are computed in Python).

function fftInPlace(re, im) {
  const n = re.length;
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) { [re[i], re[j]] = [re[j], re[i]]; [im[i], im[j]] = [im[j], im[i]]; }
  }
  for (let size = 2; size <= n; size <<= 1) {
    const step = (-2 * Math.PI) / size;
    for (let start = 0; start < n; start += size) {
      for (let k = 0; k < size / 2; k++) {
        const c = Math.cos(step * k), s = Math.sin(step * k);
        const a = start + k, b = a + size / 2;
        const tr = re[b] * c - im[b] * s, ti = re[b] * s + im[b] * c;
        re[b] = re[a] - tr; im[b] = im[a] - ti; re[a] += tr; im[a] += ti;
      }
    }
  }
}

// A perceptually ordered dark-to-bright palette (black, purple, orange, pale yellow).
const STOPS = [[0, [8, 8, 20]], [0.35, [84, 28, 120]], [0.65, [220, 80, 60]], [0.85, [250, 170, 60]], [1, [252, 245, 190]]];
function palette(t) {
  for (let i = 1; i < STOPS.length; i++) {
    if (t <= STOPS[i][0]) {
      const [t0, c0] = STOPS[i - 1], [t1, c1] = STOPS[i];
      const f = (t - t0) / (t1 - t0);
      return c0.map((v, k) => Math.round(v + (c1[k] - v) * f));
    }
  }
  return STOPS[STOPS.length - 1][1];
}

const MAX_COLUMNS = 8192;

/** Paint `samples` (at `sampleRate`) into `canvas`, 0..maxHz on the vertical axis. */
export function drawSpectrogram(canvas, samples, sampleRate, { maxHz = 8000, floorDb = -90 } = {}) {
  const size = 512;
  // 10 ms columns, wider for a long clip: a canvas has at most MAX_COLUMNS columns (browsers refuse
  // very wide canvases, and a picture needs no more).
  const hop = Math.max(1, Math.round(sampleRate / 100), Math.ceil((samples.length - size) / MAX_COLUMNS));
  const columns = Math.max(1, Math.floor((samples.length - size) / hop) + 1);
  const bins = Math.min(size / 2, Math.round((maxHz / (sampleRate / 2)) * (size / 2)));
  canvas.width = columns;
  canvas.height = bins;
  const g = canvas.getContext("2d");
  const image = g.createImageData(columns, bins);
  const window = new Float32Array(size).map((_, i) => 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / size));
  const re = new Float32Array(size), im = new Float32Array(size);
  for (let x = 0; x < columns; x++) {
    for (let i = 0; i < size; i++) { re[i] = (samples[x * hop + i] || 0) * window[i]; im[i] = 0; }
    fftInPlace(re, im);
    for (let b = 0; b < bins; b++) {
      const power = (re[b] * re[b] + im[b] * im[b]) / size;
      const db = 10 * Math.log10(power + 1e-12);
      const t = Math.min(1, Math.max(0, (db - floorDb) / -floorDb));
      const [r, gg, bb] = palette(t);
      const o = ((bins - 1 - b) * columns + x) * 4;
      image.data[o] = r; image.data[o + 1] = gg; image.data[o + 2] = bb; image.data[o + 3] = 255;
    }
  }
  g.putImageData(image, 0, 0);
}
