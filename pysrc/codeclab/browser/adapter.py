"""The one module that touches ``js`` / ``pyodide``: the worker's side of the RPC.

It converts JS values to Python and back (the conversions themselves are in
:mod:`codeclab.browser.convert`, testable in CPython), calls the tools through
:mod:`codeclab.browser.rpc`, and runs models through a bridge object the worker installs
(the worker chooses the runtime: onnxruntime-web, or the one a tool's worker plug-in brings).
"""

from __future__ import annotations

from typing import Any

import js  # type: ignore[import-not-found]  (exists only in Pyodide)
import numpy as np
from pyodide.ffi import JsArray, JsBuffer, JsProxy, to_js  # type: ignore[import-not-found]

from codeclab.browser import convert, rpc

JS_TYPES = convert.JsTypes(proxy=JsProxy, buffer=JsBuffer, array=JsArray, object_keys=js.Object.keys)

_browser_runner: BrowserRunner | None = None


def install(model_bridge: Any, services: Any = None) -> None:
    """Called once by the worker with the JS object that runs the models (``run``, ``runStream``), and the
    tools' Python modules by tool id (dist/tools.json, as a dict): the requests the router answers."""
    global _browser_runner
    _browser_runner = BrowserRunner(model_bridge)
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
    """ModelRunner on the worker's JS model bridge, where the model sessions and the streams' state
    live, on the runtime the worker chose for each model: a tool's plug-in runtime where it declares
    one and it runs here, onnxruntime-web otherwise."""

    def __init__(self, bridge: Any) -> None:
        self._bridge = bridge
        self._steps: dict[tuple[str, int], _StreamStep] = {}

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
        outputs = await rpc.ModelRequest(self._stream_step(name, stream, feeds, state_init, frames))
        if isinstance(outputs, dict):  # the stream's one output, already taken over by ``resume``
            return outputs if frames is None else {k: v.reshape(int(frames), -1) for k, v in outputs.items()}
        return _from_js_outputs(outputs)

    def _stream_step(self, name: str, stream: int, feeds: dict[str, np.ndarray],
                     state_init: dict[str, np.ndarray] | None, frames: int | None) -> _StreamStep:
        """The stream's step object, with this frame's data: made when the stream starts (or its
        feeds change shape), else the last one reused."""
        key = (name, stream)
        step = self._steps.pop(key, None)  # re-inserted below: the dict's order is least recently used first
        layout = _StreamStep.layout(feeds, frames)
        if step is None or state_init is not None or step.shape != layout:
            step = _StreamStep(name, stream, feeds, state_init, frames, layout)
        else:
            step.set_frame(feeds)
        self._steps[key] = step
        while len(self._steps) > MAX_STREAM_STEPS:
            del self._steps[next(iter(self._steps))]
        return step


#: Streams whose step object is kept (the worker keeps the state of as many).
MAX_STREAM_STEPS = 64


class _StreamStep:
    """A stream's model step as the worker takes it, ``{task, model: {name, stream, feeds, init,
    frames}}``, built as a JS object once per stream and reused frame after frame: only the
    feeds' data (and the task number) change.  Converting the whole nested request for every
    frame, and the worker turning its Maps into objects, cost several times as much.  Safe to
    reuse: the worker drives one call at a time and reads a step before Python runs again."""

    def __init__(self, name: str, stream: int, feeds: dict[str, np.ndarray],
                 state_init: dict[str, np.ndarray] | None, frames: int | None, layout: tuple) -> None:
        per_frame = frames is not None
        request = {"name": name, "stream": stream, "feeds": convert.tensor_feeds(feeds, per_frame=per_frame),
                   "init": convert.tensor_feeds(state_init) if state_init is not None else None}
        if per_frame:
            request["frames"] = int(frames)
        self.js = to_js({"task": 0, "model": request}, create_pyproxies=False, dict_converter=js.Object.fromEntries)
        self.shape = layout
        self._model = self.js.model
        self._feeds = {key: getattr(self._model.feeds, key) for key in feeds}
        self._init_sent = state_init is not None

    @staticmethod
    def layout(feeds: dict[str, np.ndarray], frames: int | None) -> tuple:
        return frames, tuple((key, array.shape, array.dtype) for key, array in feeds.items())

    def set_frame(self, feeds: dict[str, np.ndarray]) -> None:
        for key, array in feeds.items():
            self._feeds[key].data = to_js(memoryview(np.ascontiguousarray(array).reshape(-1)), create_pyproxies=False)
        if self._init_sent:  # the initial state goes with the stream's first step only
            self._model.init = None
            self._init_sent = False

    def for_task(self, task: int) -> Any:
        self.js.task = task
        return self.js
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
    return _browser_runner


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
        if isinstance(step.request.call, _StreamStep):
            return step.request.call.for_task(step.task)
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
