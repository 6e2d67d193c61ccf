"""The embedded ICC profile: an entropy-coded byte stream (41 contexts), then
libjxl's ICC "unprediction" that turns the stream back into profile bytes.
"""

from __future__ import annotations

from .bitreader import BitReader
from .entropy import EntropyDecoder
from .errors import JxlFormatError

ICC_CONTEXTS = 41
MAX_ICC_SIZE = 1 << 22
#: Symbols decoded before the work budget below is checked (and the size allowed whatever the file length).
ICC_FREE_SYMBOLS = 1 << 16
#: Most ICC bytes one input bit may yield (512:1 on a 64 KiB window; real profiles are far below).
ICC_MAX_BYTES_PER_BIT = 64


def _byte_kind1(b: int) -> int:
    if 97 <= b <= 122 or 65 <= b <= 90:
        return 0
    if 48 <= b <= 57 or b in (46, 44):
        return 1
    if b == 0:
        return 2
    if b == 1:
        return 3
    if b < 16:
        return 4
    if b == 255:
        return 6
    if b > 240:
        return 5
    return 7


def _byte_kind2(b: int) -> int:
    if 97 <= b <= 122 or 65 <= b <= 90:
        return 0
    if 48 <= b <= 57 or b in (46, 44):
        return 1
    if b < 16:
        return 2
    if b > 240:
        return 3
    return 4


def icc_context(i: int, b1: int, b2: int) -> int:
    if i <= 128:
        return 0
    return 1 + _byte_kind1(b1) + 8 * _byte_kind2(b2)


def read_icc_stream(br: BitReader) -> bytes:
    """Decodes the entropy-coded ICC stream (the encoded form, before unprediction)."""
    start = br.byte_offset
    enc_size = br.u64("icc.enc_size")
    if enc_size > MAX_ICC_SIZE:
        raise JxlFormatError(f"ICC stream of {enc_size} bytes is implausibly large", offset=start, field="icc.enc_size")
    # Work budget tied to the input: the stream can be no longer than the rest of the codestream
    # has bits (a real profile compresses to far less), and the entropy decoder must keep consuming
    # input (a one-symbol prefix code "decodes" any number of bytes from no bits at all).
    if enc_size > max(ICC_FREE_SYMBOLS, br.bits_left()):
        raise JxlFormatError(f"ICC stream of {enc_size} bytes cannot fit in the remaining {br.bits_left() // 8} bytes",
                       offset=start, field="icc.enc_size")
    decoder = EntropyDecoder(br, ICC_CONTEXTS, "icc")
    data_start = br.pos
    out = bytearray()
    b1 = b2 = 0
    for i in range(enc_size):
        if i and i % ICC_FREE_SYMBOLS == 0 and (br.pos - data_start) * ICC_MAX_BYTES_PER_BIT < i:
            raise br.error(f"ICC stream decodes {i} bytes from {br.pos - data_start} bits: "
                           f"more than {ICC_MAX_BYTES_PER_BIT} bytes a bit is not a real profile", "icc.data")
        value = decoder.read(br, icc_context(i, b1, b2))
        if value > 255:
            raise br.error(f"ICC byte value {value} > 255", "icc.data")
        out.append(value)
        b2, b1 = b1, value
    decoder.check_final_state(br)
    return bytes(out)


# ---------------------------------------------------------------------------
# Unprediction: encoded stream -> ICC profile bytes
# ---------------------------------------------------------------------------
COMMON_TAGS = (b"rTRC", b"rXYZ", b"cprt", b"wtpt", b"bkpt", b"rXYZ", b"gXYZ", b"bXYZ", b"kXYZ", b"rTRC",
               b"gTRC", b"bTRC", b"kTRC", b"chad", b"desc", b"chrm", b"dmnd", b"dmdd", b"lumi")
COMMON_DATA = (b"XYZ ", b"desc", b"text", b"mluc", b"para", b"curv", b"sf32", b"gbd ")
XYZ_TAGS = (b"rXYZ", b"gXYZ", b"bXYZ", b"kXYZ", b"wtpt", b"bkpt", b"lumi")


class _Stream:
    """A cursor over bytes whose reads fail with a JxlFormatError naming the ICC field."""

    def __init__(self, data: bytes, name: str, base: int):
        self.data, self.pos, self.name, self.base = data, 0, name, base

    def error(self, message: str) -> JxlFormatError:
        return JxlFormatError(f"ICC profile: {message}", offset=self.base, field=f"icc.{self.name}")

    def at_end(self) -> bool:
        return self.pos >= len(self.data)

    def byte(self) -> int:
        if self.pos >= len(self.data):
            raise self.error("stream is too short")
        self.pos += 1
        return self.data[self.pos - 1]

    def take(self, n: int) -> bytes:
        if n > len(self.data) - self.pos:
            raise self.error("stream is too short")
        self.pos += n
        return self.data[self.pos - n:self.pos]

    def varint(self) -> int:
        value = shift = 0
        while shift < 63:
            b = self.byte()
            value |= (b & 0x7F) << shift
            if not b & 0x80:
                break
            shift += 7
        return value


