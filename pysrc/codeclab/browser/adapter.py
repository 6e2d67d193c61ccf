"""The one module that touches ``js`` / ``pyodide``: the worker's side of the RPC.

It converts JS values to Python (ArrayBuffer -> bytes, typed arrays -> numpy,
objects -> dict), calls the tools through :mod:`codeclab.browser.rpc`, converts
the result back (numpy -> typed arrays, dict -> plain JS objects), and runs
models through onnxruntime-web via a bridge object the worker installs.
"""

from __future__ import annotations

from typing import Any

import js  # type: ignore[import-not-found]  (exists only in Pyodide)
import numpy as np
from pyodide.ffi import JsArray, JsBuffer, JsProxy, to_js  # type: ignore[import-not-found]

from codeclab.browser import rpc

_TYPED_ARRAY_DTYPES = {
    "Int8Array": np.int8, "Int16Array": np.int16, "Int32Array": np.int32,
    "Uint16Array": np.uint16, "Uint32Array": np.uint32,
    "Float32Array": np.float32, "Float64Array": np.float64,
    "BigInt64Array": np.int64, "BigUint64Array": np.uint64,
}
_BYTE_BUFFERS = {"ArrayBuffer", "Uint8Array", "Uint8ClampedArray", "DataView"}
_ORT_TYPES = {np.dtype(np.float32): "float32", np.dtype(np.int32): "int32", np.dtype(np.int64): "int64",
              np.dtype(np.uint8): "uint8", np.dtype(np.int8): "int8", np.dtype(np.float64): "float64"}
_ORT_DTYPES = {name: dtype for dtype, name in _ORT_TYPES.items()}

_model_bridge: Any = None


def install(model_bridge: Any) -> None:
    """Called once by the worker with the JS object that runs onnxruntime-web sessions."""
    global _model_bridge
    _model_bridge = model_bridge


def to_python(value: Any) -> Any:
    if not isinstance(value, JsProxy):
        return value
    if isinstance(value, JsBuffer):
        kind = value.constructor.name
        if kind in _BYTE_BUFFERS:
            return value.to_bytes()
        return np.frombuffer(value.to_bytes(), dtype=_TYPED_ARRAY_DTYPES[kind]).copy()
    if isinstance(value, JsArray):
        return [to_python(item) for item in value]
    if value.typeof == "object":
        return {key: to_python(getattr(value, key)) for key in js.Object.keys(value)}
    return value.to_py()


def _plain(value: Any) -> Any:
    """Make a result convertible: numpy arrays become buffers, numpy scalars Python numbers."""
    if isinstance(value, np.ndarray):
        array = value.astype(np.uint8) if value.dtype == np.bool_ else value
        return memoryview(np.ascontiguousarray(array).reshape(-1))
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


def to_javascript(value: Any) -> Any:
    return to_js(_plain(value), dict_converter=js.Object.fromEntries, create_pyproxies=False)


class BrowserRunner:
    """ModelRunner on onnxruntime-web: sessions live in the worker's JS bridge."""

    def __init__(self, bridge: Any) -> None:
        self._bridge = bridge

    def available(self, name: str) -> bool:
        return bool(self._bridge.available(name))

    async def run(self, name: str, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        outputs = await rpc.ModelRequest({"name": name, "feeds": _tensors(feeds)})
        return _from_js_outputs(outputs)

    async def run_stream(self, name: str, stream: int, feeds: dict[str, np.ndarray],
                         state_init: dict[str, np.ndarray] | None) -> dict[str, np.ndarray]:
        """One step of a streaming model whose state the JS bridge keeps (``state_in_k`` <- ``state_out_k``);
        ``state_init`` restarts the stream."""
        init = _tensors(state_init) if state_init is not None else None
        outputs = await rpc.ModelRequest({"name": name, "stream": stream, "feeds": _tensors(feeds), "init": init})
        return _from_js_outputs(outputs)


def _tensors(arrays: dict[str, np.ndarray]) -> Any:
    """{name: {data, dims, type}} as a plain JS object, built in one conversion (no _plain walk:
    this runs for every 20 ms Lyra frame)."""
    return to_js({key: {"data": memoryview(np.ascontiguousarray(array).reshape(-1)), "dims": list(array.shape),
                        "type": _ORT_TYPES[array.dtype]}
                  for key, array in arrays.items()}, dict_converter=js.Object.fromEntries, create_pyproxies=False)


def _from_js_outputs(outputs: Any) -> dict[str, np.ndarray]:
    result = {}
    for key in js.Object.keys(outputs):
        tensor = getattr(outputs, key)
        dtype = _ORT_DTYPES[tensor.type]
        dims = [int(d) for d in tensor.dims]
        result[key] = np.frombuffer(tensor.data.to_bytes(), dtype=dtype).reshape(dims)
    return result


def _reply(result: Any) -> Any:
    return to_javascript({"ok": True, "result": result})


def _failure(exc: BaseException) -> Any:
    return to_javascript({"ok": False, "error": rpc.error_payload(exc)})


def _runner() -> BrowserRunner | None:
    return BrowserRunner(_model_bridge) if _model_bridge is not None else None


_driver = rpc.Driver()


def is_coroutine(method: str) -> bool:
    """Whether the worker must drive the call (``begin`` / ``resume``) or may call ``dispatch_now``."""
    return rpc.is_coroutine(method)


def dispatch_now(method: str, js_args: Any) -> Any:
    """Entry point for plain functions: ``{ok, result}`` or ``{ok: false, error}``, synchronously."""
    try:
        return _reply(rpc.call_now(method, to_python(js_args), _runner()))
    except BaseException as exc:  # noqa: BLE001 (every failure must reach the page, and the worker must survive)
        return _failure(exc)


def _step(step: rpc.Step) -> Any:
    if not step.done:
        return to_js({"task": step.task, "model": step.request.call}, dict_converter=js.Object.fromEntries,
                     create_pyproxies=False)
    return _failure(step.error) if step.error is not None else _reply(step.result)


def begin(method: str, js_args: Any) -> Any:
    """Start a coroutine function: its reply, or ``{task, model}``: a model run the worker must do
    and hand back through ``resume``."""
    try:
        args = to_python(js_args)
    except BaseException as exc:  # noqa: BLE001
        return _failure(exc)
    return _step(_driver.begin(method, args, _runner()))


def resume(task: int, outputs: Any, error: str | None = None) -> Any:
    """The model outputs (or the runtime's error message) for ``task``; returns as ``begin`` does."""
    return _step(_driver.resume(task, outputs, error))
