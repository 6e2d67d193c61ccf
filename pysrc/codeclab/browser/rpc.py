"""Routing of page requests to the tools' service functions (pure Python).

The worker calls ``adapter.dispatch_now`` / ``adapter.begin`` with
``"<tool>.<function>"`` and its arguments; this module decides which function
that is, calls it (passing the model runner if it asks for one), and turns
exceptions into a payload the page can show.  Coroutine functions are driven
step by step (``Driver``): each model run they await surfaces as a
``ModelRequest`` that the worker's JavaScript runs, without an event loop in
between.  It imports nothing from the browser, so all of this is unit-tested in
CPython.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import itertools
import os
import pkgutil
import platform
import re
import sys
import traceback
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from typing import Any

from codeclab import __version__
from codeclab.errors import CodeclabError, FormatError, ModelUnavailableError

#: The tools the page may call, {tool id: the module whose public functions it offers}: set by the worker at boot
#: from the tools' manifests (dist/tools.json, :func:`configure`); where nothing set it (CPython), every
#: ``codeclab.<id>.service`` module there is (:func:`services`).
_services: dict[str, str] | None = None


def configure(services: Mapping[str, str]) -> None:
    """Route ``"<id>.<function>"`` to ``services[id]``'s public functions (and nothing else)."""
    global _services
    _services = {str(tool): str(module) for tool, module in services.items()}
    _resolved.clear()


def services() -> dict[str, str]:
    """The routing table: as configured, or every codeclab subpackage that has a ``service`` module."""
    global _services
    if _services is None:
        _services = _scan_services()
    return _services


def _scan_services() -> dict[str, str]:
    import codeclab  # noqa: PLC0415 (the package itself: its subpackages are scanned, none imported)

    found = {}
    for package in pkgutil.iter_modules(codeclab.__path__):
        folder = os.path.join(package.module_finder.path, package.name)  # type: ignore[union-attr]
        if package.ispkg and any(module.name == "service" for module in pkgutil.iter_modules([folder])):
            found[package.name] = f"codeclab.{package.name}.service"
    return found


class UnknownMethodError(CodeclabError):
    """The page asked for a function that no tool offers."""


def platform_info() -> dict:
    """Versions of what runs the Python side (shown in the About panel)."""
    import numpy  # noqa: PLC0415 (imported lazily: keeps the routing importable without numpy)

    info = {
        "codeclab": __version__,
        "python": platform.python_version(),
        "implementation": sys.implementation.name,
        "platform": sys.platform,
        "numpy": numpy.__version__,
    }
    try:
        import PIL  # noqa: PLC0415 (optional: only the tools that read images need it)

        info["pillow"] = PIL.__version__
    except ImportError:
        info["pillow"] = None
    return info


async def run_model(name: str, feeds: dict[str, Any], runner: Any = None) -> dict[str, Any]:
    """Run one model once on the given inputs (diagnostics: lets the page and the tests check a model)."""
    if runner is None:
        raise ModelUnavailableError("no model runner in this environment")
    if hasattr(runner, "available") and not runner.available(name):
        raise ModelUnavailableError(f"model {name!r} is not installed in this build")
    import numpy as np  # noqa: PLC0415 (as in platform_info: the routing itself needs no numpy)

    # From the page, a feed is {"data": flat typed array, "shape": [...]}.
    arrays = {
        key: np.asarray(value["data"]).reshape(value["shape"]) if isinstance(value, dict) else np.asarray(value)
        for key, value in feeds.items()
    }
    outputs = await runner.run(name, arrays)
    return {key: {"data": value, "shape": list(value.shape), "dtype": str(value.dtype)} for key, value in outputs.items()}


BUILTINS: dict[str, Callable[..., Any]] = {
    "platform.info": platform_info,
    "platform.run_model": run_model,
}


_resolved: dict[str, Callable[..., Any]] = {}


