"""A parity corpus of generated audio: deterministic, seeded, made in the test (nothing committed).

Each clip is 16 kHz float32 in -1..1 and is run as one stream (state carried from
frame to frame, reset between clips).  The kinds are chosen to walk the models'
quantisers over their whole range: levels from silence to past full scale, flat
and coloured spectra, pure tones at the band edges, transients, hard clipping,
speech-like formant synthesis, and material made at 8, 32 and 48 kHz brought to
16 kHz by codeclab's resampler (so its band edge and ripple are in the corpus too).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

RATE = 16000
FRAME = 320  # 20 ms
SEED = 20261201


@dataclass(frozen=True)
class Clip:
    name: str
    audio: np.ndarray  # float32, length a whole number of frames

    @property
    def frames(self) -> np.ndarray:
        return self.audio.reshape(-1, 1, FRAME)


def _seconds(rate: int, seconds: float) -> np.ndarray:
    return np.arange(int(round(rate * seconds))) / rate


def white(rng, seconds, rms, rate=RATE):
    return rms * rng.standard_normal(int(rate * seconds))


def pink(rng, seconds, rms, rate=RATE):
    """1/f power spectrum, by shaping white noise's spectrum with 1/sqrt(f)."""
    n = int(rate * seconds)
    spectrum = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1 / rate)
    spectrum[1:] /= np.sqrt(f[1:] / f[1])
    spectrum[0] = 0
    x = np.fft.irfft(spectrum, n)
    return rms * x / np.sqrt(np.mean(x ** 2))


def tone(seconds, freq, amplitude, rate=RATE):
    return amplitude * np.sin(2 * np.pi * freq * _seconds(rate, seconds))


def sweep(seconds, f0, f1, amplitude, rate=RATE):
    """Exponential sine sweep f0 -> f1."""
    t = _seconds(rate, seconds)
    k = np.log(f1 / f0) / seconds
    return amplitude * np.sin(2 * np.pi * f0 * (np.exp(k * t) - 1) / k)


def clicks(rng, seconds, amplitude, rate=RATE):
    x = np.zeros(int(rate * seconds))
    at = rng.choice(len(x), size=int(12 * seconds), replace=False)
    x[at] = amplitude * rng.choice([-1.0, 1.0], size=len(at))
    return x


def resonator(x, freq, bandwidth, rate):
    """Two-pole resonance (unit gain at its peak), the classic formant filter."""
    r = np.exp(-np.pi * bandwidth / rate)
    a1, a2 = -2 * r * np.cos(2 * np.pi * freq / rate), r * r
    from scipy.signal import lfilter

    return lfilter([1 + a1 + a2], [1, a1, a2], x)


VOWELS = {"a": (730, 1090, 2440), "i": (270, 2290, 3010), "u": (300, 870, 2240),
          "e": (530, 1840, 2480), "o": (570, 840, 2410)}


def formant_speech(rng, seconds, level, rate=RATE, f0_range=(90, 240)):
    """Glottal pulses (a Rosenberg-like shape at a drifting f0) through three formant
    resonators that move from vowel to vowel, with syllable-rate loudness and pauses."""
    n = int(rate * seconds)
    t = np.arange(n) / rate
    f0 = np.interp(t, np.linspace(0, seconds, 8), rng.uniform(*f0_range, 8))
    phase = np.cumsum(f0 / rate) % 1.0
    open_phase = 0.6
    glottal = np.where(phase < open_phase, np.sin(np.pi * phase / open_phase) ** 2, 0.0)
    source = np.diff(glottal, prepend=0.0) + 0.02 * rng.standard_normal(n)  # flow derivative + breath
    syllables = max(int(seconds * 4), 1)
    names = rng.choice(list(VOWELS), size=syllables)
    out = np.zeros(n)
    edges = np.linspace(0, n, syllables + 1).astype(int)
    state = source
    for k in range(3):
        targets = np.array([VOWELS[v][k] for v in names], float)
        # piecewise: filter each syllable with its formants (a step change, like a consonant)
        for s in range(syllables):
            lo, hi = edges[s], edges[s + 1]
            out[lo:hi] = resonator(state[lo:hi], targets[s], 60 + 40 * k, rate)[: hi - lo]
        state, out = out, np.zeros(n)
    envelope = np.clip(np.sin(np.pi * (t * 4 % 1.0)), 0, None) ** 0.5
    envelope *= rng.uniform(0.2, 1.0, syllables).repeat(np.diff(edges))
    envelope[rng.random(n // 4000 + 1).repeat(4000)[:n] < 0.15] = 0.0  # pauses
    x = state * envelope
    return level * x / max(np.abs(x).max(), 1e-12)


def _to_16k(x, rate):
    from codeclab.lyra.resample import resample

    return x if rate == RATE else resample(np.asarray(x, np.float32), rate, RATE)


def _clip(name: str, x) -> Clip:
    x = np.asarray(x, np.float64)
    usable = len(x) // FRAME * FRAME
    return Clip(name, np.clip(x[:usable], -1.0, 1.0).astype(np.float32))


def build_corpus(seed: int = SEED) -> list[Clip]:
    rng = np.random.default_rng(seed)
    clips = []
    for rms in (0.7, 0.25, 0.03, 1e-3, 3e-5):  # 0.7 rms clips often: near and past full scale
        clips.append(_clip(f"white rms {rms}", white(rng, 3.0, rms)))
    for rms in (0.3, 0.01):
        clips.append(_clip(f"pink rms {rms}", pink(rng, 3.0, rms)))
    for freq, amp in ((100, 0.9), (440, 0.3), (1000, 0.05), (3150, 0.5), (7600, 0.8), (250, 1e-3)):
        clips.append(_clip(f"tone {freq} Hz x{amp}", tone(2.0, freq, amp)))
    clips.append(_clip("sweep 40 Hz-7.9 kHz", sweep(4.0, 40, 7900, 0.7)))
    clips.append(_clip("quiet sweep", sweep(2.0, 7900, 60, 0.004)))
    clips.append(_clip("clicks", clicks(rng, 3.0, 0.95)))
    clips.append(_clip("silence", np.zeros(RATE * 2)))
    clips.append(_clip("dc then silence", np.r_[np.full(RATE, 0.4), np.zeros(RATE)]))
    clips.append(_clip("clipped 200 Hz x4", np.clip(tone(2.0, 200, 4.0), -1, 1)))
    clips.append(_clip("square 150 Hz full scale", np.sign(tone(2.0, 150, 1.0) + 1e-9)))
    for k, (level, f0) in enumerate(((0.8, (80, 140)), (0.3, (160, 300)), (0.05, (100, 220)),
                                     (0.99, (90, 250)), (0.15, (120, 200)), (0.6, (70, 120)))):
        clips.append(_clip(f"formant speech {k} peak {level}", formant_speech(rng, 4.0, level, f0_range=f0)))
    for rate in (8000, 32000, 48000):
        clips.append(_clip(f"formant speech @{rate} Hz", _to_16k(formant_speech(rng, 4.0, 0.7, rate), rate)))
        clips.append(_clip(f"white rms 0.2 @{rate} Hz", _to_16k(white(rng, 2.0, 0.2, rate), rate)))
        clips.append(_clip(f"sweep @{rate} Hz", _to_16k(sweep(2.0, 50, rate * 0.45, 0.6, rate), rate)))
    mixed = formant_speech(rng, 6.0, 0.5) + pink(rng, 6.0, 0.02)
    clips.append(_clip("speech in pink noise", mixed))
    return clips
