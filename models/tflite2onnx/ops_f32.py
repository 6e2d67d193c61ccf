"""Float32 convolutions summed in exactly XNNPACK's order, so that the result is bit-identical.

Float addition is not associative: two runtimes that sum the same products in a
different order differ in the last bits, and a model that later quantises those
floats (Lyra's encoder quantises its float front end to int8 halfway through)
turns a last-bit difference into a whole quantisation step whenever a value sits
near a rounding edge.  With onnxruntime's order, the encoder's features differed
from TFLite's in 135 of the 5,200 frames of the generated parity corpus
(tests/converter/test_corpus_parity.py), and LyraGAN's audio in every frame.

What XNNPACK's f32 GEMM/IGEMM microkernels compute for one output (measured
bit for bit against the interpreter on every float convolution of the Lyra models):

    acc = bias
    for ky in kernel rows:          # IGEMM: kernel position outer ...
        for c in input channels:    # ... channel inner
            acc = fma(x[ky, c], w[ky, c], acc)

onnxruntime's Conv sums ``(c, ky)`` (channel outer), starts from zero and adds
the bias last.  Its MatMul (MLAS SGEMM) is a plain fma chain over K, but only
within blocks of K (``mlas_block_k``: 128 terms, more when N is small; measured,
e.g. 1024 for N <= 16): each further block is summed from zero and then added.
So the converter writes such a convolution as

    Y^T (O x H) = [bias | W in (ky, c) order] (O x 1+K)  @  [1 ; im2col(x) in (ky, c) order] (1+K x H)

the bias entering the chain first through a row of ones, in the NCHW layout the
converter already uses (no transposes).  A chain longer than one block is
continued block by block: the next block's operand starts with the running sum
itself, multiplied by an identity (``fma(acc, 1, 0) = acc`` and ``fma(a, 0, s) =
s`` are exact), so the chain stays one sequential sum.

Depthwise convolutions need nothing: at onnxruntime's default optimisation level
(ORT_ENABLE_ALL, which codeclab's OnnxRunner uses) its x86 NCHWc depthwise kernel already
starts from the bias and takes the taps in order, like XNNPACK's (measured the same way).
At ORT_ENABLE_BASIC or below they take MLAS's plain path, which adds the bias last, and
the encoder's features differ again in 7 of the corpus's 36 clips.  onnxruntime-web
cannot be bit-exact at all: its wasm kernels multiply and add without fma.
"""

from __future__ import annotations

import numpy as np

from .graph import GraphBuilder

F32 = np.float32
POINTWISE_CONV_MAX_K = 129  # the longest chain measured exact through onnxruntime's 1x1 Conv (x86 NCHWc path)
SLICED_TAPS = 8  # im2col by one Slice per kernel row up to this many rows, else by one Gather (Gather
#                  copies element by element: 18 us for LyraGAN's last layer, where 4 Slices take ~2 us)
CONTINUATION_ROWS = 128  # outputs carried into each continuation block (block = these + new terms)


def supports(kernel_w: int, in_w: int, padding_valid: bool) -> bool:
    """The convolutions this path handles: (kh x 1) kernels over width-1 signals, VALID padding
    (every convolution in the Lyra models)."""
    return kernel_w == 1 and in_w == 1 and padding_valid


