"""Headless Chromium for the e2e tests and the benchmarks: where it is and the flags it runs with."""

from __future__ import annotations

import os
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


def launch(playwright, executable: str | None = None):
    """A headless Chromium through Playwright, with the shared flags."""
    return playwright.chromium.launch(executable_path=executable or chromium_path(), args=CHROMIUM_FLAGS,
                                      headless=True)
