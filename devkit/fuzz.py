"""The fuzz harness: ``python3 build.py fuzz [--minutes N] [--format F] [--seed S]``.

Every parser a user's file reaches -- JPEG XL, KTX2, .basis, WAV, PNG/JPEG (attention), .lyra --
gets cases made by mutating seeds written by the real encoders (cjxl, basisu, Pillow, sox,
codeclab.lyra) and by generating headers from each format's grammar.  Each case runs in a worker
subprocess under an address-space limit (RLIMIT_AS) and a per-case timeout (the worker is killed
and restarted on a timeout), and ends as one of

* ``ok``       -- parsed;
* ``typed``    -- a CodeclabError (the message a user sees);
* ``untyped``  -- any other exception (a bug: a traceback in the CLI, a raw message in the page);
* ``timeout``  -- ran past the per-case limit;
* ``memory``   -- MemoryError, or the worker died (an allocation failing under the limit).

Anything not ok/typed is minimized (delta debugging on bytes, keeping the same outcome and
exception type) and written to the regression corpus ``tests/fuzz/corpus/<format>/``, which
``tests/fuzz/test_regressions.py`` replays in the normal test suite.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import multiprocessing
import os
import random
import resource
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "tests" / "fuzz" / "corpus"
FORMATS = ("jxl", "ktx2", "basis", "wav", "png", "jpeg", "lyra")
EXTENSIONS = {"jxl": "jxl", "ktx2": "ktx2", "basis": "basis", "wav": "wav", "png": "png", "jpeg": "jpg",
              "lyra": "lyra"}
OUTCOMES = ("ok", "typed", "untyped", "timeout", "memory")
BAD_OUTCOMES = ("untyped", "timeout", "memory")
BASISU = REPO / "node_modules" / "@gpu-tex-enc" / "basis" / "bin" / "linux-x64" / "basisu"

DEFAULT_CASE_SECONDS = 15.0  # a legitimate 64 MP image takes ~6 s to decode and predict in CPython
DEFAULT_MEMORY_MB = 2048


# ----------------------------------------------------------------------------- the targets

def run_target(fmt: str, data: bytes) -> None:
    """What the page (and the CLIs) do with a file of this format."""
    if fmt == "jxl":
        from codeclab.jxl import service  # noqa: PLC0415 (imported in the worker only)

        info = service.inspect(data)
        center = [info["display_width"] / 3, info["display_height"] / 3]
        service.load_plan(data, center)
        service.reorder_bytes(data, center)
    elif fmt in ("ktx2", "basis"):
        from codeclab.basis import service  # noqa: PLC0415

        service.inspect(data)
        service.plan(data, ["WEBGL_compressed_texture_astc", "EXT_texture_compression_bptc"])
        service.plan(data, [])
    elif fmt == "wav":
        from codeclab.lyra.wav import read_wav  # noqa: PLC0415

        read_wav(data)
    elif fmt in ("png", "jpeg"):
        from codeclab.attention.predict import predict_pixels  # noqa: PLC0415
        from codeclab.imaging import decode_rgb  # noqa: PLC0415

        image = decode_rgb(data)
        predict_pixels(image.source, None, "fallback")
    elif fmt == "lyra":
        from codeclab.lyra.lyrafile import parse_lyra  # noqa: PLC0415
        from codeclab.lyra.packet import unpack  # noqa: PLC0415

        for packet in parse_lyra(data).packets:
            unpack(packet)
    else:
        raise ValueError(f"unknown format {fmt!r}")


@dataclass
class Result:
    outcome: str
    detail: str = ""
    seconds: float = 0.0
    peak_mb: float = 0.0

    @property
    def signature(self) -> tuple[str, str]:
        """What a minimized case must keep: the outcome and the exception type."""
        return self.outcome, self.detail.split(":", 1)[0]


def classify(fmt: str, data: bytes) -> Result:
    """Runs one case in this process (the worker; the regression test) and names its outcome."""
    from codeclab.errors import CodeclabError  # noqa: PLC0415

    _reset_peak_rss()
    start = time.perf_counter()
    try:
        run_target(fmt, data)
        outcome, detail = "ok", ""
    except CodeclabError as err:
        outcome, detail = "typed", f"{type(err).__name__}: {err}"
    except MemoryError as err:
        outcome, detail = "memory", f"MemoryError: {err}"
    except Exception as err:  # noqa: BLE001 (this is what the harness looks for)
        outcome, detail = "untyped", f"{type(err).__name__}: {err}"
    return Result(outcome, detail[:300], time.perf_counter() - start, _peak_rss_mb())


def _reset_peak_rss() -> None:
    """Linux: writing 5 to clear_refs resets the peak RSS (VmHWM), so each case reports its own."""
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
    except OSError:
        pass


def _peak_rss_mb() -> float:
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _worker_main(conn, memory_mb: int, paths: list[str]) -> None:
    sys.path[:0] = [p for p in paths if p not in sys.path]
    limit = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    import warnings  # noqa: PLC0415

    warnings.simplefilter("ignore")
    while True:
        try:
            message = conn.recv()
        except EOFError:
            return
        if message is None:
            return
        conn.send(classify(*message))


class Worker:
    """One subprocess running cases under the memory limit; killed and restarted on a timeout."""

    def __init__(self, memory_mb: int = DEFAULT_MEMORY_MB, case_seconds: float = DEFAULT_CASE_SECONDS):
        self.memory_mb, self.case_seconds = memory_mb, case_seconds
        self.context = multiprocessing.get_context("spawn")
        self.process = None
        self.conn = None
        self.restarts = 0

    def _start(self) -> None:
        parent, child = self.context.Pipe()
        paths = [str(REPO / "pysrc"), str(REPO)]
        self.process = self.context.Process(target=_worker_main, args=(child, self.memory_mb, paths), daemon=True)
        self.process.start()
        child.close()
        self.conn = parent

    def _kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.join()
            self.process = None
            self.restarts += 1

    def run(self, fmt: str, data: bytes) -> Result:
        if self.process is None or not self.process.is_alive():
            self._start()
        start = time.perf_counter()
        try:
            self.conn.send((fmt, data))
            # the first case in a new worker also pays for its imports
            if self.conn.poll(self.case_seconds + (10.0 if self.restarts == 0 else 5.0)):
                return self.conn.recv()
        except (EOFError, BrokenPipeError, ConnectionResetError):
            code = self.process.exitcode if self.process else None
            self._kill()
            return Result("memory", f"WorkerDied: exit code {code}", time.perf_counter() - start)
        self._kill()
        return Result("timeout", f"Timeout: more than {self.case_seconds:.0f} s", time.perf_counter() - start)

    def close(self) -> None:
        if self.process is not None and self.process.is_alive():
            try:
                self.conn.send(None)
            except (BrokenPipeError, OSError):
                pass
            self.process.join(timeout=5)
            if self.process.is_alive():
                self.process.kill()
                self.process.join()
        self.process = None


# ----------------------------------------------------------------------------- seeds

def _textured(width: int, height: int, seed: int):
    import numpy as np  # noqa: PLC0415

    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    base = np.stack([(x * 255 // max(1, width - 1)), (y * 255 // max(1, height - 1)), (x ^ y) & 255], axis=2)
    return np.clip(base + rng.integers(-20, 20, (height, width, 3)), 0, 255).astype(np.uint8)


def _pillow(image, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def _image_seeds() -> dict[str, list[bytes]]:
    from PIL import Image  # noqa: PLC0415

    rgb = Image.fromarray(_textured(96, 64, 1))
    exif = Image.Exif()
    exif[0x0112] = 6
    png = [_pillow(rgb, "PNG"), _pillow(rgb.convert("P"), "PNG"), _pillow(rgb.convert("L"), "PNG"),
           _pillow(rgb.convert("RGBA"), "PNG"), _pillow(rgb.convert("1"), "PNG"),
           _pillow(Image.fromarray(_textured(40, 30, 2)[:, :, 0].astype("uint16") * 257), "PNG"),
           _pillow(rgb, "PNG", icc_profile=b"\0" * 200, exif=exif.tobytes())]
    jpeg = [_pillow(rgb, "JPEG", quality=80), _pillow(rgb, "JPEG", quality=50, progressive=True),
            _pillow(rgb.convert("L"), "JPEG"), _pillow(rgb.convert("CMYK"), "JPEG"),
            _pillow(rgb, "JPEG", exif=exif.tobytes(), subsampling=2)]
    return {"png": png, "jpeg": jpeg}


def _run(args: list[str], cwd: Path) -> None:
    subprocess.run(args, cwd=cwd, check=True, capture_output=True, timeout=120)


def _jxl_seeds(work: Path) -> list[bytes]:
    from PIL import Image  # noqa: PLC0415

    cjxl = shutil.which("cjxl")
    if cjxl is None:
        return []
    Image.fromarray(_textured(300, 280, 3)).save(work / "seed.png")
    Image.fromarray(_textured(40, 24, 4)).save(work / "small.png")
    out = []
    for i, (src, options) in enumerate([
        ("seed.png", ["-d", "1", "-e", "3", "--group_order=1", "--center_x=200", "--center_y=100"]),
        ("seed.png", ["-d", "0", "-e", "1"]),
        ("seed.png", ["-d", "2", "-e", "3", "-p"]),
        ("small.png", ["-d", "1", "-e", "3", "--container=1"]),
        ("small.png", ["-d", "0", "-e", "2"]),
    ]):
        target = work / f"seed{i}.jxl"
        _run([cjxl, src, str(target), *options], work)
        out.append(target.read_bytes())
    return out


def _basis_seeds(work: Path) -> dict[str, list[bytes]]:
    from PIL import Image  # noqa: PLC0415

    if not BASISU.exists():
        return {"ktx2": [], "basis": []}
    Image.fromarray(_textured(64, 48, 5)).save(work / "tex.png")
    Image.fromarray(_textured(32, 32, 6)).convert("RGBA").save(work / "texa.png")
    out: dict[str, list[bytes]] = {"ktx2": [], "basis": []}
    for i, (src, options) in enumerate([("tex.png", []), ("texa.png", ["-uastc"]), ("tex.png", ["-mipmap"])]):
        for kind, extra in (("ktx2", ["-ktx2"]), ("basis", [])):
            name = f"t{i}.{kind}"
            _run([str(BASISU), *extra, *options, "-file", src, "-output_file", name], work)
            out[kind].append((work / name).read_bytes())
    return out


def _wav_seeds(work: Path) -> list[bytes]:
    import numpy as np  # noqa: PLC0415

    from codeclab.lyra.wav import wav_bytes  # noqa: PLC0415

    signal = (np.sin(np.arange(800) / 5.0) * 12000).astype(np.int16)
    out = [wav_bytes(signal, 16000)]
    sox = shutil.which("sox")
    if sox:
        (work / "s.wav").write_bytes(out[0])
        for i, options in enumerate([["-b", "24"], ["-e", "floating-point", "-b", "32"], ["-c", "3"], ["-b", "8"]]):
            _run([sox, "-D", "s.wav", *options, f"o{i}.wav"], work)
            out.append((work / f"o{i}.wav").read_bytes())
    return out


def _lyra_seeds() -> list[bytes]:
    import numpy as np  # noqa: PLC0415

    from codeclab.lyra.config import BITRATES, num_quantizers_for_bitrate  # noqa: PLC0415
    from codeclab.lyra.lyrafile import lyra_bytes  # noqa: PLC0415
    from codeclab.lyra.packet import pack_for_bitrate  # noqa: PLC0415

    rng = np.random.default_rng(7)
    out = []
    for bitrate in BITRATES:
        quantizers = num_quantizers_for_bitrate(bitrate)
        packets = [pack_for_bitrate(rng.integers(0, 16, quantizers), bitrate) for _ in range(5)]
        out.append(lyra_bytes(packets))
    # A stream whose bitrate changed: the file of runs.
    out.append(lyra_bytes([pack_for_bitrate(rng.integers(0, 16, num_quantizers_for_bitrate(b)), b)
                           for b in (6000, 6000, 3200, 9200, 3200)]))
    return out


def make_seeds(formats: tuple[str, ...], work: Path) -> dict[str, list[bytes]]:
    """Real files from the real encoders (missing tools leave a format with grammar cases only)."""
    seeds: dict[str, list[bytes]] = {}
    if {"png", "jpeg"} & set(formats):
        seeds.update(_image_seeds())
    if "jxl" in formats:
        seeds["jxl"] = _jxl_seeds(work)
    if {"ktx2", "basis"} & set(formats):
        seeds.update(_basis_seeds(work))
    if "wav" in formats:
        seeds["wav"] = _wav_seeds(work)
    if "lyra" in formats:
        seeds["lyra"] = _lyra_seeds()
    return {fmt: seeds.get(fmt, []) for fmt in formats}


# ----------------------------------------------------------------------------- mutation

HUGE_VALUES = (0xFFFFFFFF, 0x7FFFFFFF, 0x80000000, 0x10000000, 0x00FFFFFF, 0xFFFF, 0x8000)


def _length_fields(fmt: str, data: bytes) -> list[tuple[int, int, str]]:
    """(offset, width, byte order) of size fields the format's structure points at."""
    fields: list[tuple[int, int, str]] = []
    if fmt == "png":
        pos = 8
        while pos + 8 <= len(data) and len(fields) < 64:
            fields.append((pos, 4, "big"))
            pos += 12 + int.from_bytes(data[pos:pos + 4], "big")
    elif fmt == "wav":
        fields.append((4, 4, "little"))
        pos = 12
        while pos + 8 <= len(data) and len(fields) < 64:
            fields.append((pos + 4, 4, "little"))
            size = int.from_bytes(data[pos + 4:pos + 8], "little")
            if data[pos:pos + 4] == b"fmt ":
                fields += [(pos + 10, 2, "little"), (pos + 20, 2, "little"), (pos + 22, 2, "little")]
            pos += 8 + size + (size & 1)
    elif fmt == "jxl" and data[:4] == b"\0\0\0\x0c":
        pos = 0
        while pos + 8 <= len(data) and len(fields) < 64:
            fields.append((pos, 4, "big"))
            size = int.from_bytes(data[pos:pos + 4], "big")
            if size < 8:
                break
            pos += size
    elif fmt == "jpeg":
        pos = 2
        while pos + 4 <= len(data) and data[pos] == 0xFF and len(fields) < 64:
            fields.append((pos + 2, 2, "big"))
            if data[pos + 1] in (0xC0, 0xC1, 0xC2):
                fields += [(pos + 5, 2, "big"), (pos + 7, 2, "big")]
            if data[pos + 1] == 0xDA:
                break
            pos += 2 + int.from_bytes(data[pos + 2:pos + 4], "big")
    elif fmt in ("ktx2", "basis"):
        fields += [(offset, 4, "little") for offset in range(12 if fmt == "ktx2" else 8, min(len(data), 104), 4)]
    return [f for f in fields if f[0] + f[1] <= len(data)]


