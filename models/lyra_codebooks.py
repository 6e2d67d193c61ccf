"""Extract Lyra v2's residual-vector-quantizer codebooks from quantizer.tflite.

The quantizer is a plain RVQ: 46 stages, each a 16 x 64 codebook.  The TFLite
file stores every stage's codebook twice (once per signature); the ``decode``
signature keeps them as constant tensors named ``transpose`` (stage 0) and
``transpose_<k>`` (stage k), each float32 [16, 64].  We read those with the
``tflite`` flatbuffer schema package so build.py can save them as
``quantizer_codebooks.npy``; the order is checked against the interpreter in
tests/lyra/test_rvq.py.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

NUM_STAGES = 46
CODEBOOK_SIZE = 16
NUM_FEATURES = 64
_FLOAT32 = 0  # tflite.TensorType.FLOAT32


class CodebookExtractionError(Exception):
    """quantizer.tflite does not have the layout we expect."""


def _stage_tensor_name(stage: int) -> str:
    return "transpose" if stage == 0 else f"transpose_{stage}"


def _find_subgraph(model, name: bytes):
    for index in range(model.SubgraphsLength()):
        subgraph = model.Subgraphs(index)
        if subgraph.Name() == name:
            return subgraph
    raise CodebookExtractionError(f"quantizer.tflite has no {name.decode()!r} subgraph")


def _constant_tensors(model, subgraph) -> dict[str, np.ndarray]:
    """Name -> float32 array for every float32 tensor that carries constant data."""
    constants: dict[str, np.ndarray] = {}
    for index in range(subgraph.TensorsLength()):
        tensor = subgraph.Tensors(index)
        if tensor.Type() != _FLOAT32:
            continue
        buffer = model.Buffers(tensor.Buffer())
        if buffer is None or buffer.DataLength() == 0:
            continue
        shape = tuple(int(d) for d in tensor.ShapeAsNumpy())
        data = np.frombuffer(buffer.DataAsNumpy().tobytes(), dtype="<f4")
        if data.size != int(np.prod(shape)):
            continue
        constants[tensor.Name().decode()] = data.reshape(shape)
    return constants


def extract_codebooks(quantizer_tflite: Path) -> np.ndarray:
    """float32 [46, 16, 64]: codebook ``k`` holds the 16 codewords of RVQ stage ``k``."""
    import tflite  # build-time dependency only (CPython)

    data = Path(quantizer_tflite).read_bytes()
    model = tflite.Model.GetRootAsModel(data, 0)
    constants = _constant_tensors(model, _find_subgraph(model, b"decode"))
    stages = []
    for stage in range(NUM_STAGES):
        name = _stage_tensor_name(stage)
        codebook = constants.get(name)
        if codebook is None or codebook.shape != (CODEBOOK_SIZE, NUM_FEATURES):
            raise CodebookExtractionError(
                f"quantizer.tflite: tensor {name!r} (stage {stage}) missing or not "
                f"float32 [{CODEBOOK_SIZE}, {NUM_FEATURES}]"
            )
        stages.append(codebook)
    return np.ascontiguousarray(np.stack(stages), dtype=np.float32)


if __name__ == "__main__":  # pragma: no cover - manual use
    import sys

    books = extract_codebooks(Path(sys.argv[1]))
    np.save(sys.argv[2], books)
    print(f"wrote {sys.argv[2]}: {books.shape} {books.dtype}")