def _predict_header(i: int, output_size: int, out: bytearray) -> int:
    if i < 4:
        return output_size.to_bytes(4, "big")[i]
    if i == 8:
        return 4
    if 12 <= i < 24:
        return b"mntrRGB XYZ "[i - 12]
    if 36 <= i < 40:
        return b"acsp"[i - 36]
    if 41 <= i < 44:
        vendor = bytes(out[40:i])  # the already decoded part of the CMM / platform signature
        for name in (b"APPL", b"MSFT", b"SGI ", b"SUNW"):
            # a known vendor is predicted once enough of its name is decoded to tell it apart
            known = 1 if name[:1] in (b"A", b"M") else 2
            if len(vendor) >= known and name.startswith(vendor[:known]) and i - 40 >= known:
                return name[i - 40]
        return 0
    if i in (70, 71, 73, 78, 79):
        return {70: 246, 71: 214, 73: 1, 78: 211, 79: 45}[i]
    if 80 <= i < 84:
        return out[4 + i - 80]
    return 0


def _shuffle(data: bytes, width: int) -> bytes:
    """Undoes the encoder's transposition of ``width``-byte columns."""
    if width == 1:
        return data
    n = len(data)
    step, wide = divmod(n, width)
    starts, pos = [], 0
    for k in range(width):  # column k holds step (+1 for the first `wide` columns) bytes
        starts.append(pos)
        pos += step + (1 if k < wide else 0)
    out = bytearray()
    for row in range(step + (1 if wide else 0)):
        for k in range(width):
            if row < step or k < wide:
                out.append(data[starts[k] + row])
    return bytes(out)


def decode_icc(stream: bytes, base_offset: int = 0) -> bytes:
    """The ICC profile from its encoded (predicted, shuffled) form."""
    head = _Stream(stream, "header", base_offset)
    output_size = head.varint()
    commands_size = head.varint()
    if output_size > MAX_ICC_SIZE * 64 or head.pos + commands_size > len(stream):
        raise head.error("invalid output or commands size")
    commands = _Stream(stream[head.pos:head.pos + commands_size], "commands", base_offset)
    data = _Stream(stream[head.pos + commands_size:], "data", base_offset)
    out = bytearray()
    header_size = min(output_size, 128)
    header = data.take(header_size)
    for i, e in enumerate(header):
        out.append((_predict_header(i, output_size, out) + e) & 0xFF)
    if output_size <= 128:
        return bytes(out)
    _decode_tag_table(commands, data, out, output_size)
    _decode_main(commands, data, out)
    if len(out) != output_size:
        raise commands.error(f"decoded {len(out)} bytes, header says {output_size}")
    return bytes(out)


def _decode_tag_table(commands: _Stream, data: _Stream, out: bytearray, output_size: int) -> None:
    count = commands.varint()
    if count == 0:
        return
    num_tags = count - 1
    if (output_size - 128) // 12 < num_tags:
        raise commands.error("too many tags")
    out += num_tags.to_bytes(4, "big")
    prev_start, prev_size = num_tags * 12 + 128, 0
    while not commands.at_end():
        command = commands.byte()
        code = command & 63
        if code == 0:
            return
        if code == 1:
            tag = data.take(4)
        elif code <= 20:
            tag = COMMON_TAGS[code - 2]
        else:
            raise commands.error(f"invalid tag code {code}")
        start = commands.varint() if command & 64 else prev_start + prev_size
        if command & 128:
            size = commands.varint()
        elif tag in XYZ_TAGS:
            size = 20
        else:
            size = prev_size
        if start + size > output_size or start >= 1 << 32 or size >= 1 << 32:
            raise commands.error("tag runs past the profile size")
        prev_start, prev_size = start, size
        out += tag + start.to_bytes(4, "big") + size.to_bytes(4, "big")
        if code == 2:
            for t in (b"gTRC", b"bTRC"):
                out += t + start.to_bytes(4, "big") + size.to_bytes(4, "big")
        elif code == 3:
            for k, t in ((1, b"gXYZ"), (2, b"bXYZ")):
                out += t + ((start + size * k) & 0xFFFFFFFF).to_bytes(4, "big") + size.to_bytes(4, "big")


def _decode_main(commands: _Stream, data: _Stream, out: bytearray) -> None:
    while not commands.at_end():
        command = commands.byte()
        if command == 1:
            out += data.take(commands.varint())
        elif command in (2, 3):
            out += _shuffle(data.take(commands.varint()), 2 if command == 2 else 4)
        elif command == 4:
            _decode_predicted(commands, data, out)
        elif command == 10:
            out += b"XYZ \x00\x00\x00\x00" + data.take(12)
        elif 16 <= command < 24:
            out += COMMON_DATA[command - 16] + b"\x00\x00\x00\x00"
        else:
            raise commands.error(f"invalid command {command}")


def _decode_predicted(commands: _Stream, data: _Stream, out: bytearray) -> None:
    flags = commands.byte()
    width = (flags & 3) + 1
    order = (flags >> 2) & 3
    if width == 3 or order == 3:
        raise commands.error("invalid prediction width or order")
    stride = commands.varint() if flags & 16 else width
    if stride < width or stride * 4 >= len(out):
        raise commands.error("invalid prediction stride")
    num = commands.varint()
    raw = _shuffle(data.take(num), width)
    mask = 0xFFFFFFFF
    for i in range(0, num, width):
        prev = []
        for j in range(order + 1):
            offset = len(out) - stride * (j + 1)
            prev.append(int.from_bytes(out[offset:offset + width], "big"))
        if order == 0:
            p = prev[0]
        elif order == 1:
            p = (2 * prev[0] - prev[1]) & mask
        else:
            p = (3 * (prev[0] - prev[1]) + prev[2]) & mask
        for j in range(min(width, num - i)):
            out.append((raw[i + j] + (p >> (8 * (width - 1 - j)))) & 0xFF)
