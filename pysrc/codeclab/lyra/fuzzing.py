"""Fuzz formats of the speech tool: the WAV files a user gives it and the .lyra files it reads back
(see codeclab.fuzzing)."""

from __future__ import annotations

import os
import random
import shutil
import struct
from pathlib import Path

import numpy as np

from ..fuzzing import HUGE_VALUES, Format, LengthField, run_encoder
from .config import BITRATES, num_quantizers_for_bitrate
from .lyrafile import RUNS_SIGNATURE, RUNS_VERSION, lyra_bytes, parse_lyra
from .packet import pack_for_bitrate, unpack
from .wav import read_wav, wav_bytes


def run_wav(data: bytes) -> None:
    read_wav(data)


def wav_seeds(work: Path) -> list[bytes]:
    """A 16-bit mono file, and sox's conversions of it (24-bit, float, three channels, 8-bit)."""
    signal = (np.sin(np.arange(800) / 5.0) * 12000).astype(np.int16)
    out = [wav_bytes(signal, 16000)]
    sox = shutil.which("sox")
    if sox:
        (work / "s.wav").write_bytes(out[0])
        for i, options in enumerate([["-b", "24"], ["-e", "floating-point", "-b", "32"], ["-c", "3"], ["-b", "8"]]):
            run_encoder([sox, "-D", "s.wav", *options, f"o{i}.wav"], work)
            out.append((work / f"o{i}.wav").read_bytes())
    return out


def wav_length_fields(data: bytes) -> list[LengthField]:
    """The RIFF size, every chunk's size, and the fmt chunk's channels, block align and bits."""
    fields: list[LengthField] = [(4, 4, "little")]
    pos = 12
    while pos + 8 <= len(data) and len(fields) < 64:
        fields.append((pos + 4, 4, "little"))
        size = int.from_bytes(data[pos + 4:pos + 8], "little")
        if data[pos:pos + 4] == b"fmt ":
            fields += [(pos + 10, 2, "little"), (pos + 20, 2, "little"), (pos + 22, 2, "little")]
        pos += 8 + size + (size & 1)
    return fields


def wav_grammar(rng: random.Random, _seeds: list[bytes]) -> bytes:
    tag = rng.choice((1, 1, 3, 0xFFFE, 2, 0))
    channels = rng.choice((0, 1, 2, 6, 255, 65535))
    bits = rng.choice((0, 8, 12, 16, 24, 32, 64))
    block = rng.choice(((channels * bits // 8) & 0xFFFF, 0, 1, 0xFFFF))
    rate = rng.choice((0, 8000, 16000, 48000, 0xFFFFFFFF))
    fmt = struct.pack("<HHIIHH", tag, channels, rate, (rate * block) & 0xFFFFFFFF, block, bits)
    if tag == 0xFFFE:
        sub = rng.choice((1, 3, 2))
        fmt += struct.pack("<HHI", 22, bits, 3) + struct.pack("<H", sub) + bytes.fromhex("000000001000800000aa00389b71")
    body = b"WAVE"
    chunks = [(b"fmt ", fmt)]
    if rng.random() < 0.4:
        chunks.insert(rng.randint(0, 1), (b"LIST", os.urandom(rng.randint(0, 40))))
    payload = os.urandom(rng.randint(0, 4000))
    chunks.append((b"data", payload))
    for kind, content in chunks:
        size = len(content) if rng.random() < 0.8 else rng.choice(HUGE_VALUES)
        body += kind + struct.pack("<I", size) + content + (b"\0" if len(content) & 1 else b"")
    riff = len(body) if rng.random() < 0.8 else rng.choice(HUGE_VALUES)
    return b"RIFF" + struct.pack("<I", riff) + body


def run_packets(data: bytes) -> None:
    for packet in parse_lyra(data).packets:
        unpack(packet)


def packet_seeds(_work: Path) -> list[bytes]:
    """A file at each bitrate, and one whose bitrate changes (a file of runs)."""
    rng = np.random.default_rng(7)
    out = []
    for bitrate in BITRATES:
        quantizers = num_quantizers_for_bitrate(bitrate)
        packets = [pack_for_bitrate(rng.integers(0, 16, quantizers), bitrate) for _ in range(5)]
        out.append(lyra_bytes(packets))
    out.append(lyra_bytes([pack_for_bitrate(rng.integers(0, 16, num_quantizers_for_bitrate(b)), b)
                           for b in (6000, 6000, 3200, 9200, 3200)]))
    return out


def packet_grammar(rng: random.Random, _seeds: list[bytes]) -> bytes:
    if rng.random() < 0.5:  # a file of runs: signature, version, runs with any header values
        out = bytearray(RUNS_SIGNATURE + bytes([rng.choice((RUNS_VERSION, RUNS_VERSION, 0, 2, 255))]))
        for _ in range(rng.randint(0, 4)):
            bitrate = rng.choice((3200, 6000, 9200, 0, 6100, rng.getrandbits(32)))
            count = rng.choice((0, 1, 2, 65535, rng.getrandbits(16)))
            out += struct.pack("<IH", bitrate, count) + os.urandom(rng.choice((0, 8, 15, 23, 46, rng.randint(0, 300))))
        return bytes(out[:rng.randint(0, len(out))] if rng.random() < 0.3 else out)
    size = rng.choice((0, 1, 8, 15, 23, 24, 40, 46, 69, rng.randint(0, 5000)))
    return os.urandom(size)


FORMATS = (
    Format("wav", "wav", run_wav, wav_seeds, wav_grammar, wav_length_fields),
    Format("lyra", "lyra", run_packets, packet_seeds, packet_grammar),
)
