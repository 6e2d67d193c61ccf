"""Value conversion between the page's JavaScript values and Python, with no ``js`` / ``pyodide``
import: the Pyodide proxy classes and ``Object.keys`` are handed in as a :class:`JsTypes`, so this
module runs (and is unit-tested, with stand-in classes) in CPython. ``adapter.py`` is the only caller
in the page.

JS -> Python: ArrayBuffer / Uint8Array / Uint8ClampedArray / DataView -> ``bytes``; other typed
arrays -> a numpy array of the same element type (a copy); arrays -> lists; objects -> dicts.
Python -> JS: numpy arrays -> flat buffers (bool as uint8), numpy scalars -> numbers, tuples -> lists.
Model tensors cross as ``{data, dims, type}`` with onnxruntime-web's type names.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

TYPED_ARRAY_DTYPES = {
    "Int8Array": np.int8, "Int16Array": np.int16, "Int32Array": np.int32,
    "Uint16Array": np.uint16, "Uint32Array": np.uint32,
    "Float32Array": np.float32, "Float64Array": np.float64,
    "BigInt64Array": np.int64, "BigUint64Array": np.uint64,
}
BYTE_BUFFERS = {"ArrayBuffer", "Uint8Array", "Uint8ClampedArray", "DataView"}
ORT_TYPES = {np.dtype(np.float32): "float32", np.dtype(np.int32): "int32", np.dtype(np.int64): "int64",
             np.dtype(np.uint8): "uint8", np.dtype(np.int8): "int8", np.dtype(np.float64): "float64"}
ORT_DTYPES = {name: dtype for dtype, name in ORT_TYPES.items()}


@dataclass(frozen=True)
class JsTypes:
    """What the conversions need from Pyodide: its proxy classes and JavaScript's ``Object.keys``."""

    proxy: type   # pyodide.ffi.JsProxy: every JS value that is not a Python primitive
    buffer: type  # pyodide.ffi.JsBuffer: ArrayBuffer, typed arrays, DataView
    array: type   # pyodide.ffi.JsArray
    object_keys: Callable[[Any], Iterable[str]]


def to_python(value: Any, js: JsTypes) -> Any:
    """A request's arguments as Python values (see the module docstring).

    Pyodide converts the whole tree in one call (``to_py``: objects to dicts, arrays to lists, each
    buffer to a memoryview of a copy of its bytes); walking it proxy by proxy from Python (a
    crossing into JS for every key, property and type check) cost several times as much per
    request.  The memoryviews then become ``bytes`` or numpy arrays by their element format."""
    to_py = getattr(value, "to_py", None)
    if to_py is None:
        return value  # a Python primitive already
    return _from_converted(to_py(), js)


def _from_converted(value: Any, js: JsTypes) -> Any:
    """``to_py``'s tree with each buffer as ``bytes`` / numpy, and anything it left as a proxy walked."""
    kind = type(value)
    if kind is memoryview:
        return view_to_python(value)
    if kind is dict:
        return {key: _from_converted(item, js) for key, item in value.items()}
    if kind is list:
        return [_from_converted(item, js) for item in value]
    if kind in _PRIMITIVES or not isinstance(value, js.proxy):
        return value
    return _walk(value, js)  # e.g. an instance of a JS class, which to_py leaves as it is


_PRIMITIVES = {int, float, str, bool, type(None)}


def _walk(value: Any, js: JsTypes) -> Any:
    if isinstance(value, js.buffer):
        return buffer_to_python(value.constructor.name, value.to_bytes())
    if isinstance(value, js.array):
        return [to_python(item, js) for item in value]
    if value.typeof == "object":
        return {key: to_python(getattr(value, key), js) for key in js.object_keys(value)}
    return value.to_py()


def view_to_python(view: memoryview) -> bytes | np.ndarray:
    """A buffer as ``to_py`` gives it (a memoryview of a copy, its element format kept): bytes for a
    buffer of bytes (ArrayBuffer, Uint8Array, Uint8ClampedArray, DataView), else a numpy array of
    the typed array's element type (the copy itself: writable, owned by Python)."""
    if view.format == "B":
        return view.tobytes()
    return np.frombuffer(view, dtype=np.dtype(view.format))


def buffer_to_python(kind: str, data: bytes) -> bytes | np.ndarray:
    """The bytes of a JS buffer of constructor ``kind`` as ``bytes`` or a typed numpy array."""
    if kind in BYTE_BUFFERS:
        return data
    return np.frombuffer(data, dtype=TYPED_ARRAY_DTYPES[kind]).copy()


#: Values ``plain`` hands over as they are, tested first by exact type: most of a reply's values
#: (a parsed file's description can have thousands) are these, and each isinstance test costs in Pyodide.
PLAIN_LEAVES = frozenset({str, int, float, bool, type(None), bytes})


def plain(value: Any) -> Any:
    """A result made convertible by ``to_js``: numpy arrays become flat buffers, numpy scalars
    Python numbers, tuples lists, dict keys strings."""
    if type(value) in PLAIN_LEAVES:
        return value
    if isinstance(value, np.ndarray):
        array = value.astype(np.uint8) if value.dtype == np.bool_ else value
        return memoryview(np.ascontiguousarray(array).reshape(-1))
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    return value


def tensor_feeds(arrays: dict[str, np.ndarray], per_frame: bool = False) -> dict[str, dict[str, Any]]:
    """``{name: {data, dims, type}}`` for onnxruntime-web (no ``plain`` walk: this runs for every
    20 ms frame of a stream).  ``per_frame``: each array is frames stacked on its first axis, and ``dims``
    are those of one frame (the data holds them all)."""
    return {key: {"data": memoryview(np.ascontiguousarray(array).reshape(-1)),
                  "dims": list(array.shape[1:] if per_frame else array.shape),
                  "type": ORT_TYPES[array.dtype]}
            for key, array in arrays.items()}


def tensor_from_js(type_name: str, dims: Iterable[int], data: bytes) -> np.ndarray:
    """One onnxruntime-web output tensor (its ``type``, ``dims`` and the bytes of its ``data``)."""
    return np.frombuffer(data, dtype=ORT_DTYPES[type_name]).reshape([int(d) for d in dims])
