"""resize_with_pad as TensorFlow computes it, and the geometry back to original pixels.

How the expectations were derived (TensorFlow is not installable here):

* ``reference_spans`` / ``reference_resize`` below transcribe
  tensorflow/core/kernels/image/scale_and_translate_op.cc (``ComputeSpansCore``,
  ``GatherRows``/``GatherColumns``) statement by statement, one float32 scalar
  operation at a time, with no vectorisation.  The vectorised numpy code must
  equal them bit for bit.
* Hand-computed values: upsampling [0, 1] from 2 to 4 pixels samples the input
  at 0.25, 0.75, 1.25, 1.75; output 0 has taps 0 and 1 at distances 0.25 and
  1.25, Keys weights 0.8671875 and -0.0703125, renormalised by their sum
  0.796875 -> value -0.0703125 / 0.796875 = -0.088235294.
* Pad geometry: image_ops_impl._resize_image_with_pad_common in float32.  The
  bee (1484x2069) is placed at column 147 with width 344 (measured with
  TensorFlow, shared/upstream/README.md).  Float32 matters: for a 1x1 image
  ``1 / fl(1/480) = 479.99997``, so TensorFlow resizes to 479x479, not 480.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codeclab.attention.geometry import frame_to_original, original_to_frame, rescale_point, upstream_center
from codeclab.attention.preprocess import (
    compute_spans,
    model_input,
    pad_geometry,
    resize_bicubic_antialias,
    resize_with_pad,
)
from tests.needs import missing

F = np.float32


def keys(x):
    x = F(abs(x))
    if x >= F(2):
        return F(0)
    if x >= F(1):
        return ((F(-0.5) * x + F(2.5)) * x - F(4)) * x + F(2)
    return ((F(1.5) * x - F(2.5)) * x) * x + F(1)


def reference_spans(out_size, in_size):
    """ComputeSpansCore, transcribed (translate = 0, antialias = True)."""
    scale = F(out_size) / F(in_size)
    inv_scale = F(1.0 / float(scale))
    kernel_scale = max(inv_scale, F(1))
    span_size = min(2 * math.ceil(F(2) * kernel_scale) + 1, in_size)
    one_over = F(1) / kernel_scale
    starts, weights = [], []
    for x in range(out_size):
        sample = (F(x) + F(0.5)) * inv_scale
        row = [F(0)] * span_size
        if sample < 0 or sample > in_size:
            starts.append(0)
            weights.append(row)
            continue
        first = math.ceil(sample - F(2) * kernel_scale - F(0.5))
        end = math.floor(sample + F(2) * kernel_scale - F(0.5))
        first = min(max(first, 0), in_size - 1)
        end = min(max(end, 0), in_size - 1) + 1
        temp, total = [], F(0)
        for source in range(first, end):
            w = keys((F(source) + F(0.5) - sample) * one_over)
            total = F(total + w)
            temp.append(w)
        if abs(total) >= F(1000) * np.finfo(F).tiny:
            inverse = F(1) / total
            for i, w in enumerate(temp):
                row[i] = F(w * inverse)
        starts.append(first)
        weights.append(row)
    return np.array(starts), np.array(weights, dtype=F)


def reference_resize(image, out_h, out_w):
    """GatherRows then GatherColumns, scalar float32 accumulation in tap order."""
    in_h, in_w, channels = image.shape
    rs, rw = reference_spans(out_h, in_h)
    cs, cw = reference_spans(out_w, in_w)
    mid = np.zeros((out_h, in_w, channels), F)
    for y in range(out_h):
        for k in range(min(rs[y] + rw.shape[1], in_h) - rs[y]):
            mid[y] += rw[y, k] * image[rs[y] + k]
    out = np.zeros((out_h, out_w, channels), F)
    for x in range(out_w):
        for k in range(min(cs[x] + cw.shape[1], in_w) - cs[x]):
            out[:, x] += cw[x, k] * mid[:, cs[x] + k]
    return out


@pytest.mark.parametrize("out_size,in_size", [(4, 2), (344, 1484), (480, 2069), (7, 3), (5, 17), (1, 9), (9, 1),
                                              (479, 1), (640, 641), (33, 32), (31, 1000)])
def test_spans_equal_tensorflow_transcription(out_size, in_size):
    starts, weights = reference_spans(out_size, in_size)
    spans = compute_spans(out_size, in_size)
    assert spans.weights.shape == weights.shape
    np.testing.assert_array_equal(spans.starts, starts)
    np.testing.assert_array_equal(spans.weights, weights)  # bit for bit


@pytest.mark.parametrize("size,out", [((5, 7), (3, 4)), ((13, 6), (20, 9)), ((1, 1), (4, 4)), ((40, 31), (11, 17))])
def test_resize_equals_tensorflow_transcription_bitwise(size, out):
    rng = np.random.default_rng(1)
    image = rng.random((*size, 3), dtype=F)
    np.testing.assert_array_equal(resize_bicubic_antialias(image, *out), reference_resize(image, *out))


@pytest.mark.parametrize("size,out", [((600, 290), (95, 46)), ((33, 1), (4, 1)), ((50, 2), (7, 3)), ((3, 700), (5, 131))])
def test_row_blocks_and_narrow_images_equal_tensorflow_transcription_bitwise(size, out):
    """Several blocks of converted rows (uint8 input, as the page gives it), and images with fewer than four
    values a row (they take the tap loop rather than numpy's matmul loop)."""
    image = np.random.default_rng(7).integers(0, 256, (*size, 3), dtype=np.uint8)
    expected = reference_resize(image.astype(F) / F(255), *out)
    np.testing.assert_array_equal(resize_bicubic_antialias(image, *out), expected)
    np.testing.assert_array_equal(resize_bicubic_antialias(image[:, :, :1], *out), expected[:, :, :1])


def test_hand_computed_upsampling():
    out = resize_bicubic_antialias(np.array([[[0.0], [1.0]]], F), 1, 4)[0, :, 0]
    assert out[0] == pytest.approx(-0.0703125 / 0.796875, abs=1e-7)
    assert out[3] == pytest.approx(1 + 0.0703125 / 0.796875, abs=3e-7)  # mirror image of output 0
    assert out[1] == pytest.approx(1 - out[2], abs=3e-7)


def test_same_size_is_identity_and_constant_stays_constant():
    rng = np.random.default_rng(2)
    image = rng.random((37, 53, 3), dtype=F)
    np.testing.assert_array_equal(resize_bicubic_antialias(image, 37, 53), image)
    flat = np.full((300, 200, 3), 0.25, F)
    np.testing.assert_allclose(resize_bicubic_antialias(flat, 77, 45), 0.25, atol=1e-6)


def test_uint8_input_equals_upstream_float_conversion():
    image = np.random.default_rng(3).integers(0, 256, (61, 83, 3), dtype=np.uint8)
    upstream_float = image.astype(np.float32) / 255.0  # encode_with_centers.to_float
    np.testing.assert_array_equal(resize_bicubic_antialias(image, 20, 30), resize_bicubic_antialias(upstream_float, 20, 30))


@pytest.mark.parametrize("size,expected", [
    ((1484, 2069), (344, 480, 147, 0)),    # the bee, measured with TensorFlow
    ((2069, 1484), (640, 459, 0, 10)),     # 1484 / 3.2328125 = 459.04; (480 - 459.04) / 2 = 10.48
    ((640, 480), (640, 480, 0, 0)),
    ((1, 1), (479, 479, 80, 0)),           # float32: 1 / fl(1/480) = 479.99997
    ((3024, 4032), (360, 480, 139, 0)),    # phone portrait: (640 - 360) / 2 = 140 - fl error -> 139
    ((1000, 3), (640, 1, 0, 239)),         # 3 / 1.5625 = 1.92; (480 - 1.92) / 2 = 239.04
    ((641, 481), (639, 480, 0, 0)),        # 641 / (481/480) = 639.67
    ((101, 99), (489, 480, 75, 0)),        # upscaling: 101 / 0.20625 = 489.7; (640 - 489.7) / 2 = 75.15
])
def test_pad_geometry(size, expected):
    g = pad_geometry(*size)
    assert (g.resized_width, g.resized_height, g.pad_x, g.pad_y) == expected


def test_float32_padding_differs_from_exact_arithmetic_where_tensorflow_does():
    # exact arithmetic would give 3024 / 8.4 = 360 and pad (640 - 360) / 2 = 140 exactly;
    # float32 8.4 is 8.39999962, so TensorFlow's 3024 / ratio is 360.00002 and the pad floor(139.99999) = 139.
    g = pad_geometry(3024, 4032)
    assert g.pad_x == 139


def test_too_thin_image_is_refused():
    with pytest.raises(ValueError, match="too thin"):
        pad_geometry(1000, 1)


def test_frame_has_zero_padding_and_the_image_inside():
    image = np.full((2069, 1484, 3), 200, np.uint8)
    frame, g = resize_with_pad(image)
    assert frame.shape == (480, 640, 3) and frame.dtype == np.float32
    assert np.all(frame[:, :147] == 0) and np.all(frame[:, 147 + 344:] == 0)
    np.testing.assert_allclose(frame[:, 147:147 + 344], 200 / 255, atol=1e-6)
    batch, _ = model_input(image)
    assert batch.shape == (1, 480, 640, 3)


@pytest.mark.parametrize("size,point", [((1484, 2069), (522, 1143)), ((4000, 3000), (3100, 700)),
                                        ((333, 777), (100, 600)), ((2069, 1484), (1500, 300))])
def test_mapping_is_the_exact_inverse_of_the_resize(size, point):
    """A lone bright pixel's centroid in the frame (what the model's gravity centre computes) maps back onto it."""
    width, height = size
    image = np.zeros((height, width, 1), np.float32)
    image[point[1], point[0]] = 1.0
    frame, g = resize_with_pad(image)
    weights = frame[:, :, 0].astype(np.float64)
    ys, xs = np.mgrid[0:480, 0:640]
    u, v = (weights * xs).sum() / weights.sum(), (weights * ys).sum() / weights.sum()
    x, y = frame_to_original(u, v, g)
    assert x == pytest.approx(point[0], abs=0.05) and y == pytest.approx(point[1], abs=0.05)


def test_upstream_formula_and_its_offset_on_the_bee():
    g = pad_geometry(1484, 2069)
    # google/attention-center's README prints (522, 1143) for the bee; its formula gives that for the
    # frame point of the reference TFLite kernels, (269.23, 265.20):
    assert upstream_center(269.2285, 265.1979, 1484, 2069) == (522, 1143)
    # Upstream places the image at column 148 (round + //) where TensorFlow put it at 147, and ignores the
    # half pixel: the exact inverse is 6-7 px further right on this image.
    x, y = frame_to_original(269.2285, 265.1979, g)
    assert x == pytest.approx(528.95, abs=0.01) and y == pytest.approx(1144.77, abs=0.01)


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 20000), st.integers(1, 20000), st.floats(0, 1), st.floats(0, 1))
def test_frame_mapping_round_trip(width, height, fx, fy):
    try:
        g = pad_geometry(width, height)
    except ValueError:
        return
    x, y = (width - 1) * fx, (height - 1) * fy
    u, v = original_to_frame(x, y, g)
    back = frame_to_original(u, v, g)
    assert back[0] == pytest.approx(x, abs=1e-6 * width + 1e-6) and back[1] == pytest.approx(y, abs=1e-6 * height + 1e-6)
    assert -0.5 <= u <= 640 and -0.5 <= v <= 480


