"""Packing a streaming model's states into one tensor (models/tflite2onnx/pack.py) changes no arithmetic."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from onnx import TensorProto, helper

from models.tflite2onnx.errors import ConversionError
from models.tflite2onnx.pack import pack_states

from .conftest import onnx_stream


@pytest.mark.parametrize("name, count, inputs", [("soundstream_encoder", 14, ("audio", (1, 320))),
                                                  ("lyragan", 18, ("features", (1, 1, 64)))])
def test_packed_model_is_bit_identical_over_a_stream(converted, speech, name, count, inputs):
    from codeclab.lyra.models import StatefulModel
    from codeclab.onnx_bridge import OnnxRunner

    original = converted[name]
    init = original.state_init()
    packed, packed_init, layout = pack_states(copy.deepcopy(original.model), init)
    assert len(layout) == count and list(packed_init) == ["state_in_0"]
    assert [i.name for i in packed.graph.input if i.name.startswith("state_")] == ["state_in_0"]
    assert [o.name for o in packed.graph.output if o.name.startswith("state_")] == ["state_out_0"]
    for entry in layout:  # the initial state lands where the layout says
        np.testing.assert_array_equal(packed_init["state_in_0"][entry["offset"]:entry["offset"] + entry["size"]],
                                      init[entry["input"]].reshape(-1))

    plain = onnx_stream(original, name)
    flat = StatefulModel(OnnxRunner({name: packed.SerializeToString()}, num_threads=1), name, packed_init)
    key, shape = inputs
    rng = np.random.default_rng(2)
    for frame in range(40):
        if name == "soundstream_encoder":
            x = speech[frame * 320:(frame + 1) * 320].reshape(shape).astype(np.float32)
        else:
            x = rng.standard_normal(shape).astype(np.float32)
        want, have = plain.step({key: x}), flat.step({key: x})
        assert want.keys() == have.keys()
        for out in want:
            np.testing.assert_array_equal(have[out], want[out], err_msg=f"{name} frame {frame} {out}")


def _toy(state_type=TensorProto.FLOAT):
    nodes = [helper.make_node("Add", ["x", "state_in_0"], ["y"]),
             helper.make_node("Identity", ["y"], ["state_out_0"]),
             helper.make_node("Neg", ["state_in_1"], ["state_out_1"])]
    graph = helper.make_graph(nodes, "toy",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2]),
                               helper.make_tensor_value_info("state_in_0", state_type, [2]),
                               helper.make_tensor_value_info("state_in_1", TensorProto.FLOAT, [1, 3])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2]),
                               helper.make_tensor_value_info("state_out_0", state_type, [2]),
                               helper.make_tensor_value_info("state_out_1", TensorProto.FLOAT, [1, 3])])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def test_toy_model_round_trip():
    import onnxruntime as ort

    model, init, layout = pack_states(_toy(), {"state_in_0": np.array([1.0, 2.0], np.float32),
                                               "state_in_1": np.array([[3.0, 4.0, 5.0]], np.float32)})
    assert [(e["offset"], e["size"]) for e in layout] == [(0, 2), (2, 3)]
    np.testing.assert_array_equal(init["state_in_0"], [1, 2, 3, 4, 5])
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    y, state = session.run(["y", "state_out_0"], {"x": np.array([10.0, 20.0], np.float32), **init})
    np.testing.assert_array_equal(y, [11, 22])
    np.testing.assert_array_equal(state, [11, 22, -3, -4, -5])


def test_models_without_state_are_left_alone():
    model = _toy()
    del model.graph.input[1:]
    del model.graph.output[1:]
    del model.graph.node[1:]
    same, init, layout = pack_states(model, {})
    assert same is model and init == {} and layout == []


def test_non_float_state_is_refused():
    with pytest.raises(ConversionError, match="float32"):
        pack_states(_toy(TensorProto.INT64), {})
