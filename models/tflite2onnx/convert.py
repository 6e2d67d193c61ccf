"""TFLite → ONNX for the attention-center and Lyra v2 models.

Entry point: :func:`convert`.  Shapes are static in these models, so shape
arithmetic (SHAPE, BROADCAST_ARGS, PACK, STRIDED_SLICE of shapes, …) is folded
into constants with numpy while converting; what reaches the ONNX graph is only
real tensor work.  Resource variables (Lyra's streaming state) become explicit
``state_in_<k>`` inputs and ``state_out_<k>`` outputs; their initial values come
from evaluating the CALL_ONCE init subgraph and are returned beside the model.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnx

from . import ops_f32 as f32
from . import ops_int8 as q8
from .errors import ConversionError, UnsupportedOperatorError
from .graph import NHWC_AXIS_IN_NCHW, NHWC_TO_NCHW, GraphBuilder, Value
from .reader import Operator, Subgraph, Tensor, TfliteModel, read_tflite

CONVERTER_VERSION = "1.1.0"  # 1.1: float convolutions summed in XNNPACK's order (bit-identical Lyra)
OPSET = 17
F32 = np.float32

ELEMENTWISE_BINARY = {"ADD": "Add", "SUB": "Sub", "MUL": "Mul", "DIV": "Div"}
ELEMENTWISE_UNARY = {"NEG": "Neg", "LOGISTIC": "Sigmoid", "HARD_SWISH": "HardSwish", "RELU": "Relu"}


@dataclass
class StateVariable:
    key: str          # TFLite shared name
    input_name: str   # state_in_<k>
    output_name: str  # state_out_<k>
    shape: tuple[int, ...]   # TFLite (NHWC) shape
    layout: str              # physical order of the ONNX input/output
    initial: np.ndarray | None = None  # NHWC value from the init subgraph


@dataclass
class ConvertedModel:
    model: onnx.ModelProto
    inputs: dict[str, list[int]]
    outputs: dict[str, list[int]]
    states: list[StateVariable] = field(default_factory=list)

    def state_init(self) -> dict[str, np.ndarray]:
        """Initial value of every ``state_in_<k>``, already in the input's physical layout."""
        init = {}
        for state in self.states:
            value = state.initial if state.initial is not None else np.zeros(state.shape, F32)
            if len(state.shape) == 4 and state.layout == "nchw":
                value = np.transpose(value, NHWC_TO_NCHW)
            init[state.input_name] = np.ascontiguousarray(value, dtype=F32)
        return init


