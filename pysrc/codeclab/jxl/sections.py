"""The codestream as a whole: headers, ICC, preview, frames, and every frame's
sections mapped to kind, pass, group and pixel rectangle.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .bitreader import BitReader
from .container import JxlFile, open_jxl
from .errors import JxlFormatError
from .headers import FrameHeader, ImageMetadata, SizeHeader, read_frame_header, read_image_metadata, read_size_header
from .icc import decode_icc, read_icc_stream
from .toc import Toc, read_toc

MAX_FRAMES = 1 << 16
#: Frames allowed whatever the file size; beyond them every frame must average this many bytes.
#: (A frame is at least 7 bytes -- header, TOC, a non-empty LfGlobal -- and real animation frames
#: are far larger; this keeps the parse of a hostile file of tiny frames linear with a small constant.)
FREE_FRAMES = 4096
MIN_AVERAGE_FRAME_BYTES = 32


def frame_budget(codestream_size: int) -> int:
    return min(MAX_FRAMES, FREE_FRAMES + codestream_size // MIN_AVERAGE_FRAME_BYTES)


@dataclass
class Section:
    index: int                  # logical section index
    kind: str                   # lf_global | lf_group | hf_global | pass_group | single
    pass_index: int | None
    group: int | None
    rect: tuple[int, int, int, int] | None   # x, y, w, h in image pixels
    start: int                  # codestream offset
    size: int
    stream_position: int


@dataclass
class Frame:
    index: int                  # -1 for the preview frame
    header: FrameHeader
    start: int                  # codestream offset of the frame header (byte aligned)
    toc: Toc
    sections: list[Section] = field(default_factory=list)

    @property
    def end(self) -> int:
        return self.toc.end

    @property
    def is_preview(self) -> bool:
        return self.index < 0


@dataclass
class Codestream:
    size: SizeHeader
    metadata: ImageMetadata
    icc_stream: bytes | None
    headers_end: int            # codestream offset where the first frame (or preview) begins
    frames: list[Frame]
    preview: Frame | None
    trailing: int               # bytes after the last frame
    icc_profile: bytes | None = None   # the decoded ICC profile (want_icc only)

    @property
    def all_frames(self) -> list[Frame]:
        return ([self.preview] if self.preview else []) + self.frames


def group_rect(fh: FrameHeader, group: int, dim: int, per_row: int) -> tuple[int, int, int, int]:
    """Pixel rectangle (image coordinates) of group ``group`` on a grid of ``dim``-sized cells."""
    return _GroupGrid(fh, dim, per_row).rect(group)


class _GroupGrid:
    """The rectangles of one frame's groups (or LF groups): the header's derived sizes are read once,
    not once per section (a frame may have 65,536 sections, and each size is a computed property)."""

    def __init__(self, fh: FrameHeader, dim: int, per_row: int):
        self.dim, self.per_row = dim, per_row
        self.scale = fh.upsampling * (8 ** fh.lf_level if fh.lf_level else 1)
        self.sample_width, self.sample_height = fh.sample_width, fh.sample_height
        self.width, self.height, self.x0, self.y0 = fh.width, fh.height, fh.x0, fh.y0

    def rect(self, group: int) -> tuple[int, int, int, int]:
        dim, scale = self.dim, self.scale
        gy, gx = divmod(group, self.per_row)
        x, y = gx * dim, gy * dim
        # upsampled / LF frames cover whole pixels of the frame, not the padded sample grid
        w = min(min(dim, self.sample_width - x) * scale, self.width - x * scale)
        h = min(min(dim, self.sample_height - y) * scale, self.height - y * scale)
        return (self.x0 + x * scale, self.y0 + y * scale, w, h)


def section_map(fh: FrameHeader, toc: Toc) -> list[Section]:
    ranges = toc.logical_ranges()
    if len(ranges) == 1:
        return [Section(0, "single", None if fh.num_passes == 1 else 0, 0,
                        group_rect(fh, 0, fh.group_dim, 1), ranges[0][0], ranges[0][1] - ranges[0][0], 0)]
    out = []
    num_lf, num_groups = fh.num_lf_groups, fh.num_groups
    lf_grid = _GroupGrid(fh, 8 * fh.group_dim, fh.lf_groups_x)
    grid = _GroupGrid(fh, fh.group_dim, fh.groups_x)
    permutation = toc.permutation
    for index, (start, end) in enumerate(ranges):
        pos = permutation[index]
        if index == 0:
            sec = Section(index, "lf_global", None, None, None, start, end - start, pos)
        elif index <= num_lf:
            g = index - 1
            sec = Section(index, "lf_group", None, g, lf_grid.rect(g), start, end - start, pos)
        elif index == num_lf + 1:
            sec = Section(index, "hf_global", None, None, None, start, end - start, pos)
        else:
            p, g = divmod(index - num_lf - 2, num_groups)
            sec = Section(index, "pass_group", p, g, grid.rect(g), start, end - start, pos)
        out.append(sec)
    return out


def read_frame(br: BitReader, index: int, metadata: ImageMetadata, size: SizeHeader, limit: int) -> Frame:
    start = br.byte_offset
    fh = read_frame_header(br, metadata, size)
    toc = read_toc(br, fh.num_toc_entries)
    if toc.end > limit:
        raise JxlFormatError(f"frame {index} sections end at byte {toc.end}, past the codestream end {limit}",
                       offset=toc.data_start, field=f"frame[{index}].toc")
    first_section = toc.sizes[toc.permutation[0]]
    if first_section == 0:
        # LfGlobal (or the only section) always holds at least one bit, so libjxl cannot decode this
        raise JxlFormatError(f"frame {index} has an empty {'LfGlobal' if len(toc.sizes) > 1 else 'data'} section",
                       offset=toc.data_start, field=f"frame[{index}].toc")
    frame = Frame(index, fh, start, toc)
    frame.sections = section_map(fh, toc)
    return frame


def parse_codestream(cs: bytes) -> Codestream:
    br = BitReader(cs)
    if br.read(16, "signature") != 0x0AFF:
        raise JxlFormatError("codestream does not start with 0xFF0A", offset=0, field="signature")
    size = read_size_header(br)
    metadata = read_image_metadata(br)
    icc_offset = br.byte_offset
    icc = read_icc_stream(br) if metadata.colour_encoding.want_icc else None
    icc_profile = decode_icc(icc, icc_offset) if icc is not None else None
    br.jump_to_byte_boundary()
    headers_end = br.byte_offset
    preview = None
    if metadata.preview is not None:
        preview = read_frame(br, -1, metadata, metadata.preview, len(cs))
        br = _reader_at(cs, preview.end)
    frames: list[Frame] = []
    max_frames = frame_budget(len(cs))
    while True:
        if len(frames) >= max_frames:
            raise JxlFormatError(f"more than {max_frames} frames in a {len(cs)}-byte codestream (at most {FREE_FRAMES} "
                           f"+ one per {MIN_AVERAGE_FRAME_BYTES} bytes, and {MAX_FRAMES})",
                           offset=br.byte_offset, field=f"frame[{len(frames)}]")
        frame = read_frame(br, len(frames), metadata, size, len(cs))
        frames.append(frame)
        br = _reader_at(cs, frame.end)
        if frame.header.is_last:
            break
        if frame.end >= len(cs):
            raise JxlFormatError("codestream ends before the frame marked last", offset=frame.end, field=f"frame[{len(frames)}]")
    return Codestream(size, metadata, icc, headers_end, frames, preview, len(cs) - frames[-1].end, icc_profile)


def _reader_at(cs: bytes, offset: int) -> BitReader:
    br = BitReader(cs)
    br.pos = offset * 8
    return br


@dataclass
class ParsedFile:
    file: JxlFile
    codestream: Codestream


def parse_file(data: bytes) -> ParsedFile:
    jxl = open_jxl(data)
    return ParsedFile(jxl, parse_codestream(jxl.codestream))
