"""JPEG XL file layer: a bare codestream or an ISOBMFF container of boxes.

The container splits the codestream over a ``jxlc`` box or several ``jxlp``
boxes; everything else (``Exif``, ``xml ``, ``jumb``, ``brob``, ``jxll``,
unknown boxes) is kept as raw bytes so a rewrite can reproduce it exactly.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field

from .errors import JxlFormatError

CODESTREAM_SIGNATURE = b"\xff\x0a"
CONTAINER_SIGNATURE = b"\x00\x00\x00\x0cJXL \x0d\x0a\x87\x0a"
KNOWN_BOXES = {"JXL ", "ftyp", "jxlc", "jxlp", "jxll", "jxli", "brob", "Exif", "xml ", "jumb", "jbrd"}


@dataclass
class Box:
    type: str
    offset: int          # file offset of the box header
    header_size: int     # 8, or 16 with a 64-bit size
    size: int            # whole box, header included
    raw: bytes           # the whole box as stored
    jxlp_index: int | None = None   # jxlp only: the part counter (without the last-part bit)
    jxlp_last: bool = False

    @property
    def payload_offset(self) -> int:
        return self.offset + self.header_size + (4 if self.type == "jxlp" else 0)

    @property
    def payload_end(self) -> int:
        return self.offset + self.size


@dataclass
class JxlFile:
    data: bytes
    container: bool
    boxes: list[Box] = field(default_factory=list)
    codestream: bytes = b""
    ranges: list[tuple[int, int]] = field(default_factory=list)  # file ranges holding the codestream

    def file_offset(self, cs_offset: int) -> int:
        """File offset of codestream byte ``cs_offset`` (== file size for the end)."""
        if not self.ranges:
            return cs_offset
        if len(self.ranges) == 1:  # a bare codestream or one jxlc box: a shift (called per TOC entry)
            return self.ranges[0][0] + cs_offset
        starts = self._codestream_starts()
        # the last part whose codestream start is <= cs_offset (O(log parts): a file may have
        # thousands of jxlp boxes and a frame 65,536 sections)
        part = max(bisect_right(starts, cs_offset) - 1, 0)
        # past the end, the last part's offsets continue (an empty part has the next one's start,
        # and bisect_right lands on the last part of equal starts)
        return self.ranges[part][0] + (cs_offset - starts[part])

    def _codestream_starts(self) -> list[int]:
        """Codestream offset where each range begins (cached; ranges are fixed once parsed)."""
        cached = self.__dict__.get("_starts")
        if cached is None or cached[0] is not self.ranges or len(cached[1]) != len(self.ranges):
            starts, pos = [], 0
            for start, end in self.ranges:
                starts.append(pos)
                pos += end - start
            cached = (self.ranges, starts)
            self.__dict__["_starts"] = cached
        return cached[1]

    def file_end(self, cs_end: int) -> int:
        """File offset just past codestream byte ``cs_end - 1`` (0 stays 0)."""
        return 0 if cs_end <= 0 else self.file_offset(cs_end - 1) + 1


def parse_boxes(data: bytes) -> list[Box]:
    boxes: list[Box] = []
    pos = 0
    while pos < len(data):  # each step advances by at least 8 bytes
        if pos + 8 > len(data):
            raise JxlFormatError("truncated box header", offset=pos, field="box.size")
        size = int.from_bytes(data[pos:pos + 4], "big")
        raw_type = data[pos + 4:pos + 8]
        box_type = raw_type.decode("latin-1")
        header = 8
        if size == 1:
            if pos + 16 > len(data):
                raise JxlFormatError("truncated 64-bit box size", offset=pos + 8, field="box.largesize")
            size = int.from_bytes(data[pos + 8:pos + 16], "big")
            header = 16
        elif size == 0:
            size = len(data) - pos
        if size < header:
            raise JxlFormatError(f"box '{box_type}' size {size} is smaller than its header", offset=pos, field="box.size")
        if pos + size > len(data):
            raise JxlFormatError(f"box '{box_type}' of {size} bytes runs past the end of the file", offset=pos, field="box.size")
        box = Box(box_type, pos, header, size, bytes(data[pos:pos + size]))
        if box_type == "jxlp":
            if size < header + 4:
                raise JxlFormatError("jxlp box without its part index", offset=pos + header, field="jxlp.index")
            index = int.from_bytes(data[pos + header:pos + header + 4], "big")
            box.jxlp_index = index & 0x7FFFFFFF
            box.jxlp_last = bool(index >> 31)
        boxes.append(box)
        pos += size
    return boxes


def open_jxl(data: bytes) -> JxlFile:
    """Splits a file into boxes (if a container) and gathers the codestream."""
    data = bytes(data)
    if not data:
        raise JxlFormatError("the file is empty (0 bytes)", offset=0)
    if data[:2] == CODESTREAM_SIGNATURE:
        return JxlFile(data, False, [], data, [(0, len(data))])
    if data[:12] != CONTAINER_SIGNATURE:
        raise JxlFormatError("not a JPEG XL file (neither codestream 0xFF0A nor container signature)", offset=0, field="signature")
    boxes = parse_boxes(data)
    if len(boxes) < 2 or boxes[1].type != "ftyp":
        raise JxlFormatError("container lacks the ftyp box after the signature", offset=12, field="ftyp")
    jxlc = [b for b in boxes if b.type == "jxlc"]
    jxlp = [b for b in boxes if b.type == "jxlp"]
    if jxlc and jxlp:
        raise JxlFormatError("container has both jxlc and jxlp boxes", offset=jxlp[0].offset, field="jxlp")
    if len(jxlc) > 1:
        raise JxlFormatError("container has more than one jxlc box", offset=jxlc[1].offset, field="jxlc")
    parts = jxlc or jxlp
    if not parts:
        raise JxlFormatError("container has no codestream box (jxlc/jxlp)", offset=len(data), field="jxlc")
    for expected, box in enumerate(jxlp):
        if box.jxlp_index != expected:
            raise JxlFormatError(f"jxlp part {box.jxlp_index} out of order (expected {expected})",
                                 offset=box.offset + box.header_size, field="jxlp.index")
        if box.jxlp_last != (expected == len(jxlp) - 1):
            raise JxlFormatError("jxlp last-part flag is misplaced", offset=box.offset + box.header_size, field="jxlp.index")
    ranges = [(b.payload_offset, b.payload_end) for b in parts]
    codestream = b"".join(data[s:e] for s, e in ranges)
    return JxlFile(data, True, boxes, codestream, ranges)


def box_header(box_type: str, payload_size: int) -> bytes:
    size = 8 + payload_size
    if size < 1 << 32:
        return size.to_bytes(4, "big") + box_type.encode("latin-1")
    return (1).to_bytes(4, "big") + box_type.encode("latin-1") + (size + 8).to_bytes(8, "big")


def rebuild(jxl: JxlFile, codestream: bytes, split_points: list[int] | None = None) -> bytes:
    """A file with ``codestream`` in place of the old one; other boxes byte-for-byte.

    ``split_points`` gives, for jxlp containers, where each part of the new
    codestream ends (one per jxlp box, the last being len(codestream)).
    """
    if not jxl.container:
        return codestream
    out = bytearray()
    jxlp_seen = 0
    for box in jxl.boxes:
        if box.type == "jxlc":
            out += box_header("jxlc", len(codestream)) + codestream
        elif box.type == "jxlp":
            points = split_points or []
            start = points[jxlp_seen - 1] if jxlp_seen else 0
            end = points[jxlp_seen] if jxlp_seen < len(points) else len(codestream)
            part = codestream[start:end]
            index = box.jxlp_index | (0x80000000 if box.jxlp_last else 0)
            out += box_header("jxlp", 4 + len(part)) + index.to_bytes(4, "big") + part
            jxlp_seen += 1
        else:
            out += box.raw
    return bytes(out)