def mutate(fmt: str, data: bytes, rng: random.Random) -> bytes:
    """One to three of: bit flips, interesting bytes, truncation, a size field set huge,
    chunk duplication or deletion."""
    out = bytearray(data)
    for _ in range(rng.randint(1, 3)):
        if not out:
            break
        kind = rng.choice(("flip", "flip", "byte", "truncate", "huge", "huge", "duplicate", "delete"))
        if kind == "flip":
            for _ in range(rng.randint(1, 8)):
                at = rng.randrange(len(out))
                out[at] ^= 1 << rng.randrange(8)
        elif kind == "byte":
            out[rng.randrange(len(out))] = rng.choice((0, 0xFF, 0x7F, 0x80, 1))
        elif kind == "truncate":
            del out[rng.randrange(len(out)):]
        elif kind == "huge":
            fields = _length_fields(fmt, bytes(out))
            if fields and rng.random() < 0.8:
                offset, width, order = rng.choice(fields)
            else:
                width, order = rng.choice(((4, "little"), (4, "big"), (2, "little"), (2, "big")))
                offset = rng.randrange(max(1, len(out) - width))
            value = rng.choice(HUGE_VALUES) & ((1 << (8 * width)) - 1)
            out[offset:offset + width] = value.to_bytes(width, order)
        elif kind == "duplicate":
            a = rng.randrange(len(out))
            b = min(len(out), a + rng.randint(1, 512))
            at = rng.randrange(len(out) + 1)
            out[at:at] = out[a:b] * rng.choice((1, 1, 2, 16))
        else:
            a = rng.randrange(len(out))
            del out[a:a + rng.randint(1, 64)]
    if fmt == "basis" and rng.random() < 0.7:
        _fix_basis_crcs(out)  # most mutations would otherwise stop at the CRC check
    return bytes(out[:1 << 22])


