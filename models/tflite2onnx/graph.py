"""The ONNX graph under construction, with per-value layout and quantization bookkeeping.

TFLite is NHWC; ONNX's Conv/Pool/Resize are NCHW.  Rather than wrapping every
operator in a Transpose pair, each rank-4 value remembers which physical order
it is held in (``nhwc`` or ``nchw``).  Convolutions produce NCHW, elementwise and
axis operators keep whatever order their inputs are in (axes remapped), and only
layout-sensitive operators (reshape, matmul, graph outputs) ask for NHWC, which
costs one Transpose that is then cached for every later consumer.

Int8 tensors are carried as float32 tensors holding the integer code ``q`` (an
exact representation); ``Value.quant`` says how to read them.  The integer
arithmetic that TFLite's XNNPACK kernels perform is reproduced exactly on those
codes (see ops_int8.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from .reader import Quantization

NHWC_TO_NCHW = (0, 3, 1, 2)
NCHW_TO_NHWC = (0, 2, 3, 1)
# Position in NCHW order of each NHWC axis.
NHWC_AXIS_IN_NCHW = (0, 2, 3, 1)


@dataclass
class Value:
    """One tensor of the TFLite graph as it exists in the ONNX graph."""

    name: str | None               # ONNX value name; None for a constant not yet materialised
    shape: tuple[int, ...]         # TFLite (NHWC) shape
    layout: str = "nhwc"           # physical order of a rank-4 value: "nhwc" or "nchw"
    const: np.ndarray | None = None  # known value, NHWC order (constants and folded shape arithmetic)
    quant: Quantization | None = None  # set when the float32 tensor holds int8 codes

    @property
    def rank(self) -> int:
        return len(self.shape)

    @property
    def is_const(self) -> bool:
        return self.const is not None

    @property
    def physical_shape(self) -> tuple[int, ...]:
        if self.rank == 4 and self.layout == "nchw":
            return tuple(self.shape[i] for i in NHWC_TO_NCHW)
        return self.shape


class GraphBuilder:
    def __init__(self, name: str):
        self.name = name
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self.inputs: list[onnx.ValueInfoProto] = []
        self.outputs: list[onnx.ValueInfoProto] = []
        self._counter = 0
        self._const_cache: dict[tuple, str] = {}
        self._layout_cache: dict[tuple[str, str], str] = {}

    # -------------------------------------------------------------- names
    def fresh(self, hint: str) -> str:
        self._counter += 1
        clean = "".join(c if c.isalnum() or c in "_/.:-" else "_" for c in hint)[-60:]
        return f"{clean}__{self._counter}"

    # -------------------------------------------------------------- constants
    def constant(self, array: np.ndarray, hint: str = "const", share: bool = False) -> str:
        """An initializer; small ones (and any with ``share``) are stored once however often asked for."""
        array = np.ascontiguousarray(array)
        if array.dtype == np.float64:
            array = array.astype(np.float32)
        key = (array.dtype.str, array.shape, array.tobytes()) if array.size <= 64 or share else None
        if key is not None and key in self._const_cache:
            return self._const_cache[key]
        name = self.fresh(hint)
        self.initializers.append(numpy_helper.from_array(array, name))
        if key is not None:
            self._const_cache[key] = name
        return name

    def ints(self, values, hint: str = "ints") -> str:
        return self.constant(np.asarray(values, dtype=np.int64), hint)

    def scalar(self, value: float, hint: str = "scalar") -> str:
        return self.constant(np.asarray(value, dtype=np.float32), hint)

    # -------------------------------------------------------------- nodes
    def node(self, op_type: str, inputs: list[str], hint: str, n_out: int = 1, **attrs) -> list[str]:
        outputs = [self.fresh(f"{hint}_{op_type}") for _ in range(n_out)]
        self.nodes.append(helper.make_node(op_type, inputs, outputs, name=outputs[0], **attrs))
        return outputs

    def op(self, op_type: str, inputs: list[str], hint: str, **attrs) -> str:
        return self.node(op_type, inputs, hint, 1, **attrs)[0]

    # -------------------------------------------------------------- values
    def materialise(self, value: Value, hint: str = "const") -> str:
        """The ONNX name of ``value`` in its own layout (constants become initializers)."""
        if value.name is not None:
            return value.name
        array = value.const
        if value.rank == 4 and value.layout == "nchw":
            array = np.transpose(array, NHWC_TO_NCHW)
        if array.dtype.kind in "iub" and value.quant is None and array.dtype != np.int64:
            array = array.astype(np.int64)
        if value.quant is not None or array.dtype.kind == "f":
            array = array.astype(np.float32)
        return self.constant(array, hint)

    def in_layout(self, value: Value, layout: str, hint: str = "x") -> str:
        """ONNX name of ``value`` physically ordered as ``layout`` (rank-4 values only differ)."""
        if value.rank != 4 or value.layout == layout:
            return self.materialise(value, hint)
        if value.is_const:
            return self.materialise(Value(None, value.shape, layout, value.const, value.quant), hint)
        key = (value.name, layout)
        if key not in self._layout_cache:
            perm = NHWC_TO_NCHW if layout == "nchw" else NCHW_TO_NHWC
            self._layout_cache[key] = self.op("Transpose", [value.name], hint, perm=list(perm))
        return self._layout_cache[key]

    def broadcast_operand(self, value: Value, out_rank: int, layout: str, hint: str) -> str:
        """``value`` ready to broadcast against a rank ``out_rank`` tensor held in ``layout``."""
        if out_rank != 4 or layout == "nhwc":
            return self.materialise(value, hint) if value.rank != 4 else self.in_layout(value, "nhwc", hint)
        if value.rank == 4:
            return self.in_layout(value, "nchw", hint)
        # Lower rank operand of an NCHW result: right-align in NHWC, then permute to NCHW.
        if value.is_const:
            array = np.asarray(value.const).reshape((1,) * (4 - value.rank) + tuple(value.shape))
            if array.dtype.kind == "f" or value.quant is not None:
                array = array.astype(np.float32)
            return self.constant(np.transpose(array, NHWC_TO_NCHW), hint)
        shape4 = (1,) * (4 - value.rank) + tuple(value.shape)
        reshaped = self.op("Reshape", [value.name, self.ints(shape4)], hint)
        return self.op("Transpose", [reshaped], hint, perm=list(NHWC_TO_NCHW))

    # -------------------------------------------------------------- graph I/O
    def add_input(self, name: str, shape, elem_type=TensorProto.FLOAT) -> None:
        self.inputs.append(helper.make_tensor_value_info(name, elem_type, list(shape)))

    def add_output(self, name: str, source: str, shape, elem_type=TensorProto.FLOAT) -> None:
        self.nodes.append(helper.make_node("Identity", [source], [name], name=f"output_{name}"))
        self.outputs.append(helper.make_tensor_value_info(name, elem_type, list(shape)))

    def _drop_output_identities(self) -> None:
        """Let the producing node write the graph output directly instead of through an Identity node
        (15 in the encoder, 19 in LyraGAN otherwise: one per output): in a 20 ms frame every node costs."""
        uses: dict[str, int] = {}
        for node in self.nodes:
            for name in node.input:
                uses[name] = uses.get(name, 0) + 1
        producers = {out: node for node in self.nodes for out in node.output}
        kept = []
        for node in self.nodes:
            source = node.input[0] if node.op_type == "Identity" else None
            producer = producers.get(source) if source else None
            if node.name.startswith("output_") and producer is not None and uses.get(source) == 1:
                producer.output[list(producer.output).index(source)] = node.output[0]
                continue
            kept.append(node)
        self.nodes = kept

    def model(self, opset: int, metadata: dict[str, str], doc: str) -> onnx.ModelProto:
        self._drop_output_identities()
        graph = helper.make_graph(self.nodes, self.name, self.inputs, self.outputs, self.initializers)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)],
                                  producer_name="codeclab-tflite2onnx", doc_string=doc)
        model.ir_version = 8  # readable by every onnxruntime in use (CPython and web)
        for key, value in metadata.items():
            entry = model.metadata_props.add()
            entry.key, entry.value = key, value
        return model
