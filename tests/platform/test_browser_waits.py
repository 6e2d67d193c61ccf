"""Browser waits go through devkit.chromium.wait_for_js: Playwright polls a predicate given as an expression with eval
in the page, which the page's CSP refuses, so a bare wait_for_function with an expression times out instead of
waiting (a predicate written as a function works either way; one helper keeps every call site the same)."""

from __future__ import annotations

import re
import subprocess

from devkit.paths import REPO

ALLOWED = {"devkit/chromium.py"}  # the helper itself
BARE_WAIT = re.compile(r"\.wait_for_function\(")


def test_every_browser_wait_goes_through_the_csp_safe_helper():
    tracked = subprocess.run(["git", "ls-files", "*.py"], cwd=REPO, capture_output=True, text=True, check=True).stdout.split()
    assert "devkit/chromium.py" in tracked
    offenders = [
        f"{path}:{number}: {line.strip()}"
        for path in tracked if path not in ALLOWED and (REPO / path).exists()
        for number, line in enumerate((REPO / path).read_text(encoding="utf-8").splitlines(), 1)
        if BARE_WAIT.search(line)
    ]
    assert offenders == [], "use devkit.chromium.wait_for_js(page, ...), not a bare Playwright wait:\n" + "\n".join(offenders)
