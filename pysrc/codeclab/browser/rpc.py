"""Routing of page requests to the tools' service functions (pure Python).

The worker calls ``adapter.dispatch("<tool>.<function>", args)``; this module
decides which function that is, calls it (awaiting it if it is a coroutine,
passing the model runner if it asks for one), and turns exceptions into a
payload the page can show.  It imports nothing from the browser, so the
routing is unit-tested in CPython.
"""

from __future__ import annotations

import importlib
import inspect
import platform
import sys
import traceback
from typing import Any, Callable

from codeclab import __version__
from codeclab.errors import CodeclabError

#: Tools whose ``service`` module the page may call.
TOOLS = ("attention", "jxl", "lyra", "basis")


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
        import PIL  # noqa: PLC0415

        info["pillow"] = PIL.__version__
    except ImportError:
        info["pillow"] = None
    return info


def raise_error(message: str = "This is a test error raised on purpose") -> None:
    """Raise a user-facing error (the About panel's "test error reporting" button)."""
    raise CodeclabError(message)


async def run_model(name: str, feeds: dict[str, Any], runner: Any = None) -> dict[str, Any]:
    """Run one model once on the given inputs (diagnostics: lets the page and the tests check a model)."""
    from codeclab.errors import ModelUnavailableError  # noqa: PLC0415

    if runner is None:
        raise ModelUnavailableError("no model runner in this environment")
    if hasattr(runner, "available") and not runner.available(name):
        raise ModelUnavailableError(f"model {name!r} is not installed in this build")
    import numpy as np  # noqa: PLC0415

    # From the page, a feed is {"data": flat typed array, "shape": [...]}.
    arrays = {
        key: np.asarray(value["data"]).reshape(value["shape"]) if isinstance(value, dict) else np.asarray(value)
        for key, value in feeds.items()
    }
    outputs = await runner.run(name, arrays)
    return {key: {"data": value, "shape": list(value.shape), "dtype": str(value.dtype)} for key, value in outputs.items()}


BUILTINS: dict[str, Callable[..., Any]] = {
    "platform.info": platform_info,
    "platform.raise_error": raise_error,
    "platform.run_model": run_model,
}


def resolve(method: str) -> Callable[..., Any]:
    """The function behind ``"<tool>.<function>"``; only public service functions qualify."""
    if method in BUILTINS:
        return BUILTINS[method]
    tool, _, name = method.partition(".")
    if tool not in TOOLS or not name or name.startswith("_") or "." in name:
        raise UnknownMethodError(f"unknown method {method!r}")
    try:
        service = importlib.import_module(f"codeclab.{tool}.service")
    except ModuleNotFoundError as err:
        raise UnknownMethodError(f"the {tool} tool is not available in this build ({err})") from err
    function = getattr(service, name, None)
    if not callable(function) or getattr(function, "__module__", None) != service.__name__:
        raise UnknownMethodError(f"unknown method {method!r}")
    return function


async def call(method: str, args: dict[str, Any] | None, runner: Any = None) -> Any:
    """Call ``method`` with keyword ``args``; hands over ``runner`` if the function takes one."""
    function = resolve(method)
    kwargs = dict(args or {})
    if runner is not None and "runner" in inspect.signature(function).parameters:
        kwargs.setdefault("runner", runner)
    result = function(**kwargs)
    if inspect.isawaitable(result):
        result = await result
    return result


def error_payload(exc: BaseException) -> dict[str, Any]:
    """What the page shows: the human message for input errors, a labelled one otherwise."""
    if isinstance(exc, CodeclabError):
        return {"type": type(exc).__name__, "message": str(exc), "expected": True}
    if isinstance(exc, TypeError) and "argument" in str(exc):
        message = f"Bad request: {exc}"
    elif isinstance(exc, MemoryError):
        message = "Out of memory: the input is too large to process in the browser"
    else:
        message = f"Internal error ({type(exc).__name__}): {exc}"
    return {
        "type": type(exc).__name__,
        "message": message,
        "expected": False,
        "traceback": "".join(traceback.format_exception(exc)),
    }
