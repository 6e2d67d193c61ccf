"""The attention-center model: our ONNX against the TFLite interpreter on varied images."""

from __future__ import annotations

import numpy as np
import pytest

from codeclab.attention.predict import TfliteCenterRunner
from codeclab.onnx_bridge import OnnxRunner


def varied_images(upstream) -> dict[str, np.ndarray]:
    """Ten-plus 0..1 RGB images of different sizes, aspect ratios and content."""
    from codeclab.attention.preprocess import model_input
    from codeclab.imaging import decode_rgb

    rng = np.random.default_rng(2026)
    images = {}
    bee = decode_rgb((upstream / "attention-center" / "white_eyes_bee.jpg").read_bytes())
    images["bee"] = bee.pixels.astype(np.float32) / np.iinfo(bee.pixels.dtype).max
    for k, (h, w) in enumerate([(480, 640), (600, 800), (1000, 700), (333, 517), (720, 1280), (256, 256),
                                (1080, 607), (97, 401), (640, 480), (401, 97), (900, 1600)]):
        yy, xx = np.mgrid[0:h, 0:w] / np.array([h, w]).reshape(2, 1, 1)
        cy, cx, r = rng.uniform(0.2, 0.8), rng.uniform(0.2, 0.8), rng.uniform(0.03, 0.2)
        disc = np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / r ** 2)
        base = rng.uniform(0.1, 0.6, size=3) + 0.3 * np.stack([xx, yy, 1 - xx], -1) * rng.uniform(-1, 1, size=3)
        texture = 0.05 * np.sin(2 * np.pi * (xx * rng.uniform(3, 30) + yy * rng.uniform(3, 30)))[..., None]
        images[f"synthetic{k}_{w}x{h}"] = np.clip(base + disc[..., None] * rng.uniform(0.2, 0.8, size=3) + texture, 0, 1)
    return {name: model_input(np.asarray(img, dtype=np.float32))[0] for name, img in images.items()}


@pytest.fixture(scope="module")
def centres(upstream, tflite_files, converted):
    tflite = TfliteCenterRunner(tflite_files["attention_center"])
    ours = OnnxRunner({"attention_center": converted["attention_center"].model.SerializeToString()}, num_threads=2)
    results = {}
    for name, frame in varied_images(upstream).items():
        want = tflite.run_sync("attention_center", {"image": frame})["center"].reshape(-1)
        outputs = ours.run_sync("attention_center", {"image": frame})
        results[name] = (want, outputs["center"].reshape(-1), outputs["weights"])
    return results


def test_at_least_ten_varied_images(centres):
    assert len(centres) >= 10
    points = np.array([want for want, _, _ in centres.values()])
    assert np.ptp(points[:, 0]) > 20 and np.ptp(points[:, 1]) > 20, "the images must move the centre around"


# Not bit-exact, and why: the model is float throughout (fp16 weights), with 2-D convolutions, hard-swish,
# resize, sigmoid and a final einsum that sums 480 x 640 = 307,200 weighted pixels.  XNNPACK sums that
# einsum as one float32 chain, whose own rounding puts TFLite's centre up to 0.29 px from the exact
# (float64) moment of TFLite's own sigmoid map; onnxruntime sums in blocks (ours is within 0.03 px of
# the exact moment of its map).  Reproducing a 307,200-term chain, XNNPACK's sigmoid/hard-swish
# polynomials and its 2-D convolution order in ONNX would cost far more than the model itself.
# So the bar is the measured worst (0.314 px, synthetic 607x1080) with 10 % headroom, and the sigmoid
# map, where the two runtimes are compared before that sum, is held to a few float32 ulps.
CENTRE_BOUND_PX = 0.35
WEIGHTS_BOUND = 2e-6  # measured worst 8.4e-7 (values in 0..1)


def test_centre_within_the_measured_bound_of_tflite(centres):
    worst = {name: float(np.max(np.abs(have - want))) for name, (want, have, _) in centres.items()}
    assert max(worst.values()) <= CENTRE_BOUND_PX, worst


def test_sigmoid_map_within_a_few_ulps_of_tflite(upstream, tflite_files, centres):
    from models.tflite2onnx.reader import read_tflite

    from .test_operators import run_tflite, with_output

    path = tflite_files["attention_center"]
    sigmoid = next(t.index for t in read_tflite(path).subgraphs[0].tensors if t.name == "Sigmoid")
    blob = with_output(path.read_bytes(), sigmoid)
    frames = varied_images(upstream)
    worst = {name: float(np.abs(run_tflite(blob, [frames[name]]).reshape(-1) - weights.reshape(-1)).max())
             for name, (_, _, weights) in centres.items()}
    assert max(worst.values()) <= WEIGHTS_BOUND, worst


def test_bee_matches_the_upstream_readme(centres):
    want, have, _ = centres["bee"]
    # upstream README: (522, 1143) in original pixels = (269, 265) in the 640x480 frame.
    assert np.allclose(have, [269.0, 265.0], atol=1.0), have


def test_weights_map_is_the_models_sigmoid(centres):
    for _want, have, weights in centres.values():
        assert weights.shape == (1, 480, 640)
        assert 0.0 <= float(weights.min()) and float(weights.max()) <= 1.0
        # The centre is the weights' normalised first moment (what the model's einsum computes).
        w = weights[0].astype(np.float64)
        ys, xs = np.mgrid[0:480, 0:640]
        moment = np.array([(w * xs).sum(), (w * ys).sum()]) / w.sum()
        assert np.allclose(moment, have, atol=1.0), (moment, have)
