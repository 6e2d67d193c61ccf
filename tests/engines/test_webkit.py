"""Every tool in WebKitGTK (Debian's webkit2gtk-driver: WebKitWebDriver + MiniBrowser, through Selenium)."""

from __future__ import annotations

from tests.engines.driver import WebKitEngine, webkit_missing
from tests.engines.scenarios import *  # noqa: F403 (the shared scenario list, run in this engine)

ENGINE = WebKitEngine
ENGINE_MISSING = webkit_missing
