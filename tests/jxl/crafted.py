"""Generators for hostile JPEG XL codestreams (issue 15): each is small but declares work
far beyond its size.  Written with the package's own BitWriter so every field is explicit."""

from __future__ import annotations

from codeclab.jxl.bitreader import Bits, BitWriter, Val
from codeclab.jxl.entropy import PrefixEncoder
from codeclab.jxl.headers import SIZE_DIST
from codeclab.jxl.toc import TOC_DIST

ENUM_DIST = (Val(0), Val(1), Bits(4, 2), Bits(6, 18))


def _u64(bw: BitWriter, value: int) -> None:
    if value == 0:
        bw.write(2, 0)
    elif value <= 16:
        bw.write(2, 1)
        bw.write(4, value - 1)
    elif value <= 272:
        bw.write(2, 2)
        bw.write(8, value - 17)
    else:
        bw.write(2, 3)
        bw.write(12, value & 0xFFF)
        value >>= 12
        while value:
            bw.write(1, 1)
            bw.write(8, value & 0xFF)
            value >>= 8
        bw.write(1, 0)


def _image_headers(bw: BitWriter, width: int, height: int, want_icc: bool = False) -> None:
    bw.write(16, 0x0AFF)                       # signature FF 0A
    bw.write(1, 0)                             # SizeHeader: not div8
    bw.u32(SIZE_DIST, height)
    bw.write(3, 0)                             # ratio 0: explicit width
    bw.u32(SIZE_DIST, width)
    if not want_icc:
        bw.write(1, 1)                         # metadata.all_default
    else:
        bw.write(1, 0)                         # metadata not all default
        bw.write(1, 0)                         # no extra fields
        bw.write(1, 0)                         # bit depth: integer
        bw.write(2, 0)                         # 8 bits per sample
        bw.write(1, 1)                         # modular_16bit_buffers
        bw.write(2, 0)                         # no extra channels
        bw.write(1, 1)                         # xyb_encoded
        bw.write(1, 0)                         # colour encoding not all default
        bw.write(1, 1)                         # want_icc
        bw.u32(ENUM_DIST, 0)                   # colour space RGB
        _u64(bw, 0)                            # no extensions
    bw.write(1, 1)                             # transform_data.all_default


def _frame_with_toc(bw: BitWriter, sizes: list[int]) -> None:
    bw.write(1, 1)                             # frame.all_default (VarDCT, 256-pixel groups, last)
    bw.write(1, 0)                             # TOC not permuted
    bw.zero_pad_to_byte()
    for size in sizes:
        bw.u32(TOC_DIST, size)
    bw.zero_pad_to_byte()


def toc_entries(width: int, height: int) -> int:
    groups = -(-width // 256) * -(-height // 256)
    lf_groups = -(-width // 2048) * -(-height // 2048)
    return 2 + lf_groups + groups


def many_sections(width: int = 64000, height: int = 64000, section_size: int = 0) -> bytes:
    """An all-default frame of 64000x64000 (63,526 sections, under the 65,536 cap); every
    section ``section_size`` bytes.  With 0 the file is 95 KB of TOC and nothing else."""
    bw = BitWriter()
    _image_headers(bw, width, height)
    bw.zero_pad_to_byte()
    entries = toc_entries(width, height)
    _frame_with_toc(bw, [section_size] * entries)
    return bw.getvalue() + bytes(section_size * entries)


def huge_default_frame(side: int = 215000, data_bytes: int = 1_050_000) -> bytes:
    """An all-default frame header declaring ~700,000 sections, then ~1 MB of zeros: the
    all-default path must face the same 65,536-section cap as every other header."""
    bw = BitWriter()
    _image_headers(bw, side, side)
    bw.zero_pad_to_byte()
    bw.write(1, 1)                             # frame.all_default
    bw.zero_pad_to_byte()
    return bw.getvalue() + bytes(data_bytes)


def icc_bomb(enc_size: int = 4 << 20, tail: int = 140_000) -> bytes:
    """An ICC stream declaring ``enc_size`` bytes coded by a one-symbol (zero-bit) prefix
    code, so the bytes "decode" from no input at all; then a zero tail."""
    bw = BitWriter()
    _image_headers(bw, 64, 64, want_icc=True)
    _u64(bw, enc_size)
    PrefixEncoder([0]).write_header(bw, 41)
    bw.zero_pad_to_byte()
    return bw.getvalue() + bytes(tail)


def zero_frames(tail: int = 470_000) -> bytes:
    """Image headers then zeros: each 7-byte run of zeros reads as a tiny non-last frame."""
    bw = BitWriter()
    _image_headers(bw, 64, 64)
    bw.zero_pad_to_byte()
    return bw.getvalue() + bytes(tail)


def _tiny_frame(bw: BitWriter) -> None:
    """A 7-byte non-last VarDCT frame: explicit header, one 1-byte section."""
    bw.write(1, 0)                             # not all default
    bw.write(2, 0)                             # regular frame
    bw.write(1, 0)                             # VarDCT
    _u64(bw, 0)                                # flags
    bw.write(2, 0)                             # upsampling 1
    bw.write(3, 3)                             # x_qm_scale
    bw.write(3, 2)                             # b_qm_scale
    bw.write(2, 0)                             # one pass
    bw.write(1, 0)                             # no crop
    bw.write(2, 0)                             # blend mode replace
    bw.write(1, 0)                             # not last
    bw.write(2, 0)                             # save_as_reference
    bw.write(1, 0)                             # save_before_ct
    bw.write(2, 0)                             # no name
    bw.write(1, 1)                             # restoration filter all default
    _u64(bw, 0)                                # no extensions
    bw.write(1, 0)                             # TOC not permuted
    bw.zero_pad_to_byte()
    bw.u32(TOC_DIST, 1)
    bw.zero_pad_to_byte()
    bw.write(8, 0)                             # the section's byte


def tiny_frames(count: int = 67_000) -> bytes:
    """Image headers then ``count`` 7-byte frames, none marked last (~470 KB)."""
    bw = BitWriter()
    _image_headers(bw, 64, 64)
    bw.zero_pad_to_byte()
    for _ in range(count):
        _tiny_frame(bw)
    return bw.getvalue()


def _last_frame(bw: BitWriter) -> None:
    bw.write(1, 1)                             # all default: regular VarDCT, last
    bw.write(1, 0)                             # TOC not permuted
    bw.zero_pad_to_byte()
    bw.u32(TOC_DIST, 1)
    bw.zero_pad_to_byte()
    bw.write(8, 0)


def many_parts(frames: int = 6000) -> bytes:
    """A container whose codestream (``frames`` tiny frames and a last one) is split into one
    jxlp box per frame: reorder maps every part boundary through every frame."""
    bw = BitWriter()
    _image_headers(bw, 64, 64)
    bw.zero_pad_to_byte()
    cuts = [len(bw.getvalue())]
    for _ in range(frames):
        _tiny_frame(bw)
        cuts.append(len(bw.getvalue()))
    _last_frame(bw)
    codestream = bw.getvalue()
    cuts.append(len(codestream))
    out = bytearray(b"\0\0\0\x0cJXL \r\n\x87\n" + b"\0\0\0\x14ftypjxl \0\0\0\0jxl ")
    starts = [0] + cuts[:-1]
    for index, (start, end) in enumerate(zip(starts, cuts)):
        last = 0x80000000 if index == len(cuts) - 1 else 0
        out += (12 + end - start).to_bytes(4, "big") + b"jxlp" + (index | last).to_bytes(4, "big") + codestream[start:end]
    return bytes(out)
