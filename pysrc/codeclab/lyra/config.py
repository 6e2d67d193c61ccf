"""Lyra v2's fixed parameters (upstream lyra_config.{h,cc}, v1.3.2) and bitrate arithmetic."""

from __future__ import annotations

from .errors import LyraError, LyraUnsupportedError

INTERNAL_SAMPLE_RATE = 16000
FRAME_RATE = 50  # packets per second: one per 20 ms hop
SAMPLES_PER_HOP = INTERNAL_SAMPLE_RATE // FRAME_RATE  # 320
NUM_FEATURES = 64
NUM_MEL_BINS = 160  # noise estimator / comfort noise work on a 160-band log mel spectrum
OVERLAP_FACTOR = 2  # analysis window = 2 hops
NUM_HEADER_BITS = 0
BITS_PER_QUANTIZER = 4
MAX_NUM_QUANTIZERS = 46
SUPPORTED_SAMPLE_RATES = (8000, 16000, 32000, 48000)
SUPPORTED_QUANTIZED_BITS = (64, 120, 184)
BITRATES = (3200, 6000, 9200)


def packet_size_for_bits(num_quantized_bits: int) -> int:
    """Bytes in a packet carrying ``num_quantized_bits`` (plus the 0 header bits)."""
    return -(-(num_quantized_bits + NUM_HEADER_BITS) // 8)


def bitrate_for_bits(num_quantized_bits: int) -> int:
    return packet_size_for_bits(num_quantized_bits) * 8 * FRAME_RATE


def num_quantizers_for_bitrate(bitrate: int) -> int:
    """3200 -> 16, 6000 -> 30, 9200 -> 46; LyraUnsupportedError otherwise."""
    for bits in SUPPORTED_QUANTIZED_BITS:
        if bitrate_for_bits(bits) == bitrate:
            return bits // BITS_PER_QUANTIZER
    raise LyraUnsupportedError(
        f"bitrate {bitrate} bps is not supported by Lyra (use one of {', '.join(map(str, BITRATES))})"
    )


def bitrate_for_num_quantizers(num_quantizers: int) -> int:
    bits = num_quantizers * BITS_PER_QUANTIZER
    if bits not in SUPPORTED_QUANTIZED_BITS:
        raise LyraUnsupportedError(f"{num_quantizers} quantizers is not a Lyra bitrate")
    return bitrate_for_bits(bits)


def packet_size_for_bitrate(bitrate: int) -> int:
    """3200 -> 8, 6000 -> 15, 9200 -> 23 bytes."""
    return packet_size_for_bits(num_quantizers_for_bitrate(bitrate) * BITS_PER_QUANTIZER)


def num_quantizers_for_packet_size(size: int) -> int:
    """The number of quantizers a packet of ``size`` bytes carries; LyraError if no bitrate uses it."""
    count = _QUANTIZERS_BY_SIZE.get(size)
    if count is not None:
        return count
    sizes = ", ".join(str(packet_size_for_bits(b)) for b in SUPPORTED_QUANTIZED_BITS)
    raise LyraError(f"a Lyra packet of {size} bytes is not supported (sizes are {sizes} bytes)")


# packet size -> quantizers: looked up for every packet received (20 ms frames, in Pyodide)
_QUANTIZERS_BY_SIZE = {packet_size_for_bits(bits): bits // BITS_PER_QUANTIZER for bits in SUPPORTED_QUANTIZED_BITS}


def bitrate_for_packet_size(size: int) -> int:
    return bitrate_for_num_quantizers(num_quantizers_for_packet_size(size))


def check_sample_rate(sample_rate: int) -> int:
    if sample_rate not in SUPPORTED_SAMPLE_RATES:
        rates = ", ".join(str(r) for r in SUPPORTED_SAMPLE_RATES)
        raise LyraUnsupportedError(f"sample rate {sample_rate} Hz is not supported by Lyra (use {rates} Hz)")
    return sample_rate


def samples_per_hop(sample_rate: int) -> int:
    return check_sample_rate(sample_rate) // FRAME_RATE
