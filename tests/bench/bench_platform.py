"""Boot of the page, cold (a fresh profile) and warm (a reload, the service worker's cache in place), on the
isolated and on the plain host: time to `ready` (Pyodide + numpy + Pillow + codeclab), bytes the host
sent before it, and time to the first tool being usable (a picture given to the Attention tab as soon as
its input exists, until its point is shown, model included)."""

from __future__ import annotations

import functools
import json
import statistics
import tempfile
import threading
import time
from pathlib import Path

from PIL import Image

from devkit.chromium import wait_for_js
from devkit.precompress import is_precompressed_copy

RUNS = 5
GOAL_WARM_MS, GOAL_COLD_MS = 1000, 2500

# Stamps, in the page's clock (ms since navigation), the first attention point shown.
FIRST_POINT = """
new MutationObserver((_, observer) => {
  if (document.querySelector('.attention-shot')) { window.__firstPointAt = performance.now(); observer.disconnect(); }
}).observe(document, { subtree: true, childList: true });
"""


class CountingSite:
    """dist/ served like devkit.server.BackgroundSite, logging when each file body was sent and its bytes."""

    def __init__(self, root: Path, isolate: bool):
        from devkit.server import QuietServer, SiteHandler

        self.sent: list[tuple[float, str, int]] = []
        lock = threading.Lock()
        site = self

        class Handler(SiteHandler):
            def copyfile(self, source, outputfile):
                start = source.tell()
                super().copyfile(source, outputfile)
                with lock:
                    site.sent.append((time.monotonic(), self.path, source.tell() - start))

        Handler.isolate = isolate
        self.server = QuietServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(root)))
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _visit(page, site: CountingSite, picture: Path, navigate) -> dict:
    """One boot: ready time, bytes sent until ready, time to the first attention point."""
    site.sent.clear()
    started = time.monotonic()
    navigate()
    page.wait_for_selector('[data-testid="attention-input"]', state="attached", timeout=60_000)
    page.set_input_files('[data-testid="attention-input"]', str(picture))
    wait_for_js(page, "document.documentElement.dataset.state === 'ready'", timeout=180_000)
    ready = float(page.evaluate("document.documentElement.dataset.readyAt"))
    # Bodies sent before ready, in the server's clock: navigation started at `started` (taken just before it,
    # so the cut-off errs by the few ms between the two clocks' zeros).
    sent = sum(n for at, _, n in list(site.sent) if at <= started + ready / 1000)
    wait_for_js(page, "window.__firstPointAt !== undefined", timeout=180_000)
    stages = json.loads(page.evaluate("document.documentElement.dataset.bootStages"))
    return {"ready": ready, "bytes": sent, "usable": float(page.evaluate("window.__firstPointAt")),
            "python_start": stages.get("runtime", 0), "snapshot": page.evaluate("document.documentElement.dataset.pythonSnapshot")}


def _median(runs: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def rows(ctx):
    from tests.bench.run import Row

    browser = ctx.browser()
    results = []
    runs_each = ctx.runs(RUNS, 1)
    with tempfile.TemporaryDirectory() as tmp:
        picture = Path(tmp) / "picture.png"
        Image.new("RGB", (160, 120), (90, 140, 200)).save(picture)
        for label, isolate in (("isolated (COOP/COEP)", True), ("plain static host", False)):
            site = CountingSite(ctx.dist, isolate)
            cold, warm = [], []
            try:
                for _ in range(runs_each):
                    context = browser.new_context()  # a fresh profile: nothing cached, no service worker
                    context.add_init_script(FIRST_POINT)
                    page = context.new_page()
                    cold.append(_visit(page, site, picture, lambda p=page, url=site.url: p.goto(url)))
                    # The service worker has stored the page, Python and the Attention tool's pieces.
                    wait_for_js(page, "(document.documentElement.dataset.offlineTools || '').includes('attention')",
                                           timeout=180_000)
                    warm.append(_visit(page, site, picture, lambda p=page: p.reload()))
                    context.close()
            finally:
                site.close()
            for name, runs, goal, how in (("cold", cold, GOAL_COLD_MS, "fresh profiles"),
                                          ("warm", warm, GOAL_WARM_MS, "reloads served by the service worker")):
                ready = _median(runs, "ready")
                results.append(Row("platform", f"boot to ready, {name}, {label}", f"{ready:.0f} ms",
                                   f"median of {runs_each} {how}; min {min(r['ready'] for r in runs):.0f}, "
                                   f"max {max(r['ready'] for r in runs):.0f}; goal <= {goal} ms"))
                results.append(Row("platform", f"bytes from the host before ready, {name}, {label}",
                                   f"{_median(runs, 'bytes') / 1e6:.2f} MB", f"median of {runs_each}"))
                results.append(Row("platform", f"Python started, {name}, {label}", f"{_median(runs, 'python_start'):.0f} ms",
                                   f"median of {runs_each}: loadPyodide or the snapshot's restore "
                                   f"(snapshot: {', '.join(sorted({r['snapshot'] for r in runs}))})"))
                results.append(Row("platform", f"first tool usable, {name}, {label}", f"{_median(runs, 'usable'):.0f} ms",
                                   f"median of {runs_each}: navigation to the first attention point (model included)"))
    # The site's own files: the build's precompressed copies are the same files on the wire.
    size = sum(p.stat().st_size for p in ctx.dist.rglob("*")
               if p.is_file() and not is_precompressed_copy(ctx.dist, p.relative_to(ctx.dist).as_posix()))
    results.append(Row("platform", "dist/ size", f"{size / 1e6:.1f} MB",
                       "each tool's runtime and models load when the tool is first used"))
    return results
