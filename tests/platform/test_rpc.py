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


def test_error_payloads_are_plain_words_with_the_location_in_details():
    expected = rpc.error_payload(FormatError("bad box", offset=12, field="box size"))
    assert expected == {"type": "FormatError", "message": "bad box", "details": "field box size, byte offset 12",
                        "expected": True}
    assert str(FormatError("bad box", offset=12)) == "bad box (byte offset 12)"  # CLIs keep the location inline
    assert rpc.error_payload(CodeclabError("no model"))["details"] == ""
    unexpected = rpc.error_payload(ZeroDivisionError("division by zero"))
    assert unexpected["expected"] is False
    assert "ZeroDivisionError" not in unexpected["message"] and "Error" not in unexpected["message"]
    assert unexpected["details"] == "division by zero"
    assert "ZeroDivisionError" in unexpected["traceback"]  # for the console, never shown in the page


def test_plain_functions_are_answered_at_once():
    """The worker calls plain functions synchronously (call_now) and drives only coroutines."""
    assert rpc.is_coroutine("platform.run_model")
    assert rpc.is_coroutine("lyra.decoder_receive")
    assert not rpc.is_coroutine("platform.info")
    assert not rpc.is_coroutine("lyra.close")
    assert not rpc.is_coroutine("no.such")  # answered at once, with the error
    assert rpc.call_now("platform.info", {})["implementation"] == "cpython"
    with pytest.raises(rpc.UnknownMethodError):
        rpc.call_now("no.such", {})
    assert "platform.raise_error" not in rpc.BUILTINS  # the About panel's test button is gone from the product
    with pytest.raises(TypeError, match="awaitable"):
        rpc.call_now("platform.run_model", {"name": "x", "feeds": {}})


class RequestRunner:
    """A runner like the browser's: every model run is a ModelRequest for the driver's host."""

    async def run(self, name, feeds):
        return await rpc.ModelRequest({"name": name, "feeds": feeds})


def _drive(driver, method, args, runner, model):
    """What the worker does: begin, run each requested model, resume, until the call is done."""
    step, runs = driver.begin(method, args, runner), 0
    while not step.done:
        runs += 1
        step = driver.resume(step.task, model(step.request.call))
    return step, runs


def test_driver_runs_a_coroutine_through_its_model_requests():
    import numpy as np

    driver = rpc.Driver()
    seen = []

    def model(call):
        seen.append(call["name"])
        return {"y": call["feeds"]["x"] * 2}

    step, runs = _drive(driver, "platform.run_model", {"name": "m", "feeds": {"x": np.arange(3.0)}},
                        RequestRunner(), model)
    assert step.error is None and runs == 1 and seen == ["m"]
    np.testing.assert_array_equal(step.result["y"]["data"], [0.0, 2.0, 4.0])
    assert driver.waiting == 0


def test_driver_passes_model_errors_into_the_call_and_reports_the_rest():
    driver = rpc.Driver()
    step = driver.begin("platform.run_model", {"name": "m", "feeds": {}}, RequestRunner())
    assert not step.done and driver.waiting == 1
    failed = driver.resume(step.task, None, "the runtime fell over")
    assert isinstance(failed.error, rpc.ModelRunError) and "fell over" in str(failed.error)
    assert driver.waiting == 0
    # an unknown task, an unknown method, and an error before any model run
    assert "no driven call" in str(driver.resume(12345).error)
    assert isinstance(driver.begin("no.such", {}).error, rpc.UnknownMethodError)
    assert isinstance(driver.begin("platform.run_model", {"name": "m", "feeds": {}}).error, CodeclabError)


def test_driver_refuses_calls_that_await_anything_but_a_model(monkeypatch):
    import sys
    import types

    service = types.ModuleType("codeclab.basis.service")

    async def sleeps():
        await asyncio.sleep(0)

    sleeps.__module__ = service.__name__
    service.sleeps = sleeps
    monkeypatch.setitem(sys.modules, "codeclab.basis.service", service)
    step = rpc.Driver().begin("basis.sleeps", {})
    assert step.done and "may only await models" in str(step.error)



@pytest.mark.parametrize("message, plain, technical", [
    ("the PNG data is corrupt: IndexError: list index out of range", "the PNG data is corrupt", "list index out of range"),
    ("the image header is corrupt: PNG: broken PNG file (bad header checksum in b'IHDR')",
     "the image header is corrupt", "PNG: broken PNG file (bad header checksum in 'IHDR')"),
    ("not an image file codeclab can read: it does not start like a PNG", "not an image file codeclab can read: "
     "it does not start like a PNG", ""),
])
def test_class_names_and_reprs_go_to_the_details_line(message, plain, technical):
    assert rpc.plain_words(message) == (plain, technical)
    payload = rpc.error_payload(FormatError(message, offset=3))
    assert payload["message"] == plain
    assert payload["details"] == ", ".join(p for p in (technical, "byte offset 3") if p)


def test_the_router_answers_the_modules_it_is_given_and_no_other(monkeypatch):
    """The worker hands the router the tools' Python modules (dist/tools.json); any module can be a tool's."""
    from devkit.tools import load_tools

    monkeypatch.setattr(rpc, "_services", None)
    monkeypatch.setattr(rpc, "_resolved", {})
    assert rpc.services() == {tool.id: tool.python for tool in load_tools()}  # CPython: the scan finds the same
    rpc.configure({"maths": "statistics"})
    try:
        assert rpc.call_now("maths.median", {"data": [3, 1, 2]}) == 2
        tool = load_tools()[0].id
        with pytest.raises(rpc.UnknownMethodError):
            rpc.call_now(f"{tool}.anything", {})  # a tool not handed over is not routed
    finally:
        monkeypatch.setattr(rpc, "_services", None)
        rpc._resolved.clear()
