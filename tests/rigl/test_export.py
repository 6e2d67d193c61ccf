"""The lite model's files: packed weights round-trip, bad bytes are named, ONNX graph == torch student."""

from __future__ import annotations

import struct
import zlib

import numpy as np
import onnxruntime as ort
import pytest
import torch

from codeclab.attention import lite
from codeclab.errors import FormatError
from models.rigl.export import build_graph, folded_tensors
from models.rigl.sparsity import SparseSchedule, init_sparse
from models.rigl.student import Student


def _student(sparsity: float = 0.9) -> Student:
    torch.manual_seed(0)
    model = Student()
    init_sparse(model, "static", sparsity, SparseSchedule(), seed=0)
    with torch.no_grad():  # non-trivial batch-norm statistics, so folding is really exercised
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.uniform_(-0.2, 0.2)
                module.running_var.uniform_(0.5, 2.0)
                module.weight.uniform_(0.5, 1.5)
                module.bias.uniform_(-0.1, 0.1)
    return model.eval()


def test_pack_round_trip_keeps_zeros_and_float16_values():
    rng = np.random.default_rng(0)
    weight = rng.normal(size=(8, 4, 3, 3)).astype(np.float32) * (rng.random((8, 4, 3, 3)) < 0.1)
    bias = rng.normal(size=8).astype(np.float32)
    packed = lite.pack({"w": weight, "b": bias}, {"w"}, {"sparsity": 0.9})
    back = lite.unpack(packed)
    assert np.array_equal(back.tensors["w"] != 0, weight.astype(np.float16) != 0)
    assert np.array_equal(back.tensors["w"], weight.astype(np.float16).astype(np.float32))
    assert np.array_equal(back.tensors["b"], bias.astype(np.float16).astype(np.float32))
    assert back.meta == {"sparsity": 0.9} and back.label == "attention-lite (RigL, 90 % sparse)"
    # a sparse tensor costs its mask plus its nonzeros, not its dense size
    raw = zlib.decompress(packed)
    assert len(raw) < weight.size * 2


@pytest.mark.parametrize("damage, field", [
    (lambda raw: b"XXXX" + raw[4:], "magic"),
    (lambda raw: raw[:4] + struct.pack("<I", 10 ** 6) + raw[8:], "header_length"),
    (lambda raw: raw[:-3], "values"),
    (lambda raw: raw + b"\0", "end"),
])
def test_damaged_weights_raise_format_error_naming_the_field(damage, field):
    packed = lite.pack({"w": np.eye(4, dtype=np.float32)}, {"w"})
    with pytest.raises(FormatError, match=field) as caught:
        lite.unpack(zlib.compress(damage(zlib.decompress(packed))))
    assert caught.value.offset is not None


def test_not_zlib_is_a_format_error():
    with pytest.raises(FormatError, match="byte offset 0"):
        lite.unpack(b"not a model")


def test_onnx_graph_matches_the_torch_student():
    model = _student()
    tensors, sparse = folded_tensors(model)
    assert all(np.mean(tensors[name] == 0) > 0.5 for name in sparse if tensors[name].size > 2000)
    graph = build_graph({name: list(t.shape) for name, t in tensors.items()})
    session = ort.InferenceSession(graph.SerializeToString(), providers=["CPUExecutionProvider"])
    frame = np.random.default_rng(1).random((1, 120, 160, 3), dtype=np.float32)
    centre, weights = session.run(["center", "weights"], {"image": frame, **tensors})
    with torch.no_grad():
        log_map, expected = model(torch.from_numpy(frame.transpose(0, 3, 1, 2).copy()))
    np.testing.assert_allclose(centre, expected.numpy(), atol=1e-3)
    np.testing.assert_allclose(weights, log_map.exp().numpy(), atol=1e-5)
    assert weights.shape == (1, 15, 20) and abs(float(weights.sum()) - 1.0) < 1e-4


def test_the_build_step_needs_no_torch(tmp_path):
    """build_lite runs where only numpy + onnx are installed (torch is for training only)."""
    import subprocess
    import sys
    from pathlib import Path

    repo = Path(__file__).resolve().parents[2]
    code = ("import sys; sys.modules['torch'] = None\n"
            "from models.rigl.export import build_lite\n"
            f"entry = build_lite({str(tmp_path)!r})\n"
            "print(entry['meta']['sparsity'], entry['weights_bytes'])")
    done = subprocess.run([sys.executable, "-c", code], cwd=repo, capture_output=True, text=True, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(repo / "pysrc")})
    assert done.returncode == 0, done.stderr
    sparsity, size = done.stdout.split()
    assert 0.5 < float(sparsity) < 1.0 and int(size) == (tmp_path / "attention_lite.rigl").stat().st_size
    session = ort.InferenceSession(str(tmp_path / "attention_lite.onnx"), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()][0] == "image"


@pytest.mark.parametrize("architecture", ["base", "wide"])
def test_the_graph_follows_the_architecture_the_checkpoint_names(architecture):
    """The build reads the layer list's name from the packed checkpoint: a wide student gets the wide graph."""
    from models.rigl.architecture import layers

    backbone, context, head = layers(architecture)
    shapes = {}
    for spec in [*backbone, context, *head]:
        shapes[f"{spec.name}.weight"] = [spec.c_out, spec.c_in // spec.groups, spec.kernel, spec.kernel]
        shapes[f"{spec.name}.bias"] = [spec.c_out]
    graph = build_graph(shapes, architecture)
    convs = [node for node in graph.graph.node if node.op_type == "Conv"]
    assert len(convs) == len(backbone) + 1 + len(head)  # the context conv runs once, on the pooled mean
    assert {i.name for i in graph.graph.input} == {"image", *shapes}
    with pytest.raises(ValueError, match="unknown student architecture"):
        build_graph(shapes, "huge")
