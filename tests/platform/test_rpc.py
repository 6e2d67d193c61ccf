"""Routing of page requests (codeclab.browser.rpc) in CPython."""

from __future__ import annotations

import asyncio

import pytest

from codeclab.browser import rpc
from codeclab.errors import CodeclabError, FormatError


def run(coro):
    return asyncio.run(coro)


def test_builtin_platform_info():
    info = run(rpc.call("platform.info", {}))
    assert info["implementation"] == "cpython" and info["numpy"]


@pytest.mark.parametrize("method", ["os.system", "attention._private", "attention", "", "jxl.a.b", "platform.nothing"])
def test_only_public_service_functions_are_reachable(method):
    with pytest.raises(rpc.UnknownMethodError):
        run(rpc.call(method, {}))


def test_imported_names_in_a_service_are_not_reachable(monkeypatch, tmp_path):
    import sys
    import types

    service = types.ModuleType("codeclab.jxl.service")
    service.__dict__["dumps"] = __import__("json").dumps  # imported, not defined here

    def inspect(data):
        return {"n": len(data)}

    inspect.__module__ = service.__name__
    service.inspect = inspect
    monkeypatch.setitem(sys.modules, "codeclab.jxl.service", service)
    assert run(rpc.call("jxl.inspect", {"data": b"abc"})) == {"n": 3}
    with pytest.raises(rpc.UnknownMethodError):
        run(rpc.call("jxl.dumps", {}))


def test_runner_is_passed_only_to_functions_that_take_it(monkeypatch):
    import sys
    import types

    service = types.ModuleType("codeclab.basis.service")

    async def with_runner(x, runner=None):
        return {"x": x, "runner": runner}

    def without_runner(x):
        return x * 2

    for fn in (with_runner, without_runner):
        fn.__module__ = service.__name__
        setattr(service, fn.__name__, fn)
    monkeypatch.setitem(sys.modules, "codeclab.basis.service", service)
    assert run(rpc.call("basis.with_runner", {"x": 1}, runner="R")) == {"x": 1, "runner": "R"}
    assert run(rpc.call("basis.without_runner", {"x": 2}, runner="R")) == 4


def test_error_payloads():
    expected = rpc.error_payload(FormatError("bad box", offset=12, field="box size"))
    assert expected == {"type": "FormatError", "message": "bad box (field box size, byte offset 12)", "expected": True}
    with pytest.raises(CodeclabError, match="on purpose"):
        rpc.raise_error("on purpose")
    unexpected = rpc.error_payload(ZeroDivisionError("division by zero"))
    assert unexpected["expected"] is False and unexpected["message"].startswith("Internal error (ZeroDivisionError)")
    assert "Traceback" in unexpected["traceback"] or "ZeroDivisionError" in unexpected["traceback"]
