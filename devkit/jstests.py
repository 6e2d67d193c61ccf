"""The pure JavaScript modules' unit tests (`node --test tests/js/`), run by `python3 build.py test`."""

from __future__ import annotations

import os
import shutil
import subprocess

from .paths import REPO

JS_TESTS = REPO / "tests" / "js"


def run_js_tests() -> int:
    """Exit status of `node --test` over tests/js (Node.js is already needed for the build)."""
    node = shutil.which("node")
    if node is None:
        print("build.py: node not found: the JavaScript unit tests need Node.js 20+", flush=True)
        return 1 if os.environ.get("CI") else 0
    files = sorted(str(path) for path in JS_TESTS.glob("*.test.mjs"))
    print(f"== node --test tests/js ({len(files)} files)", flush=True)
    return subprocess.call([node, "--test", *files], cwd=REPO)
