"""What a truncated JPEG XL file holds: which sections and groups are complete in the bytes there are.

A tool about partial loading must not refuse a file because it is cut off: the headers and the table of
contents say where every section would end, so the page can show the groups that are complete and say
"truncated: 7.5 of 25.1 KB". A container whose last box runs past the end of the file is read with that box
clipped to the bytes there are (a clipped jxlp part is taken as the last part).
"""

from __future__ import annotations

from dataclasses import dataclass

from .bitreader import BitReader
from .container import CONTAINER_SIGNATURE, JxlFile, open_jxl
from .errors import JxlFormatError
from .headers import read_image_metadata, read_size_header
from .icc import read_icc_stream
from .orientation import display_size, rect_to_display
from .sections import MAX_FRAMES, Frame, _reader_at, read_frame, section_map

NO_LIMIT = 1 << 62  # read_frame's limit when the sections may lie past the end of the bytes


@dataclass
class PartialFile:
    jxl: JxlFile
    width: int
    height: int
    orientation: int
    frames: list[Frame]           # every frame whose header and TOC are in the bytes
    complete: bool                # the last frame is marked last and all of its sections are in
    expected_size: int | None     # file size the TOC promises (None: a later frame's size is unknown)


def _clip_boxes(data: bytes) -> bytes:
    """A copy of a container whose last box is clipped to the end of the data (its size field rewritten),
    and whose last jxlp part is marked last; other files unchanged."""
    if data[:12] != CONTAINER_SIGNATURE:
        return data
    out = bytearray(data)
    pos, last_jxlp = 0, None
    while pos + 8 <= len(out):
        size = int.from_bytes(out[pos:pos + 4], "big")
        header = 16 if size == 1 else 8
        if size == 1:
            if pos + 16 > len(out):
                break
            size = int.from_bytes(out[pos + 8:pos + 16], "big")
        elif size == 0:
            size = len(out) - pos
        if out[pos + 4:pos + 8] == b"jxlp" and pos + header + 4 <= len(out):
            last_jxlp = pos + header
        if size < header:
            break  # malformed, not truncated: open_jxl says so
        if pos + size > len(out):
            remaining = len(out) - pos
            if header == 16:
                out[pos + 8:pos + 16] = remaining.to_bytes(8, "big")
            else:
                out[pos:pos + 4] = remaining.to_bytes(4, "big")
            pos = len(out)
            break
        pos += size
    del out[pos:]  # a partial box header at the very end holds nothing
    if last_jxlp is not None and last_jxlp + 4 <= len(out):
        out[last_jxlp] |= 0x80
    return bytes(out)


def read_partial(data: bytes) -> PartialFile:
    """Headers and every frame's TOC that the bytes hold; the sections may end past the data."""
    jxl = open_jxl(_clip_boxes(bytes(data)))
    cs = jxl.codestream
    br = BitReader(cs)
    if br.read(16, "signature") != 0x0AFF:
        raise JxlFormatError("codestream does not start with 0xFF0A", offset=0, field="signature")
    size = read_size_header(br)
    metadata = read_image_metadata(br)
    if metadata.colour_encoding.want_icc:
        read_icc_stream(br)
    br.jump_to_byte_boundary()
    if metadata.preview is not None:
        preview = read_frame(br, -1, metadata, metadata.preview, NO_LIMIT)
        br = _reader_at(cs, preview.end)
    frames: list[Frame] = []
    while len(frames) < MAX_FRAMES and br.byte_offset < len(cs):
        try:
            frame = read_frame(br, len(frames), metadata, size, NO_LIMIT)
        except JxlFormatError:
            if not frames:
                raise
            break  # the next frame's header or TOC is cut off
        frames.append(frame)
        if frame.header.is_last or frame.end > len(cs):
            break
        br = _reader_at(cs, frame.end)
    last = frames[-1]
    ends_with_last = last.header.is_last
    return PartialFile(
        jxl, size.width, size.height, metadata.orientation, frames,
        complete=ends_with_last and last.end <= len(cs),
        expected_size=jxl.file_end(last.end) if ends_with_last else None,
    )


def _main_frame(frames: list[Frame]) -> Frame:
    for frame in frames:
        if frame.header.is_displayed:
            return frame
    return frames[-1]


def truncation_summary(data: bytes) -> dict:
    """What the page shows for a truncated file: sizes, and for the shown frame which groups are complete
    (a group is complete when its sections and the frame's LF and HF-global sections are all in)."""
    partial = read_partial(data)
    available = len(partial.jxl.codestream)
    frame = _main_frame(partial.frames)
    sections = frame.sections or section_map(frame.header, frame.toc)
    in_bytes = [s for s in sections if s.start + s.size <= available]
    global_kinds = ("lf_global", "lf_group", "hf_global")
    lf_complete = all(s.start + s.size <= available for s in sections if s.kind in global_kinds)
    groups = []
    for g in range(frame.header.num_groups):
        own = [s for s in sections if s.group == g and s.kind in ("pass_group", "single")]
        passes_in = sum(1 for s in own if s.start + s.size <= available)
        groups.append({
            "group": g,
            "rect": rect_to_display(own[0].rect, partial.width, partial.height, partial.orientation) if own else None,
            "complete": lf_complete and passes_in == len(own),
            "passes_in": passes_in if lf_complete else 0,
        })
    display_width, display_height = display_size(partial.width, partial.height, partial.orientation)
    return {
        "truncated": not partial.complete,
        "size": len(bytes(data)),
        "expected_size": partial.expected_size,
        "width": partial.width, "height": partial.height,
        "display_width": display_width, "display_height": display_height,
        "frames_read": len(partial.frames),
        "frame_index": frame.index,
        "sections": len(sections), "sections_complete": len(in_bytes),
        "lf_complete": lf_complete,
        "groups": groups,
        "groups_complete": sum(1 for g in groups if g["complete"]),
    }