@settings(max_examples=100, deadline=None)
@given(st.floats(-1e4, 1e4), st.floats(-1e4, 1e4), st.integers(1, 5000), st.integers(1, 5000))
def test_mapped_points_are_clamped_into_the_image(u, v, width, height):
    try:
        g = pad_geometry(width, height)
    except ValueError:
        return
    x, y = frame_to_original(u, v, g)
    assert 0 <= x <= width - 1 and 0 <= y <= height - 1


def test_rescale_point_between_sizes():
    assert rescale_point(0.0, 0.0, (100, 50), (1000, 500)) == (4.5, 4.5)
    assert rescale_point(99.0, 49.0, (100, 50), (1000, 500)) == (994.5, 494.5)


def test_twelve_megapixels_preprocess_quickly():
    image = np.random.default_rng(4).integers(0, 256, (3000, 4000, 3), dtype=np.uint8)
    started = time.perf_counter()
    frame, _ = model_input(image)
    elapsed = time.perf_counter() - started
    assert frame.shape == (1, 480, 640, 3)
    assert elapsed < 3.0, f"12 MP took {elapsed:.2f} s"


def _numpy_wheel(repo_root):
    dist = Path(os.environ.get("CODECLAB_DIST", repo_root / "dist"))
    wheels = sorted((dist / "pyodide").glob("numpy-*.whl")) + sorted((repo_root / ".cache" / "pyodide-wheels").glob("numpy-*.whl"))
    return wheels[0] if wheels else None


