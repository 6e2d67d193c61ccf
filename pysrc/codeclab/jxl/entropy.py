"""JPEG XL entropy coding: prefix codes (Brotli style) and ANS, hybrid integers,
LZ77 and context clustering -- the decoder as the spec defines it, and a small
prefix-code encoder (enough to write TOC permutations).
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

from .bitreader import BitReader, Bits, BitWriter, Val

ANS_LOG_TAB_SIZE = 12
ANS_TAB_SIZE = 1 << ANS_LOG_TAB_SIZE
ANS_SIGNATURE = 0x13 << 16
LZ77_WINDOW = 1 << 20

SPECIAL_DISTANCES = (
    (0, 1), (1, 0), (1, 1), (-1, 1), (0, 2), (2, 0), (1, 2), (-1, 2), (2, 1), (-2, 1), (2, 2),
    (-2, 2), (0, 3), (3, 0), (1, 3), (-1, 3), (3, 1), (-3, 1), (2, 3), (-2, 3), (3, 2),
    (-3, 2), (0, 4), (4, 0), (1, 4), (-1, 4), (4, 1), (-4, 1), (3, 3), (-3, 3), (2, 4),
    (-2, 4), (4, 2), (-4, 2), (0, 5), (3, 4), (-3, 4), (4, 3), (-4, 3), (5, 0), (1, 5),
    (-1, 5), (5, 1), (-5, 1), (2, 5), (-2, 5), (5, 2), (-5, 2), (4, 4), (-4, 4), (3, 5),
    (-3, 5), (5, 3), (-5, 3), (0, 6), (6, 0), (1, 6), (-1, 6), (6, 1), (-6, 1), (2, 6),
    (-2, 6), (6, 2), (-6, 2), (4, 5), (-4, 5), (5, 4), (-5, 4), (3, 6), (-3, 6), (6, 3),
    (-6, 3), (0, 7), (7, 0), (1, 7), (-1, 7), (5, 5), (-5, 5), (7, 1), (-7, 1), (4, 6),
    (-4, 6), (6, 4), (-6, 4), (2, 7), (-2, 7), (7, 2), (-7, 2), (3, 7), (-3, 7), (7, 3),
    (-7, 3), (5, 6), (-5, 6), (6, 5), (-6, 5), (8, 0), (4, 7), (-4, 7), (7, 4), (-7, 4),
    (8, 1), (8, 2), (6, 6), (-6, 6), (8, 3), (5, 7), (-5, 7), (7, 5), (-7, 5), (8, 4), (6, 7),
    (-6, 7), (7, 6), (-7, 6), (8, 5), (7, 7), (-7, 7), (8, 6), (8, 7),
)


def ceil_log2_plus1(x: int) -> int:
    """Bits needed to store a value in [0, x]."""
    return x.bit_length()


# ---------------------------------------------------------------------------
# Hybrid integer configuration
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class HybridUintConfig:
    split_exponent: int
    msb_in_token: int
    lsb_in_token: int

    @property
    def split_token(self) -> int:
        return 1 << self.split_exponent

    def read_value(self, br: BitReader, token: int, field: str) -> int:
        if token < self.split_token:
            return token
        both = self.msb_in_token + self.lsb_in_token
        nbits = self.split_exponent - both + ((token - self.split_token) >> both)
        if nbits > 32:
            raise br.error(f"hybrid integer needs {nbits} extra bits", field)
        low = token & ((1 << self.lsb_in_token) - 1)
        token >>= self.lsb_in_token
        high = (token & ((1 << self.msb_in_token) - 1)) | (1 << self.msb_in_token)
        return (((high << nbits) | br.read(nbits, field)) << self.lsb_in_token) | low

    def encode(self, value: int) -> tuple[int, int, int]:
        """(token, nbits, bits) for ``value``."""
        if value < self.split_token:
            return value, 0, 0
        n = value.bit_length() - 1
        m = value - (1 << n)
        both = self.msb_in_token + self.lsb_in_token
        token = (self.split_token + ((n - self.split_exponent) << both)
                 + ((m >> (n - self.msb_in_token)) << self.lsb_in_token)
                 + (m & ((1 << self.lsb_in_token) - 1)))
        nbits = n - self.msb_in_token - self.lsb_in_token
        bits = (value >> self.lsb_in_token) & ((1 << nbits) - 1)
        return token, nbits, bits

    def write(self, bw: BitWriter, log_alpha_size: int) -> None:
        bw.write(ceil_log2_plus1(log_alpha_size), self.split_exponent)
        if self.split_exponent != log_alpha_size:
            bw.write(ceil_log2_plus1(self.split_exponent), self.msb_in_token)
            bw.write(ceil_log2_plus1(self.split_exponent - self.msb_in_token), self.lsb_in_token)


def read_uint_config(br: BitReader, log_alpha_size: int, field: str) -> HybridUintConfig:
    split_exponent = br.read(ceil_log2_plus1(log_alpha_size), field)
    if split_exponent > log_alpha_size:
        raise br.error(f"split exponent {split_exponent} > {log_alpha_size}", field)
    msb = lsb = 0
    if split_exponent != log_alpha_size:
        msb = br.read(ceil_log2_plus1(split_exponent), field)
        if msb > split_exponent:
            raise br.error("msb_in_token exceeds split exponent", field)
        lsb = br.read(ceil_log2_plus1(split_exponent - msb), field)
    if msb + lsb > split_exponent:
        raise br.error("msb_in_token + lsb_in_token exceed split exponent", field)
    return HybridUintConfig(split_exponent, msb, lsb)


# ---------------------------------------------------------------------------
# Prefix codes (RFC 7932 section 3)
# ---------------------------------------------------------------------------
CODE_LENGTH_ORDER = (1, 2, 3, 4, 0, 5, 17, 6, 16, 7, 8, 9, 10, 11, 12, 13, 14, 15)


class PrefixCode:
    """A canonical prefix code; codes are read one bit at a time, most significant first."""

    def __init__(self, lengths: list[int], br: BitReader | None = None, field: str = "prefix_code"):
        self.single: int | None = None
        used = [(length, sym) for sym, length in enumerate(lengths) if length]
        if len(used) == 1:
            self.single = used[0][1]
            return
        if not used:
            raise (br.error("empty prefix code", field) if br else ValueError("empty prefix code"))
        used.sort()
        self.max_len = used[-1][0]
        # canonical: first code of each length and the symbols in code order
        self.count = [0] * (self.max_len + 1)
        for length, _ in used:
            self.count[length] += 1
        self.symbols = [sym for _, sym in used]
        kraft = sum(self.count[n] << (self.max_len - n) for n in range(1, self.max_len + 1))
        if kraft != 1 << self.max_len:
            raise (br.error("prefix code lengths are not complete", field) if br
                   else ValueError("incomplete prefix code"))

    def read(self, br: BitReader, field: str) -> int:
        if self.single is not None:
            return self.single
        code = first = index = 0
        for length in range(1, self.max_len + 1):
            code |= br.read(1, field)
            count = self.count[length]
            if code - first < count:
                return self.symbols[index + code - first]
            index += count
            first = (first + count) << 1
            code <<= 1
        raise br.error("invalid prefix code", field)


def _read_simple_prefix(br: BitReader, alphabet_size: int, field: str) -> PrefixCode:
    alphabet_bits = max(alphabet_size - 1, 0).bit_length()
    nsym = br.read(2, field) + 1
    symbols = [br.read(alphabet_bits, field) for _ in range(nsym)]
    if any(s >= alphabet_size for s in symbols) or len(set(symbols)) != nsym:
        raise br.error("invalid simple prefix code symbols", field)
    lengths = [0] * alphabet_size
    if nsym == 1:
        lengths[symbols[0]] = 1
        return PrefixCode(lengths, br, field)
    if nsym == 2:
        shape = [1, 1]
    elif nsym == 3:
        shape = [1, 2, 2]
    else:
        shape = [1, 2, 3, 3] if br.bool(field) else [2, 2, 2, 2]
    # RFC 7932: for the 1/2/3/3 shape only the first symbol's length is special;
    # symbols of equal length are ordered by value in the canonical code.
    for sym, length in zip(symbols, shape):
        lengths[sym] = length
    return PrefixCode(lengths, br, field)


def _read_complex_prefix(br: BitReader, alphabet_size: int, hskip: int, field: str) -> PrefixCode:
    cl_lengths = [0] * 18
    space = 32
    nonzero = 0
    for idx in CODE_LENGTH_ORDER[hskip:]:
        selector = br.read(2, field)
        length = (0, 4, 3)[selector] if selector < 3 else (2 if not br.bool(field) else (5 if br.bool(field) else 1))
        cl_lengths[idx] = length
        if length:
            nonzero += 1
            space -= 32 >> length
            if space <= 0:
                break
    if space < 0 or (nonzero != 1 and space != 0):
        raise br.error("invalid code-length code", field)
    cl_code = PrefixCode(cl_lengths, br, field)
    lengths = [0] * alphabet_size
    space = 1 << 15
    prev_nonzero = 8
    repeat = 0
    repeat_length = 0
    i = 0
    while i < alphabet_size and space > 0:
        sym = cl_code.read(br, field)
        if sym < 16:
            repeat = 0
            lengths[i] = sym
            i += 1
            if sym:
                prev_nonzero = sym
                space -= 32768 >> sym
            continue
        new_length = prev_nonzero if sym == 16 else 0
        extra_bits = 2 if sym == 16 else 3
        if repeat_length != new_length:
            repeat = 0
            repeat_length = new_length
        old_repeat = repeat
        if repeat > 0:
            repeat = (repeat - 2) << extra_bits
        repeat += br.read(extra_bits, field) + 3
        delta = repeat - old_repeat
        if i + delta > alphabet_size:
            raise br.error("prefix code repeat runs past the alphabet", field)
        for _ in range(delta):
            lengths[i] = repeat_length
            i += 1
        if repeat_length:
            space -= delta * (32768 >> repeat_length)
    if space != 0:
        raise br.error("prefix code lengths are not complete", field)
    return PrefixCode(lengths, br, field)


def read_prefix_code(br: BitReader, alphabet_size: int, field: str) -> PrefixCode:
    hskip = br.read(2, field)
    if hskip == 1:
        return _read_simple_prefix(br, alphabet_size, field)
    return _read_complex_prefix(br, alphabet_size, hskip, field)


# ---------------------------------------------------------------------------
# ANS
# ---------------------------------------------------------------------------


def _read_logcount(br: BitReader, field: str) -> int:
    """The fixed prefix code for ANS log-counts (values 0..13)."""
    head = br.read(3, field)
    if head == 0:
        return 10
    if head == 1:
        for value in (4, 0, 11, 13):
            if br.bool(field):
                return value
        return 12
    if head == 3:
        return 1 if br.bool(field) else 3
    if head == 7:
        return 2 if br.bool(field) else 5
    return {2: 7, 4: 6, 5: 8, 6: 9}[head]


def _read_u8(br: BitReader, field: str) -> int:
    if br.bool(field):
        n = br.read(3, field)
        return (1 << n) + br.read(n, field)
    return 0


def read_ans_distribution(br: BitReader, log_alpha_size: int, field: str) -> list[int]:
    table_size = 1 << log_alpha_size
    dist = [0] * table_size
    if br.bool(field):
        if br.bool(field):
            v0, v1 = _read_u8(br, field), _read_u8(br, field)
            if v0 == v1 or max(v0, v1) >= table_size:
                raise br.error("invalid two-symbol ANS histogram", field)
            prob = br.read(12, field)
            dist[v0] = prob
            dist[v1] = ANS_TAB_SIZE - prob
        else:
            v = _read_u8(br, field)
            if v >= table_size:
                raise br.error("invalid one-symbol ANS histogram", field)
            dist[v] = ANS_TAB_SIZE
        return dist
    if br.bool(field):
        alphabet = _read_u8(br, field) + 1
        if alphabet > table_size:
            raise br.error("flat ANS histogram larger than the alphabet", field)
        base, leftover = divmod(ANS_TAB_SIZE, alphabet)
        for i in range(alphabet):
            dist[i] = base + (1 if i < leftover else 0)
        return dist
    length = 0
    while length < 3 and br.bool(field):
        length += 1
    shift = br.read(length, field) + (1 << length) - 1
    if shift > 13:
        raise br.error(f"ANS histogram shift {shift} > 13", field)
    alphabet = _read_u8(br, field) + 3
    if alphabet > table_size:
        raise br.error("ANS histogram larger than the alphabet", field)
    logcounts = [0] * alphabet
    same = [0] * alphabet
    omit_log, omit_pos = -1, -1
    i = 0
    while i < alphabet:
        logcounts[i] = _read_logcount(br, field)
        if logcounts[i] == 13:
            run = _read_u8(br, field) + 4
            if i + run > alphabet:
                raise br.error("ANS histogram repeat runs past the alphabet", field)
            same[i] = run
            i += run
            continue
        if logcounts[i] > omit_log:
            omit_log, omit_pos = logcounts[i], i
        i += 1
    if omit_pos < 0 or (omit_pos + 1 < alphabet and logcounts[omit_pos + 1] == 13):
        raise br.error("invalid ANS histogram (omitted symbol)", field)
    total = 0
    prev = 0
    i = 0
    while i < alphabet:
        if same[i]:
            for j in range(i, i + same[i]):
                dist[j] = prev
                total += prev
            i += same[i]
            continue
        code = logcounts[i]
        if code == 0 or i == omit_pos:
            value = 0
        elif code == 1:
            value = 1
        else:
            zeros = code - 1
            bitcount = min(max(shift - ((ANS_LOG_TAB_SIZE - zeros) >> 1), 0), zeros)
            value = (1 << zeros) + (br.read(bitcount, field) << (zeros - bitcount))
        dist[i] = value
        prev = value
        total += value
        i += 1
    if total > ANS_TAB_SIZE:
        raise br.error("ANS histogram sums past 4096", field)
    dist[omit_pos] = ANS_TAB_SIZE - total
    return dist


class AnsTable:
    """Alias table mapping a 12-bit state slot to (symbol, offset, frequency)."""

    def __init__(self, dist: list[int], log_alpha_size: int):
        table_size = 1 << log_alpha_size
        log_bucket = ANS_LOG_TAB_SIZE - log_alpha_size
        bucket = 1 << log_bucket
        self.symbol = [0] * ANS_TAB_SIZE
        self.offset = [0] * ANS_TAB_SIZE
        self.freq = [0] * ANS_TAB_SIZE
        single = [i for i, d in enumerate(dist) if d == ANS_TAB_SIZE]
        if single:
            for slot in range(ANS_TAB_SIZE):
                self.symbol[slot], self.offset[slot], self.freq[slot] = single[0], slot, ANS_TAB_SIZE
            return
        cutoff = list(dist) + [0] * (table_size - len(dist))
        alias_symbol = list(range(table_size))
        alias_offset = [0] * table_size
        under = [i for i in range(table_size) if cutoff[i] < bucket]
        over = [i for i in range(table_size) if cutoff[i] > bucket]
        while over and under:
            o = over.pop()
            u = under.pop()
            by = bucket - cutoff[u]
            cutoff[o] -= by
            alias_symbol[u] = o
            alias_offset[u] = cutoff[o]
            if cutoff[o] < bucket:
                under.append(o)
            elif cutoff[o] > bucket:
                over.append(o)
        for i in range(table_size):
            for pos in range(bucket):
                slot = (i << log_bucket) | pos
                if cutoff[i] == bucket or pos < cutoff[i]:
                    sym, off = i, pos
                else:
                    sym, off = alias_symbol[i], alias_offset[i] - cutoff[i] + pos
                self.symbol[slot], self.offset[slot], self.freq[slot] = sym, off, dist[sym] if sym < len(dist) else 0


# ---------------------------------------------------------------------------
# The decoder: clustered distributions + LZ77
# ---------------------------------------------------------------------------
class EntropyDecoder:
    def __init__(self, br: BitReader, num_contexts: int, field: str = "entropy", allow_lz77: bool = True):
        self.field = field
        self.lz77 = br.bool(f"{field}.lz77.enabled")
        if self.lz77:
            if not allow_lz77:
                raise br.error("LZ77 not allowed here", f"{field}.lz77")
            self.min_symbol = br.u32((Val(224), Val(512), Val(4096), Bits(15, 8)), f"{field}.lz77.min_symbol")
            self.min_length = br.u32((Val(3), Val(4), Bits(2, 5), Bits(8, 9)), f"{field}.lz77.min_length")
            self.lz_len_config = read_uint_config(br, 8, f"{field}.lz77.length_config")
            num_contexts += 1
        self.context_map = read_context_map(br, num_contexts, f"{field}.context_map")
        num_clusters = max(self.context_map) + 1
        self.use_prefix = br.bool(f"{field}.use_prefix_code")
        log_alpha_size = 15 if self.use_prefix else 5 + br.read(2, f"{field}.log_alpha_size")
        self.log_alpha_size = log_alpha_size
        self.configs = [read_uint_config(br, log_alpha_size, f"{field}.uint_config") for _ in range(num_clusters)]
        if self.use_prefix:
            sizes = []
            for _ in range(num_clusters):
                if br.bool(f"{field}.alphabet_size"):
                    n = br.read(4, f"{field}.alphabet_size")
                    sizes.append(1 + (1 << n) + br.read(n, f"{field}.alphabet_size"))
                else:
                    sizes.append(1)
            for size in sizes:
                if size > 1 << 15:
                    raise br.error(f"prefix alphabet of {size} symbols", f"{field}.alphabet_size")
            self.prefix_codes = [read_prefix_code(br, s, f"{field}.prefix_code") if s > 1 else PrefixCode([1])
                                 for s in sizes]
        else:
            self.ans_tables = [AnsTable(read_ans_distribution(br, log_alpha_size, f"{field}.ans_histogram"), log_alpha_size)
                               for _ in range(num_clusters)]
        self.state: int | None = None
        self.window: list[int] = []
        self.num_to_copy = 0
        self.copy_pos = 0
        self.num_decoded = 0

    def _read_symbol(self, br: BitReader, cluster: int) -> int:
        if self.use_prefix:
            return self.prefix_codes[cluster].read(br, f"{self.field}.symbol")
        if self.state is None:
            self.state = br.read(32, f"{self.field}.ans_state")
        table = self.ans_tables[cluster]
        slot = self.state & 0xFFF
        freq = table.freq[slot]
        if freq == 0:
            raise br.error("ANS state hits a zero-probability symbol", f"{self.field}.symbol")
        state = (self.state >> 12) * freq + table.offset[slot]
        if state < 1 << 16:
            state = (state << 16) | br.read(16, f"{self.field}.ans_state")
        self.state = state
        return table.symbol[slot]

    def read(self, br: BitReader, context: int, dist_multiplier: int = 0) -> int:
        cluster = self.context_map[context]
        if not self.lz77:
            token = self._read_symbol(br, cluster)
            return self.configs[cluster].read_value(br, token, f"{self.field}.value")
        if self.num_to_copy > 0:
            value = self._window_at(self.copy_pos)
            self.copy_pos += 1
            self.num_to_copy -= 1
        else:
            token = self._read_symbol(br, cluster)
            if token >= self.min_symbol:
                length = self.lz_len_config.read_value(br, token - self.min_symbol, f"{self.field}.lz77.length")
                self.num_to_copy = length + self.min_length
                dist_cluster = self.context_map[-1]
                dtoken = self._read_symbol(br, dist_cluster)
                distance = self.configs[dist_cluster].read_value(br, dtoken, f"{self.field}.lz77.distance")
                if dist_multiplier == 0:
                    distance += 1
                elif distance < 120:
                    dx, dy = SPECIAL_DISTANCES[distance]
                    distance = max(1, dx + dist_multiplier * dy)
                else:
                    distance -= 119
                # libjxl: a copy before anything was decoded reads zeros
                distance = min(distance, LZ77_WINDOW, self.num_decoded)
                self.copy_pos = self.num_decoded - distance
                value = self._window_at(self.copy_pos)
                self.copy_pos += 1
                self.num_to_copy -= 1
            else:
                value = self.configs[cluster].read_value(br, token, f"{self.field}.value")
        if len(self.window) < LZ77_WINDOW:
            self.window.append(value)
        else:
            self.window[self.num_decoded % LZ77_WINDOW] = value
        self.num_decoded += 1
        return value

    def _window_at(self, pos: int) -> int:
        index = pos % LZ77_WINDOW
        return self.window[index] if index < len(self.window) else 0

    def check_final_state(self, br: BitReader) -> None:
        if not self.use_prefix and self.state is not None and self.state != ANS_SIGNATURE:
            raise br.error("ANS stream does not end in the final state", f"{self.field}.ans_state")


def read_context_map(br: BitReader, num_contexts: int, field: str) -> list[int]:
    if num_contexts == 1:
        return [0]
    if br.bool(f"{field}.is_simple"):
        bits = br.read(2, f"{field}.bits_per_entry")
        values = [br.read(bits, field) for _ in range(num_contexts)]
        _verify_context_map(br, values, field)
        return values
    use_mtf = br.bool(f"{field}.use_mtf")
    nested = EntropyDecoder(br, 1, f"{field}.nested", allow_lz77=num_contexts > 2)
    values = [nested.read(br, 0) for _ in range(num_contexts)]
    nested.check_final_state(br)
    if any(v > 255 for v in values):
        raise br.error("context map entry above 255", field)
    if use_mtf:
        mtf = list(range(256))
        for i, index in enumerate(values):
            value = mtf[index]
            values[i] = value
            if index:
                del mtf[index]
                mtf.insert(0, value)
    _verify_context_map(br, values, field)
    return values


def _verify_context_map(br: BitReader, values: list[int], field: str) -> None:
    if len(set(values)) != max(values) + 1:
        raise br.error("context map skips a cluster index", field)


# ---------------------------------------------------------------------------
# Encoder: one prefix-coded cluster (what a TOC permutation needs)
# ---------------------------------------------------------------------------
def _huffman_lengths(freqs: dict[int, int], limit: int) -> dict[int, int] | None:
    heap = [(f, i, (sym,)) for i, (sym, f) in enumerate(sorted(freqs.items()))]
    heapq.heapify(heap)
    depth = {sym: 0 for sym in freqs}
    counter = len(heap)
    while len(heap) > 1:
        f1, _, s1 = heapq.heappop(heap)
        f2, _, s2 = heapq.heappop(heap)
        for sym in s1 + s2:
            depth[sym] += 1
        heapq.heappush(heap, (f1 + f2, counter, s1 + s2))
        counter += 1
    return depth if max(depth.values()) <= limit else None


def _balanced_lengths(symbols: list[int]) -> dict[int, int]:
    """A complete code giving every symbol length L-1 or L."""
    n = len(symbols)
    big = max(n - 1, 1).bit_length()
    short = (1 << big) - n
    return {sym: (big - 1 if i < short else big) for i, sym in enumerate(symbols)}


def _canonical_codes(lengths: dict[int, int]) -> dict[int, tuple[int, int]]:
    codes = {}
    code = 0
    prev_len = 0
    for length, sym in sorted((n, s) for s, n in lengths.items()):
        code <<= length - prev_len
        codes[sym] = (code, length)
        code += 1
        prev_len = length
    return codes


def _write_code(bw: BitWriter, code: int, length: int) -> None:
    for bit in range(length - 1, -1, -1):  # most significant bit first
        bw.write(1, (code >> bit) & 1)


def _write_cl_length(bw: BitWriter, length: int) -> None:
    """The fixed variable-length code for code-length-code lengths 0..5."""
    if length == 0:
        bw.write(2, 0)
    elif length == 4:
        bw.write(2, 1)
    elif length == 3:
        bw.write(2, 2)
    else:
        bw.write(2, 3)
        if length == 2:
            bw.write(1, 0)
        else:
            bw.write(1, 1)
            bw.write(1, 1 if length == 5 else 0)


class PrefixEncoder:
    """Writes a one-cluster prefix-coded entropy stream of non-negative integers."""

    CONFIG = HybridUintConfig(4, 0, 0)

    def __init__(self, values: list[int]):
        self.tokens = [self.CONFIG.encode(v) for v in values]
        freqs: dict[int, int] = {}
        for token, _, _ in self.tokens:
            freqs[token] = freqs.get(token, 0) + 1
        self.alphabet_size = max(freqs) + 1 if freqs else 1
        if len(freqs) <= 1:
            self.lengths = {}
        else:
            self.lengths = _huffman_lengths(freqs, 15) or _balanced_lengths(sorted(freqs))
        self.codes = _canonical_codes(self.lengths) if self.lengths else {}

    def write_header(self, bw: BitWriter, num_contexts: int) -> None:
        bw.write(1, 0)                      # no LZ77
        if num_contexts > 1:
            bw.write(1, 1)                  # simple context map
            bw.write(2, 0)                  # 0 bits per entry: every context -> cluster 0
        bw.write(1, 1)                      # prefix codes
        self.CONFIG.write(bw, 15)
        if self.alphabet_size == 1:
            bw.write(1, 0)
        else:
            n = (self.alphabet_size - 1).bit_length() - 1
            bw.write(1, 1)
            bw.write(4, n)
            bw.write(n, self.alphabet_size - 1 - (1 << n))
        if self.alphabet_size > 1:
            self._write_prefix_code(bw)

    def _write_prefix_code(self, bw: BitWriter) -> None:
        if not self.lengths:  # one symbol: simple code with nsym = 1
            bw.write(2, 1)
            bw.write(2, 0)
            only = self.tokens[0][0] if self.tokens else 0
            bw.write(max(self.alphabet_size - 1, 0).bit_length(), only)
            return
        bw.write(2, 0)  # complex code, hskip 0
        seq = [self.lengths.get(sym, 0) for sym in range(max(self.lengths) + 1)]
        distinct = sorted(set(seq))
        cl_lengths = _balanced_lengths(distinct) if len(distinct) > 1 else {distinct[0]: 1}
        space = 32
        for idx in CODE_LENGTH_ORDER:
            length = cl_lengths.get(idx, 0)
            _write_cl_length(bw, length)
            if length:
                space -= 32 >> length
                if space == 0:
                    break
        if len(distinct) > 1:
            cl_codes = _canonical_codes(cl_lengths)
            for length in seq:
                _write_code(bw, *cl_codes[length])

    def write_symbols(self, bw: BitWriter) -> None:
        for token, nbits, bits in self.tokens:
            if self.codes:
                _write_code(bw, *self.codes[token])
            bw.write(nbits, bits)
