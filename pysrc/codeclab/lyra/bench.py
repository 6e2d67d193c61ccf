"""Per-frame encode/decode timing of the codec on a given model bundle (for ``build.py bench``).

``python -m codeclab.lyra.bench --model-dir DIR --backend tflite|onnx`` prints one JSON row per
sample rate; ``measure`` returns the same dict for callers.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from .decoder import LyraDecoder
from .encoder import LyraEncoder
from .models import DECODER_MODEL, ENCODER_MODEL, MODEL_IO, load_models


def _best_of(repeats: int, run) -> float:
    return min(run() for _ in range(repeats))


def measure(models_factory, samples, sample_rate: int, bitrate: int = 6000, repeats: int = 3) -> dict:
    """ms per 20 ms frame for encode() and set_encoded_packet()+decode_samples(), best of ``repeats``."""
    hop = sample_rate // 50
    frames = np.asarray(samples).reshape(-1)[: (np.asarray(samples).size // hop) * hop].reshape(-1, hop)
    packets = LyraEncoder(sample_rate, bitrate, models_factory()).encode_all(frames.reshape(-1))

    def encode_run():
        encoder = LyraEncoder(sample_rate, bitrate, models_factory())
        start = time.perf_counter()
        for frame in frames:
            encoder.encode(frame)
        return (time.perf_counter() - start) * 1000 / len(frames)

    def decode_run():
        decoder = LyraDecoder(sample_rate, models_factory())
        start = time.perf_counter()
        for packet in packets:
            decoder.set_encoded_packet(packet)
            decoder.decode_samples(hop)
        return (time.perf_counter() - start) * 1000 / len(packets)

    encode_ms = _best_of(repeats, encode_run)
    decode_ms = _best_of(repeats, decode_run)
    return {"sample_rate": sample_rate, "bitrate": bitrate, "frames": len(frames),
            "encode_ms_per_frame": encode_ms, "decode_ms_per_frame": decode_ms,
            "real_time_factor": (encode_ms + decode_ms) / 20.0}


def model_only(models, calls: int = 300) -> dict:
    """ms per call of each model alone (state carried), after a warm-up."""
    result = {}
    for name, shape in ((ENCODER_MODEL, (1, 320)), (DECODER_MODEL, (1, 1, 64))):
        model = models.encoder_model() if name == ENCODER_MODEL else models.decoder_model()
        feed = {MODEL_IO[name][0]: np.zeros(shape, np.float32)}
        for _ in range(20):
            model.step(feed)
        start = time.perf_counter()
        for _ in range(calls):
            model.step(feed)
        result[f"{name}_ms"] = (time.perf_counter() - start) * 1000 / calls
    return result


def main(argv=None) -> int:  # pragma: no cover - exercised by hand / build.py bench
    from .wav import read_wav

    parser = argparse.ArgumentParser(prog="python -m codeclab.lyra.bench")
    parser.add_argument("--model-dir", required=True)
    parser.add_argument("--backend", default="auto", choices=("auto", "onnx", "tflite"))
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--wav", nargs="+", required=True, help="speech WAV files (8/16/32/48 kHz)")
    args = parser.parse_args(argv)
    base = load_models(args.model_dir, args.backend, args.threads)
    print(json.dumps({"backend": base.backend, "threads": args.threads, **model_only(base.fresh())}))
    for path in args.wav:
        audio = read_wav(path)
        row = measure(base.fresh, audio.samples, audio.sample_rate)
        print(json.dumps({"backend": base.backend, "threads": args.threads, **row}))
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