def _fix_basis_crcs(out: bytearray) -> None:
    from codeclab.basis.basisfile import HEADER_OFFSETS, HEADER_SIZE  # noqa: PLC0415
    from codeclab.basis.common import crc16  # noqa: PLC0415

    if len(out) < HEADER_SIZE:
        return
    data_off, data_w = HEADER_OFFSETS["data_crc16"]
    size_off, size_w = HEADER_OFFSETS["data_size"]
    size = int.from_bytes(out[size_off:size_off + size_w], "little")
    out[data_off:data_off + data_w] = crc16(bytes(out[HEADER_SIZE:HEADER_SIZE + size])).to_bytes(2, "little")
    head_off, head_w = HEADER_OFFSETS["header_crc16"]
    out[head_off:head_off + head_w] = crc16(bytes(out[8:HEADER_SIZE])).to_bytes(2, "little")


# ----------------------------------------------------------------------------- grammar

def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def grammar_png(rng: random.Random) -> bytes:
    color, depths = rng.choice(((0, (1, 2, 4, 8, 16)), (2, (8, 16)), (3, (1, 2, 4, 8)), (4, (8, 16)), (6, (8, 16))))
    width = rng.choice((1, 2, 7, 600, 8000, 65535, 1 << 20, rng.randint(1, 3000)))
    height = rng.choice((1, 3, 480, 8000, rng.randint(1, 3000)))
    ihdr = struct.pack(">IIBBBBB", width, height, rng.choice(depths), color, 0, 0, rng.choice((0, 0, 1)))
    chunks = [_png_chunk(b"IHDR", ihdr)]
    if color == 3 or rng.random() < 0.2:
        chunks.append(_png_chunk(b"PLTE", bytes(rng.randrange(256) for _ in range(3 * rng.randint(0, 256)))))
    if rng.random() < 0.3:
        chunks.append(_png_chunk(b"iCCP", b"icc\0" + rng.choice((b"", b"\0" + zlib.compress(os.urandom(64))))))
    raw = bytes(rng.randrange(256) for _ in range(rng.randint(0, 2000)))
    idat = zlib.compress(raw) if rng.random() < 0.7 else zlib.compress(b"\0" * rng.randint(0, 1 << 20))
    chunks.append(_png_chunk(b"IDAT", idat))
    if rng.random() < 0.3:
        chunks.append(_png_chunk(b"iCCP", b"late\0"))
    if rng.random() < 0.9:
        chunks.append(_png_chunk(b"IEND", b""))
    return b"\x89PNG\r\n\x1a\n" + b"".join(chunks)


