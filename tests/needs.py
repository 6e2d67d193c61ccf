"""What a test needs from the machine, and what happens when it is not there.

On a developer's machine a missing browser, codec tool, model or node skips the test that
needs it, with the reason; with ``CI`` set it fails it: CI never goes quietly green.
"""

from __future__ import annotations

import os

import pytest


def in_ci() -> bool:
    return bool(os.environ.get("CI"))


def missing(reason: str):
    """Something a test needs is not here: skip on a developer's machine, fail in CI."""
    if in_ci():
        pytest.fail(f"{reason} (CI is set: a missing browser, tool or model is a failure)", pytrace=False)
    pytest.skip(reason)
