"""Each converted ONNX model runs in onnxruntime-web (wasm) in Chromium and agrees with CPython onnxruntime."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.needs import missing

pytestmark = pytest.mark.e2e


def _models(dist):
    index = dist / "models" / "index.json"
    if not index.exists():
        missing("this dist/ was built without the upstream models (give the build --upstream)")
    return json.loads(index.read_text())


def _state_init(path):
    init = path.with_name(path.stem + ".state_init.npz")
    return dict(np.load(init)) if init.exists() else {}


def _feeds_for(session, path, rng):
    feeds = _state_init(path)
    for spec in session.get_inputs():
        if spec.name in feeds:
            continue
        shape = [d if isinstance(d, int) else 1 for d in spec.shape]
        assert spec.type == "tensor(float)", spec
        feeds[spec.name] = _smooth_image(shape, rng) if "image" in spec.name else \
            (0.1 * rng.standard_normal(size=shape)).astype(np.float32)
    return feeds


def _smooth_image(shape, rng):
    """A photo-like frame (gradients and a bright disc): i.i.d. noise is not a fair input for a
    saliency model, which amplifies float rounding on it far beyond what real images see."""
    _, h, w, _ = shape
    yy, xx = np.mgrid[0:h, 0:w] / np.array([h, w]).reshape(2, 1, 1)
    cy, cx = rng.uniform(0.3, 0.7, size=2)
    disc = np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / 0.01)
    rgb = np.stack([0.3 + 0.4 * xx, 0.2 + 0.5 * yy, 0.4 + 0.0 * xx], axis=-1) + 0.5 * disc[..., None]
    return np.clip(rgb, 0, 1)[None].astype(np.float32)


# Tolerance per output: the attention centre is compared in model-frame pixels (the converter's
# parity bar is 0.5 px against TFLite), everything else relative to the output's magnitude.
ABSOLUTE_TOLERANCE = {"center": 0.5}


@pytest.mark.parametrize("name", ["attention_center", "soundstream_encoder", "lyragan"])
@pytest.mark.parametrize("isolated", [True, False], ids=["threads", "single-thread"])
def test_model_runs_in_the_browser_like_in_cpython(name, isolated, browser, site, plain_site, dist):
    import onnxruntime as ort

    from .conftest import open_app

    index = _models(dist)
    if name not in index:
        pytest.fail(f"model {name} missing from {dist / 'models' / 'index.json'}: {sorted(index)}")
    path = dist / "models" / index[name]
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    feeds = _feeds_for(session, path, np.random.default_rng(7))
    expected = dict(zip([o.name for o in session.get_outputs()], session.run(None, feeds)))

    page, watch = open_app(browser, (site if isolated else plain_site).url)
    try:
        js_feeds = {k: {"data": v.reshape(-1).tolist(), "shape": list(v.shape)} for k, v in feeds.items()}
        got = page.evaluate(
            """async ([name, feeds]) => {
                const typed = {};
                for (const [k, v] of Object.entries(feeds)) typed[k] = { data: new Float32Array(v.data), shape: v.shape };
                const out = await window.codeclab.python.call('platform.run_model', { name, feeds: typed });
                const plain = {};
                for (const [k, v] of Object.entries(out)) plain[k] = { data: Array.from(v.data), shape: v.shape };
                return plain;
            }""",
            [name, js_feeds],
        )
        assert set(got) == set(expected)
        for key, want in expected.items():
            have = np.asarray(got[key]["data"], dtype=np.float32).reshape(got[key]["shape"])
            assert have.shape == want.shape, key
            scale = float(np.max(np.abs(want))) or 1.0
            bound = ABSOLUTE_TOLERANCE.get(key, 1e-3 * scale + 1e-5)
            assert float(np.max(np.abs(have - want))) <= bound, (key, float(np.max(np.abs(have - want))))
        assert watch.foreign_requests() == []
    finally:
        page.context.close()