def grammar_jpeg(rng: random.Random, seeds: list[bytes]) -> bytes:
    """A real JPEG with its frame header's size and components rewritten."""
    if not seeds:
        return b"\xff\xd8\xff\xc0\x00\x11\x08" + struct.pack(">HH", rng.randint(0, 65535), rng.randint(0, 65535))
    data = bytearray(rng.choice(seeds))
    for offset, _width, _ in _length_fields("jpeg", bytes(data)):
        if data[offset - 1] in (0xC0, 0xC1, 0xC2) and offset + 7 <= len(data):  # SOF: P, Y, X, Nf
            data[offset + 3:offset + 5] = struct.pack(">H", rng.choice((0, 1, 8000, 65535, rng.randint(1, 9000))))
            data[offset + 5:offset + 7] = struct.pack(">H", rng.choice((0, 1, 8000, 65535, rng.randint(1, 9000))))
            break
    return bytes(data)


def grammar_wav(rng: random.Random) -> bytes:
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


def grammar_jxl(rng: random.Random) -> bytes:
    """A codestream whose headers follow the grammar with random field values, then random data."""
    from codeclab.jxl.bitreader import BitWriter  # noqa: PLC0415
    from codeclab.jxl.headers import SIZE_DIST  # noqa: PLC0415
    from codeclab.jxl.toc import TOC_DIST  # noqa: PLC0415

    bw = BitWriter()
    bw.write(16, 0x0AFF)
    bw.write(1, 0)
    height = rng.choice((1, 8, 257, 2048, 64000, 1 << 20, rng.randint(1, 5000)))
    width = rng.choice((1, 8, 300, 2048, 64000, 1 << 20, rng.randint(1, 5000)))
    bw.u32(SIZE_DIST, min(height, (1 << 30)))
    bw.write(3, rng.choice((0, 0, 0, 1, 7)))
    bw.u32(SIZE_DIST, min(width, (1 << 30)))
    for _ in range(rng.randint(0, 80)):  # metadata / transform / frame header bits, random
        bw.write(1, rng.randrange(2))
    bw.zero_pad_to_byte()
    for _ in range(rng.randint(0, 300)):
        bw.u32(TOC_DIST, rng.choice((0, 1, 5, 1000, rng.randint(0, 1023))))
    bw.zero_pad_to_byte()
    return bw.getvalue() + os.urandom(rng.randint(0, 3000))


