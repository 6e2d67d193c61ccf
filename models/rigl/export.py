"""The lite attention model's files: packed checkpoint <- trained run; ONNX graph + weights -> dist.

Two steps, two commands:

* ``python3 -m models.rigl.export --run rigl90`` (after training; needs torch)
  folds each batch norm into its convolution (zeros stay zeros) and writes the
  packed checkpoint ``models/rigl/checkpoints/attention_lite.rigl`` — the
  small committed file (nonzeros as float16 + bitmask, zlib).
* :func:`build_lite` (the model build calls it; needs numpy and onnx only)
  writes ``attention_lite.onnx`` — the student's graph built by hand from the
  layer list in student.py, every weight a graph input — and copies the packed
  weights beside it as ``attention_lite.rigl``.  The page downloads both;
  Python unpacks the weights (codeclab.attention.lite).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
CHECKPOINT = Path(__file__).resolve().parent / "checkpoints" / "attention_lite.rigl"
ONNX_FILE = "attention_lite.onnx"
WEIGHTS_FILE = "attention_lite.rigl"
OPSET = 17
EXPORT_VERSION = "1"


def _lite_module():
    sys.path.insert(0, str(REPO / "pysrc"))
    from codeclab.attention import lite

    return lite


# ---------------------------------------------------------------- checkpoint (needs torch)

def folded_tensors(model) -> tuple[dict[str, np.ndarray], set[str]]:
    """Conv + batch norm -> conv weight and bias per layer (float32); the names of the sparse ones."""
    from .architecture import ARCHITECTURE

    tensors: dict[str, np.ndarray] = {}
    for spec in ARCHITECTURE:
        unit = model.unit(spec)
        weight = unit.conv.weight.detach().double().numpy()
        if unit.norm is not None:
            norm = unit.norm
            scale = norm.weight.detach().double().numpy() / np.sqrt(norm.running_var.double().numpy() + norm.eps)
            bias = norm.bias.detach().double().numpy() - norm.running_mean.double().numpy() * scale
            weight = weight * scale[:, None, None, None]
        else:
            bias = unit.conv.bias.detach().double().numpy()
        tensors[f"{spec.name}.weight"] = weight.astype(np.float32)
        tensors[f"{spec.name}.bias"] = bias.astype(np.float32)
    return tensors, {name for name in tensors if name.endswith(".weight")}


def pack_run(run: dict, extra_meta: dict | None = None) -> bytes:
    """A training run's saved dict (weights, masks, record) -> the packed checkpoint bytes."""
    from .student import Student

    model = Student()
    model.load_state_dict(run["state_dict"])
    model.eval()
    tensors, sparse = folded_tensors(model)
    weights = sum(tensors[name].size for name in sparse)
    nonzeros = sum(int(np.count_nonzero(tensors[name].astype(np.float16))) for name in sparse)
    record = run["record"]
    meta = {"method": record["method"], "sparsity": round(1.0 - nonzeros / weights, 4), "nonzeros": nonzeros,
            "parameters": int(sum(t.size for t in tensors.values())), "sparse_weights": int(weights),
            "steps": record["steps"], "frame": [160, 120], "grid": [20, 15],
            "architecture": record.get("architecture", "base"), **(extra_meta or {})}
    return _lite_module().pack(tensors, sparse, meta)


# ---------------------------------------------------------------- graph (numpy + onnx only)

