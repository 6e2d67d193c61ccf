"""Model runners and the stateful wrapper that carries streaming state between frames.

The two neural models are streaming: each call consumes one 20 ms frame and
updates internal state.  In ONNX form (our converter's output) that state is
explicit: inputs ``state_in_<k>`` and outputs ``state_out_<k>``, initial values
in ``<name>.state_init.npz``.  ``StatefulModel`` feeds each call's
``state_out_k`` back as the next call's ``state_in_k``.  The TFLite interpreter
keeps the state in its resource variables itself, so over ``TfliteRunner`` the
state dict is simply empty.

A runner has ``run_sync(name, feeds) -> dict`` (CPython) and/or an awaitable
``run(name, feeds)`` / ``run_stream`` (the page's runner: LiteRT.js or onnxruntime-web); names are
``soundstream_encoder`` and ``lyragan``; tensors are called ``audio`` [1,320]
and ``features`` [1,1,64] as in the converter's ONNX files.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from ..errors import ModelUnavailableError
from ..onnx_bridge import OnnxRunner
from .errors import LyraError
from .rvq import load_codebooks

ENCODER_MODEL = "soundstream_encoder"
DECODER_MODEL = "lyragan"
STATE_IN_PREFIX = "state_in_"
STATE_OUT_PREFIX = "state_out_"
CODEBOOKS_FILE = "quantizer_codebooks.npy"
# canonical (input, output) tensor names of each model
MODEL_IO = {ENCODER_MODEL: ("audio", "features"), DECODER_MODEL: ("features", "audio")}
DEFAULT_MODEL_DIR = Path("build") / "models" / "lyra"


class Runner(Protocol):  # pragma: no cover - typing only
    def run_sync(self, name: str, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]: ...


def state_index(name: str, prefix: str) -> str:
    return name[len(prefix):]


class StatefulModel:
    """One streaming instance of a model over a runner: ``step(inputs) -> outputs``."""

    def __init__(self, runner, name: str, state_init: dict[str, np.ndarray] | None = None):
        self.runner = runner
        self.name = name
        self.state_init = {k: np.asarray(v) for k, v in (state_init or {}).items()}
        for key in self.state_init:
            if not key.startswith(STATE_IN_PREFIX):
                raise LyraError(f"{name}: initial state entry {key!r} is not named {STATE_IN_PREFIX}<k>")
        self.steps = 0
        self.reset()

    def reset(self) -> None:
        """Back to the initial state (a fresh stream)."""
        self.state = {k: v.copy() for k, v in self.state_init.items()}
        self.steps = 0
        reset = getattr(self.runner, "reset", None)
        if reset is not None:
            reset(self.name)

    def feeds(self, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return {**inputs, **self.state}

    def absorb(self, outputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Take the new state out of a run's outputs; return the other outputs."""
        if self.state:
            missing = []
            for key in self.state:
                out_key = STATE_OUT_PREFIX + state_index(key, STATE_IN_PREFIX)
                if out_key not in outputs:
                    missing.append(out_key)
                else:
                    self.state[key] = np.asarray(outputs[out_key])
            if missing:
                raise LyraError(f"{self.name}: the model did not return {', '.join(missing[:3])}")
        self.steps += 1
        return {k: v for k, v in outputs.items() if not k.startswith(STATE_OUT_PREFIX)}

    def step(self, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return self.absorb(self.runner.run_sync(self.name, self.feeds(inputs)))

    async def step_async(self, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        run_stream = getattr(self.runner, "run_stream", None)
        if run_stream is not None and self.state:
            # The page's runner keeps the state tensors on its side between frames: only the
            # frame's input and output cross the Python/JS boundary (the initial state once,
            # and again after a reset).
            init = self.state_init if self.steps == 0 else None
            outputs = await run_stream(self.name, id(self), inputs, init)
            self.steps += 1
            return outputs
        return self.absorb(await self.runner.run(self.name, self.feeds(inputs)))

    async def step_many_async(self, inputs: dict[str, np.ndarray], frames: int) -> dict[str, np.ndarray]:
        """``frames`` steps in a row, each input stacked on a leading axis of ``frames`` (each frame
        shaped as ``step`` takes it); outputs stacked the same way.  On a runner that can run a
        stream for several frames per request (the page's: ``run_stream(..., frames=)``), one
        request; else one step after the other."""
        run_stream = getattr(self.runner, "run_stream", None)
        if run_stream is not None and self.state and getattr(self.runner, "runs_frames", False):
            init = self.state_init if self.steps == 0 else None
            outputs = await run_stream(self.name, id(self), inputs, init, frames=frames)
            self.steps += frames
            return outputs
        steps = [await self.step_async({k: v[i] for k, v in inputs.items()}) for i in range(frames)]
        return {key: np.stack([np.asarray(step[key]) for step in steps]) for key in steps[0]} if steps else {}


def load_state_init(source) -> dict[str, np.ndarray]:
    """``<name>.state_init.npz`` (path or bytes) -> {state_in_k: initial value}."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        archive = np.load(io.BytesIO(bytes(source)), allow_pickle=False)
    else:
        archive = np.load(source, allow_pickle=False)
    with archive:
        return {key: archive[key] for key in archive.files}


class TfliteRunner:
    """CPython reference runner on the TFLite interpreter (ai_edge_litert).

    One live interpreter per model name: its resource variables are the stream's
    state, so use one runner per concurrent stream of the same model.
    """

    FILES = {ENCODER_MODEL: "soundstream_encoder.tflite", DECODER_MODEL: "lyragan.tflite"}

    def __init__(self, model_dir, num_threads: int = 1):
        self.model_dir = Path(model_dir)
        self.num_threads = num_threads
        self._interpreters: dict[str, tuple] = {}

    def _open(self, name: str):
        from ai_edge_litert.interpreter import Interpreter  # noqa: PLC0415 (CPython only, tests' reference)

        path = self.model_dir / self.FILES[name]
        if not path.is_file():
            raise ModelUnavailableError(f"Lyra model {path} is missing")
        interpreter = Interpreter(model_path=str(path), num_threads=self.num_threads)
        interpreter.allocate_tensors()
        in_index = interpreter.get_input_details()[0]["index"]
        out_index = interpreter.get_output_details()[0]["index"]
        return interpreter, in_index, out_index

    def reset(self, name: str) -> None:
        self._interpreters.pop(name, None)

    def run_sync(self, name: str, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        if name not in self._interpreters:
            self._interpreters[name] = self._open(name)
        interpreter, in_index, out_index = self._interpreters[name]
        in_name, out_name = MODEL_IO[name]
        interpreter.set_tensor(in_index, np.asarray(feeds[in_name], dtype=np.float32))
        interpreter.invoke()
        return {out_name: interpreter.get_tensor(out_index).copy()}

    async def run(self, name, feeds):
        return self.run_sync(name, feeds)


def codebooks_from_tflite(quantizer_tflite) -> np.ndarray:
    """[46, 16, 64] codebooks read back through the interpreter's ``decode`` signature.

    Decoding a single used stage gives that stage's codeword, so 46 x 16 calls
    recover every codebook without parsing the flatbuffer (CPython only).
    """
    from ai_edge_litert.interpreter import Interpreter  # noqa: PLC0415 (CPython only)

    decode = Interpreter(model_path=str(quantizer_tflite)).get_signature_runner("decode")
    books = np.zeros((46, 16, 64), dtype=np.float32)
    for stage in range(46):
        for index in range(16):
            indices = -np.ones((46, 1, 1), dtype=np.int32)
            indices[stage] = index
            books[stage, index] = decode(encoding_indices=indices)["output_0"].reshape(-1)
    return books


@dataclass
class LyraModels:
    """Everything a codec instance needs: a runner, codebooks, initial states."""

    runner: object
    codebooks: np.ndarray
    state_init: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    backend: str = "onnx"

    def encoder_model(self) -> StatefulModel:
        return StatefulModel(self.runner, ENCODER_MODEL, self.state_init.get(ENCODER_MODEL))

    def decoder_model(self) -> StatefulModel:
        return StatefulModel(self.runner, DECODER_MODEL, self.state_init.get(DECODER_MODEL))

    def fresh(self) -> LyraModels:
        """Same files, a new runner: TFLite runners hold one stream's state per model."""
        if self.backend == "tflite":
            runner = TfliteRunner(self.runner.model_dir, self.runner.num_threads)
            return LyraModels(runner, self.codebooks, self.state_init, self.backend)
        return self


def onnx_files_present(model_dir) -> bool:
    d = Path(model_dir)
    return all((d / f"{n}.onnx").is_file() for n in (ENCODER_MODEL, DECODER_MODEL))


def load_models(model_dir=None, backend: str = "auto", num_threads: int = 1) -> LyraModels:
    """Open the Lyra models in ``model_dir``: ``onnx`` (converter output), ``tflite`` (upstream files) or ``auto``."""
    directory = Path(model_dir) if model_dir is not None else DEFAULT_MODEL_DIR
    if backend == "auto":
        if onnx_files_present(directory):
            backend = "onnx"
        elif (directory / TfliteRunner.FILES[ENCODER_MODEL]).is_file():
            backend = "tflite"
        else:
            raise ModelUnavailableError(
                f"Lyra models not found in {directory}: expected {ENCODER_MODEL}.onnx, {DECODER_MODEL}.onnx "
                f"and {CODEBOOKS_FILE} (run `python3 build.py --upstream DIR`), or the upstream .tflite files"
            )
    if backend == "onnx":
        if not onnx_files_present(directory):
            raise ModelUnavailableError(f"Lyra ONNX models not found in {directory}: run `python3 build.py` first")
        books = directory / CODEBOOKS_FILE
        if not books.is_file():
            raise ModelUnavailableError(f"Lyra quantizer codebooks {books} are missing: run `python3 build.py` first")
        states = {}
        for name in (ENCODER_MODEL, DECODER_MODEL):
            path = directory / f"{name}.state_init.npz"
            if not path.is_file():
                raise ModelUnavailableError(f"initial state file {path} is missing: run `python3 build.py` first")
            states[name] = load_state_init(path)
        return LyraModels(OnnxRunner(model_dir=directory, num_threads=num_threads), load_codebooks(books), states, "onnx")
    if backend == "tflite":
        for file in (*TfliteRunner.FILES.values(), "quantizer.tflite"):
            if not (directory / file).is_file():
                raise ModelUnavailableError(f"Lyra TFLite model {directory / file} is missing")
        books_path = directory / CODEBOOKS_FILE
        if books_path.is_file():
            books = load_codebooks(books_path)
        else:
            books = codebooks_from_tflite(directory / "quantizer.tflite")
        return LyraModels(TfliteRunner(directory, num_threads), books, {}, "tflite")
    raise LyraError(f"unknown Lyra model backend {backend!r} (use onnx, tflite or auto)")
