"""TensorFlow's ``resize_with_pad(..., method='bicubic', antialias=True)`` in numpy.

The attention-center model is very sensitive to its input (a one-pixel shift of
the padding moves its point by ~100 px), so this reproduces TensorFlow bit for
bit rather than approximately.  Derived from TensorFlow's source:

* ``image_ops_impl._resize_image_with_pad_common``: in float32,
  ``ratio = max(w / W, h / H)``; the resized size is ``floor(w / ratio)`` x
  ``floor(h / ratio)``; the top-left padding is ``floor((W - w / ratio) / 2)``
  (computed from the *unfloored* resized size), clamped at 0.
* ``resize_images_v2`` with ``BICUBIC`` + ``antialias`` calls
  ``scale_and_translate(kernel_type='keyscubic', scale=new/old (float32),
  translation=0)``.
* ``kernels/image/scale_and_translate_op.cc`` ``ComputeSpansCore``: output pixel
  ``x`` samples the input at ``(x + 0.5) * inv_scale`` with ``inv_scale = 1/scale``
  rounded to float32; when shrinking, the kernel is stretched by
  ``kernel_scale = max(inv_scale, 1)``; taps are input pixels
  ``ceil(s - 2*ks - 0.5) .. floor(s + 2*ks - 0.5)`` (clamped), weighted by the
  Keys cubic (a = -0.5) at ``|source + 0.5 - s| / ks`` and normalised by their
  float32 sum; samples outside ``[0, input_size]`` give an all-zero span.
* ``GatherSpans``: rows (height) first into a float32 intermediate
  ``[out_h, in_w]``, then columns, each output accumulated tap by tap in float32
  as ``out += w * in``.  Here each output row (then column) is one vector-matrix
  product of its taps' weights with its taps' input rows, summed in numpy's own
  matmul loop, which accumulates each output in float32 in tap order: the same
  IEEE operations in the same order, so the result equals TensorFlow's to the
  last bit.  (A BLAS library would split and fuse the sums: see
  ``_sum_taps_in_order``.)  One call per output row does the work of a tap loop
  without its temporaries, which is what makes it fast in Pyodide's numpy.

Inputs may be uint8 / uint16 (converted like upstream's ``astype(float32) /
255.0``) or float32 in 0..1.  Memory stays bounded for big images: the vertical
pass converts and consumes the input in strips of columns, a block of rows at a time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MODEL_HEIGHT = 480
MODEL_WIDTH = 640
_F = np.float32
_BLOCK_ROWS = 128  # input rows converted to float32 at a time in the vertical pass (at least 4 spans)
_ARRAY_STRIP_COLUMNS = 2048  # columns of an array per vertical pass (~3 MB of float32 a block of 128 rows)
_FILE_STRIP_COLUMNS = 256  # columns of a decoded file per vertical pass (Pillow converts just these)


@dataclass(frozen=True)
class PadGeometry:
    """Where ``resize_with_pad`` put the image inside the model frame."""

    width: int            # original image size
    height: int
    resized_width: int    # size of the resized image inside the frame
    resized_height: int
    pad_x: int            # column / row of the frame where the resized image starts
    pad_y: int
    inv_scale_x: float    # TensorFlow's float32 1/scale: input pixels per output pixel
    inv_scale_y: float
    frame_width: int = MODEL_WIDTH
    frame_height: int = MODEL_HEIGHT


def pad_geometry(width: int, height: int, frame_width: int = MODEL_WIDTH,
                 frame_height: int = MODEL_HEIGHT) -> PadGeometry:
    """The sizes and offsets of ``tf.image.resize_with_pad``, in TensorFlow's float32 arithmetic."""
    if width < 1 or height < 1:
        raise ValueError(f"image size must be positive, got {width}x{height}")
    f_w, f_h = _F(width), _F(height)
    f_tw, f_th = _F(frame_width), _F(frame_height)
    ratio = max(f_w / f_tw, f_h / f_th)
    resized_w_float = f_w / ratio
    resized_h_float = f_h / ratio
    resized_w = int(np.floor(resized_w_float))
    resized_h = int(np.floor(resized_h_float))
    pad_x = max(0, int(np.floor((f_tw - resized_w_float) / _F(2))))
    pad_y = max(0, int(np.floor((f_th - resized_h_float) / _F(2))))
    if resized_w < 1 or resized_h < 1:
        # TensorFlow itself fails here ("output dimensions must be positive"): an
        # image more than 640:1 (or 480:1) thin cannot be placed in the frame.
        raise ValueError(f"a {width}x{height} image is too thin to resize into {frame_width}x{frame_height}")
    return PadGeometry(
        width=width, height=height, resized_width=resized_w, resized_height=resized_h,
        pad_x=pad_x, pad_y=pad_y,
        inv_scale_x=float(_inv_scale(resized_w, width)), inv_scale_y=float(_inv_scale(resized_h, height)),
        frame_width=frame_width, frame_height=frame_height,
    )


