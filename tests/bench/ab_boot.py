#!/usr/bin/env python3
"""Boot of two (or more) builds compared in the same conditions: rounds alternate between them, each a fresh
profile with one cold boot and then warm reloads (the service worker's cache in place), all on the isolated
host. On this shared 2-core machine the load changes from minute to minute, so two `run.py platform` runs
one after the other do not compare; this does.

    python3 tests/bench/ab_boot.py before=/tmp/dist-main,after=dist [ROUNDS [WARM]]
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(REPO / "pysrc"), str(REPO)]

from devkit import chromium  # noqa: E402 (importable once the checkout is on sys.path, just above)
from devkit.chromium import wait_for_js  # noqa: E402 (as above)
from devkit.server import BackgroundSite  # noqa: E402 (as above)


def main() -> int:
    dists = dict(pair.split("=", 1) for pair in sys.argv[1].split(","))
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    warm_reloads = int(sys.argv[3]) if len(sys.argv) > 3 else 4
    from playwright.sync_api import sync_playwright

    sites = {name: BackgroundSite(Path(path), True) for name, path in dists.items()}
    results = {name: {"cold": [], "warm": [], "stages": []} for name in dists}
    with sync_playwright() as playwright:
        browser = chromium.launch(playwright, os.environ.get("CHROMIUM", "/usr/bin/chromium"))
        for _ in range(rounds):
            for name in dists:
                context = browser.new_context()
                page = context.new_page()

                def boot(navigate, page=page):
                    navigate()
                    wait_for_js(page, "document.documentElement.dataset.state === 'ready'", timeout=180_000)
                    return (float(page.evaluate("document.documentElement.dataset.readyAt")),
                            json.loads(page.evaluate("document.documentElement.dataset.bootStages")))

                results[name]["cold"].append(boot(lambda page=page, url=sites[name].url: page.goto(url))[0])
                wait_for_js(page, "document.documentElement.dataset.offline === 'ready'", timeout=180_000)
                for _ in range(warm_reloads):
                    time.sleep(0.5)
                    ready, stages = boot(page.reload)
                    results[name]["warm"].append(ready)
                    results[name]["stages"].append(stages)
                context.close()
        browser.close()
    print(f"load average {os.getloadavg()[0]:.1f} at the end")
    for name, runs in results.items():
        stages = {key: statistics.median(s.get(key, 0) for s in runs["stages"]) for key in ("runtime", "numpy", "codeclab", "models")}
        print(f"{name}: ready cold median {statistics.median(runs['cold']):.0f} ms (n={len(runs['cold'])}), warm median "
              f"{statistics.median(runs['warm']):.0f} ms (n={len(runs['warm'])}, min {min(runs['warm']):.0f}); "
              f"warm stages (median ms): {stages}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