def resolve(method: str) -> Callable[..., Any]:
    """The function behind ``"<tool>.<function>"``; only public service functions qualify (found
    once per method: a stream asks for the same two on every 20 ms frame)."""
    function = _resolved.get(method)
    if function is None:
        function = _resolved[method] = _resolve(method)
    return function


def _resolve(method: str) -> Callable[..., Any]:
    if method in BUILTINS:
        return BUILTINS[method]
    tool, _, name = method.partition(".")
    module = services().get(tool)
    if module is None or not name or name.startswith("_") or "." in name:
        raise UnknownMethodError(f"unknown method {method!r}")
    try:
        service = importlib.import_module(module)
    except ModuleNotFoundError as err:
        raise UnknownMethodError(f"the {tool} tool is not available in this build ({err})") from err
    function = getattr(service, name, None)
    if not callable(function) or getattr(function, "__module__", None) != service.__name__:
        raise UnknownMethodError(f"unknown method {method!r}")
    return function


@functools.cache
def _takes_runner(function: Callable[..., Any]) -> bool:
    # inspect.signature is slow in Pyodide, and a stream would pay it on every 20 ms frame
    return "runner" in inspect.signature(function).parameters


def _bind(method: str, args: dict[str, Any] | None, runner: Any) -> tuple[Callable[..., Any], dict[str, Any]]:
    function = resolve(method)
    kwargs = dict(args or {})
    if runner is not None and _takes_runner(function):
        kwargs.setdefault("runner", runner)
    return function, kwargs


def is_coroutine(method: str) -> bool:
    """True for coroutine functions (driven by ``Driver``); the rest are answered at once by
    ``call_now`` (an unknown method too: with its error)."""
    try:
        return _is_coroutine_function(resolve(method))
    except UnknownMethodError:
        return False


@functools.cache
def _is_coroutine_function(function: Callable[..., Any]) -> bool:
    return inspect.iscoroutinefunction(function)


def call_now(method: str, args: dict[str, Any] | None, runner: Any = None) -> Any:
    """Call a plain (non-coroutine) service function synchronously."""
    function, kwargs = _bind(method, args, runner)
    result = function(**kwargs)
    if inspect.isawaitable(result):
        close = getattr(result, "close", None)
        if close is not None:
            close()  # never awaited: say so instead of leaving a "never awaited" warning
        raise TypeError(f"{method} returned an awaitable; call it through call()")
    return result


async def call(method: str, args: dict[str, Any] | None, runner: Any = None) -> Any:
    """Call ``method`` with keyword ``args``; hands over ``runner`` if the function takes one."""
    function, kwargs = _bind(method, args, runner)
    result = function(**kwargs)
    if inspect.isawaitable(result):
        result = await result
    return result


class ModelRunError(RuntimeError):
    """The model runtime failed on a request (its own message, e.g. from onnxruntime-web)."""


@dataclass
class ModelRequest:
    """Awaited by a runner: "run this model and send me its outputs".  ``call`` is whatever the
    runner's host needs (the browser runner: the JS-ready request for the worker's model bridge)."""

    call: Any

    def __await__(self):
        outputs = yield self
        return outputs


@dataclass
class Step:
    """Where a driven call stands: ``done`` with ``result``, failed with ``error``, or waiting for
    ``request`` to run (then ``Driver.resume(task, outputs)``)."""

    done: bool
    result: Any = None
    error: BaseException | None = None
    request: ModelRequest | None = None
    task: int | None = None


