"""Int8 arithmetic exactly as TFLite's default CPU path (the XNNPACK delegate) performs it.

TFLite's own kernels disagree with each other on these models: on 100 frames of
Lyra's encoder the XNNPACK delegate and the builtin kernels differ by 5 % relative
L2, because each rounds its requantisation differently and the streaming state
feeds the differences back.  The parity bar (1e-3) therefore asks for the
interpreter's default arithmetic reproduced bit for bit.  Every int8 tensor is
held as float32 *centred codes* ``c = q - zero_point`` (exact, and it spares the
zero-point add/subtract pairs between operators: a 20 ms frame is hundreds of
tiny operators, so each one counts), and every step is exact in float32
(products and sums stay below 2**24) or done in int64:

* conv / depthwise / transpose conv (XNNPACK "fp32" requantisation):
  ``acc = bias + sum((x - zp_in) * w)`` exactly, then
  ``q = clamp(round_half_even(acc * scale) + zp_out)`` with the float32
  ``scale = (s_in * s_w[c]) / s_out``;
* leaky relu (qs8-vlrelu): ``q = floor(((x - zp_in) * M + 128) / 256) + zp_out``
  with ``M = rint(256 * s_in / s_out)`` (times alpha for negative inputs), tabulated
  for the 256 possible codes;
* add (qs8-vadd): ``q = (bias + a * Ma + b * Mb) >> shift`` with 21-bit
  multipliers, computed in int64 (the products exceed float32's exact range);
* quantize: ``round_half_even(x * (1 / s)) + zp``; dequantize: ``(q - zp) * s``.
"""

from __future__ import annotations

import numpy as np

from .graph import GraphBuilder, Value
from .reader import Quantization

F32 = np.float32


def scale_of(q: Quantization) -> float:
    return F32(q.scale.reshape(-1)[0])


def zero_point_of(q: Quantization) -> int:
    return int(q.zero_point.reshape(-1)[0])


def activation_bounds(activation: int, q: Quantization) -> tuple[int, int]:
    """The int8 clamp that a fused activation becomes on the output codes."""
    lo, hi = -128, 127
    s, zp = float(scale_of(q)), zero_point_of(q)
    if activation in (1, 3):  # RELU, RELU6
        lo = max(lo, zp)
    if activation == 3:
        hi = min(hi, zp + int(np.round(6.0 / s)))
    if activation == 2:  # RELU_N1_TO_1
        lo, hi = max(lo, zp + int(np.round(-1.0 / s))), min(hi, zp + int(np.round(1.0 / s)))
    if activation == 4:
        raise ValueError("fused TANH on an int8 output")
    return lo, hi


def clamp_codes(g: GraphBuilder, name: str, q: Quantization, lo: int, hi: int, hint: str) -> str:
    """Clamp centred codes to the int8 range [lo, hi] of the uncentred codes."""
    zp = zero_point_of(q)
    return g.op("Clip", [name, g.scalar(lo - zp), g.scalar(hi - zp)], hint)


def uncentre(g: GraphBuilder, name: str, q: Quantization, hint: str) -> str:
    """Centred codes back to TFLite's int8 codes (only for exposing a tensor)."""
    zp = zero_point_of(q)
    return name if zp == 0 else g.op("Add", [name, g.scalar(zp)], hint)


def requantize(g: GraphBuilder, acc: str, scale: np.ndarray, out_q: Quantization, lo: int, hi: int,
               hint: str) -> str:
    """round_half_even(acc * scale), clamped: XNNPACK's fp32 requantisation (in centred codes)."""
    scale = np.asarray(scale, dtype=F32)
    scale_name = g.scalar(float(scale.reshape(-1)[0])) if scale.size == 1 else \
        g.constant(scale.reshape(1, -1, 1, 1), hint + "_scale")
    # The constant goes first: onnxruntime's ConvMulFusion folds a Mul whose *second* input is a
    # constant into the Conv's weights, which turns the exact integer sum into a rounded float one
    # (it flipped 1 code in ~10^5 on the parity corpus).
    scaled = g.op("Round", [g.op("Mul", [scale_name, acc], hint)], hint)
    return clamp_codes(g, scaled, out_q, lo, hi, hint)


def conv_requant_scale(in_q: Quantization, w_q: Quantization, out_q: Quantization, channels: int) -> np.ndarray:
    s_in, s_out = scale_of(in_q), scale_of(out_q)
    s_w = np.broadcast_to(w_q.scale.astype(F32).reshape(-1), (channels,)) if w_q.scale.size == 1 \
        else w_q.scale.astype(F32)
    return ((F32(s_in) * s_w).astype(F32) / F32(s_out)).astype(F32)