def conv_kh1(g: GraphBuilder, x_nchw: str, in_shape_nhwc, weights_ohwi: np.ndarray, bias: np.ndarray | None,
             stride: int, dilation: int, out_shape_nhwc, hint: str) -> str:
    """A (kh x 1) float convolution of a (1, C, H, 1) NCHW tensor; returns its NCHW output."""
    _, h_in, _, c_in = in_shape_nhwc
    _, h_out, _, c_out = out_shape_nhwc
    o, kh, _, c_group = weights_ohwi.shape
    groups = c_in // c_group
    if groups > 1 and kh == 1 and 1 + c_in <= POINTWISE_CONV_MAX_K:
        # A grouped pointwise convolution as one dense 1x1 Conv: zero weights on the other groups'
        # channels add fma(x, 0, acc) = acc exactly, and each group's own terms keep their order.
        # (Only pointwise: for a wider kernel the zeros would grow the file more than it saves operators.)
        dense = np.zeros((o, kh, 1, c_in), F32)
        for group in range(groups):
            outs = slice(group * (o // groups), (group + 1) * (o // groups))
            dense[outs, :, :, group * c_group:(group + 1) * c_group] = weights_ohwi[outs]
        weights_ohwi, c_group, groups = dense, c_in, 1
    o_group = o // groups
    bias = np.zeros(o, F32) if bias is None else np.asarray(bias, F32)
    pointwise = kh == 1 and stride == 1 and groups == 1 and h_in == h_out
    if pointwise and h_out > 1 and o > 1 and 1 + c_in <= POINTWISE_CONV_MAX_K:
        # A 1x1 Conv is one SGEMM over the channels, in channel order: put a channel of ones first,
        # weighted by the bias, and drop the Conv's own bias (which it would add last).  No reshapes.
        terms = np.concatenate([bias[:, None], weights_ohwi[:, 0, 0, :]], axis=1).astype(F32)
        with_ones = g.op("Pad", [x_nchw, g.ints([0, 1, 0, 0, 0, 0, 0, 0]), g.scalar(1.0)], hint)
        return g.op("Conv", [with_ones, g.constant(terms.reshape(o, 1 + c_in, 1, 1), hint + "_w")], hint)
    if pointwise:  # the columns are x itself under a row of ones
        x = g.op("Reshape", [x_nchw, g.ints([c_in, h_in])], hint)
        source = g.op("Concat", [g.constant(np.ones((1, h_in), F32), hint + "_ones"), x], hint, axis=0)
    elif kh <= SLICED_TAPS:
        source = g.op("Reshape", [x_nchw, g.ints([c_in, h_in])], hint)
    else:
        source = _flat_with_one_and_zero(g, x_nchw, c_in * h_in, hint)
    outputs = []
    for group in range(groups):
        w = weights_ohwi[group * o_group:(group + 1) * o_group, :, 0, :].reshape(o_group, kh * c_group)
        terms = np.concatenate([bias[group * o_group:(group + 1) * o_group, None], w], axis=1).astype(F32)
        if pointwise:
            columns = source
        elif kh <= SLICED_TAPS:  # im2col in XNNPACK's order, (1 + kh * C) x H: one Slice per kernel row
            channels = slice(group * c_group, (group + 1) * c_group)
            rows = [g.constant(np.ones((1, h_out), F32), hint + "_ones")]
            rows += [_tap(g, source, ky * dilation, h_out, stride, channels, hint) for ky in range(kh)]
            columns = g.op("Concat", rows, hint, axis=0)
        else:  # many kernel rows of few channels: one Gather from the flat input instead
            t = np.arange(h_out) * stride
            rows = [np.full(h_out, c_in * h_in)]  # the ones
            rows += [(group * c_group + c) * h_in + ky * dilation + t for ky in range(kh) for c in range(c_group)]
            columns = _gather(g, source, np.stack(rows), hint)
        outputs.append(_products(g, terms, columns, h_out, hint))
    y = g.op("Concat", outputs, hint, axis=0) if groups > 1 else outputs[0]
    return g.op("Reshape", [y, g.ints([1, c_out, h_out, 1])], hint)


def transpose_conv_kh1(g: GraphBuilder, x_nchw: str, in_shape_nhwc, weights_ohwi: np.ndarray,
                       bias: np.ndarray | None, stride: int, out_shape_nhwc, hint: str) -> str | None:
    """A (kh x 1) float transposed convolution without cropping, summed like XNNPACK's deconvolution
    (bias first, then kernel rows ascending, channels inner); None when the kernel height is not a
    multiple of the stride (then the phases differ in length and this layout does not apply).

    Output row ``y = q * stride + r`` (phase r) sums ``x[q - j] * w[r + j * stride]`` for j = 0, 1, ...
    (x outside its rows reads a zero: ``fma(0, w, acc) = acc`` exactly).  Every phase reads the same
    input rows, so all phases are one product with their weights stacked."""
    _, h_in, _, c_in = in_shape_nhwc
    _, h_out, _, c_out = out_shape_nhwc
    o, kh, _, _ = weights_ohwi.shape
    if kh % stride or h_out != (h_in - 1) * stride + kh:
        return None
    taps = kh // stride
    positions = h_in + taps - 1  # outputs per phase
    bias = np.zeros(o, F32) if bias is None else np.asarray(bias, F32)
    x = g.op("Reshape", [x_nchw, g.ints([c_in, h_in])], hint)
    if taps > 1:  # x outside its rows reads these zeros
        zeros = g.constant(np.zeros((c_in, taps - 1), F32), hint + "_zeros")
        x = g.op("Concat", [zeros, x, zeros], hint, axis=1)
    # tap j reads x[q - j], which is padded[q + taps - 1 - j]
    rows = [g.constant(np.ones((1, positions), F32), hint + "_ones")]
    rows += [_tap(g, x, taps - 1 - j, positions, 1, slice(0, c_in), hint) for j in range(taps)]
    columns = g.op("Concat", rows, hint, axis=0)
    phase_terms = [np.concatenate([bias[:, None]] + [weights_ohwi[:, r + j * stride, 0, :] for j in range(taps)], axis=1)
                   for r in range(stride)]
    terms = np.concatenate(phase_terms, axis=0).astype(F32)
    y = _products(g, terms, columns, positions, hint)  # (stride*O, Q)
    y = g.op("Transpose", [g.op("Reshape", [y, g.ints([stride, o, positions])], hint)], hint, perm=[1, 2, 0])
    return g.op("Reshape", [y, g.ints([1, c_out, h_out, 1])], hint)


def _flat_with_one_and_zero(g: GraphBuilder, x_nchw: str, size: int, hint: str) -> str:
    """x flattened (channel-major), then a 1 (the bias's multiplier) and a 0 (outside the signal)."""
    flat = g.op("Reshape", [x_nchw, g.ints([size])], hint)
    return g.op("Concat", [flat, g.constant(np.array([1.0, 0.0], F32), hint + "_one_zero")], hint, axis=0)


def _tap(g: GraphBuilder, x: str, start: int, count: int, stride: int, channels: slice, hint: str) -> str:
    """Rows ``channels`` of x (C x H), columns start, start + stride, ... (count of them)."""
    stop = start + (count - 1) * stride + 1
    return g.op("Slice", [x, g.ints([channels.start, start]), g.ints([channels.stop, stop]), g.ints([0, 1]),
                          g.ints([1, stride])], hint)


def _gather(g: GraphBuilder, source: str, indices: np.ndarray, hint: str) -> str:
    return g.op("Gather", [source, g.constant(indices.astype(np.int32), hint + "_im2col")], hint, axis=0)


def _products(g: GraphBuilder, terms: np.ndarray, columns: str, count: int, hint: str) -> str:
    """terms (O x L) @ columns (L x count) as one fma chain per output: an (O x count) result."""
    if count == 1:  # (L x 1) and (1 x L) are the same bytes: a free Reshape to the row-major form
        row = g.op("Reshape", [columns, g.ints([1, terms.shape[1]])], hint)
        return g.op("Reshape", [_chain(g, terms, row, 1, hint, row_major=True), g.ints([terms.shape[0], 1])], hint)
    if terms.shape[0] == 1:
        flipped = _chain(g, terms, g.op("Transpose", [columns], hint, perm=[1, 0]), count, hint, row_major=True)
        return g.op("Reshape", [flipped, g.ints([1, count])], hint)
    return _chain(g, terms, columns, count, hint)


def mlas_block_k(n: int, k: int) -> int:
    """How many K terms MLAS's SGEMM sums in one chain for an (M x K) @ (K x N) product.

    It starts from 128 x 128 panels of B and trades N for K: a K that fits is kept whole (the N
    stride grows instead), a small N lets the K stride grow up to 1024.  Measured on onnxruntime
    1.32 (x86-64): every K and N used by the Lyra models, and N = 2..64 against K = 257..2049."""
    stride_n, stride_k = 128, 128
    if n >= k:
        while stride_k // 2 >= k:
            stride_k //= 2
            stride_n *= 2
    else:
        while stride_n > 16 and stride_n // 2 >= n:
            stride_k *= 2
            stride_n //= 2
    return stride_k


def _chain(g: GraphBuilder, terms: np.ndarray, columns: str, count: int, hint: str, row_major: bool = False) -> str:
    """terms (O x L) times the L columns as one sequential fma chain over L, block by block.

    ``columns`` is (L x H), giving an (O x H) result, or with ``row_major`` (H x L), giving (H x O).
    MLAS takes a different path (a GEMV that sums otherwise) when the data operand is a single
    row or column and the constant is the left operand, so a one-row output uses ``row_major``."""
    o, length = terms.shape
    axis = 1 if row_major else 0  # the L axis of ``columns``, the O axis of the result... and back

    def product(weights: np.ndarray, data: str, carried_rows: int = 0) -> str:
        """weights (rows x L) times data; the first ``carried_rows`` columns of the weights are an identity,
        stored once and joined by a Concat of constants (folded when the session loads)."""
        rest = np.ascontiguousarray(weights[:, carried_rows:].T if row_major else weights[:, carried_rows:])
        name = g.constant(rest, hint + "_w")
        if carried_rows:
            identity = g.constant(np.eye(carried_rows, dtype=F32), "identity", share=True)
            name = g.op("Concat", [identity, name], hint, axis=0 if row_major else 1)
        return g.op("MatMul", [data, name] if row_major else [name, data], hint)

    def along(source: str, start: int, stop: int, size: int) -> str:
        if (start, stop) == (0, size):
            return source
        return g.op("Slice", [source, g.ints([start]), g.ints([stop]), g.ints([axis])], hint)

    # MLAS's N: the outputs when the data is the left operand (row-major), else the data's columns
    block = mlas_block_k(o if row_major else count, length)
    first = min(length, block)
    acc = product(terms[:, :first], along(columns, 0, first, length))
    done = first
    carried = min(o, CONTINUATION_ROWS, block // 2)
    while done < length:
        step = min(length - done, block - carried)
        new_terms = along(columns, done, done + step, length)
        parts = []
        for start in range(0, o, carried):
            stop = min(start + carried, o)
            if stop - start < 2 and not row_major:
                raise ValueError("a one-output continuation block would take MLAS's GEMV path")
            block = np.concatenate([np.eye(stop - start, dtype=F32), terms[start:stop, done:done + step]], axis=1)
            operand = g.op("Concat", [along(acc, start, stop, o), new_terms], hint, axis=axis)
            parts.append(product(block, operand, carried_rows=stop - start))
        acc = g.op("Concat", parts, hint, axis=axis) if len(parts) > 1 else parts[0]
        done += step
    return acc
