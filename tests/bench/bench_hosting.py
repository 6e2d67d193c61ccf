"""The hosted demo on a plain static host (no COOP/COEP, under a sub-path as GitHub Pages serves a project):
bytes on the wire for a first visit that gives one image to the Attention tab (every byte the host wrote,
headers included, until the wire is quiet and the tool is saved for offline use; the largest files and any
file sent twice), then Lyra's per-frame encode and decode after one reload (the service worker's COOP/COEP)
against the first, non-isolated visit and against a host that sends COOP/COEP itself.

Run alone: CODECLAB_DIST=dist python3 tests/bench/run.py hosting
"""

from __future__ import annotations

import functools
import statistics
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

from PIL import Image

BASE_PATH = "/codeclab/"
GOAL_FIRST_VISIT_MB = 12.0
LYRA_FRAMES = 150


class LoggingSite:
    """dist/ served as devkit.server.BackgroundSite serves it, logging each body sent: (path, encoding, bytes)."""

    def __init__(self, root: Path, isolate: bool, base_path: str = "/"):
        from devkit.server import QuietServer, SiteHandler, normal_base_path

        self.sent: list[tuple[str, str, int]] = []
        lock = threading.Lock()
        site = self

        class Handler(SiteHandler):
            def send_header(self, keyword, value):
                if keyword.lower() == "content-encoding":
                    self.encoding = value
                super().send_header(keyword, value)

            def copyfile(self, source, outputfile):
                start = source.tell()
                super().copyfile(source, outputfile)
                with lock:
                    site.sent.append((self.path, getattr(self, "encoding", "identity"), source.tell() - start))

        Handler.isolate, Handler.base_path = isolate, normal_base_path(base_path)
        self.server = QuietServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(root)))
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}{normal_base_path(base_path)}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def bytes_sent(self) -> int:
        with self.server.count_lock:
            return self.server.bytes_sent

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _quiet(site: LoggingSite, quiet_s: float = 3.0) -> int:
    sent, since = site.bytes_sent, time.monotonic()
    while time.monotonic() - since < quiet_s:
        time.sleep(0.25)
        if site.bytes_sent != sent:
            sent, since = site.bytes_sent, time.monotonic()
    return sent


def _lyra_per_frame(page) -> dict:
    from bench_lyra import BURST, MEASURE, ROUNDS, WARMUP

    return page.evaluate(MEASURE, {"frames": LYRA_FRAMES, "warmup": WARMUP, "bitrate": 6000, "burst": BURST,
                                   "rounds": ROUNDS, "profile": False})


def rows(ctx):
    from run import Row

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
            page.wait_for_function("document.documentElement.dataset.state === 'ready'", timeout=180_000)
            page.set_input_files('[data-testid="attention-input"]', str(picture))
            page.wait_for_function("document.querySelectorAll('.attention-shot').length >= 1", timeout=180_000)
            page.wait_for_function("(document.documentElement.dataset.offlineTools || '').includes('attention')", timeout=180_000)
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
            lyra["plain host, first visit (not isolated)"] = _lyra_per_frame(page)
            page.reload()
            page.wait_for_function("document.documentElement.dataset.state === 'ready'", timeout=180_000)
            lyra["plain host, after one reload (service worker's COOP/COEP)"] = _lyra_per_frame(page)
            context.close()
    finally:
        plain.close()
    context = browser.new_context()
    page = context.new_page()
    page.goto(ctx.site_url)
    page.wait_for_function("document.documentElement.dataset.state === 'ready'", timeout=180_000)
    lyra["host sending COOP/COEP"] = _lyra_per_frame(page)
    context.close()
    reference = lyra["host sending COOP/COEP"]
    for label, measured in lyra.items():
        enc, dec = statistics.median(measured["enc"]), statistics.median(measured["dec"])
        ratio = (enc + dec) / (statistics.median(reference["enc"]) + statistics.median(reference["dec"]))
        out.append(Row("hosting", f"Lyra page encode / decode per frame ({label})", f"{enc:.2f} / {dec:.2f} ms",
                       f"isolated: {measured['isolated']}, {measured['runtime']['active']} threaded build: "
                       f"{measured['runtime'].get('threaded_build')}; median of {LYRA_FRAMES} frames; (enc+dec) / the "
                       f"COOP/COEP host's = {ratio:.2f} (goal <= 1.3 after the reload)"))
    return out