def _inv_scale(out_size: int, in_size: int) -> np.float32:
    scale = _F(out_size) / _F(in_size)          # resize_images_v2: float32 new_size / old_size
    return _F(1.0 / np.float64(scale))          # C++: `const float inv_scale = 1.0 / scale;`


def _keys_cubic(x: np.ndarray) -> np.ndarray:
    """Keys' cubic convolution kernel (a = -0.5), float32 as in sampling_kernels.h."""
    x = np.abs(x)
    near = ((_F(1.5) * x - _F(2.5)) * x) * x + _F(1.0)
    far = ((_F(-0.5) * x + _F(2.5)) * x - _F(4.0)) * x + _F(2.0)
    return np.where(x >= _F(2.0), _F(0.0), np.where(x >= _F(1.0), far, near)).astype(_F)


@dataclass(frozen=True)
class Spans:
    """For each output pixel, the first input pixel of its taps and the tap weights."""

    starts: np.ndarray   # int64 [out]
    weights: np.ndarray  # float32 [out, span]; zero beyond each pixel's own span

    @property
    def span(self) -> int:
        return self.weights.shape[1]


def compute_spans(out_size: int, in_size: int, antialias: bool = True) -> Spans:
    """``ComputeSpansCore`` for the Keys cubic kernel, scale = out/in, no translation."""
    inv_scale = _inv_scale(out_size, in_size)
    kernel_scale = max(inv_scale, _F(1.0)) if antialias else _F(1.0)
    radius = _F(2.0) * kernel_scale
    span = min(2 * int(np.ceil(radius)) + 1, in_size)
    one_over_kernel_scale = _F(1.0) / kernel_scale

    sample = (np.arange(out_size, dtype=_F) + _F(0.5)) * inv_scale
    inside = (sample >= 0) & (sample <= _F(in_size))
    first = np.ceil(sample - radius - _F(0.5)).astype(np.int64)
    last = np.floor(sample + radius - _F(0.5)).astype(np.int64)
    first = np.clip(first, 0, in_size - 1)
    last = np.clip(last, 0, in_size - 1) + 1
    if np.any(last - first > span):  # cannot happen for a positive scale; TF would fail the same way
        raise ValueError("span is too large")

    taps = first[:, None] + np.arange(span)[None, :]
    live = taps < last[:, None]
    position = (taps.astype(_F) + _F(0.5)) - sample[:, None]
    weights = np.where(live, _keys_cubic(position * one_over_kernel_scale), _F(0.0)).astype(_F)
    total = np.zeros(out_size, dtype=_F)
    for k in range(span):  # float32 running sum, in tap order, as the C++ loop does
        total += weights[:, k]
    usable = np.abs(total) >= _F(1000.0) * np.finfo(_F).tiny
    inverse = np.where(usable, _F(1.0) / np.where(usable, total, _F(1.0)), _F(0.0)).astype(_F)
    weights = (weights * inverse[:, None]).astype(_F)
    weights[~inside] = 0
    starts = np.where(inside, first, 0)
    return Spans(starts=starts, weights=weights)


def _full_scale(dtype: np.dtype) -> np.float32 | None:
    """The divisor of upstream's ``image.astype(float32) / 255.0`` (65535 for 16-bit input)."""
    if dtype == np.uint8:
        return _F(255.0)
    if dtype == np.uint16:
        return _F(65535.0)
    return None


class _FloatRows:
    """Blocks of an image's rows as float32 [rows, width * channels], like upstream's
    ``astype(float32) / 255.0``, in one reused buffer (an allocation per block is slow in Pyodide)."""

    def __init__(self, image: np.ndarray):
        self.image = image
        self.full_scale = _full_scale(image.dtype)
        self.buffer = np.empty((0, *image.shape[1:]), dtype=_F)

    def read(self, first: int, end: int) -> np.ndarray:
        block = self.image[first:end]
        if self.full_scale is None:
            converted = block.astype(_F, copy=False)
        else:
            if len(self.buffer) < end - first:
                self.buffer = np.empty(block.shape, dtype=_F)
            converted = self.buffer[:end - first]
            np.copyto(converted, block, casting="unsafe")
            converted /= self.full_scale  # one correctly rounded float32 division per value, as upstream
        return converted.reshape(end - first, -1)


def _sum_taps_in_order(weights: np.ndarray, rows: np.ndarray, out: np.ndarray) -> None:
    """``out = weights @ rows`` with each output summed tap by tap in float32, like TensorFlow.

    numpy's own matmul loop does exactly that (``out = 0; out += w[k] * rows[k]`` for k in
    order).  Where numpy has a BLAS (CPython wheels), matmul hands BLAS-able operands to it,
    whose sums are split and fused, so the columns are passed as two stride-2 halves, which
    BLAS cannot take.  Fewer than four columns would make a half a single column, which numpy
    sends to BLAS's dot; those few values take the tap loop.
    """
    if rows.shape[1] < 4:
        out[...] = 0
        for weight, row in zip(weights, rows):
            out += weight * row
        return
    np.matmul(weights, rows[:, 0::2], out=out[0::2])
    np.matmul(weights, rows[:, 1::2], out=out[1::2])