def grammar_ktx2(rng: random.Random, seeds: list[bytes]) -> bytes:
    """A KTX2 header with random plausible fields over a real file's tail."""
    tail = rng.choice(seeds)[80:] if seeds else os.urandom(200)
    levels = rng.choice((0, 1, 2, 16, 255))
    fields = [rng.choice((0, 37, 43, 147, 0xFFFFFFFF)), rng.choice((0, 1, 4)), rng.choice((1, 64, 16384, 0xFFFFFFFF)),
              rng.choice((0, 1, 48, 16384)), rng.choice((0, 0, 1)), rng.choice((0, 0, 6)), rng.choice((1, 6, 0)),
              levels, rng.choice((0, 1, 2, 3))]
    header = b"\xabKTX 20\xbb\r\n\x1a\n" + struct.pack("<9I", *fields)
    index = struct.pack("<IIII", rng.choice((104, 0, 0xFFFFFFFF)), rng.randint(0, 100), rng.randint(0, 100),
                        rng.randint(0, 100))
    index += struct.pack("<QQ", rng.randint(0, 1000), rng.choice((0, 20, 1 << 40)))
    return header + index + tail


def grammar_basis(rng: random.Random, seeds: list[bytes]) -> bytes:
    """A real .basis with random values in its header fields, CRCs recomputed."""
    from codeclab.basis.basisfile import HEADER_OFFSETS  # noqa: PLC0415

    data = bytearray(rng.choice(seeds) if seeds else b"sB" + bytes(200))
    for _ in range(rng.randint(1, 4)):
        name = rng.choice([n for n in HEADER_OFFSETS if n not in ("sig", "header_crc16", "data_crc16")])
        offset, width = HEADER_OFFSETS[name]
        if offset + width <= len(data):
            value = rng.choice((0, 1, 2, rng.randrange(1 << (8 * width)), (1 << (8 * width)) - 1))
            data[offset:offset + width] = value.to_bytes(width, "little")
    _fix_basis_crcs(data)
    return bytes(data)


