"""The model-runner interface shared by the tools, and its CPython implementation.

A runner runs a named model on a dict of numpy inputs and returns a dict of
numpy outputs.  Two flavours exist:

* CPython: ``run_sync(name, feeds)`` (onnxruntime here; tools may add others,
  e.g. a TFLite reference runner), and an awaitable ``run`` wrapping it;
* the page: ``codeclab.browser.adapter.BrowserRunner`` whose ``run`` is
  awaitable only (onnxruntime-web in the worker).

Both may offer ``available(name)``.  Services call :func:`run_model`, which
awaits whichever the runner has, and :func:`has_model` before choosing a
fallback.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from .errors import ModelUnavailableError


@runtime_checkable
class ModelRunner(Protocol):  # pragma: no cover - typing only
    async def run(self, name: str, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]: ...


def has_model(runner: Any, name: str) -> bool:
    """True when ``runner`` exists and says it can run ``name`` (runners without ``available`` are trusted)."""
    if runner is None:
        return False
    available = getattr(runner, "available", None)
    return True if available is None else bool(available(name))


async def run_model(runner: Any, name: str, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Run ``name`` on ``runner``, sync or async; outputs as numpy arrays."""
    if runner is None:
        raise ModelUnavailableError(f"no model runner: {name!r} cannot run here")
    run = getattr(runner, "run", None)
    if run is not None:
        result = run(name, feeds)
        if inspect.isawaitable(result):
            result = await result
    else:
        result = runner.run_sync(name, feeds)
    return {key: np.asarray(value) for key, value in result.items()}


def run_model_sync(runner: Any, name: str, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The same from synchronous code (CPython runners only)."""
    if runner is None:
        raise ModelUnavailableError(f"no model runner: {name!r} cannot run here")
    if hasattr(runner, "run_sync"):
        result = runner.run_sync(name, feeds)
    else:
        raise ModelUnavailableError(f"this runner ({type(runner).__name__}) cannot run models synchronously")
    return {key: np.asarray(value) for key, value in result.items()}


class OnnxRunner:
    """CPython runner on onnxruntime: one cached session per model name.

    ``models`` maps runner names to ``.onnx`` paths, or to serialized models
    (bytes: the converter's output, before it is written anywhere); names not in
    it are looked up as ``<model_dir>/<name>.onnx`` (the layout build.py writes).
    """

    def __init__(self, models: Mapping[str, str | Path | bytes] | None = None,
                 model_dir: str | Path | None = None, num_threads: int = 1):
        self.models = {name: source if isinstance(source, bytes) else Path(source)
                       for name, source in (models or {}).items()}
        self.model_dir = Path(model_dir) if model_dir is not None else None
        self.num_threads = num_threads
        self._sessions: dict[str, Any] = {}

    def path(self, name: str) -> Path | bytes | None:
        if name in self.models:
            return self.models[name]
        if self.model_dir is not None:
            return self.model_dir / f"{name}.onnx"
        return None

    def available(self, name: str) -> bool:
        source = self.path(name)
        return isinstance(source, bytes) or (source is not None and source.is_file())

    def session(self, name: str):
        if name not in self._sessions:
            source = self.path(name)
            if not self.available(name):
                raise ModelUnavailableError(f"model {name!r} is not installed ({source or 'no path given'}): "
                                            "run `python3 build.py` first")
            import onnxruntime as ort  # noqa: PLC0415 (CPython only)

            options = ort.SessionOptions()
            options.intra_op_num_threads = self.num_threads
            options.inter_op_num_threads = 1
            model = source if isinstance(source, bytes) else str(source)
            self._sessions[name] = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
        return self._sessions[name]

    def output_names(self, name: str) -> list[str]:
        return [output.name for output in self.session(name).get_outputs()]

    def run_sync(self, name: str, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        session = self.session(name)
        wanted = {item.name for item in session.get_inputs()}
        missing = wanted - set(feeds)
        if missing:
            raise ModelUnavailableError(f"model {name!r} needs inputs {sorted(missing)}, got {sorted(feeds)}")
        names = self.output_names(name)
        values = session.run(names, {key: value for key, value in feeds.items() if key in wanted})
        return dict(zip(names, values))

    async def run(self, name: str, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return self.run_sync(name, feeds)
