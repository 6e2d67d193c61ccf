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
# page's CSP (devkit/csp.py) refuses; a function it calls directly. So every wait goes through
# wait_for_js, which passes a predicate written as an expression on as a function returning it.
LOOKS_LIKE_A_FUNCTION = re.compile(r"\s*(async\s+)?(function\b|\([^()]*\)\s*=>|[\w$]+\s*=>)")


def as_function(expression: str) -> str:
    return expression if LOOKS_LIKE_A_FUNCTION.match(expression) else f"() => ({expression})"


def wait_for_js(page, expression: str, *args, **kwargs):
    """``page.wait_for_function`` (a Page or a Frame) for a predicate written as an expression or a function,
    in a form the page's CSP lets Playwright run."""
    return page.wait_for_function(as_function(expression), *args, **kwargs)


def launch(playwright, executable: str | None = None):
    """A headless Chromium through Playwright, with the shared flags."""
    return playwright.chromium.launch(executable_path=executable or chromium_path(), args=CHROMIUM_FLAGS,
                                      headless=True)