def test_same_frames_in_pyodide(repo_root, tmp_path):
    """The page preprocesses in Pyodide's numpy (no BLAS): the same frames, bit for bit, as CPython's."""
    node = shutil.which("node")
    wheel = _numpy_wheel(repo_root)
    if node is None or not (repo_root / "node_modules" / "pyodide" / "pyodide.mjs").is_file() or wheel is None:
        missing("node, node_modules/pyodide or Pyodide's numpy wheel missing (npm ci; python3 build.py build)")
    rng = np.random.default_rng(8)
    images = [rng.integers(0, 256, (1100, 1500, 3), dtype=np.uint8), rng.integers(0, 256, (2069, 1484, 3), dtype=np.uint8),
              rng.integers(0, 256, (97, 3, 3), dtype=np.uint8)]
    args = []
    for i, image in enumerate(images):
        path = tmp_path / f"image{i}.raw"
        image.tofile(path)
        args.append(f"{image.shape[1]}x{image.shape[0]}x{image.shape[2]}={path}")
    done = subprocess.run([node, str(repo_root / "tests" / "attention" / "pyodide_preprocess.mjs"), str(repo_root), str(wheel),
                           *args], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = [json.loads(line) for line in done.stdout.strip().splitlines()]
    assert len(lines) == len(images)
    for image, result in zip(images, lines):
        frame, g = model_input(image)
        assert result["python"].startswith("3.12")
        assert result["pad"] == [g.pad_x, g.pad_y, g.resized_width, g.resized_height]
        assert result["shape"] == list(frame.shape)
        assert result["sha256"] == hashlib.sha256(frame.tobytes()).hexdigest()
