"""Pack a streaming model's state tensors into one input and one output.

Why: onnxruntime-web pays per tensor crossing into and out of its wasm heap, about
19 µs for each input/output pair (Node 20's V8 running the page's onnxruntime-web
wasm; 30 pairs of small tensors: 0.66 ms a run, 1 pair: 0.08 ms).  Lyra's encoder has 14 states and LyraGAN 18, so
a 20 ms frame spent ~0.3 ms per model moving them.  Packed, the graph splits one
flat ``state_in_0`` into the old tensors at the start and concatenates the new
ones into ``state_out_0`` at the end; the arithmetic is untouched, so the outputs
are bit-identical, and the runner's contract (``state_out_k`` feeds ``state_in_k``)
still holds with k = 0 only.
"""

from __future__ import annotations

import json

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from .errors import ConversionError

PACKED_INPUT = "state_in_0"
PACKED_OUTPUT = "state_out_0"


def _shape(value_info: onnx.ValueInfoProto) -> list[int]:
    return [d.dim_value for d in value_info.type.tensor_type.shape.dim]


def _state_index(name: str, prefix: str) -> int:
    return int(name[len(prefix):])


def _rename_everywhere(graph: onnx.GraphProto, old: str, new: str) -> None:
    for node in graph.node:
        node.input[:] = [new if n == old else n for n in node.input]
        node.output[:] = [new if n == old else n for n in node.output]


def pack_states(model: onnx.ModelProto, state_init: dict[str, np.ndarray]
                ) -> tuple[onnx.ModelProto, dict[str, np.ndarray], list[dict]]:
    """(packed model, packed initial state, layout: [{input, output, offset, size, shape}]); the model is
    changed in place.  A model without states comes back as it is."""
    graph = model.graph
    ins = sorted((i for i in graph.input if i.name.startswith("state_in_")), key=lambda i: _state_index(i.name, "state_in_"))
    outs = {o.name: o for o in graph.output if o.name.startswith("state_out_")}
    if not ins:
        return model, state_init, []
    for i in ins:
        if i.type.tensor_type.elem_type != TensorProto.FLOAT:
            raise ConversionError(f"state {i.name} is not float32; only float states can be packed")
        if f"state_out_{_state_index(i.name, 'state_in_')}" not in outs:
            raise ConversionError(f"state {i.name} has no state_out_{_state_index(i.name, 'state_in_')}")
    if any(o.name in {i.name for i in graph.input} for o in graph.output):
        raise ConversionError("a graph output is a graph input passed through; packing expects every output computed")

    layout, offset = [], 0
    for i in ins:
        k = _state_index(i.name, "state_in_")
        shape = _shape(i)
        size = int(np.prod(shape))
        layout.append({"input": i.name, "output": f"state_out_{k}", "offset": offset, "size": size, "shape": shape})
        offset += size
    total = offset

    # Old names become internal values; the packed tensors take the k = 0 names.
    for entry in layout:
        _rename_everywhere(graph, entry["input"], entry["input"] + "_unpacked")
    for entry in layout:
        _rename_everywhere(graph, entry["output"], entry["output"] + "_unpacked")

    kept_inputs = [i for i in graph.input if not i.name.startswith("state_in_")]
    kept_outputs = [o for o in graph.output if not o.name.startswith("state_out_")]
    del graph.input[:]
    graph.input.extend(kept_inputs + [helper.make_tensor_value_info(PACKED_INPUT, TensorProto.FLOAT, [total])])
    del graph.output[:]
    graph.output.extend(kept_outputs + [helper.make_tensor_value_info(PACKED_OUTPUT, TensorProto.FLOAT, [total])])

    sizes = numpy_helper.from_array(np.array([e["size"] for e in layout], np.int64), "packed_state_sizes")
    graph.initializer.append(sizes)
    unpack = [helper.make_node("Split", [PACKED_INPUT, sizes.name], [e["input"] + "_flat" for e in layout],
                               name="unpack_state", axis=0)]
    for e in layout:
        shape = numpy_helper.from_array(np.array(e["shape"], np.int64), e["input"] + "_shape")
        graph.initializer.append(shape)
        unpack.append(helper.make_node("Reshape", [e["input"] + "_flat", shape.name], [e["input"] + "_unpacked"],
                                       name=e["input"] + "_reshape"))
    flat_shape = numpy_helper.from_array(np.array([-1], np.int64), "packed_state_flat")
    graph.initializer.append(flat_shape)
    repack = []
    for e in layout:
        repack.append(helper.make_node("Reshape", [e["output"] + "_unpacked", flat_shape.name], [e["output"] + "_flat"],
                                       name=e["output"] + "_flatten"))
    repack.append(helper.make_node("Concat", [e["output"] + "_flat" for e in layout], [PACKED_OUTPUT],
                                   name="pack_state", axis=0))
    nodes = list(graph.node)
    del graph.node[:]
    graph.node.extend(unpack + nodes + repack)

    meta = {p.key: p for p in model.metadata_props}
    if "states" in meta:
        states = json.loads(meta["states"].value)
        by_input = {e["input"]: e for e in layout}
        for s in states:
            s["packed_offset"] = by_input[s["input"]]["offset"]
            s["packed_size"] = by_input[s["input"]]["size"]
        meta["states"].value = json.dumps(states)
    entry = model.metadata_props.add()
    entry.key, entry.value = "packed_states", json.dumps({"input": PACKED_INPUT, "output": PACKED_OUTPUT, "size": total})

    packed_init = {PACKED_INPUT: np.concatenate([np.asarray(state_init[e["input"]], np.float32).reshape(-1)
                                                for e in layout])}
    onnx.checker.check_model(model)
    return model, packed_init, layout
