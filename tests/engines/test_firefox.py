"""Every tool in Firefox ESR (Debian's firefox-esr, WebDriver BiDi through npm puppeteer-core)."""

from __future__ import annotations

from tests.engines.driver import FirefoxEngine, firefox_missing
from tests.engines.scenarios import *  # noqa: F403 (the shared scenario list, run in this engine)

ENGINE = FirefoxEngine
ENGINE_MISSING = firefox_missing