def _gather_spans(read_rows, in_size: int, columns: int, spans: Spans) -> np.ndarray:
    """Output row y = the sum of spans' taps over input rows start_y.. -> float32 [out, columns].

    ``read_rows(first, end)`` gives input rows first..end-1 as float32 [end - first, columns];
    it is asked for one block of rows at a time.
    """
    count = len(spans.starts)
    taps = np.minimum(spans.span, in_size - spans.starts)
    ends = spans.starts + taps
    out = np.empty((count, columns), dtype=_F)
    block_rows = max(_BLOCK_ROWS, 4 * spans.span)
    y = 0
    while y < count:
        first = int(spans.starts[y])
        stop = y + 1  # the output rows whose taps all lie in this block (starts only grow)
        while stop < count and spans.starts[stop] >= first and ends[stop] <= first + block_rows:
            stop += 1
        block = read_rows(first, int(ends[y:stop].max()))
        for k in range(y, stop):
            offset = int(spans.starts[k]) - first
            _sum_taps_in_order(spans.weights[k, :taps[k]], block[offset:offset + taps[k]], out[k])
        y = stop
    return out


def _column_strips(image) -> int:
    """Columns read at a time in the vertical pass: an array in wide strips (few calls, a bounded
    float32 block); a decoded file (``imaging.ImageColumns``, which converts a strip of columns at
    a time so that a big photo never has a second full-size copy) in its narrow ones."""
    return _ARRAY_STRIP_COLUMNS if isinstance(image, np.ndarray) else _FILE_STRIP_COLUMNS


def resize_rows_transposed(image, spans: Spans) -> np.ndarray:
    """Vertical pass: [h, w, c] (an array or ``ImageColumns``) -> float32 [w, out_h, c], column-major
    so that the horizontal pass reads its input rows (the image's columns) as contiguous blocks."""
    height, width, channels = image.shape
    out_height = len(spans.starts)
    columns = np.empty((width, out_height, channels), dtype=_F)
    strip = _column_strips(image)
    for x0 in range(0, width, strip):
        part = image[:, x0:x0 + strip]
        part_width = part.shape[1]
        rows = _gather_spans(_FloatRows(part).read, height, part_width * channels, spans)
        columns[x0:x0 + part_width] = rows.reshape(out_height, part_width, channels).transpose(1, 0, 2)
    return columns


def resize_columns_transposed(columns: np.ndarray, spans: Spans) -> np.ndarray:
    """Horizontal pass on the vertical pass's float32 [w, h, c] -> [h, out_w, c]."""
    width, height, channels = columns.shape
    out = _gather_spans(lambda first, end: columns[first:end].reshape(end - first, -1), width, height * channels, spans)
    return np.ascontiguousarray(out.reshape(len(spans.starts), height, channels).transpose(1, 0, 2))


def resize_bicubic_antialias(image, out_height: int, out_width: int) -> np.ndarray:
    """``tf.image.resize(image, (out_height, out_width), 'bicubic', antialias=True)`` on [h, w, c]."""
    if image.ndim != 3:
        raise ValueError(f"expected an [height, width, channels] array, got shape {image.shape}")
    height, width, _ = image.shape
    columns = resize_rows_transposed(image, compute_spans(out_height, height))
    return resize_columns_transposed(columns, compute_spans(out_width, width))


def resize_with_pad(image: np.ndarray, frame_height: int = MODEL_HEIGHT,
                    frame_width: int = MODEL_WIDTH) -> tuple[np.ndarray, PadGeometry]:
    """The model input: float32 [frame_height, frame_width, c], and where the image sits in it."""
    height, width = image.shape[:2]
    geometry = pad_geometry(width, height, frame_width, frame_height)
    resized = resize_bicubic_antialias(image, geometry.resized_height, geometry.resized_width)
    frame = np.zeros((frame_height, frame_width, image.shape[2]), dtype=_F)
    # pad_to_bounding_box: the resized image never exceeds the frame (floor of <= frame size).
    frame[geometry.pad_y:geometry.pad_y + geometry.resized_height,
          geometry.pad_x:geometry.pad_x + geometry.resized_width] = resized
    return frame, geometry


def model_input(image: np.ndarray) -> tuple[np.ndarray, PadGeometry]:
    """NHWC float32 [1, 480, 640, 3] for the attention-center model, plus the geometry."""
    frame, geometry = resize_with_pad(image)
    return frame[None], geometry
