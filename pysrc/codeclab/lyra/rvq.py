"""Lyra v2's residual vector quantizer in numpy (the maths of quantizer.tflite).

encode: for each stage k < num_quantizers pick the codeword of codebook k nearest
(squared L2) to the current residual, subtract it, move on.  decode: the sum of
the chosen codewords, skipping stages marked -1 (unused at lower bitrates).
"""

from __future__ import annotations

import io

import numpy as np

from .config import MAX_NUM_QUANTIZERS, NUM_FEATURES
from .errors import LyraError

CODEBOOK_SHAPE = (MAX_NUM_QUANTIZERS, 16, NUM_FEATURES)


def load_codebooks(source) -> np.ndarray:
    """Codebooks from a .npy path, raw .npy bytes, or an array; validated [46, 16, 64] float32."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        array = np.load(io.BytesIO(bytes(source)), allow_pickle=False)
    elif isinstance(source, np.ndarray):
        array = source
    else:
        array = np.load(source, allow_pickle=False)
    if array.shape != CODEBOOK_SHAPE:
        raise LyraError(f"quantizer codebooks must have shape {CODEBOOK_SHAPE}, got {array.shape}")
    return np.ascontiguousarray(array, dtype=np.float32)


def _features_vector(features) -> np.ndarray:
    vector = np.asarray(features, dtype=np.float32).reshape(-1)
    if vector.size != NUM_FEATURES:
        raise LyraError(f"Lyra features must have {NUM_FEATURES} values, got {vector.size}")
    return vector


def encode(features, num_quantizers: int, codebooks: np.ndarray) -> np.ndarray:
    """int32 [num_quantizers]: the nearest-codeword index chosen at each residual stage."""
    if not 1 <= num_quantizers <= codebooks.shape[0]:
        raise LyraError(f"num_quantizers must be 1..{codebooks.shape[0]}, got {num_quantizers}")
    residual = _features_vector(features).copy()
    indices = np.empty(num_quantizers, dtype=np.int32)
    differences = np.empty(codebooks.shape[1:], dtype=np.float32)
    for stage in range(num_quantizers):
        codebook = codebooks[stage]
        # float32 throughout, like the TFLite graph (SQUARED_DIFFERENCE, SUM, ARG_MIN).  In place
        # and through methods: a frame is up to 46 stages of tiny arrays, where numpy's per-call
        # overhead is the cost (in Pyodide most of all).
        np.subtract(codebook, residual, out=differences)
        np.square(differences, out=differences)
        best = int(np.add.reduce(differences, axis=1, dtype=np.float32).argmin())
        indices[stage] = best
        residual -= codebook[best]
    return indices


def encode_many(features, num_quantizers: int, codebooks: np.ndarray) -> np.ndarray:
    """int32 [frames, num_quantizers]: ``encode`` of each row of ``features`` [frames, 64], with the
    stages' numpy calls made once for all frames.  Each frame's distances are the same float32
    operations as ``encode``'s (a reduction over the same contiguous 64 values), so the indices
    are the same, bit for bit (tests/lyra/test_rvq.py)."""
    if not 1 <= num_quantizers <= codebooks.shape[0]:
        raise LyraError(f"num_quantizers must be 1..{codebooks.shape[0]}, got {num_quantizers}")
    residual = np.array(features, dtype=np.float32).reshape(-1, NUM_FEATURES)
    frames = residual.shape[0]
    indices = np.empty((frames, num_quantizers), dtype=np.int32)
    differences = np.empty((frames, *codebooks.shape[1:]), dtype=np.float32)
    distances = np.empty((frames, codebooks.shape[1]), dtype=np.float32)
    for stage in range(num_quantizers):
        codebook = codebooks[stage]
        np.subtract(codebook, residual[:, None, :], out=differences)
        np.square(differences, out=differences)
        np.add.reduce(differences, axis=2, dtype=np.float32, out=distances)
        best = distances.argmin(axis=1)
        indices[:, stage] = best
        residual -= codebook[best]
    return indices


def decode(indices, codebooks: np.ndarray) -> np.ndarray:
    """float32 [64]: sum of the codewords picked by ``indices`` (-1 = stage unused)."""
    values = np.asarray(indices).reshape(-1)
    if values.size > codebooks.shape[0]:
        raise LyraError(f"at most {codebooks.shape[0]} quantizer indices, got {values.size}")
    outside = np.flatnonzero((values < -1) | (values >= codebooks.shape[1]))
    if outside.size:
        stage = int(outside[0])
        raise LyraError(f"quantizer index {int(values[stage])} at stage {stage} is outside 0..{codebooks.shape[1] - 1}")
    used = np.flatnonzero(values != -1)
    # One gather and one reduction instead of a Python loop over up to 46 stages (per frame, in
    # Pyodide). Reducing over the outer axis adds the rows one after the other in stage order,
    # so the float32 sum is the loop's, bit for bit.
    return np.add.reduce(codebooks[used, values[used]], axis=0, dtype=np.float32) if used.size \
        else np.zeros(codebooks.shape[2], dtype=np.float32)


class ResidualVectorQuantizer:
    """Codebooks bound to encode/decode."""

    def __init__(self, codebooks: np.ndarray):
        self.codebooks = load_codebooks(codebooks)

    def encode(self, features, num_quantizers: int) -> np.ndarray:
        return encode(features, num_quantizers, self.codebooks)

    def decode(self, indices) -> np.ndarray:
        return decode(indices, self.codebooks)
