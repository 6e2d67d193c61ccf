"""The one module that touches ``js`` / ``pyodide``: the worker's side of the RPC.

It converts JS values to Python and back (the conversions themselves are in
:mod:`codeclab.browser.convert`, testable in CPython), calls the tools through
:mod:`codeclab.browser.rpc`, and runs models through onnxruntime-web via a bridge
object the worker installs.
"""

from __future__ import annotations

from typing import Any

import js  # type: ignore[import-not-found]  (exists only in Pyodide)
import numpy as np
from pyodide.ffi import JsArray, JsBuffer, JsProxy, to_js  # type: ignore[import-not-found]

from codeclab.browser import convert, rpc

JS_TYPES = convert.JsTypes(proxy=JsProxy, buffer=JsBuffer, array=JsArray, object_keys=js.Object.keys)

_model_bridge: Any = None


def install(model_bridge: Any, services: Any = None) -> None:
    """Called once by the worker with the JS object that runs models, and the tools' Python modules by tool
    id (dist/tools.json, as a dict): the requests the router answers."""
    global _model_bridge
    _model_bridge = model_bridge
    if services is not None:
        rpc.configure(dict(services))


def to_python(value: Any) -> Any:
    return convert.to_python(value, JS_TYPES)


def to_javascript(value: Any) -> Any:
    """A reply or step as JS values, dicts as Maps: the worker makes them objects (``plainObjects``).
    Converting dicts here through a ``dict_converter`` (a call into JS per dict) took ~0.25-0.55 ms
    per reply or model request in the worker under load, against ~0.02 ms without."""
    return to_js(convert.plain(value), create_pyproxies=False)


class BrowserRunner:
    """ModelRunner on onnxruntime-web: sessions live in the worker's JS bridge."""

    def __init__(self, bridge: Any) -> None:
        self._bridge = bridge

    def available(self, name: str) -> bool:
        return bool(self._bridge.available(name))

    async def run(self, name: str, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        outputs = await rpc.ModelRequest({"name": name, "feeds": convert.tensor_feeds(feeds)})
        return _from_js_outputs(outputs)

    #: ``run_stream`` takes ``frames=``: several steps of a stream in one request (StatefulModel.step_many_async)
    runs_frames = True

    async def run_stream(self, name: str, stream: int, feeds: dict[str, np.ndarray],
                         state_init: dict[str, np.ndarray] | None, frames: int | None = None) -> dict[str, np.ndarray]:
        """One step of a streaming model whose state the JS bridge keeps (``state_in_k`` <- ``state_out_k``);
        ``state_init`` restarts the stream.  With ``frames``, that many steps in a row: each feed is
        ``frames`` inputs stacked on a leading axis, and so is each output."""
        # Python values, converted to JS once with the step that carries them (``_step``).
        init = convert.tensor_feeds(state_init) if state_init is not None else None
        if frames is None:
            request = {"name": name, "stream": stream, "feeds": convert.tensor_feeds(feeds), "init": init}
        else:
            request = {"name": name, "stream": stream, "feeds": convert.tensor_feeds(feeds, per_frame=True),
                       "init": init, "frames": int(frames)}
        outputs = await rpc.ModelRequest(request)
        if isinstance(outputs, dict):  # the stream's one output, already taken over by ``resume``
            return outputs if frames is None else {k: v.reshape(int(frames), -1) for k, v in outputs.items()}
        return _from_js_outputs(outputs)


def _from_js_outputs(outputs: Any) -> dict[str, np.ndarray]:
    result = {}
    for key in js.Object.keys(outputs):
        tensor = getattr(outputs, key)
        result[key] = convert.tensor_from_js(tensor.type, tensor.dims, tensor.data.to_bytes())
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
        # One conversion for the step and its request (the request's tensors are memoryviews).
        return to_js({"task": step.task, "model": step.request.call}, create_pyproxies=False)
    return _failure(step.error) if step.error is not None else _reply(step.result)


def begin(method: str, js_args: Any) -> Any:
    """Start a coroutine function: its reply, or ``{task, model}``: a model run the worker must do
    and hand back through ``resume``."""
    try:
        args = to_python(js_args)
    except BaseException as exc:  # noqa: BLE001 (as in dispatch_now: the page gets every failure)
        return _failure(exc)
    return _step(_driver.begin(method, args, _runner()))


def resume(task: int, outputs: Any, error: str | None = None, key: str | None = None,
           dtype: str | None = None) -> Any:
    """The model outputs (or the runtime's error message) for ``task``; returns as ``begin`` does.

    A stream's step has one output: the worker then passes its data alone with its name and type
    (``key``, ``dtype``), and it is taken over here in one copy (flat: the stream's caller knows
    its shape), instead of walking a JS object of tensors through proxies."""
    if key is not None and error is None:
        outputs = {key: np.frombuffer(outputs.to_bytes(), dtype=convert.ORT_DTYPES[dtype])}
    return _step(_driver.resume(task, outputs, error))
