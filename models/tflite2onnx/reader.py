"""Read a .tflite flatbuffer into plain, typed Python objects.

The ``tflite`` package gives generated flatbuffer accessors; this layer turns
them into dataclasses once, so the converter never touches flatbuffer tables.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import ConversionError

# tflite.TensorType -> numpy dtype (only what these models carry).
_DTYPES = {0: np.float32, 1: np.float16, 2: np.int32, 3: np.uint8, 4: np.int64, 6: np.bool_,
           7: np.int16, 9: np.int8, 10: np.float64}
_TYPE_NAMES = {0: "float32", 1: "float16", 2: "int32", 3: "uint8", 4: "int64", 5: "string", 6: "bool",
               7: "int16", 9: "int8", 10: "float64", 13: "resource", 14: "variant", 15: "uint32", 16: "uint16", 17: "int4"}


@dataclass(frozen=True)
class Quantization:
    """Affine quantization: real = scale * (q - zero_point), per tensor or per ``axis`` channel."""

    scale: np.ndarray
    zero_point: np.ndarray
    axis: int

    @property
    def per_tensor(self) -> bool:
        return self.scale.size == 1


@dataclass
class Tensor:
    index: int
    name: str
    shape: tuple[int, ...]
    type_name: str
    data: np.ndarray | None  # constant buffer contents, already in ``shape``
    quantization: Quantization | None

    @property
    def dtype(self):
        return _DTYPES.get(_type_code(self.type_name))

    def describe(self) -> str:
        return f"tensor #{self.index} {self.name!r} {self.type_name}{list(self.shape)}"


@dataclass
class Operator:
    index: int
    opcode: str
    inputs: list[int]  # -1 = optional input left out
    outputs: list[int]
    options: dict = field(default_factory=dict)


@dataclass
class Subgraph:
    index: int
    name: str
    tensors: list[Tensor]
    operators: list[Operator]
    inputs: list[int]
    outputs: list[int]


@dataclass
class TfliteModel:
    path: Path
    subgraphs: list[Subgraph]


def _type_code(name: str) -> int:
    return {v: k for k, v in _TYPE_NAMES.items()}[name]


def _opcode_names() -> dict[int, str]:
    from tflite.BuiltinOperator import BuiltinOperator
    return {v: k for k, v in vars(BuiltinOperator).items() if not k.startswith("_")}


def _options_classes() -> dict[int, str]:
    from tflite.BuiltinOptions import BuiltinOptions
    return {v: k for k, v in vars(BuiltinOptions).items() if not k.startswith("_")}


def _read_options(op, option_names: dict[int, str]) -> dict:
    """All scalar fields of the operator's builtin options table, as snake-less CamelCase keys."""
    import tflite

    kind = op.BuiltinOptionsType()
    table = op.BuiltinOptions()
    if kind == 0 or table is None:
        return {}
    name = option_names[kind]
    cls = getattr(tflite, name, None)
    if cls is None:
        return {}
    options = cls()
    options.Init(table.Bytes, table.Pos)
    values = {}
    for attr in dir(options):
        if attr.startswith("_") or attr in ("Init",) or attr.endswith("AsNumpy") or attr.endswith("Length") \
                or attr.endswith("IsNone") or attr.startswith("GetRootAs"):
            continue
        method = getattr(options, attr)
        if not callable(method):
            continue
        try:
            values[attr] = method()
        except TypeError:  # vector accessors take an index; read them via AsNumpy below
            numpy_reader = getattr(options, attr + "AsNumpy", None)
            if numpy_reader is not None:
                values[attr] = np.asarray(numpy_reader())
    return values


def _read_tensor(model, subgraph, index: int) -> Tensor:
    raw = subgraph.Tensors(index)
    type_name = _TYPE_NAMES.get(raw.Type(), f"type{raw.Type()}")
    shape = tuple(int(d) for d in raw.ShapeAsNumpy()) if raw.ShapeLength() else ()
    data = None
    buffer = model.Buffers(raw.Buffer())
    if buffer is not None and buffer.DataLength() and type_name in {n for c, n in _TYPE_NAMES.items() if c in _DTYPES}:
        dtype = np.dtype(_DTYPES[_type_code(type_name)]).newbyteorder("<")
        data = np.frombuffer(buffer.DataAsNumpy().tobytes(), dtype=dtype).reshape(shape).copy()
    elif shape and 0 in shape and type_name in ("int32", "int64", "float32"):
        data = np.zeros(shape, dtype=_DTYPES[_type_code(type_name)])  # an empty constant has no buffer bytes
    quantization = None
    q = raw.Quantization()
    if q is not None and q.ScaleLength():
        quantization = Quantization(
            scale=np.asarray(q.ScaleAsNumpy(), dtype=np.float32),
            zero_point=np.asarray(q.ZeroPointAsNumpy(), dtype=np.int64),
            axis=int(q.QuantizedDimension()),
        )
    return Tensor(index, raw.Name().decode("utf-8", "replace"), shape, type_name, data, quantization)


def read_tflite(path: Path) -> TfliteModel:
    """Parse every subgraph of ``path``; raises ConversionError if it is not a TFLite flatbuffer."""
    blob = Path(path).read_bytes()
    if len(blob) < 8 or blob[4:8] != b"TFL3":
        raise ConversionError(f"{path}: not a TFLite model (bytes 4..8 are {blob[4:8]!r}, expected b'TFL3')")
    try:
        return _parse(Path(path), blob)
    except ConversionError:
        raise
    except Exception as err:  # a damaged flatbuffer fails deep inside the generated accessors
        raise ConversionError(f"{path}: damaged TFLite flatbuffer ({type(err).__name__}: {err})") from err


def _parse(path: Path, blob: bytes) -> TfliteModel:
    import tflite

    model = tflite.Model.GetRootAsModel(blob, 0)
    opcode_names = _opcode_names()
    option_names = _options_classes()
    subgraphs = []
    for s in range(model.SubgraphsLength()):
        raw = model.Subgraphs(s)
        tensors = [_read_tensor(model, raw, i) for i in range(raw.TensorsLength())]
        operators = []
        for i in range(raw.OperatorsLength()):
            op = raw.Operators(i)
            code = model.OperatorCodes(op.OpcodeIndex())
            builtin = max(code.BuiltinCode(), code.DeprecatedBuiltinCode())
            name = opcode_names.get(builtin, f"BUILTIN_{builtin}")
            if name == "CUSTOM":
                name = "CUSTOM:" + (code.CustomCode() or b"?").decode()
            operators.append(Operator(
                index=i, opcode=name,
                inputs=[int(t) for t in op.InputsAsNumpy()] if op.InputsLength() else [],
                outputs=[int(t) for t in op.OutputsAsNumpy()] if op.OutputsLength() else [],
                options=_read_options(op, option_names),
            ))
        subgraphs.append(Subgraph(
            index=s, name=(raw.Name() or b"").decode(), tensors=tensors, operators=operators,
            inputs=[int(t) for t in raw.InputsAsNumpy()] if raw.InputsLength() else [],
            outputs=[int(t) for t in raw.OutputsAsNumpy()] if raw.OutputsLength() else [],
        ))
    return TfliteModel(path, subgraphs)
