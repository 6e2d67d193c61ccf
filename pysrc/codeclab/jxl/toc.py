"""Frame table of contents: section sizes, optionally stored in a permuted order.

``permutation[i]`` is the stream position of logical section ``i`` (as libjxl
defines it); sizes are listed in stream order.

This module reads and writes the permutation; which permutation to write (the
centre-first group order) is computed in ``order.py``, and ``service.reorder``
joins the two.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import accumulate

from .bitreader import BitReader, Bits, BitWriter
from .entropy import EntropyDecoder, PrefixEncoder

TOC_DIST = (Bits(10), Bits(14, 1024), Bits(22, 17408), Bits(30, 4211712))
PERMUTATION_CONTEXTS = 8


def coeff_order_context(value: int) -> int:
    """libjxl CoeffOrderContext: the hybrid-uint(0,0,0) token of ``value``, capped at 7."""
    return min(value.bit_length(), PERMUTATION_CONTEXTS - 1)


@dataclass
class Toc:
    permuted: bool
    permutation: list[int]      # logical -> stream position (identity when not permuted)
    sizes: list[int]            # stream order
    bit_start: int              # absolute bit position where the TOC begins (the permuted flag)
    data_start: int             # byte offset of the first section (after the TOC)

    @property
    def stream_offsets(self) -> list[int]:
        return list(accumulate(self.sizes[:-1], initial=self.data_start)) if self.sizes else []

    @property
    def end(self) -> int:
        return self.data_start + sum(self.sizes)

    def logical_ranges(self) -> list[tuple[int, int]]:
        """(start, end) byte range of every logical section."""
        offsets, sizes = self.stream_offsets, self.sizes
        return [(offsets[p], offsets[p] + sizes[p]) for p in self.permutation]


class _PresenceTree:
    """A Fenwick tree over 0..n-1 marking which values are still unused: rank and k-th
    lookups in O(log n), so a Lehmer code of n entries costs O(n log n), not O(n^2)."""

    def __init__(self, n: int):
        self.n = n
        self.tree = [0] * (n + 1)
        for i in range(1, n + 1):  # linear build of the all-present tree
            self.tree[i] += 1
            parent = i + (i & -i)
            if parent <= n:
                self.tree[parent] += self.tree[i]
        self.top = 1 << n.bit_length() if n else 0

    def remove(self, value: int) -> None:
        i = value + 1
        while i <= self.n:
            self.tree[i] -= 1
            i += i & -i

    def count_below(self, value: int) -> int:
        """How many unused values are smaller than ``value``."""
        total, i = 0, value
        while i > 0:
            total += self.tree[i]
            i -= i & -i
        return total

    def kth(self, k: int) -> int:
        """The unused value with ``k`` unused values below it (0-based)."""
        pos, step = 0, self.top
        while step:
            nxt = pos + step
            if nxt <= self.n and self.tree[nxt] <= k:
                pos = nxt
                k -= self.tree[nxt]
            step >>= 1
        return pos


#: Up to this many entries a Lehmer code is walked on a plain list (list.pop and list.index run in C,
#: faster than the tree's Python loop at TOC sizes of real files); beyond it, their O(n^2) would not be.
SMALL_LEHMER = 2048


def decode_lehmer(lehmer: list[int]) -> list[int]:
    """The permutation of 0..n-1 whose Lehmer code is ``lehmer`` (entries already range-checked)."""
    if len(lehmer) <= SMALL_LEHMER:
        unused_values = list(range(len(lehmer)))
        return [unused_values.pop(code) for code in lehmer]
    unused = _PresenceTree(len(lehmer))
    out = []
    for code in lehmer:
        value = unused.kth(code)
        unused.remove(value)
        out.append(value)
    return out


def encode_lehmer(order: list[int]) -> list[int]:
    """The Lehmer code of a permutation of 0..n-1."""
    if sorted(order) != list(range(len(order))):
        raise ValueError("a Lehmer code needs a permutation of 0..n-1")
    if len(order) <= SMALL_LEHMER:
        unused_values = list(range(len(order)))
        codes = []
        for value in order:
            code = unused_values.index(value)
            del unused_values[code]
            codes.append(code)
        return codes
    unused = _PresenceTree(len(order))
    codes = []
    for value in order:
        codes.append(unused.count_below(value))
        unused.remove(value)
    return codes


def read_permutation(br: BitReader, size: int, field: str = "toc.permutation") -> list[int]:
    decoder = EntropyDecoder(br, PERMUTATION_CONTEXTS, field)
    end = decoder.read(br, coeff_order_context(size))
    if end > size:
        raise br.error(f"permutation length {end} > {size} entries", field)
    lehmer = [0] * size
    prev = 0
    for i in range(end):
        value = decoder.read(br, coeff_order_context(prev))
        if value >= size - i:
            raise br.error(f"Lehmer code {value} out of range at entry {i}", field)
        lehmer[i] = prev = value
    decoder.check_final_state(br)
    return decode_lehmer(lehmer)


def write_permutation(bw: BitWriter, permutation: list[int]) -> None:
    lehmer = encode_lehmer(permutation)
    end = len(lehmer)
    while end and lehmer[end - 1] == 0:
        end -= 1
    values = [end] + lehmer[:end]
    encoder = PrefixEncoder(values)
    encoder.write_header(bw, PERMUTATION_CONTEXTS)
    encoder.write_symbols(bw)


_SIZE_BITS = tuple(dist.n for dist in TOC_DIST)
_SIZE_OFFSETS = tuple(dist.offset for dist in TOC_DIST)
_SIZES_PER_CHUNK = 256  # entries decoded from one integer of at most 1 KB (a shift costs its length)


def read_sizes(br: BitReader, count: int) -> list[int]:
    """``count`` section sizes, each a U32 of ``TOC_DIST``: the same values and errors as ``br.u32``
    per entry, decoded from one integer per chunk of entries instead of two reads per entry."""
    sizes: list[int] = []
    while len(sizes) < count:
        chunk = min(_SIZES_PER_CHUNK, count - len(sizes))
        first = br.pos >> 3
        last = min(br.end, first + 4 * chunk + 1)  # an entry is at most 2 + 30 bits
        bits = int.from_bytes(br.data[first:last], "little")
        base, pos = first * 8, br.pos & 7
        limit = min(br.bits_left() + pos, (last - first) * 8)
        for _ in range(chunk):
            if pos + 2 > limit:
                br.pos = base + pos
                raise br.error("unexpected end of data", "toc.size")
            selector = (bits >> pos) & 3
            n = _SIZE_BITS[selector]
            if pos + 2 + n > limit:
                br.pos = base + pos + 2
                raise br.error("unexpected end of data", "toc.size")
            sizes.append(((bits >> (pos + 2)) & ((1 << n) - 1)) + _SIZE_OFFSETS[selector])
            pos += 2 + n
        br.pos = base + pos
    return sizes


def read_toc(br: BitReader, num_entries: int) -> Toc:
    bit_start = br.pos
    if num_entries > br.bits_left():
        raise br.error(f"TOC of {num_entries} entries cannot fit in the remaining data", "toc")
    permuted = br.bool("toc.permuted")
    permutation = read_permutation(br, num_entries) if permuted else list(range(num_entries))
    br.jump_to_byte_boundary()
    sizes = read_sizes(br, num_entries)
    br.jump_to_byte_boundary()
    return Toc(permuted, permutation, sizes, bit_start, br.byte_offset)


def write_toc(bw: BitWriter, permutation: list[int] | None, logical_sizes: list[int]) -> None:
    """Writes a TOC; ``permutation`` maps logical section -> stream position, or None."""
    bw.write(1, 1 if permutation is not None else 0)
    stream_sizes = list(logical_sizes)
    if permutation is not None:
        write_permutation(bw, permutation)
        for logical, position in enumerate(permutation):
            stream_sizes[position] = logical_sizes[logical]
    bw.zero_pad_to_byte()
    for size in stream_sizes:
        bw.u32(TOC_DIST, size)
    bw.zero_pad_to_byte()