def _same_padding(size: int, kernel: int, stride: int, dilation: int) -> tuple[int, int]:
    effective = (kernel - 1) * dilation + 1
    out = -(-size // stride)
    total = max((out - 1) * stride + effective - size, 0)
    return total // 2, total - total // 2


def _pads(padding: int, in_hw, kernel_hw, strides, dilations) -> list[int]:
    if padding == 1:  # VALID
        return [0, 0, 0, 0]
    (top, bottom), (left, right) = (_same_padding(in_hw[i], kernel_hw[i], strides[i], dilations[i]) for i in (0, 1))
    return [top, left, bottom, right]


class Converter:
    def __init__(self, model: TfliteModel, subgraph_index: int = 0, name: str = "model",
                 input_names: dict[str, str] | None = None, output_names: dict[str, str] | None = None,
                 extra_outputs: dict[str | int, str] | None = None):
        self.model = model
        self.sg: Subgraph = model.subgraphs[subgraph_index]
        self.g = GraphBuilder(name)
        self.values: dict[int, Value] = {}
        self.input_names = input_names or {}
        self.output_names = output_names or {}
        # Intermediate tensors to expose too (by TFLite tensor name or index -> ONNX output name).
        self.extra_outputs = extra_outputs or {}
        self.variables: dict[int, str] = {}        # resource tensor index -> shared name
        self.states: dict[str, StateVariable] = {}  # shared name -> state
        self.current: dict[str, Value] = {}         # shared name -> latest value
        self.initial: dict[str, np.ndarray] = {}
        self.io_inputs: dict[str, list[int]] = {}
        self.io_outputs: dict[str, list[int]] = {}
        self.consumers: dict[int, list[Operator]] = {}  # tensor index -> operators reading it
        for op in self.sg.operators:
            for index in set(op.inputs):
                self.consumers.setdefault(index, []).append(op)

    # ------------------------------------------------------------ helpers
    def tensor(self, index: int) -> Tensor:
        return self.sg.tensors[index]

    def _tensor_index(self, key: str | int) -> int:
        if isinstance(key, int):
            return key
        for t in self.sg.tensors:
            if t.name == key:
                return t.index
        raise ConversionError(f"no tensor named {key!r} to expose as an extra output")

    def value(self, index: int) -> Value:
        if index in self.values:
            return self.values[index]
        t = self.tensor(index)
        if t.data is None:
            raise ConversionError(f"{t.describe()} is used before any operator produces it")
        quant = t.quantization if t.type_name == "int8" else None
        data = t.data
        if quant is not None and quant.per_tensor and int(quant.zero_point.reshape(-1)[0]) != 0:
            data = data.astype(np.int32) - int(quant.zero_point.reshape(-1)[0])  # centred codes
        value = Value(None, t.shape, "nhwc", data, quant)
        self.values[index] = value
        return value

    def optional(self, op: Operator, position: int) -> Value | None:
        if len(op.inputs) <= position or op.inputs[position] < 0:
            return None
        return self.value(op.inputs[position])

    def set_out(self, op: Operator, name: str | None, layout: str = "nhwc", const=None, position: int = 0,
                quant=None) -> None:
        index = op.outputs[position]
        t = self.tensor(index)
        if quant is None and t.type_name == "int8":
            quant = t.quantization
        self.values[index] = Value(name, t.shape, layout if len(t.shape) == 4 else "nhwc", const, quant)

    def hint(self, op: Operator) -> str:
        return self.tensor(op.outputs[0]).name if op.outputs else op.opcode.lower()

    def fused(self, name: str, activation: int, hint: str) -> str:
        if activation == 0:
            return name
        if activation == 1:
            return self.g.op("Relu", [name], hint)
        if activation == 3:
            return self.g.op("Clip", [name, self.g.scalar(0.0), self.g.scalar(6.0)], hint)
        if activation == 2:
            return self.g.op("Clip", [name, self.g.scalar(-1.0), self.g.scalar(1.0)], hint)
        if activation == 4:
            return self.g.op("Tanh", [name], hint)
        raise ConversionError(f"fused activation {activation} not supported ({hint})")

    # ------------------------------------------------------------ driver
    def run(self, doc: str = "") -> ConvertedModel:
        for index in self.sg.inputs:
            t = self.tensor(index)
            if t.type_name == "string":
                continue  # attention-center's unused "filename" input
            name = self.input_names.get(t.name, t.name.split(":")[0])
            self.g.add_input(name, t.shape)
            self.io_inputs[name] = list(t.shape)
            self.values[index] = Value(name, t.shape, "nhwc")
        for op in self.sg.operators:
            if self._fold(op):
                continue
            handler = self._handler(op.opcode)
            if handler is None:
                raise UnsupportedOperatorError(op.opcode, op.index, self.hint(op))
            try:
                handler(op)
            except ConversionError:
                raise
            except Exception as err:  # name the operator and tensor on any converter bug
                raise ConversionError(f"{op.opcode} (operator #{op.index}, {self.hint(op)}): {err}") from err
        for index in self.sg.outputs:
            t = self.tensor(index)
            name = self.output_names.get(t.name, t.name.split(":")[0])
            self._emit_output(name, index)
        for key, output_name in self.extra_outputs.items():
            self._emit_output(output_name, self._tensor_index(key))
        for key, state in self.states.items():
            final = self.current[key]
            self.g.add_output(state.output_name, self.g.in_layout(final, state.layout, state.output_name),
                              final.physical_shape if final.rank != 4 else
                              (Value(None, final.shape, state.layout).physical_shape))
            state.initial = self.initial.get(key)
            self.io_outputs[state.output_name] = list(state.shape)
        metadata = {"converter": f"codeclab-tflite2onnx {CONVERTER_VERSION}",
                    "states": json.dumps([{"input": s.input_name, "output": s.output_name, "variable": s.key,
                                           "shape_nhwc": list(s.shape), "layout": s.layout}
                                          for s in self.states.values()])}
        model = self.g.model(OPSET, metadata, doc)
        return ConvertedModel(model, self.io_inputs, self.io_outputs, list(self.states.values()))

    def _handler(self, opcode: str):
        if opcode in ELEMENTWISE_BINARY:
            return lambda op: self._binary(op, ELEMENTWISE_BINARY[opcode])
        if opcode in ELEMENTWISE_UNARY:
            return lambda op: self._unary(op, ELEMENTWISE_UNARY[opcode])
        return getattr(self, "op_" + opcode, None)

    def _emit_output(self, name: str, index: int) -> None:
        value = self.value(index)
        source = self.g.in_layout(value, "nhwc", name)
        if value.quant is not None:
            source = q8.uncentre(self.g, source, value.quant, name)
        integer = value.is_const and value.quant is None and np.asarray(value.const).dtype.kind in "iub"
        self.g.add_output(name, source, value.shape, onnx.TensorProto.INT64 if integer else onnx.TensorProto.FLOAT)
        self.io_outputs[name] = list(value.shape)

    # ------------------------------------------------------------ constant folding
    def _fold(self, op: Operator) -> bool:
        """Evaluate ``op`` with numpy when all its inputs are known; True if done."""
        if op.opcode == "SHAPE":
            shape = np.asarray(self.value(op.inputs[0]).shape, dtype=np.int32)
            self.set_out(op, None, const=shape)
            return True
        if op.opcode not in _FOLDABLE or not op.outputs:
            return False
        inputs = [self.value(i) if i >= 0 else None for i in op.inputs]
        if not all(v is None or v.is_const for v in inputs):
            return False
        if any(v is not None and v.quant is not None for v in inputs) and op.opcode != "DEQUANTIZE":
            return False
        arrays = [None if v is None else v.const for v in inputs]
        results = _FOLDABLE[op.opcode](self, op, arrays)
        for position, result in enumerate(results):
            t = self.tensor(op.outputs[position])
            result = np.asarray(result).astype(t.dtype or np.float32).reshape(t.shape)
            self.set_out(op, None, const=result, position=position,
                         quant=t.quantization if t.type_name == "int8" else None)
        return True

    # ------------------------------------------------------------ state
    def op_CALL_ONCE(self, op: Operator) -> None:
        init = self.model.subgraphs[op.options["InitSubgraphIndex"]]
        handles: dict[int, str] = {}
        for init_op in init.operators:
            if init_op.opcode == "VAR_HANDLE":
                handles[init_op.outputs[0]] = _variable_key(init_op, init.tensors[init_op.outputs[0]])
            elif init_op.opcode == "ASSIGN_VARIABLE":
                resource, source = init_op.inputs
                data = init.tensors[source].data
                if data is None:
                    raise ConversionError(f"init subgraph assigns a non-constant to {handles.get(resource)}")
                self.initial[handles[resource]] = np.asarray(data, dtype=F32)
            else:
                raise UnsupportedOperatorError(init_op.opcode, init_op.index, "init subgraph")

    def op_VAR_HANDLE(self, op: Operator) -> None:
        self.variables[op.outputs[0]] = _variable_key(op, self.tensor(op.outputs[0]))

    def op_READ_VARIABLE(self, op: Operator) -> None:
        key = self.variables[op.inputs[0]]
        if key not in self.current:
            t = self.tensor(op.outputs[0])
            k = len(self.states)
            layout = "nchw" if len(t.shape) == 4 else "nhwc"
            state = StateVariable(key, f"state_in_{k}", f"state_out_{k}", t.shape, layout)
            self.states[key] = state
            value = Value(state.input_name, t.shape, layout)
            self.g.add_input(state.input_name, value.physical_shape)
            self.io_inputs[state.input_name] = list(t.shape)
            self.current[key] = value
        self.values[op.outputs[0]] = self.current[key]

    def op_ASSIGN_VARIABLE(self, op: Operator) -> None:
        key = self.variables[op.inputs[0]]
        if key not in self.states:
            raise ConversionError(f"variable {key} is assigned before it is read")
        self.current[key] = self.value(op.inputs[1])

    # ------------------------------------------------------------ quantization
    def op_QUANTIZE(self, op: Operator) -> None:
        x = self.value(op.inputs[0])
        out_q = self.tensor(op.outputs[0]).quantization
        if x.quant is not None:  # int8 -> int8 requantisation: through real values
            real = q8.dequantize(self.g, self.g.materialise(x), x.quant, self.hint(op))
            self.set_out(op, q8.quantize(self.g, real, out_q, self.hint(op)), x.layout)
            return
        self.set_out(op, q8.quantize(self.g, self.g.materialise(x), out_q, self.hint(op)), x.layout)

    def op_DEQUANTIZE(self, op: Operator) -> None:
        x = self.value(op.inputs[0])
        if x.quant is None:
            self.set_out(op, self.g.op("Cast", [self.g.materialise(x)], self.hint(op), to=1), x.layout)
            return
        self.set_out(op, q8.dequantize(self.g, self.g.materialise(x), x.quant, self.hint(op)), x.layout,
                     quant=None)
        self.values[op.outputs[0]].quant = None

    # ------------------------------------------------------------ convolutions
    def _conv_common(self, op: Operator, x: Value, weights_onnx: np.ndarray, bias: np.ndarray | None,
                     kernel_hw, group: int, onnx_op: str = "Conv", extra: dict | None = None) -> None:
        g, hint = self.g, self.hint(op)
        opts = op.options
        out_t = self.tensor(op.outputs[0])
        strides = [opts.get("StrideH", 1), opts.get("StrideW", 1)]
        dilations = [opts.get("DilationHFactor", 1), opts.get("DilationWFactor", 1)]
        attrs = dict(strides=strides, group=group)
        if onnx_op == "Conv":
            attrs["dilations"] = dilations
            attrs["pads"] = _pads(opts.get("Padding", 1), x.shape[1:3], kernel_hw, strides, dilations)
        attrs.update(extra or {})
        # Int8 inputs are centred codes (q - zp): zero padding is real zero, as in TFLite.
        source = g.in_layout(x, "nchw", hint)
        inputs = [source, g.constant(weights_onnx.astype(F32), hint + "_w")]
        if bias is not None:
            inputs.append(g.constant(np.asarray(bias, F32), hint + "_b"))
        acc = g.op(onnx_op, inputs, hint, **attrs)
        activation = opts.get("FusedActivationFunction", 0)
        if x.quant is None:
            self.set_out(op, self.fused(acc, activation, hint), "nchw")
            return
        w_q = self.tensor(op.inputs[1]).quantization  # weights are input 1 of all three convolutions
        out_q = out_t.quantization
        channels = out_t.shape[3]
        scale = q8.conv_requant_scale(x.quant, w_q, out_q, channels)
        lo, hi = q8.activation_bounds(activation, out_q)
        self.set_out(op, q8.requantize(g, acc, scale, out_q, lo, hi, hint), "nchw")

    def op_CONV_2D(self, op: Operator) -> None:
        x, w = self.value(op.inputs[0]), self.value(op.inputs[1])
        b = self.optional(op, 2)
        weights = np.transpose(np.asarray(w.const, F32), (0, 3, 1, 2))  # OHWI -> OIHW
        group = x.shape[3] // w.shape[3]
        if x.quant is None and f32.supports(w.shape[2], x.shape[2], op.options.get("Padding", 1) == 1):
            self._float_conv_kh1(op, x, np.asarray(w.const, F32), None if b is None else np.asarray(b.const, F32))
            return
        bias = None
        if b is not None:
            bias = q8.bias_as_float(b, w.shape[0]) if x.quant is not None else np.asarray(b.const, F32)
        self._conv_common(op, x, weights, bias, w.shape[1:3], group)

    def _float_conv_kh1(self, op: Operator, x: Value, weights: np.ndarray, bias: np.ndarray | None) -> None:
        """A float (kh x 1) convolution summed in XNNPACK's order (ops_f32), so bit-identical to TFLite."""
        hint, opts = self.hint(op), op.options
        out = f32.conv_kh1(self.g, self.g.in_layout(x, "nchw", hint), x.shape, weights, bias, opts.get("StrideH", 1),
                           opts.get("DilationHFactor", 1), self.tensor(op.outputs[0]).shape, hint)
        self.set_out(op, self.fused(out, opts.get("FusedActivationFunction", 0), hint), "nchw")

    def op_DEPTHWISE_CONV_2D(self, op: Operator) -> None:
        x, w = self.value(op.inputs[0]), self.value(op.inputs[1])
        b = self.optional(op, 2)
        weights = np.transpose(np.asarray(w.const, F32), (3, 0, 1, 2))  # 1HWC -> C1HW
        bias = None
        if b is not None:
            bias = q8.bias_as_float(b, w.shape[3]) if x.quant is not None else np.asarray(b.const, F32)
        self._conv_common(op, x, weights, bias, w.shape[1:3], x.shape[3])

    def op_TRANSPOSE_CONV(self, op: Operator) -> None:
        out_shape, w, x = (self.value(i) for i in op.inputs[:3])
        b = self.optional(op, 3)
        out_t = self.tensor(op.outputs[0])
        target = [int(v) for v in np.asarray(out_shape.const).reshape(-1)]
        if target != list(out_t.shape):
            raise ConversionError(f"TRANSPOSE_CONV output_shape {target} != tensor shape {list(out_t.shape)}")
        opts = op.options
        strides = [opts.get("StrideH", 1), opts.get("StrideW", 1)]
        kernel = w.shape[1:3]
        pads_begin, pads_end = [], []
        for axis in (0, 1):
            total = (x.shape[1 + axis] - 1) * strides[axis] + kernel[axis] - target[1 + axis]
            before = max(total, 0) // 2 if opts.get("Padding", 1) == 0 else 0
            pads_begin.append(before)
            pads_end.append(total - before)
        if min(pads_end) < 0:
            raise ConversionError("TRANSPOSE_CONV needs output padding, which these models do not use")
        if x.quant is None and f32.supports(w.shape[2], x.shape[2], True) and max(pads_begin + pads_end) == 0:
            out = f32.transpose_conv_kh1(self.g, self.g.in_layout(x, "nchw", self.hint(op)), x.shape,
                                         np.asarray(w.const, F32), None if b is None else np.asarray(b.const, F32),
                                         strides[0], out_t.shape, self.hint(op))
            if out is not None:
                self.set_out(op, self.fused(out, opts.get("FusedActivationFunction", 0), self.hint(op)), "nchw")
                return
        weights = np.transpose(np.asarray(w.const, F32), (3, 0, 1, 2))  # OHWI -> IOHW
        bias = None
        if b is not None:
            bias = q8.bias_as_float(b, w.shape[0]) if x.quant is not None else np.asarray(b.const, F32)
        self._conv_common(op, x, weights, bias, kernel, 1, "ConvTranspose",
                          {"pads": pads_begin + pads_end, "kernel_shape": list(kernel)})
        self.values[op.outputs[0]].layout = "nchw"

    def op_MAX_POOL_2D(self, op: Operator) -> None:
        x = self.value(op.inputs[0])
        opts = op.options
        kernel = [opts["FilterHeight"], opts["FilterWidth"]]
        strides = [opts["StrideH"], opts["StrideW"]]
        pads = _pads(opts["Padding"], x.shape[1:3], kernel, strides, [1, 1])
        out = self.g.op("MaxPool", [self.g.in_layout(x, "nchw", self.hint(op))], self.hint(op),
                        kernel_shape=kernel, strides=strides, pads=pads)
        self.set_out(op, self.fused(out, opts.get("FusedActivationFunction", 0), self.hint(op)), "nchw")

    def op_RESIZE_BILINEAR(self, op: Operator) -> None:
        x, size = self.value(op.inputs[0]), self.value(op.inputs[1])
        opts = op.options
        mode = "align_corners" if opts.get("AlignCorners") else \
            "half_pixel" if opts.get("HalfPixelCenters") else "asymmetric"
        h, w = (int(v) for v in np.asarray(size.const).reshape(-1))
        sizes = self.g.ints([x.shape[0], x.shape[3], h, w])
        out = self.g.op("Resize", [self.g.in_layout(x, "nchw", self.hint(op)), "", "", sizes], self.hint(op),
                        mode="linear", coordinate_transformation_mode=mode)
        self.set_out(op, out, "nchw")

    # ------------------------------------------------------------ elementwise
    def _elementwise_layout(self, values: list[Value], out_rank: int) -> str:
        if out_rank == 4 and any(v.rank == 4 and not v.is_const and v.layout == "nchw" for v in values):
            return "nchw"
        return "nhwc"

    def _binary(self, op: Operator, onnx_op: str) -> None:
        a, b = self.value(op.inputs[0]), self.value(op.inputs[1])
        out_t = self.tensor(op.outputs[0])
        layout = self._elementwise_layout([a, b], len(out_t.shape))
        hint = self.hint(op)
        names = [self.g.broadcast_operand(v, len(out_t.shape), layout, hint) for v in (a, b)]
        activation = op.options.get("FusedActivationFunction", 0)
        if a.quant is not None or b.quant is not None:
            if op.opcode != "ADD" or a.quant is None or b.quant is None:
                raise ConversionError(f"int8 {op.opcode} is not supported (only int8 ADD is)")
            lo, hi = q8.activation_bounds(activation, out_t.quantization)
            self.set_out(op, q8.add(self.g, *names, a.quant, b.quant, out_t.quantization, lo, hi, hint), layout)
            return
        out = self.g.op(onnx_op, names, hint)
        self.set_out(op, self.fused(out, activation, hint), layout)

    def op_ADD_N(self, op: Operator) -> None:
        values = [self.value(i) for i in op.inputs]
        rank = len(self.tensor(op.outputs[0]).shape)
        layout = self._elementwise_layout(values, rank)
        names = [self.g.broadcast_operand(v, rank, layout, self.hint(op)) for v in values]
        self.set_out(op, self.g.op("Sum", names, self.hint(op)), layout)

    def _unary(self, op: Operator, onnx_op: str, **attrs) -> None:
        x = self.value(op.inputs[0])
        if x.quant is not None:
            raise ConversionError(f"int8 {op.opcode} is not supported")
        self.set_out(op, self.g.op(onnx_op, [self.g.materialise(x)], self.hint(op), **attrs), x.layout)

    def op_LEAKY_RELU(self, op: Operator) -> None:
        x = self.value(op.inputs[0])
        alpha = float(op.options.get("Alpha", 0.2))
        if x.quant is None:
            self._unary(op, "LeakyRelu", alpha=alpha)
            return
        out_q = self.tensor(op.outputs[0]).quantization
        self.set_out(op, q8.leaky_relu(self.g, self.g.materialise(x), alpha, x.quant, out_q, self.hint(op)),
                     x.layout)

    def op_SQUARE(self, op: Operator) -> None:
        x = self.value(op.inputs[0])
        name = self.g.materialise(x)
        self.set_out(op, self.g.op("Mul", [name, name], self.hint(op)), x.layout)

    def op_RSQRT(self, op: Operator) -> None:
        x = self.value(op.inputs[0])
        root = self.g.op("Sqrt", [self.g.materialise(x)], self.hint(op))
        self.set_out(op, self.g.op("Reciprocal", [root], self.hint(op)), x.layout)

    # ------------------------------------------------------------ axis operators
    def _axis(self, value: Value, axis: int, layout: str) -> int:
        axis = axis % value.rank if value.rank else 0
        return NHWC_AXIS_IN_NCHW[axis] if value.rank == 4 and layout == "nchw" else axis

    def op_CONCATENATION(self, op: Operator) -> None:
        values = [self.value(i) for i in op.inputs]
        out_q = self.tensor(op.outputs[0]).quantization if self.tensor(op.outputs[0]).type_name == "int8" else None
        for v in values:
            if (v.quant is None) != (out_q is None) or (out_q is not None and (
                    q8.scale_of(v.quant) != q8.scale_of(out_q) or q8.zero_point_of(v.quant) != q8.zero_point_of(out_q))):
                raise ConversionError("int8 CONCATENATION with differing quantization is not supported")
        rank = len(self.tensor(op.outputs[0]).shape)
        layout = self._elementwise_layout(values, rank)
        names = [self.g.in_layout(v, layout, self.hint(op)) for v in values]
        axis = self._axis(values[0], op.options.get("Axis", 0), layout)
        out = self.g.op("Concat", names, self.hint(op), axis=axis)
        self.set_out(op, self.fused(out, op.options.get("FusedActivationFunction", 0), self.hint(op)), layout)

    def op_SPLIT(self, op: Operator) -> None:
        axis_value, x = self.value(op.inputs[0]), self.value(op.inputs[1])
        axis_nhwc = int(np.asarray(axis_value.const).reshape(-1)[0])
        axis = self._axis(x, axis_nhwc, x.layout)
        parts = len(op.outputs)
        sizes = self.g.ints([x.shape[axis_nhwc % x.rank] // parts] * parts)
        outs = self.g.node("Split", [self.g.materialise(x), sizes], self.hint(op), parts, axis=axis)
        for position, name in enumerate(outs):
            self.set_out(op, name, x.layout, position=position)

    def _slice(self, op: Operator, x: Value, starts, ends, steps, squeeze: list[int]) -> None:
        layout = x.layout if (x.rank == 4 and not squeeze) else "nhwc"
        order = NHWC_TO_NCHW if (x.rank == 4 and layout == "nchw") else range(x.rank)
        axes = list(range(x.rank))
        source = self.g.in_layout(x, layout, self.hint(op))
        out = self.g.op("Slice", [source, self.g.ints([starts[i] for i in order]), self.g.ints([ends[i] for i in order]),
                                  self.g.ints(axes), self.g.ints([steps[i] for i in order])], self.hint(op))
        if squeeze:
            out = self.g.op("Reshape", [out, self.g.ints(self.tensor(op.outputs[0]).shape)], self.hint(op))
        self.set_out(op, out, layout)

    def op_STRIDED_SLICE(self, op: Operator) -> None:
        x = self.value(op.inputs[0])
        begin, end, strides = (np.asarray(self.value(i).const).reshape(-1) for i in op.inputs[1:4])
        starts, ends, steps, squeeze = _strided_slice_bounds(x.shape, begin, end, strides, op.options)
        self._slice(op, x, starts, ends, steps, squeeze)

    def op_SLICE(self, op: Operator) -> None:
        x = self.value(op.inputs[0])
        begin, size = (np.asarray(self.value(i).const).reshape(-1) for i in op.inputs[1:3])
        ends = [x.shape[i] if size[i] < 0 else int(begin[i] + size[i]) for i in range(x.rank)]
        self._slice(op, x, [int(b) for b in begin], ends, [1] * x.rank, [])

    def _reduce(self, op: Operator, onnx_op: str) -> None:
        x, axes_value = self.value(op.inputs[0]), self.value(op.inputs[1])
        axes_nhwc = sorted({int(a) % x.rank for a in np.asarray(axes_value.const).reshape(-1)})
        keep = bool(op.options.get("KeepDims", False))
        layout = x.layout if (x.rank == 4 and keep) else "nhwc"
        axes = [self._axis(x, a, layout) for a in axes_nhwc]
        source = self.g.in_layout(x, layout, self.hint(op))
        if onnx_op == "ReduceSum":
            out = self.g.op(onnx_op, [source, self.g.ints(axes)], self.hint(op), keepdims=int(keep))
        else:
            out = self.g.op(onnx_op, [source], self.hint(op), axes=axes, keepdims=int(keep))
        self.set_out(op, out, layout)

    def op_MEAN(self, op): self._reduce(op, "ReduceMean")
    def op_SUM(self, op): self._reduce(op, "ReduceSum")
    def op_REDUCE_MAX(self, op): self._reduce(op, "ReduceMax")

    # ------------------------------------------------------------ shape operators
    def op_RESHAPE(self, op: Operator) -> None:
        x = self.value(op.inputs[0])
        target = self.tensor(op.outputs[0]).shape
        source = self.g.in_layout(x, "nhwc", self.hint(op))
        self.set_out(op, self.g.op("Reshape", [source, self.g.ints(target)], self.hint(op)), "nhwc")

    def op_PACK(self, op: Operator) -> None:
        values = [self.value(i) for i in op.inputs]
        axis = op.options.get("Axis", 0) % (values[0].rank + 1)
        parts = [self.g.op("Unsqueeze", [self.g.in_layout(v, "nhwc", self.hint(op)), self.g.ints([axis])],
                           self.hint(op)) for v in values]
        self.set_out(op, self.g.op("Concat", parts, self.hint(op), axis=axis))

    def op_BROADCAST_TO(self, op: Operator) -> None:
        x = self.value(op.inputs[0])
        target = self.tensor(op.outputs[0]).shape
        if tuple(x.shape) == tuple(target):
            self.values[op.outputs[0]] = x
            return
        if self._only_broadcasting_consumers(op.outputs[0], target):
            # Every consumer broadcasts by itself: skip materialising the big tensor.
            self.values[op.outputs[0]] = Value(x.name, x.shape, x.layout, x.const, x.quant)
            return
        source = self.g.in_layout(x, "nhwc", self.hint(op))
        self.set_out(op, self.g.op("Expand", [source, self.g.ints(target)], self.hint(op)))

    def _only_broadcasting_consumers(self, index: int, target) -> bool:
        consumers = self.consumers.get(index, [])
        for consumer in consumers:
            if consumer.opcode not in ELEMENTWISE_BINARY:
                return False
            if tuple(self.tensor(consumer.outputs[0]).shape) != tuple(target):
                return False
        return bool(consumers)

    # ------------------------------------------------------------ dense
    def op_FULLY_CONNECTED(self, op: Operator) -> None:
        x, w = self.value(op.inputs[0]), self.value(op.inputs[1])
        b = self.optional(op, 2)
        if x.quant is not None:
            raise ConversionError("int8 FULLY_CONNECTED is not supported")
        out_t = self.tensor(op.outputs[0])
        hint = self.hint(op)
        source = self.g.in_layout(x, "nhwc", hint)
        features = w.shape[1]
        if x.rank != 2:
            source = self.g.op("Reshape", [source, self.g.ints([-1, features])], hint)
        weights = self.g.constant(np.ascontiguousarray(np.asarray(w.const, F32).T), hint + "_w") if w.is_const \
            else self.g.op("Transpose", [w.name], hint, perm=[1, 0])
        out = self.g.op("MatMul", [source, weights], hint)
        if b is not None:
            out = self.g.op("Add", [out, self.g.materialise(b)], hint)
        out = self.fused(out, op.options.get("FusedActivationFunction", 0), hint)
        if len(out_t.shape) != 2:
            out = self.g.op("Reshape", [out, self.g.ints(out_t.shape)], hint)
        self.set_out(op, out)

    def op_BATCH_MATMUL(self, op: Operator) -> None:
        a, b = self.value(op.inputs[0]), self.value(op.inputs[1])
        hint = self.hint(op)
        names = []
        for value, adjoint in ((a, op.options.get("AdjX")), (b, op.options.get("AdjY"))):
            name = self.g.in_layout(value, "nhwc", hint)
            if adjoint:
                perm = list(range(value.rank))
                perm[-2], perm[-1] = perm[-1], perm[-2]
                name = self.g.op("Transpose", [name], hint, perm=perm)
            names.append(name)
        self.set_out(op, self.g.op("MatMul", names, hint))


def _variable_key(op: Operator, tensor: Tensor) -> str:
    shared = op.options.get("SharedName") or b""
    return shared.decode() if isinstance(shared, bytes) and shared else tensor.name


def _strided_slice_bounds(shape, begin, end, strides, options):
    if options.get("EllipsisMask") or options.get("NewAxisMask"):
        raise ConversionError("STRIDED_SLICE with ellipsis or new-axis masks is not supported")
    begin_mask, end_mask = options.get("BeginMask", 0), options.get("EndMask", 0)
    shrink = options.get("ShrinkAxisMask", 0)
    starts, ends, steps, squeeze = [], [], [], []
    big = 2 ** 62
    for axis, size in enumerate(shape):
        step = int(strides[axis]) if axis < len(strides) else 1
        if axis >= len(begin):
            starts.append(0); ends.append(size); steps.append(1)
            continue
        start, stop = int(begin[axis]), int(end[axis])
        if shrink & (1 << axis):
            start = start % size if size else 0
            starts.append(start); ends.append(start + 1); steps.append(1); squeeze.append(axis)
            continue
        if begin_mask & (1 << axis):
            start = 0 if step > 0 else size - 1
        if end_mask & (1 << axis):
            stop = big if step > 0 else -big
        starts.append(start); ends.append(stop); steps.append(step)
    return starts, ends, steps, squeeze


# ---------------------------------------------------------------- numpy folding of shape arithmetic

def _fold_strided_slice(conv, op, arrays):
    x, begin, end, strides = arrays
    starts, ends, steps, squeeze = _strided_slice_bounds(x.shape, begin, end, strides, op.options)
    result = x[tuple(slice(s, e if abs(e) < 2 ** 62 else None, st) for s, e, st in zip(starts, ends, steps))]
    return [result.reshape([d for i, d in enumerate(result.shape) if i not in squeeze])]


def _fold_pack(conv, op, arrays):
    return [np.stack(arrays, axis=op.options.get("Axis", 0))]


def _fold_dequantize(conv, op, arrays):
    (x,) = arrays
    t = conv.tensor(op.inputs[0])
    if t.quantization is not None and t.type_name in ("int8", "uint8", "int16"):
        scale, zp = t.quantization.scale, t.quantization.zero_point
        shape = [1] * x.ndim
        if scale.size > 1:
            shape[t.quantization.axis] = -1
        return [((x.astype(np.float32) - zp.reshape(shape)) * scale.reshape(shape)).astype(np.float32)]
    return [x.astype(np.float32)]


def _fold_concat(conv, op, arrays):
    return [np.concatenate(arrays, axis=op.options.get("Axis", 0))]


def _fold_slice(conv, op, arrays):
    x, begin, size = arrays
    return [x[tuple(slice(int(b), None if s < 0 else int(b + s)) for b, s in zip(begin, size))]]


_FOLDABLE = {
    "STRIDED_SLICE": _fold_strided_slice,
    "SLICE": _fold_slice,
    "PACK": _fold_pack,
    "BROADCAST_ARGS": lambda c, op, a: [np.asarray(np.broadcast_shapes(tuple(a[0]), tuple(a[1])), dtype=a[0].dtype)],
    "RESHAPE": lambda c, op, a: [a[0]],
    "CONCATENATION": _fold_concat,
    "DEQUANTIZE": _fold_dequantize,
    "ADD": lambda c, op, a: [a[0] + a[1]],
    "SUB": lambda c, op, a: [a[0] - a[1]],
    "MUL": lambda c, op, a: [a[0] * a[1]],
    "NEG": lambda c, op, a: [-a[0]],
    "BROADCAST_TO": lambda c, op, a: [np.broadcast_to(a[0], tuple(a[1]))],
}


def convert(path: Path, name: str | None = None, input_names: dict[str, str] | None = None,
            output_names: dict[str, str] | None = None,
            extra_outputs: dict[str | int, str] | None = None) -> ConvertedModel:
    """Convert the main subgraph of the TFLite file at ``path``."""
    model = read_tflite(Path(path))
    converter = Converter(model, 0, name or Path(path).stem, input_names, output_names, extra_outputs)
    return converter.run(doc=f"Converted from {Path(path).name} by codeclab's tflite2onnx {CONVERTER_VERSION}")
