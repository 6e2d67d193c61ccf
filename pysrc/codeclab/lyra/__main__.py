"""python -m codeclab.lyra encode IN.wav OUT.lyra --bitrate 3200|6000|9200
python -m codeclab.lyra decode IN.lyra OUT.wav [--sample-rate N] [--bitrate B] [--loss P --burst L --seed S]
python -m codeclab.lyra score REFERENCE.wav DECODED.wav
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from ..errors import CodeclabError
from .config import BITRATES, SUPPORTED_SAMPLE_RATES
from .decoder import LyraDecoder
from .encoder import LyraEncoder
from .gilbert import GilbertModel
from .lyrafile import read_lyra, write_lyra
from .metrics import score
from .models import DEFAULT_MODEL_DIR, load_models
from .resample import resample
from .wav import read_wav, write_wav


def _add_model_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model-dir", default=str(DEFAULT_MODEL_DIR),
                        help="folder with the converted models (default: %(default)s)")
    parser.add_argument("--backend", choices=("auto", "onnx", "tflite"), default="auto",
                        help="onnx (converter output), tflite (upstream files) or auto")
    parser.add_argument("--threads", type=int, default=1, help="model threads (default 1)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m codeclab.lyra", description="Lyra v2 speech codec")
    commands = parser.add_subparsers(dest="command", required=True)
    enc = commands.add_parser("encode", help="WAV -> .lyra packets")
    enc.add_argument("input")
    enc.add_argument("output")
    enc.add_argument("--bitrate", type=int, choices=BITRATES, default=3200)
    _add_model_args(enc)
    dec = commands.add_parser("decode", help=".lyra packets -> WAV (16-bit mono)")
    dec.add_argument("input")
    dec.add_argument("output")
    dec.add_argument("--sample-rate", type=int, default=16000, choices=SUPPORTED_SAMPLE_RATES)
    dec.add_argument("--bitrate", type=int, choices=BITRATES, default=None,
                     help="bitrate of a raw packet file (default: inferred from the file size; "
                          "a file of runs says its own)")
    dec.add_argument("--loss", type=float, default=0.0, help="simulated packet loss rate 0..1")
    dec.add_argument("--burst", type=float, default=1.0, help="average loss burst length in packets")
    dec.add_argument("--seed", type=int, default=5489, help="seed of the loss model and comfort noise")
    _add_model_args(dec)
    sco = commands.add_parser("score", help="STOI and log-spectral distance of a decoded WAV")
    sco.add_argument("reference")
    sco.add_argument("decoded")
    return parser


def _read_wav_warning(path: str):
    """read_wav, with the file's header warnings (sizes that disagree with the file) on stderr."""
    audio = read_wav(path)
    for warning in audio.warnings:
        print(f"warning: {path}: {warning}", file=sys.stderr)
    return audio


def _encode(args) -> int:
    audio = _read_wav_warning(args.input)
    models = load_models(args.model_dir, args.backend, args.threads)
    encoder = LyraEncoder(audio.sample_rate, args.bitrate, models)
    start = time.perf_counter()
    packets = encoder.encode_all(audio.samples)
    elapsed = time.perf_counter() - start
    write_lyra(args.output, packets)
    print(f"{args.input}: {audio.duration_seconds:.2f} s at {audio.sample_rate} Hz -> {len(packets)} packets "
          f"of {len(packets[0]) if packets else 0} bytes at {args.bitrate} bps ({models.backend}, "
          f"{1000 * elapsed / max(1, len(packets)):.2f} ms/frame)")
    return 0


def _decode(args) -> int:
    stream = read_lyra(args.input, args.bitrate)
    if stream.trailing_bytes:
        print(f"warning: dropped {stream.trailing_bytes} trailing bytes that do not make a whole packet",
              file=sys.stderr)
    loss = GilbertModel(args.loss, args.burst, seed=args.seed)
    received = loss.pattern(len(stream.packets)) if args.loss > 0 else None
    models = load_models(args.model_dir, args.backend, args.threads)
    decoder = LyraDecoder(args.sample_rate, models, seed=args.seed)
    start = time.perf_counter()
    samples = decoder.decode_packets(stream.packets, received)
    elapsed = time.perf_counter() - start
    write_wav(args.output, samples, args.sample_rate)
    lost = 0 if received is None else int((~received).sum())
    changes = len(stream.runs) - 1
    changes = f" ({changes} bitrate change{'s' if changes > 1 else ''})" if changes else ""
    print(f"{args.input}: {len(stream.packets)} packets at {stream.describe_bitrate()}{changes} -> {samples.size} samples at "
          f"{args.sample_rate} Hz; {lost} lost and concealed ({models.backend}, "
          f"{1000 * elapsed / max(1, len(stream.packets)):.2f} ms/frame)")
    return 0


def _score(args) -> int:
    reference = _read_wav_warning(args.reference)
    decoded = _read_wav_warning(args.decoded)
    other = decoded.samples.astype(np.float64)
    if decoded.sample_rate != reference.sample_rate:
        other = resample(other, decoded.sample_rate, reference.sample_rate)
    result = score(reference.samples / 32768.0, other / 32768.0, reference.sample_rate)
    print(f"STOI {result['stoi']:.3f}  log-spectral distance {result['lsd_db']:.2f} dB  "
          f"delay {result['delay_ms']:.1f} ms")
    return 0


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return {"encode": _encode, "decode": _decode, "score": _score}[args.command](args)
    except CodeclabError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
