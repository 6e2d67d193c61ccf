"""Each tool's errors live in <tool>/errors.py, all under that tool's base class; malformed-file
errors are FormatErrors, refusals are UnsupportedErrors and never both."""

from __future__ import annotations

import importlib
import inspect

import pytest

from codeclab.errors import CodeclabError, FormatError, UnsupportedError

BASES = {"attention": "AttentionError", "jxl": "JxlError", "lyra": "LyraError", "basis": "BasisError"}


def tool_errors(tool: str) -> list[type]:
    module = importlib.import_module(f"codeclab.{tool}.errors")
    return [value for value in vars(module).values()
            if inspect.isclass(value) and issubclass(value, BaseException) and value.__module__ == module.__name__]


@pytest.mark.parametrize("tool", sorted(BASES))
def test_every_tool_error_is_under_its_tools_base(tool):
    errors = tool_errors(tool)
    base = getattr(importlib.import_module(f"codeclab.{tool}.errors"), BASES[tool])
    assert base in errors and base.__bases__ == (CodeclabError,)
    assert all(issubclass(error, base) for error in errors), errors
    # The package exports exactly its errors (the one rule for every tool's __init__).
    package = importlib.import_module(f"codeclab.{tool}")
    assert sorted(package.__all__) == sorted(error.__name__ for error in errors)


@pytest.mark.parametrize("tool", sorted(BASES))
def test_no_error_is_both_malformed_and_unsupported(tool):
    for error in tool_errors(tool):
        assert not (issubclass(error, FormatError) and issubclass(error, UnsupportedError)), error


def test_no_tool_error_shadows_a_shared_name():
    shared = {"CodeclabError", "FormatError", "UnsupportedError", "ModelUnavailableError"}
    for tool in BASES:
        assert not shared & {error.__name__ for error in tool_errors(tool)}, tool


def test_errors_are_defined_only_in_errors_modules():
    """No other module of a tool defines an exception class (they import them from errors.py)."""
    import pkgutil

    for tool in BASES:
        package = importlib.import_module(f"codeclab.{tool}")
        for info in pkgutil.iter_modules(package.__path__):
            if info.name in ("errors", "__main__"):
                continue
            module = importlib.import_module(f"codeclab.{tool}.{info.name}")
            own = [value for value in vars(module).values() if inspect.isclass(value)
                   and issubclass(value, BaseException) and value.__module__ == module.__name__]
            assert own == [], (module.__name__, own)
