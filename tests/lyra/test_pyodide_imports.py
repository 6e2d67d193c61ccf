"""codeclab.lyra must import with numpy + the standard library only (it runs in Pyodide)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PYSRC = Path(__file__).resolve().parents[2] / "pysrc"

SCRIPT = r"""
import sys, importlib.abc
BLOCKED = {"scipy", "onnxruntime", "onnx", "ai_edge_litert", "tflite", "pystoi", "PIL", "js", "pyodide"}
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError(f"{name} is not available in Pyodide")
sys.meta_path.insert(0, Block())
import importlib
for module in ["config", "packet", "rvq", "resample", "wav", "melspec", "noise_estimator", "comfort_noise",
               "concealment", "gilbert", "models", "encoder", "decoder", "lyrafile", "metrics", "service", "bench",
               "__main__"]:
    importlib.import_module("codeclab.lyra." + module)
print("ok")
"""


def test_imports_without_cpython_only_packages():
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                            env={"PYTHONPATH": str(PYSRC), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