def quantize(g: GraphBuilder, x: str, out_q: Quantization, hint: str) -> str:
    inverse = F32(1.0) / scale_of(out_q)
    scaled = g.op("Round", [g.op("Mul", [g.scalar(float(inverse)), x], hint)], hint)  # constant first: see requantize
    return clamp_codes(g, scaled, out_q, -128, 127, hint)


def dequantize(g: GraphBuilder, x: str, in_q: Quantization, hint: str) -> str:
    return g.op("Mul", [g.scalar(float(scale_of(in_q))), x], hint)  # constant first: see requantize


def leaky_relu_table(alpha: float, in_q: Quantization, out_q: Quantization) -> np.ndarray:
    """Output centred code for every input code -128..127 (XNNPACK's qs8-vlrelu, exactly)."""
    positive_scale = F32(scale_of(in_q) / scale_of(out_q))
    negative_scale = F32(positive_scale * F32(alpha))
    m_pos = int(np.rint(F32(256.0) * positive_scale))
    m_neg = int(np.rint(F32(256.0) * negative_scale))
    t = np.arange(-128, 128, dtype=np.int64) - zero_point_of(in_q)
    q = np.floor_divide(t * np.where(t >= 0, m_pos, m_neg) + 128, 256) + zero_point_of(out_q)
    return (np.clip(q, -128, 127) - zero_point_of(out_q)).astype(np.float32)


def leaky_relu(g: GraphBuilder, x: str, alpha: float, in_q: Quantization, out_q: Quantization, hint: str) -> str:
    """A 256-entry lookup: one function of an int8 code, so a table is exact and takes 3 operators
    instead of 6 (7 of these in the encoder, 6 in LyraGAN; every operator costs in onnxruntime-web)."""
    table = g.constant(leaky_relu_table(alpha, in_q, out_q), hint + "_lut")
    index = g.op("Cast", [g.op("Add", [x, g.scalar(128 + zero_point_of(in_q))], hint)], hint, to=7)
    return g.op("Gather", [table, index], hint, axis=0)


def add_params(a_q: Quantization, b_q: Quantization, out_q: Quantization) -> tuple[int, int, int, int]:
    """(a_multiplier, b_multiplier, bias, shift) of XNNPACK's qs8 add."""
    a_scale = F32(scale_of(a_q) / scale_of(out_q))
    b_scale = F32(scale_of(b_q) / scale_of(out_q))
    biggest = max(abs(a_scale), abs(b_scale))
    exponent = int((np.asarray(biggest, F32).view(np.uint32) >> 23) & 0xFF) - 127
    shift = 20 - exponent
    a_mult = int(np.rint(F32(a_scale * F32(2.0 ** shift))))
    b_mult = int(np.rint(F32(b_scale * F32(2.0 ** shift))))
    bias = (1 << (shift - 1)) - a_mult * zero_point_of(a_q) - b_mult * zero_point_of(b_q)
    return a_mult, b_mult, bias, shift


def centred_add_bias(a_q: Quantization, b_q: Quantization, out_q: Quantization) -> int:
    """The add's bias for centred inputs: the zero-point terms cancel, the rounding stays."""
    a_mult, b_mult, bias, shift = add_params(a_q, b_q, out_q)
    return bias + a_mult * zero_point_of(a_q) + b_mult * zero_point_of(b_q)


def add(g: GraphBuilder, a: str, b: str, a_q: Quantization, b_q: Quantization, out_q: Quantization,
        lo: int, hi: int, hint: str) -> str:
    a_mult, b_mult, _, shift = add_params(a_q, b_q, out_q)
    bias = centred_add_bias(a_q, b_q, out_q)
    # Centred codes reach +-255 and multipliers 2**21, so the sum needs more than int32: use int64.
    i64 = lambda v: g.constant(np.asarray(v, dtype=np.int64), hint + "_i64")  # noqa: E731
    a_int = g.op("Cast", [a], hint, to=7)
    b_int = g.op("Cast", [b], hint, to=7)
    acc = g.op("Add", [g.op("Mul", [a_int, i64(a_mult)], hint), g.op("Mul", [b_int, i64(b_mult)], hint)], hint)
    # Arithmetic shift right = floor division; make the dividend positive so that
    # integer Div (which truncates) floors, then take the offset back out.
    offset_units = 1 << 40
    acc = g.op("Add", [acc, i64(bias + (offset_units << shift))], hint)
    quotient = g.op("Sub", [g.op("Div", [acc, i64(1 << shift)], hint), i64(offset_units)], hint)
    return clamp_codes(g, g.op("Cast", [quotient], hint, to=1), out_q, lo, hi, hint)


def bias_as_float(value: Value | None, channels: int) -> np.ndarray:
    if value is None:
        return np.zeros(channels, np.float32)
    data = np.asarray(value.const)
    if np.abs(data).max(initial=0) >= 2 ** 24:
        raise ValueError(f"int32 bias beyond float32's exact range ({np.abs(data).max()})")
    return data.astype(np.float32)
