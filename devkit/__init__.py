"""codeclab's development machinery, importable by build.py, the tests and the benchmarks.

- ``devkit.paths``: where the checkout, dist/, build/, caches and the upstream files are.
- ``devkit.build``: the build steps that make dist/ (``build``, ``dist_is_current``, …).
- ``devkit.server``: the static server with COOP/COEP and the app's MIME types.
- ``devkit.chromium``: where Chromium is and the flags the e2e tests and benchmarks launch it with.

Standard library only (Playwright is imported by the caller).
"""