class Driver:
    """Runs coroutine service calls by hand instead of on an event loop.

    Why: in Pyodide every resumption of a coroutine through asyncio is a scheduled browser
    callback, several per request of a 20 ms stream frame; driven by the worker's JavaScript
    (a plain call in, a ModelRequest out, the model run in JS, a plain call back in), the
    Python side of a frame is two synchronous calls.  The only thing a service coroutine may
    await is therefore a model (``ModelRequest``, via the runner) or an uncontended lock; the
    worker runs one driven call at a time, so its locks are never contended."""

    def __init__(self) -> None:
        self._waiting: dict[int, Coroutine] = {}
        self._tasks = itertools.count(1)

    def begin(self, method: str, args: dict[str, Any] | None, runner: Any = None) -> Step:
        return self._advance(call(method, args, runner), None, None)

    def resume(self, task: int, outputs: Any = None, error: str | None = None) -> Step:
        coroutine = self._waiting.pop(int(task), None)
        if coroutine is None:
            return Step(done=True, error=RuntimeError(f"no driven call {task} is waiting"))
        return self._advance(coroutine, outputs, error)

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    def _advance(self, coroutine: Coroutine, outputs: Any, error: str | None) -> Step:
        try:
            yielded = coroutine.send(outputs) if error is None else coroutine.throw(ModelRunError(error))
        except StopIteration as stop:
            return Step(done=True, result=stop.value)
        except BaseException as exc:  # noqa: BLE001 (reported to the page)
            return Step(done=True, error=exc)
        if not isinstance(yielded, ModelRequest):
            coroutine.close()
            return Step(done=True, error=RuntimeError(
                f"a service call awaited {type(yielded).__name__}; driven calls may only await models"))
        task = next(self._tasks)
        self._waiting[task] = coroutine
        return Step(done=False, request=yielded, task=task)


def error_payload(exc: BaseException) -> dict[str, Any]:
    """What the page shows: a plain ``message`` a person can act on, and a smaller ``details`` line.

    Input errors keep their human message, with the byte offset and field moved to ``details``; anything
    else says in plain words that codeclab failed (never a class name or traceback: those go to the
    console through ``traceback``).
    """
    if isinstance(exc, CodeclabError):
        text, where = (exc.plain_message, exc.where()) if isinstance(exc, FormatError) else (str(exc), "")
        message, technical = plain_words(text)
        details = ", ".join(part for part in (technical, where) if part)
        return {"type": type(exc).__name__, "message": message, "details": details, "expected": True}
    if isinstance(exc, MemoryError):
        message = "Out of memory: the input is too large to process in the browser. Try a smaller file."
    elif isinstance(exc, TypeError) and "argument" in str(exc):
        message = "The page sent codeclab a request it does not understand (a bug in the page)."
    else:
        message = "codeclab failed on this input (a bug, not your file's fault); the app keeps working."
    return {
        "type": type(exc).__name__,
        "message": message,
        "details": str(exc),
        "expected": False,
        "traceback": "".join(traceback.format_exception(exc)),
    }



# A Python class name leading a reason ("IndexError: …"), and a bytes repr (b'IHDR').
_CLASS_NAME = re.compile(r"\b[A-Za-z_][\w.]*(?:Error|Exception|Warning): ")
_BYTES_REPR = re.compile(r"\bb(['\"])(.*?)\1")


def plain_words(message: str) -> tuple[str, str]:
    """Split an error message into what a person reads and the technical rest, for the details line.

    Messages are "what is wrong: why" chains, and the why may be a library's own words ("the PNG data is
    corrupt: IndexError: list index out of range", "…: PNG: bad header checksum in b'IHDR'"). The first
    part stays the message as long as none of the parts after it carries a class name or a bytes repr;
    otherwise those parts go to details, without class names, with bytes shown as plain quotes."""
    parts = message.split(": ")
    technical = next((i for i, part in enumerate(parts) if i > 0 and (
        _CLASS_NAME.match(part + ": ") or _BYTES_REPR.search(part))), None)
    if technical is None:
        return message, ""
    cut = max(1, technical - 1) if technical > 1 and not _CLASS_NAME.match(parts[technical] + ": ") else technical
    rest = ": ".join(parts[cut:])
    rest = _BYTES_REPR.sub(lambda found: f"'{found.group(2)}'", _CLASS_NAME.sub("", rest))
    return ": ".join(parts[:cut]), rest
