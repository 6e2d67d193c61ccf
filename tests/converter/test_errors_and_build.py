"""Clear errors for what the converter cannot take, and the build step's cache."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.needs import missing


def test_unsupported_operator_is_named_with_its_tensor(tflite_files):
    from models.tflite2onnx import UnsupportedOperatorError, convert

    # quantizer.tflite is the RVQ (GATHER, ARG_MIN, …): nothing our models need, so it must be refused.
    with pytest.raises(UnsupportedOperatorError) as caught:
        convert(tflite_files["quantizer"])
    message = str(caught.value)
    assert "unsupported TFLite operator" in message and "operator #" in message and caught.value.tensor in message


def test_not_a_tflite_file(tmp_path):
    from models.tflite2onnx import ConversionError, convert

    bogus = tmp_path / "x.tflite"
    bogus.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    with pytest.raises(ConversionError, match="not a TFLite model"):
        convert(bogus)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.integers(min_value=8, max_value=4000), flips=st.lists(st.integers(0, 3999), max_size=8))
def test_damaged_flatbuffers_fail_cleanly(tmp_path, tflite_files, cut, flips):
    """Truncated or bit-flipped models raise ConversionError (or convert), never crash otherwise."""
    from models.tflite2onnx import ConversionError, convert

    blob = bytearray(tflite_files["soundstream_encoder"].read_bytes()[:cut])
    for position in flips:
        if position < len(blob):
            blob[position] ^= 0x5A
    path = tmp_path / "damaged.tflite"
    path.write_bytes(bytes(blob))
    try:
        convert(path)
    except ConversionError:
        pass


def test_build_writes_manifest_and_reuses_cache(upstream, tmp_path):
    from models.build_models import build_models

    logs = []
    manifest = build_models(upstream, tmp_path / "out", tmp_path / "cache", log=logs.append)
    files = {entry["file"] for entry in manifest["models"]}
    assert files == {"attention_center.onnx", "lyra/soundstream_encoder.onnx", "lyra/lyragan.onnx",
                     "lyra/quantizer_codebooks.npy", "attention_lite.onnx"}  # the last from models/rigl/
    for entry in manifest["models"]:
        assert (tmp_path / "out" / entry["file"]).stat().st_size == entry["bytes"]
        assert len(entry["source"]["sha256"]) == 64 and entry["converter_version"]
    written = json.loads((tmp_path / "out" / "manifest.json").read_text())
    encoder = next(e for e in written["models"] if e["name"] == "soundstream_encoder")
    assert len(encoder["states"]) == 14 and encoder["state_init"] == "lyra/soundstream_encoder.state_init.npz"
    init = np.load(tmp_path / "out" / encoder["state_init"])
    # the page's models carry their state packed into one tensor (models/tflite2onnx/pack.py)
    assert init.files == ["state_in_0"] and encoder["packed_states"]["size"] == init["state_in_0"].size
    sizes = [s["packed_size"] for s in encoder["states"]]
    assert [s["packed_offset"] for s in encoder["states"]] == list(np.cumsum([0] + sizes[:-1]))
    assert sum(sizes) == init["state_in_0"].size
    assert np.load(tmp_path / "out" / "lyra" / "quantizer_codebooks.npy").shape == (46, 16, 64)
    assert not any("cached" in line for line in logs)
    logs.clear()
    build_models(upstream, tmp_path / "out2", tmp_path / "cache", log=logs.append)
    converted = [line for line in logs if not line.startswith("attention_lite")]  # rebuilt from its checkpoint
    assert len(converted) == 4 and all("cached" in line for line in converted)


def test_altered_upstream_file_is_refused(upstream, tmp_path):
    import shutil

    from models.build_models import ModelBuildError, build_models

    copy = tmp_path / "upstream"
    shutil.copytree(upstream, copy)
    target = copy / "lyra" / "lyragan.tflite"
    target.chmod(0o644)
    data = bytearray(target.read_bytes())
    data[-1] ^= 1
    target.write_bytes(bytes(data))
    with pytest.raises(ModelBuildError, match="sha256"):
        build_models(copy, tmp_path / "out", tmp_path / "cache")


def test_a_build_given_upstream_files_ships_every_model(upstream):
    """Guards CI against model tests skipping silently: with the upstream files, the built site
    (build.py test sets CODECLAB_DIST) and build/models must hold all converted models."""
    import os
    from pathlib import Path

    dist = os.environ.get("CODECLAB_DIST")
    if not dist:
        missing("not run through `python3 build.py test` (no CODECLAB_DIST)")
    index = json.loads((Path(dist) / "models" / "index.json").read_text())
    assert set(index) == {"attention_center", "attention_lite", "soundstream_encoder", "lyragan"}, index
    repo = Path(__file__).resolve().parents[2]
    for name in ("attention_center.onnx", "attention_lite.onnx", "lyra/soundstream_encoder.onnx", "lyra/lyragan.onnx",
                 "lyra/quantizer_codebooks.npy", "lyra/lyragan.state_init.npz"):
        assert (repo / "build" / "models" / name).is_file(), name
