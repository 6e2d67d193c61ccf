"""Rewrites a codestream with new TOC permutations, moving section bytes only.

Frame header bits are copied bit-exactly; the TOC is re-encoded (the permutation
with a prefix code); section payloads, the image headers, the ICC stream, the
preview frame and trailing bytes are copied byte-for-byte.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, replace

from .bitreader import BitWriter
from .container import JxlFile, rebuild
from .sections import Codestream, Frame, section_map
from .toc import Toc, write_toc


@dataclass
class Segment:
    old_start: int
    old_end: int
    new_start: int
    new_end: int
    changed: bool


def rewrite_frame(cs: bytes, frame: Frame, permutation: list[int] | None) -> bytes:
    """The frame with TOC ``permutation`` (logical -> stream position; None = unpermuted)."""
    return b"".join(_frame_parts(memoryview(cs), frame, permutation))


def _frame_parts(cs: memoryview, frame: Frame, permutation: list[int] | None) -> list:
    """The rewritten frame as pieces (its new header and TOC, then views of the sections in their
    new order), joined once by the caller: no copy of the sections until the whole file is written."""
    bw = BitWriter()
    bw.write_bits_from(cs, frame.start * 8, frame.toc.bit_start)
    logical = frame.toc.logical_ranges()
    write_toc(bw, permutation, [end - start for start, end in logical])
    if permutation is None:
        stream_order = range(len(logical))
    else:
        stream_order = [0] * len(logical)
        for index, position in enumerate(permutation):
            stream_order[position] = index
    parts = [bw.getvalue()]
    for index in stream_order:
        start, end = logical[index]
        parts.append(cs[start:end])
    return parts


def frame_needs_rewrite(frame: Frame, permutation: list[int] | None) -> bool:
    if permutation is None:
        return frame.toc.permuted
    return not frame.toc.permuted or frame.toc.permutation != permutation


def rewrite_codestream(cs: bytes, parsed: Codestream, permutations: dict[int, list[int] | None]) -> tuple[bytes, list[Segment]]:
    """A new codestream; ``permutations`` maps frame index -> new permutation (absent = keep)."""
    view = memoryview(cs)
    parts: list = []
    length = 0  # bytes in ``parts`` so far

    def add(*pieces) -> None:
        nonlocal length
        parts.extend(pieces)
        length += sum(len(piece) for piece in pieces)

    segments: list[Segment] = []
    first = parsed.frames[0].start
    add(view[:first])
    segments.append(Segment(0, first, 0, first, False))
    for frame in parsed.frames:
        new_start = length
        changed = frame.index in permutations and frame_needs_rewrite(frame, permutations[frame.index])
        if changed:
            add(*_frame_parts(view, frame, permutations[frame.index]))
        else:
            add(view[frame.start:frame.end])
        segments.append(Segment(frame.start, frame.end, new_start, length, changed))
    tail_start = parsed.frames[-1].end
    new_tail = length
    add(view[tail_start:])
    segments.append(Segment(tail_start, len(cs), new_tail, length, False))
    return b"".join(parts), segments


def rewritten_codestream(parsed: Codestream, segments: list[Segment],
                         permutations: dict[int, list[int] | None]) -> Codestream:
    """What parsing ``rewrite_codestream``'s output gives, derived instead of read again: the frame
    headers are the same bits, the rewritten TOCs hold the permutations written (stream-order sizes
    follow from them), and every frame's sections end where its segment ends."""
    frames = []
    for frame, segment in zip(parsed.frames, segments[1:]):
        shift = segment.new_start - frame.start
        toc = frame.toc
        if segment.changed:
            permutation = permutations[frame.index]
            logical = toc.logical_ranges()
            order = permutation if permutation is not None else list(range(len(logical)))
            sizes = [0] * len(logical)
            for index, position in enumerate(order):
                sizes[position] = logical[index][1] - logical[index][0]
            toc = Toc(permutation is not None, list(order), sizes, toc.bit_start + 8 * shift,
                      segment.new_end - sum(sizes))
        else:
            toc = Toc(toc.permuted, toc.permutation, toc.sizes, toc.bit_start + 8 * shift, toc.data_start + shift)
        moved = Frame(frame.index, frame.header, segment.new_start, toc)
        moved.sections = section_map(frame.header, toc)
        frames.append(moved)
    return replace(parsed, frames=frames)


def map_offset(segments: list[Segment], old: int, starts: list[int] | None = None) -> int:
    """Where an old codestream offset lands; inside a rewritten frame -> that frame's end.
    Segments are contiguous and in order, so this is a binary search (``starts``: their
    old_start values, precomputed when mapping many offsets)."""
    starts = [seg.old_start for seg in segments] if starts is None else starts
    at = bisect_left(starts, old)
    if at < len(segments) and starts[at] == old:  # a boundary exactly at a frame start stays at its (new) start
        return segments[at].new_start
    seg = segments[at - 1] if at else None
    if seg is not None and seg.old_start <= old < seg.old_end:
        return seg.new_end if seg.changed else seg.new_start + (old - seg.old_start)
    return segments[-1].new_end


def rebuild_file(jxl: JxlFile, new_cs: bytes, segments: list[Segment]) -> bytes:
    """The new file: same boxes, codestream replaced (jxlp parts split where they were)."""
    if not jxl.container:
        return new_cs
    ends, pos = [], 0
    for start, end in jxl.ranges:
        pos += end - start
        ends.append(pos)
    starts = [seg.old_start for seg in segments]
    split_points = [map_offset(segments, e, starts) if e < len(jxl.codestream) else len(new_cs) for e in ends]
    return rebuild(jxl, new_cs, split_points)