def build_graph(shapes: dict[str, list[int]], architecture: str = "base"):
    """The student as an ONNX graph: image NHWC [1, 120, 160, 3] + weights -> center [1, 2], weights [1, 15, 20].
    ``architecture``: the layer list's name (architecture.ARCHITECTURES), as the packed checkpoint records it."""
    import onnx
    from onnx import TensorProto, helper

    from .architecture import CELL, FRAME_HEIGHT, FRAME_WIDTH, GRID_HEIGHT, GRID_WIDTH, layers

    BACKBONE, CONTEXT, HEAD = layers(architecture)

    nodes = [helper.make_node("Transpose", ["image"], ["x0"], perm=[0, 3, 1, 2])]
    counter = iter(range(1, 1000))

    def conv(x: str, spec) -> str:
        out = f"x{next(counter)}"
        pad = spec.dilation * (spec.kernel - 1) // 2
        nodes.append(helper.make_node("Conv", [x, f"{spec.name}.weight", f"{spec.name}.bias"], [out + ("r" if spec.relu else "")],
                                      kernel_shape=[spec.kernel] * 2, strides=[spec.stride] * 2,
                                      dilations=[spec.dilation] * 2, pads=[pad] * 4, group=spec.groups))
        if spec.relu:
            nodes.append(helper.make_node("Relu", [out + "r"], [out]))
        return out

    x = "x0"
    for spec in BACKBONE:
        x = conv(x, spec)
    nodes.append(helper.make_node("GlobalAveragePool", [x], ["pooled"]))
    context = conv("pooled", CONTEXT)
    nodes.append(helper.make_node("Add", [x, context], ["mixed"]))
    x = "mixed"
    for spec in HEAD:
        x = conv(x, spec)
    cells = GRID_HEIGHT * GRID_WIDTH
    xs = (np.arange(GRID_WIDTH, dtype=np.float32) * CELL + (CELL - 1) / 2.0).reshape(GRID_WIDTH, 1)
    ys = (np.arange(GRID_HEIGHT, dtype=np.float32) * CELL + (CELL - 1) / 2.0).reshape(GRID_HEIGHT, 1)
    constants = [
        helper.make_tensor("flat_shape", TensorProto.INT64, [2], [1, cells]),
        helper.make_tensor("grid_shape", TensorProto.INT64, [3], [1, GRID_HEIGHT, GRID_WIDTH]),
        helper.make_tensor("axis_rows", TensorProto.INT64, [1], [1]),
        helper.make_tensor("axis_columns", TensorProto.INT64, [1], [2]),
        onnx.numpy_helper.from_array(xs, "cell_x"), onnx.numpy_helper.from_array(ys, "cell_y"),
    ]
    nodes += [
        helper.make_node("Reshape", [x, "flat_shape"], ["logits"]),
        helper.make_node("Softmax", ["logits"], ["probabilities"], axis=1),
        helper.make_node("Reshape", ["probabilities", "grid_shape"], ["weights"]),
        helper.make_node("ReduceSum", ["weights", "axis_rows"], ["per_column"], keepdims=0),
        helper.make_node("ReduceSum", ["weights", "axis_columns"], ["per_row"], keepdims=0),
        helper.make_node("MatMul", ["per_column", "cell_x"], ["centre_x"]),
        helper.make_node("MatMul", ["per_row", "cell_y"], ["centre_y"]),
        helper.make_node("Concat", ["centre_x", "centre_y"], ["center"], axis=1),
    ]
    inputs = [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, FRAME_HEIGHT, FRAME_WIDTH, 3])]
    inputs += [helper.make_tensor_value_info(name, TensorProto.FLOAT, shape) for name, shape in shapes.items()]
    outputs = [helper.make_tensor_value_info("center", TensorProto.FLOAT, [1, 2]),
               helper.make_tensor_value_info("weights", TensorProto.FLOAT, [1, GRID_HEIGHT, GRID_WIDTH])]
    graph = helper.make_graph(nodes, "attention_lite", inputs, outputs, initializer=constants)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="codeclab-rigl")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def build_lite(out_dir: Path, checkpoint: Path = CHECKPOINT) -> dict:
    """Write attention_lite.onnx + attention_lite.rigl into ``out_dir``; returns the manifest entry."""
    import onnx

    packed = Path(checkpoint).read_bytes()
    weights = _lite_module().unpack(packed)
    model = build_graph({name: list(t.shape) for name, t in weights.tensors.items()},
                        weights.meta.get("architecture", "base"))
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    onnx.save(model, out_dir / ONNX_FILE)
    (out_dir / WEIGHTS_FILE).write_bytes(packed)
    graph_bytes = (out_dir / ONNX_FILE).stat().st_size
    return {"name": "attention_lite", "file": ONNX_FILE, "weights_file": WEIGHTS_FILE,
            "converter_version": f"codeclab-rigl-export {EXPORT_VERSION}",
            "source": {"checkpoint": str(Path(checkpoint).relative_to(REPO)) if Path(checkpoint).is_relative_to(REPO)
                       else str(checkpoint), "sha256": hashlib.sha256(packed).hexdigest()},
            "inputs": {"image": {"shape": [1, 120, 160, 3], "dtype": "float32",
                                 "meaning": "RGB 0..1, resized with pad to 160x120 (TensorFlow bicubic, antialias)"}},
            "outputs": {"center": {"shape": [1, 2], "meaning": "(x, y) in the 160x120 frame"},
                        "weights": {"shape": [1, 15, 20], "meaning": "softmax weighting map over 8x8 cells"}},
            "meta": weights.meta, "bytes": graph_bytes, "weights_bytes": len(packed),
            "sha256": hashlib.sha256((out_dir / ONNX_FILE).read_bytes()).hexdigest()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m models.rigl.export", description=__doc__.split("\n")[0])
    parser.add_argument("--run", required=True, help="run name under .cache/rigl/runs (e.g. rigl90)")
    parser.add_argument("--out", type=Path, default=CHECKPOINT)
    parser.add_argument("--meta", type=Path, help="JSON of figures to record in the checkpoint header")
    args = parser.parse_args(argv)
    import torch

    from .train import RUNS

    run = torch.load(RUNS / f"{args.run}.pt", weights_only=False)
    extra = json.loads(args.meta.read_text()) if args.meta else {}
    packed = pack_run(run, {"run": args.run, **extra})
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(packed)
    print(f"{args.out}: {len(packed)} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
