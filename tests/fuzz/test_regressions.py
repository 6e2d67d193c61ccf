"""Replays the fuzz regression corpus (tests/fuzz/corpus/<format>/): crashers the harness found
(minimized) and the small crafted files of issue 15.  Each must end OK or in a typed error, quickly.

The expected outcome of the hand-placed files is pinned below; harness findings only have to
be OK or typed (what they were fixed to)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from devkit.fuzz import CORPUS, FORMATS, classify

CASES = sorted(path for fmt in FORMATS for path in (CORPUS / fmt).glob("*") if path.is_file())
CPU_LIMIT = 5.0  # seconds a case; every corpus file measured below 0.3 s

# name -> (outcome, start of the message)
PINNED = {
    "iccp_after_idat.png": ("typed", "ImageError: the PNG data is corrupt: IndexError"),
    "tiff_float_strip_offsets.tif": ("typed", "ImageError: the TIFF data is corrupt: TypeError"),
    "damaged_ihdr.png": ("typed", "ImageError: the image header is corrupt: PNG: broken PNG file"),
    "600x1.png": ("ok", ""),
    "all_default_huge_frame.jxl": ("typed", "JxlFormatError: frame of 215000x215000 needs 716627 sections"),
    "icc_4mib_zero_bit_code.jxl": ("typed", "JxlFormatError: ICC stream of 4194304 bytes cannot fit"),
    "zero_tail.jxl": ("typed", "JxlFormatError: frame 0 has an empty data section"),
    "tiny_frames_no_last.jxl": ("typed", "JxlFormatError: codestream ends before the frame marked last"),
    "zero_size_sections_2048x2048.jxl": ("typed", "JxlFormatError: frame 0 has an empty LfGlobal section"),
    "chunk_past_riff_size.wav": ("typed", "WavError: chunk 'LIST' of 10000 bytes runs past the end of the file"),
    "65535_channels_no_samples.wav": ("typed", "WavError: the data chunk holds 4 bytes, less than one frame"),
    "data_claims_4gb.wav": ("ok", ""),
}


def test_the_corpus_holds_every_class_of_the_issue():
    names = {path.name for path in CASES}
    assert set(PINNED) <= names


@pytest.mark.parametrize("path", CASES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_corpus_file_ends_ok_or_typed(path: Path):
    fmt = path.parent.name
    start = time.process_time()
    result = classify(fmt, path.read_bytes())
    elapsed = time.process_time() - start
    assert result.outcome in ("ok", "typed"), result.detail
    assert elapsed < CPU_LIMIT, f"{elapsed:.2f} s"
    if path.name in PINNED:
        outcome, message = PINNED[path.name]
        assert result.outcome == outcome and result.detail.startswith(message), result.detail