def grammar_lyra(rng: random.Random) -> bytes:
    if rng.random() < 0.5:  # a file of runs: signature, version, runs with any header values
        from codeclab.lyra.lyrafile import RUNS_SIGNATURE, RUNS_VERSION  # noqa: PLC0415

        out = bytearray(RUNS_SIGNATURE + bytes([rng.choice((RUNS_VERSION, RUNS_VERSION, 0, 2, 255))]))
        for _ in range(rng.randint(0, 4)):
            bitrate = rng.choice((3200, 6000, 9200, 0, 6100, rng.getrandbits(32)))
            count = rng.choice((0, 1, 2, 65535, rng.getrandbits(16)))
            out += struct.pack("<IH", bitrate, count) + os.urandom(rng.choice((0, 8, 15, 23, 46, rng.randint(0, 300))))
        return bytes(out[:rng.randint(0, len(out))] if rng.random() < 0.3 else out)
    size = rng.choice((0, 1, 8, 15, 23, 24, 40, 46, 69, rng.randint(0, 5000)))
    return os.urandom(size)


def generate(fmt: str, rng: random.Random, seeds: list[bytes]) -> bytes:
    if fmt == "png":
        return grammar_png(rng)
    if fmt == "jpeg":
        return grammar_jpeg(rng, seeds)
    if fmt == "wav":
        return grammar_wav(rng)
    if fmt == "jxl":
        return grammar_jxl(rng)
    if fmt == "ktx2":
        return grammar_ktx2(rng, seeds)
    if fmt == "basis":
        return grammar_basis(rng, seeds)
    return grammar_lyra(rng)


