"""The benchmark runner (tests/bench/run.py): every module importable by name, and a module that
raises turns into a "benchmark failed" row and a non-zero exit status (the quick bench in CI)."""

from __future__ import annotations

import importlib
import sys
import types

from tests.bench import run


def test_every_bench_file_is_a_module_with_rows():
    modules = run.bench_modules()
    assert {"attention", "basis", "jxl", "jxl_browser", "lyra"} <= set(modules)
    for name, module_name in modules.items():
        assert module_name == f"tests.bench.bench_{name}"
        assert callable(importlib.import_module(module_name).rows), name


def test_a_module_that_raises_fails_the_run(monkeypatch, tmp_path):
    broken = types.ModuleType("tests.bench.bench_broken_for_test")

    def rows(ctx):
        raise RuntimeError("the transcoder rejected this file")

    broken.rows = rows
    monkeypatch.setitem(sys.modules, broken.__name__, broken)
    ctx = run.Context(dist=tmp_path, upstream=None, quick=True)
    failed = run.run_module(broken.__name__, "broken", ctx)
    assert [(row.tool, row.what) for row in failed] == [("broken", run.FAILED)]
    assert "RuntimeError: the transcoder rejected this file" in failed[0].note
    fine = [run.Row("basis", "transcode", "1.0 ms/MP")]
    assert run.exit_status(fine) == 0
    assert run.exit_status(fine + failed) == 1


def test_quick_mode_takes_a_few_iterations(tmp_path):
    assert run.Context(dist=tmp_path, upstream=None, quick=True).runs(7) == 2
    assert run.Context(dist=tmp_path, upstream=None, quick=True).runs(300, 40) == 40
    assert run.Context(dist=tmp_path, upstream=None).runs(7) == 7
