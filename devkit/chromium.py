"""Headless Chromium for the e2e tests and the benchmarks: where it is and the flags it runs with."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

# No GPU here: WebGL2 runs on SwiftShader; nothing may phone home (the tests check every request).
CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--disable-quic", "--no-first-run", "--disable-dev-shm-usage",
    "--enable-unsafe-swiftshader", "--use-angle=swiftshader",
]


def chromium_path() -> str | None:
    """$CHROMIUM (default /usr/bin/chromium) if it exists, else None."""
    path = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    if Path(path).exists() or shutil.which(path):
        return path
    return None


# Playwright polls an expression given to wait_for_function with eval inside the page, which the
# page's CSP (devkit/csp.py) refuses; a function it calls directly. So a predicate written as an
# expression is passed on as a function returning it.
LOOKS_LIKE_A_FUNCTION = re.compile(r"\s*(async\s+)?(function\b|\([^()]*\)\s*=>|[\w$]+\s*=>)")


def as_function(expression: str) -> str:
    return expression if LOOKS_LIKE_A_FUNCTION.match(expression) else f"() => ({expression})"


def _predicates_as_functions(sync_api) -> None:
    for cls in (sync_api.Page, sync_api.Frame):
        original = cls.wait_for_function
        if getattr(original, "predicates_as_functions", False):
            continue

        def wait_for_function(self, expression, *args, _original=original, **kwargs):
            return _original(self, as_function(expression), *args, **kwargs)

        wait_for_function.predicates_as_functions = True
        cls.wait_for_function = wait_for_function


def launch(playwright, executable: str | None = None):
    """A headless Chromium through Playwright, with the shared flags."""
    from playwright import sync_api  # noqa: PLC0415 (Playwright is needed only where a browser runs)

    _predicates_as_functions(sync_api)
    return playwright.chromium.launch(executable_path=executable or chromium_path(), args=CHROMIUM_FLAGS,
                                      headless=True)