# ----------------------------------------------------------------------------- minimization

def minimize(worker: Worker, fmt: str, data: bytes, target: tuple[str, str], budget_seconds: float = 60.0) -> bytes:
    """Delta debugging on bytes: drop ever smaller chunks while the outcome and exception type stay."""
    deadline = time.monotonic() + budget_seconds
    best = data
    chunk = max(1, len(best) // 2)
    while chunk >= 1 and time.monotonic() < deadline:
        start, shrunk = 0, False
        while start < len(best) and time.monotonic() < deadline:
            candidate = best[:start] + best[start + chunk:]
            if candidate and worker.run(fmt, candidate).signature == target:
                best, shrunk = candidate, True
            else:
                start += chunk
        if not shrunk:
            chunk //= 2
    return best


# ----------------------------------------------------------------------------- the run

@dataclass
class Tally:
    counts: dict[str, Counter] = field(default_factory=dict)
    peak_mb: dict[str, float] = field(default_factory=dict)
    slowest: dict[str, float] = field(default_factory=dict)
    findings: list[tuple[str, Result, Path | None]] = field(default_factory=list)
    seed_counts: dict[str, int] = field(default_factory=dict)

    def add(self, fmt: str, result: Result) -> None:
        self.counts.setdefault(fmt, Counter())[result.outcome] += 1
        self.peak_mb[fmt] = max(self.peak_mb.get(fmt, 0.0), result.peak_mb)
        self.slowest[fmt] = max(self.slowest.get(fmt, 0.0), result.seconds)

    def bad(self) -> int:
        return sum(c[o] for c in self.counts.values() for o in BAD_OUTCOMES)

    def table(self) -> str:
        head = f"{'format':<7} {'cases':>7} " + " ".join(f"{o:>8}" for o in OUTCOMES) + f" {'slowest s':>9} {'peak MB':>8}"
        lines = [head, "-" * len(head)]
        total = Counter()
        for fmt, counts in self.counts.items():
            total.update(counts)
            lines.append(f"{fmt:<7} {sum(counts.values()):>7} " + " ".join(f"{counts[o]:>8}" for o in OUTCOMES)
                         + f" {self.slowest[fmt]:>9.2f} {self.peak_mb[fmt]:>8.0f}")
        lines.append(f"{'total':<7} {sum(total.values()):>7} " + " ".join(f"{total[o]:>8}" for o in OUTCOMES)
                     + f" {max(self.slowest.values(), default=0):>9.2f} {max(self.peak_mb.values(), default=0):>8.0f}")
        return "\n".join(lines)


def fuzz(seconds: float, formats: tuple[str, ...] = FORMATS, seed: int = 0, corpus: Path | None = CORPUS,
         case_seconds: float = DEFAULT_CASE_SECONDS, memory_mb: int = DEFAULT_MEMORY_MB,
         minimize_seconds: float = 60.0, log=print) -> Tally:
    """Round-robin over ``formats`` for ``seconds``; findings minimized into ``corpus`` (None: not saved)."""
    for path in (str(REPO / "pysrc"), str(REPO)):  # build.py runs without PYTHONPATH
        if path not in sys.path:
            sys.path.insert(0, path)
    rng = random.Random(seed)
    tally = Tally()
    seen: set[tuple[str, str, str]] = set()
    worker = Worker(memory_mb, case_seconds)
    try:
        with tempfile.TemporaryDirectory(prefix="codeclab-fuzz-") as tmp:
            seeds = make_seeds(formats, Path(tmp))
            tally.seed_counts = {fmt: len(seeds[fmt]) for fmt in formats}
            for fmt in formats:
                log(f"{fmt}: {len(seeds[fmt])} seed files" + ("" if seeds[fmt] else " (tool missing: grammar cases only)"))
            deadline = time.monotonic() + seconds
            turn = 0
            while time.monotonic() < deadline:
                fmt = formats[turn % len(formats)]
                turn += 1
                pool = seeds[fmt]
                data = mutate(fmt, rng.choice(pool), rng) if pool and rng.random() < 0.8 else generate(fmt, rng, pool)
                result = worker.run(fmt, data)
                tally.add(fmt, result)
                if result.outcome in BAD_OUTCOMES:
                    key = (fmt, *result.signature)
                    if key in seen:
                        continue
                    seen.add(key)
                    log(f"{fmt}: {result.outcome}: {result.detail}")
                    small = minimize(worker, fmt, data, result.signature, minimize_seconds)
                    path = None
                    if corpus is not None:
                        folder = corpus / fmt
                        folder.mkdir(parents=True, exist_ok=True)
                        path = folder / f"{hashlib.sha1(small).hexdigest()[:12]}.{EXTENSIONS[fmt]}"
                        path.write_bytes(small)
                        log(f"  minimized {len(data)} -> {len(small)} bytes: {path.relative_to(REPO)}")
                    tally.findings.append((fmt, result, path))
    finally:
        worker.close()
    return tally


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="build.py fuzz", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=5.0, help="how long to run (default 5)")
    parser.add_argument("--format", choices=FORMATS, action="append",
                        help="only this format (repeatable; default: all)")
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: from the clock)")
    parser.add_argument("--case-seconds", type=float, default=DEFAULT_CASE_SECONDS, help="per-case time limit")
    parser.add_argument("--memory-mb", type=int, default=DEFAULT_MEMORY_MB, help="worker address-space limit")
    parser.add_argument("--no-save", action="store_true", help="do not write findings to tests/fuzz/corpus/")
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else int(time.time())
    formats = tuple(args.format) if args.format else FORMATS
    print(f"fuzzing {', '.join(formats)} for {args.minutes:g} min, seed {seed}")
    tally = fuzz(args.minutes * 60, formats, seed, None if args.no_save else CORPUS, args.case_seconds, args.memory_mb)
    print(tally.table())
    return 1 if tally.bad() else 0


if __name__ == "__main__":
    sys.exit(main())
