"""The hosted demo on a plain static host (no COOP/COEP, under a sub-path as GitHub Pages serves a project):
bytes on the wire for a first visit that gives one image to the Attention tab (every byte the host wrote,
headers included, until the wire is quiet and the tool is saved for offline use; the largest files and any
file sent twice), then Lyra's per-frame encode and decode after one reload (the service worker's COOP/COEP)
against the first, non-isolated visit and against a host that sends COOP/COEP itself.

Run alone: CODECLAB_DIST=dist python3 tests/bench/run.py hosting
"""

from __future__ import annotations

import statistics
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

from PIL import Image

from devkit.chromium import wait_for_js

BASE_PATH = "/codeclab/"
GOAL_FIRST_VISIT_MB = 12.0
LYRA_FRAMES = 150
LYRA_TURNS = 2
FIRST = "plain host, first visit (not isolated)"
RELOADED = "plain host, after one reload (the service worker's COOP/COEP)"
ISOLATED = "host sending COOP/COEP, after one reload"


def LoggingSite(root: Path, isolate: bool, base_path: str = "/"):
    """dist/ served as devkit.server.BackgroundSite serves it, logging each body sent in ``.sent``:
    (path, encoding, bytes)."""
    from devkit.server import BackgroundSite, SiteHandler

    sent: list[tuple[str, str, int]] = []
    lock = threading.Lock()

    class LoggingHandler(SiteHandler):
        def send_header(self, keyword, value):
            if keyword.lower() == "content-encoding":
                self.encoding = value
            super().send_header(keyword, value)

        def copyfile(self, source, outputfile):
            start = source.tell()
            super().copyfile(source, outputfile)
            with lock:
                sent.append((self.path, getattr(self, "encoding", "identity"), source.tell() - start))

    site = BackgroundSite(root, isolate=isolate, base_path=base_path, handler_class=LoggingHandler)
    site.sent = sent
    return site


def _quiet(site, quiet_s: float = 3.0) -> int:
    sent, since = site.bytes_sent, time.monotonic()
    while time.monotonic() - since < quiet_s:
        time.sleep(0.25)
        if site.bytes_sent != sent:
            sent, since = site.bytes_sent, time.monotonic()
    return sent


def _lyra_per_frame(page) -> dict:
    from tests.bench.bench_lyra import BURST, MEASURE, ROUNDS, WARMUP

    return page.evaluate(MEASURE, {"frames": LYRA_FRAMES, "warmup": WARMUP, "bitrate": 6000, "burst": BURST,
                                   "rounds": ROUNDS})


def rows(ctx):
    from tests.bench.run import Row

    browser = ctx.browser()
    out = []
    plain = LoggingSite(ctx.dist, isolate=False, base_path=BASE_PATH)
    lyra = {}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            picture = Path(tmp) / "photo.png"
            Image.new("RGB", (640, 480), (90, 140, 200)).save(picture)
            context = browser.new_context()  # a fresh profile: nothing cached, no service worker
            page = context.new_page()
            page.goto(plain.url)
            wait_for_js(page, "document.documentElement.dataset.state === 'ready'", timeout=180_000)
            page.set_input_files('[data-testid="attention-input"]', str(picture))
            wait_for_js(page, "document.querySelectorAll('.attention-shot').length >= 1", timeout=180_000)
            wait_for_js(page, "(document.documentElement.dataset.offlineTools || '').includes('attention')", timeout=180_000)
            total = _quiet(plain)
            out.append(Row("hosting", "first visit, one image on Attention, bytes on the wire (plain host, sub-path)",
                           f"{total / 1e6:.2f} MB", f"every byte the host wrote, headers included; goal <= {GOAL_FIRST_VISIT_MB} MB"))
            sizes = Counter()
            counts = Counter()
            for path, encoding, n in plain.sent:
                sizes[(path, encoding)] += n
                counts[path] += 1
            for (path, encoding), n in sizes.most_common(8):
                out.append(Row("hosting", f"  first visit: {path.removeprefix(BASE_PATH)} ({encoding})", f"{n / 1e6:.2f} MB",
                               f"sent {counts[path]} time(s)"))
            twice = [p for p, c in counts.items() if c > 1]
            out.append(Row("hosting", "first visit: files sent more than once", str(len(twice)), ", ".join(sorted(twice)[:6])))
            lyra[FIRST] = [_lyra_per_frame(page)]
            page.reload()
            wait_for_js(page, "document.documentElement.dataset.state === 'ready'", timeout=180_000)
            # The reloaded plain host against a COOP/COEP host in the same state (one visit, one reload),
            # measured in turns so that the machine's load falls on both alike.
            isolated_context = browser.new_context()
            isolated = isolated_context.new_page()
            isolated.goto(ctx.site_url)
            wait_for_js(isolated, "document.documentElement.dataset.state === 'ready'", timeout=180_000)
            isolated.reload()
            wait_for_js(isolated, "document.documentElement.dataset.state === 'ready'", timeout=180_000)
            for _ in range(LYRA_TURNS):
                lyra.setdefault(RELOADED, []).append(_lyra_per_frame(page))
                lyra.setdefault(ISOLATED, []).append(_lyra_per_frame(isolated))
            isolated_context.close()
            context.close()
    finally:
        plain.close()

    def medians(runs):
        return (statistics.median(v for m in runs for v in m["enc"]), statistics.median(v for m in runs for v in m["dec"]))

    reference = sum(medians(lyra[ISOLATED]))
    for label, runs in lyra.items():
        enc, dec = medians(runs)
        last = runs[-1]
        out.append(Row("hosting", f"Lyra page encode / decode per frame ({label})", f"{enc:.2f} / {dec:.2f} ms",
                       f"isolated: {last['isolated']}, {last['runtime']['active']} threaded build: "
                       f"{last['runtime'].get('threaded_build')}; median of {len(runs)} x {LYRA_FRAMES} frames; (enc+dec) / "
                       f"the COOP/COEP host's = {(enc + dec) / reference:.2f} (goal <= 1.3 after the reload)"))
    return out
