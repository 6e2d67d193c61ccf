"""Runner plumbing: explicit ONNX state carried frame to frame, model loading errors.

The converter's real ONNX files are tested in test_codec.py once build.py has made them;
here tiny ONNX graphs with the same interface (built with onnx.helper) check that
StatefulModel + OnnxRunner feed state_out_k back as state_in_k and that the codec runs
on the ONNX backend.
"""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from codeclab.errors import ModelUnavailableError
from codeclab.lyra.decoder import LyraDecoder
from codeclab.lyra.encoder import LyraEncoder
from codeclab.lyra.errors import LyraError
from codeclab.lyra.models import OnnxRunner, StatefulModel, load_models, load_state_init


def stateful_graph(name, in_name, in_shape, out_name, out_shape, step=1.0):
    """out = reshape(mean(input)) + state_in_0 (broadcast); state_out_0 = state_in_0 + step."""
    size = int(np.prod(out_shape))
    nodes = [
        helper.make_node("ReduceMean", [in_name], ["m"], keepdims=1),
        helper.make_node("Reshape", ["m", "one_shape"], ["m1"]),
        helper.make_node("Reshape", ["state_in_0", "out_shape"], ["s"]),
        helper.make_node("Add", ["s", "m1"], [out_name]),
        helper.make_node("Add", ["state_in_0", "inc"], ["state_out_0"]),
    ]
    inits = [
        helper.make_tensor("one_shape", TensorProto.INT64, [len(out_shape)], [1] * len(out_shape)),
        helper.make_tensor("out_shape", TensorProto.INT64, [len(out_shape)], list(out_shape)),
        helper.make_tensor("inc", TensorProto.FLOAT, [], [step]),
    ]
    graph = helper.make_graph(
        nodes, name,
        [helper.make_tensor_value_info(in_name, TensorProto.FLOAT, in_shape),
         helper.make_tensor_value_info("state_in_0", TensorProto.FLOAT, [1, size])],
        [helper.make_tensor_value_info(out_name, TensorProto.FLOAT, out_shape),
         helper.make_tensor_value_info("state_out_0", TensorProto.FLOAT, [1, size])],
        inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


@pytest.fixture()
def onnx_dir(tmp_path, codebooks):
    onnx.save(stateful_graph("enc", "audio", [1, 320], "features", [1, 1, 64]), tmp_path / "soundstream_encoder.onnx")
    onnx.save(stateful_graph("dec", "features", [1, 1, 64], "audio", [1, 320], step=0.01), tmp_path / "lyragan.onnx")
    np.savez(tmp_path / "soundstream_encoder.state_init.npz", state_in_0=np.full((1, 64), 0.5, np.float32))
    np.savez(tmp_path / "lyragan.state_init.npz", state_in_0=np.zeros((1, 320), np.float32))
    np.save(tmp_path / "quantizer_codebooks.npy", codebooks)
    return tmp_path


def test_state_is_carried(onnx_dir):
    init = load_state_init(onnx_dir / "soundstream_encoder.state_init.npz")
    model = StatefulModel(OnnxRunner(model_dir=onnx_dir), "soundstream_encoder", init)
    audio = np.full((1, 320), 0.25, np.float32)
    for k in range(4):
        out = model.step({"audio": audio})
        assert set(out) == {"features"}
        np.testing.assert_allclose(out["features"], 0.5 + k + 0.25)
    model.reset()
    np.testing.assert_allclose(model.step({"audio": audio})["features"], 0.75)


def test_codec_runs_on_onnx_backend(onnx_dir):
    # an encoder stand-in with constant output, so every packet decodes to the same features
    onnx.save(stateful_graph("enc", "audio", [1, 320], "features", [1, 1, 64], step=0.0),
              onnx_dir / "soundstream_encoder.onnx")
    models = load_models(onnx_dir, "auto")
    assert models.backend == "onnx"
    packets = LyraEncoder(16000, 3200, models).encode_all(np.zeros(3200, np.int16))
    assert len(packets) == 10 and all(len(p) == 8 for p in packets)
    out = LyraDecoder(16000, models).decode_packets(packets)
    # the lyragan stand-in's output grows by 0.01 (x 32768) per hop through its carried state
    steps = np.diff(out.reshape(10, 320)[:, 0].astype(float))
    assert out.size == 3200 and np.allclose(steps, 327.68, atol=1.5)


def test_missing_state_output_is_an_error(onnx_dir):
    init = {"state_in_0": np.zeros((1, 64), np.float32), "state_in_7": np.zeros((1, 64), np.float32)}
    model = StatefulModel(OnnxRunner(model_dir=onnx_dir), "soundstream_encoder", init)
    with pytest.raises(LyraError, match="state_out_7"):
        model.step({"audio": np.zeros((1, 320), np.float32)})


def test_missing_files_are_clear_errors(onnx_dir, tmp_path_factory):
    (onnx_dir / "lyragan.state_init.npz").unlink()
    with pytest.raises(ModelUnavailableError, match="state_init"):
        load_models(onnx_dir, "onnx")
    empty = tmp_path_factory.mktemp("empty")
    with pytest.raises(ModelUnavailableError, match="not found"):
        load_models(empty)
    with pytest.raises(ModelUnavailableError, match="tflite"):
        load_models(empty, "tflite")
