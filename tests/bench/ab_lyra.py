#!/usr/bin/env python3
"""Lyra's per-frame page figures for two (or more) builds in the same conditions: one isolated page per
build, the bench's measurement (bench_lyra.MEASURE: one frame per request, then bursts) run on each in
turns, and CPython's TFLite codec as the reference in the same run. On this shared 2-core machine two
`run.py lyra` runs one after the other do not compare; this does.

    python3 tests/bench/ab_lyra.py before=/tmp/dist-main,after=dist [TURNS]
"""

from __future__ import annotations

import os
import statistics
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(REPO / "pysrc"), str(REPO)]

from devkit import chromium  # noqa: E402 (importable once the checkout is on sys.path, just above)
from devkit.server import BackgroundSite  # noqa: E402 (as above)
from tests.bench import bench_lyra  # noqa: E402 (as above)
from tests.bench.run import Row  # noqa: E402 (as above)

FIGURES = ("enc", "dec", "encBurst", "decBurst")


def _reference() -> tuple[float, float]:
    from codeclab.lyra.models import load_models

    upstream = Path(os.environ.get("CODECLAB_UPSTREAM", REPO.parent / "shared" / "upstream"))
    encode, decode, _ = bench_lyra._cpython_rows(Row, "TFLite", load_models(upstream / "lyra", backend="tflite"))
    return encode, decode


def _measure(page) -> dict:
    measured = page.evaluate(bench_lyra.MEASURE, {"frames": bench_lyra.FRAMES, "warmup": bench_lyra.WARMUP,
                                                  "bitrate": 6000, "burst": bench_lyra.BURST, "rounds": 3})
    timings = measured["models"]
    return {**{name: statistics.median(measured[name]) for name in FIGURES},
            "python": (statistics.median(timings["python:lyra.encoder_encode"]),
                       statistics.median(timings["python:lyra.decoder_receive"])),
            "runtime": measured["runtime"]["active"]}


def main() -> int:
    dists = dict(pair.split("=", 1) for pair in sys.argv[1].split(","))
    turns = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    from playwright.sync_api import sync_playwright

    reference = _reference()
    sites = {name: BackgroundSite(Path(path), True) for name, path in dists.items()}
    results: dict[str, list[dict]] = {name: [] for name in dists}
    with sync_playwright() as playwright:
        browser = chromium.launch(playwright, os.environ.get("CHROMIUM", "/usr/bin/chromium"))
        pages = {}
        for name, site in sites.items():
            pages[name] = browser.new_context().new_page()
            pages[name].goto(site.url)
            chromium.wait_for_js(pages[name], "document.documentElement.dataset.state === 'ready'", timeout=180_000)
        for _ in range(turns):
            for name, page in pages.items():
                results[name].append(_measure(page))
        browser.close()
    print(f"load average {os.getloadavg()[0]:.1f} at the end; CPython TFLite codec per frame: encode "
          f"{reference[0]:.3f} ms, decode {reference[1]:.3f} ms")
    for name, runs in results.items():
        median = {figure: statistics.median(run[figure] for run in runs) for figure in FIGURES}
        python = [statistics.median(run["python"][i] for run in runs) for i in (0, 1)]
        runtimes = sorted({run["runtime"] for run in runs})
        print(f"{name} ({'/'.join(runtimes)}, {len(runs)} turns): one frame per request encode {median['enc']:.3f} ms "
              f"({median['enc'] / reference[0]:.2f}x), decode {median['dec']:.3f} ms ({median['dec'] / reference[1]:.2f}x); "
              f"bursts of {bench_lyra.BURST} encode {median['encBurst']:.3f} ms ({median['encBurst'] / reference[0]:.2f}x), "
              f"decode {median['decBurst']:.3f} ms ({median['decBurst'] / reference[1]:.2f}x); Python per request "
              f"(adapter begin + resume) encode {python[0]:.3f} ms, decode {python[1]:.3f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
