"""Per-frame encode/decode timing of the codec on a given model bundle (for ``build.py bench``).

``python -m codeclab.lyra.bench --model-dir DIR --backend tflite|onnx`` prints one JSON row per
sample rate; ``measure`` returns the same dict for callers.  ``step_profile`` and
``service_profile`` time the model-free Python of a page request (the bench runs them in Pyodide:
tests/bench/lyra_pyodide.mjs).
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from .concealment import drive_sync
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


def step_profile(codebooks, frames: int = 150, sample_rate: int = 48000, bitrate: int = 6000,
                 burst: int = 50) -> dict:
    """ms per frame of each model-free step of the page's encode and decode, in this interpreter
    (the bench runs it in Pyodide: tests/bench/lyra_pyodide.mjs), one hop per call and in
    bursts of ``burst`` hops as ``encoder_encode_many`` / ``decoder_receive_many`` do them.  The
    models are stood in for (a fixed signal), so this is the Python work a frame costs beside
    the model, the model's crossing and the worker round trip."""
    from .decoder import DecoderSession
    from .encoder import EncoderSession
    from .packet import pack, pack_many, unpack
    from .rvq import decode as rvq_decode
    from .rvq import encode as rvq_encode
    from .rvq import encode_many as rvq_encode_many

    rng = np.random.default_rng(0)
    hop = sample_rate // 50
    clip = (rng.normal(0, 0.1, frames * hop)).astype(np.float32)
    features = rng.normal(0, 1, (frames, 64)).astype(np.float32)
    speech = (rng.normal(0, 0.05, (frames, 320))).astype(np.float32)  # LyraGAN's stand-in output
    encoder = EncoderSession(sample_rate, bitrate, codebooks)
    quantizers = encoder.num_quantizers
    times: dict[str, list[float]] = {}

    def timed(name, action, per=1):
        start = time.perf_counter()
        result = action()
        times.setdefault(name, []).append((time.perf_counter() - start) * 1000 / per)
        return result

    packets = []
    for k in range(frames):
        timed("encode: framing + resampling + float32 (per hop)", lambda k=k: encoder.prepare(clip[k * hop:(k + 1) * hop]))
        indices = timed("encode: RVQ quantise (per hop)", lambda k=k: rvq_encode(features[k], quantizers, codebooks))
        packets.append(timed("encode: bit packing (per hop)", lambda indices=indices: pack(indices)))
    for _ in range(5):  # rounds: a burst is one sample, and the worker shares the cores
        encoder = EncoderSession(sample_rate, bitrate, codebooks)
        for first in range(0, frames, burst):
            n = min(burst, frames - first)
            timed("encode: framing + resampling + float32 (burst)",
                  lambda first=first, n=n, encoder=encoder: encoder.prepare_many(clip[first * hop:(first + n) * hop]), n)
            indices = timed("encode: RVQ quantise (burst)",
                            lambda first=first, n=n: rvq_encode_many(features[first:first + n], quantizers, codebooks), n)
            timed("encode: bit packing (burst)", lambda indices=indices: pack_many(indices), n)

    out_hop = 320
    decoder = DecoderSession(16000, codebooks)
    lost = set(range(40, 48)) | {90, 91}  # a long loss (into comfort noise) and a short one

    outputs = iter(np.tile(speech, (4, 1)))

    def model_fn(_features):
        return next(outputs)

    for k, packet in enumerate(packets):
        if k not in lost:
            timed("decode: bit unpacking (per hop)", lambda packet=packet: unpack(packet))
            found = timed("decode: RVQ dequantise (per hop)", lambda packet=packet: rvq_decode(unpack(packet), codebooks))
            decoder.add_features(found, len(packet))
        samples = timed("decode: concealment + noise estimate + int16 (per hop)",
                        lambda: drive_sync(decoder.decode_steps(out_hop), model_fn))
        timed("decode: to float32 (per hop)", lambda samples=samples: samples.astype(np.float32) / 32768.0)
    decoder = DecoderSession(16000, codebooks)
    for _ in range(5):
        for first in range(0, frames, burst):
            n = min(burst, frames - first)
            hops = [None if k in lost else decoder.parse_packet(packets[k]) for k in range(first, first + n)]
            timed("decode: plan of the model inputs (burst)", lambda hops=hops: decoder.plan(hops, out_hop), n)
    for name in list(times):
        times[name] = float(np.median(times[name]))
    return times


def service_profile(assets: dict, frames: int = 150, sample_rate: int = 48000, bitrate: int = 6000,
                    burst: int = 50) -> dict:
    """ms per frame of the page's service calls themselves, whole (streams, locks, the burst's plan),
    on a runner that answers at once: what a request costs in Python beside the conversions, the
    model and the worker round trip.  ``assets``: ``lyra.set_assets``'s arguments, as the page
    sends them (with the models' initial states the streams go through ``run_stream``, as in the page)."""
    from . import service

    service.set_assets(**assets)
    runner = _InstantRunner()
    rng = np.random.default_rng(0)
    hop = sample_rate // 50
    clip = rng.normal(0, 0.1, frames * hop).astype(np.float32)
    times: dict[str, list[float]] = {}

    def timed(name, coroutine, per=1):
        start = time.perf_counter()
        try:
            coroutine.send(None)
        except StopIteration as done:
            times.setdefault(name, []).append((time.perf_counter() - start) * 1000 / per)
            return done.value
        raise RuntimeError("a profiled call waited for something")

    enc = service.encoder_open(sample_rate, bitrate)["id"]
    dec = service.decoder_open(16000)["id"]
    packets = [timed("encode: the whole service call, one hop (encoder_encode)",
                     service.encoder_encode(enc, clip[k * hop:(k + 1) * hop], runner)) for k in range(frames)]
    for packet in packets:
        timed("decode: the whole service call, one hop (decoder_receive)",
              service.decoder_receive(dec, 320, runner, packet))
    service.close(enc)
    service.close(dec)
    for _ in range(5):  # rounds: a burst is one sample, and the machine is shared
        enc = service.encoder_open(sample_rate, bitrate)["id"]
        dec = service.decoder_open(16000)["id"]
        for first in range(0, frames - burst + 1, burst):
            data = timed(f"encode: the whole service call, bursts of {burst} (encoder_encode_many)",
                         service.encoder_encode_many(enc, clip[first * hop:(first + burst) * hop], runner), burst)
            timed(f"decode: the whole service call, bursts of {burst} (decoder_receive_many)",
                  service.decoder_receive_many(dec, 320, data, [len(data) // burst] * burst, runner), burst)
        service.close(enc)
        service.close(dec)
    return {name: float(np.median(values)) for name, values in times.items()}


class _InstantRunner:
    """A model runner that answers at once (zeros of the right size): for ``service_profile``."""

    runs_frames = True
    SIZES = {ENCODER_MODEL: 64, DECODER_MODEL: 320}

    async def run_stream(self, name, stream, feeds, init, frames=None):
        return {MODEL_IO[name][1]: np.zeros((frames or 1, self.SIZES[name]), dtype=np.float32)}

    async def run(self, name, feeds):
        return {MODEL_IO[name][1]: np.zeros((1, self.SIZES[name]), dtype=np.float32)}


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
