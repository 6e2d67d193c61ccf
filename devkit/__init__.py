"""codeclab's development machinery, importable by build.py, the tests and the benchmarks.

- ``devkit.paths``: where the checkout, dist/, build/, caches and the upstream files are.
- ``devkit.build``: the build steps that make dist/ (``build``, ``stale_reasons``, ``describe``, …).
- ``devkit.server``: the static server with COOP/COEP and the app's MIME types.
- ``devkit.chromium``: where Chromium is and the flags the e2e tests and benchmarks launch it with.
- ``devkit.fuzz``: the fuzz harness (``python3 build.py fuzz``) over every parser.
- ``devkit.jstests``, ``devkit.screenshot``: the node unit tests and the README screenshot.

Standard library only (Playwright is imported by the caller).
"""
