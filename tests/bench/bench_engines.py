"""Speed per engine: Chromium (Playwright, as the other benchmarks), Firefox ESR and WebKitGTK (tests/engines'
drivers, headed on a private Xvfb with a private null sound sink), the same page and the same files in each.

Every figure is the page's own, read the way a visitor's page publishes it, so the definitions are those of
the Chromium rows in bench_platform.py, bench_attention.py, bench_jxl_browser.py, bench_lyra.py and
bench_basis.py:

- boot to ready: `data-ready-at` (ms since navigation); cold = the first visit with an empty profile,
  warm = a reload served by the service worker (median of the reloads);
- attention per image: the Attention tool's result `ms` (the model's inference in the worker) for a
  640×400 PNG, the first image (the model's load and compile included) and the later ones;
- JPEG XL reorder: the JPEG XL tool's result `reorder_ms` (centre-first reorder in Pyodide, timed on the
  main thread, the copy of the file and the worker round trip included) for a 900×700 cjxl file;
- Lyra: the Speech tool's stream summary (`encode_ms_per_frame`, `decode_ms_per_frame`,
  `real_time_factor`) for upstream's speech sample streamed through the loopback link;
- Basis: the Textures tool's result `ms` (the worker's transcode) for a 1024×1024 ETC1S KTX2, per megapixel,
  to the target the tool picks for this engine's WebGL2 and to RGBA32.

An engine that is not installed gives a row saying so; a step that fails gives a "benchmark failed" row
with the page's message, and the other steps and engines still run.
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from tests.engines import page as engine_page
from tests.engines.driver import (
    ChromiumEngine,
    EngineError,
    FirefoxEngine,
    NullSoundServer,
    WebKitEngine,
    firefox_missing,
    sound_server_missing,
    webkit_missing,
)

RUNS = 3
BASIS_SIDE = 1024
SPEECH = Path("lyra") / "testdata" / "sample1_16kHz.wav"

# Marks the document before a reload, so that the wait sees the new page's `ready`, not the old one's.
RELOAD = "() => { window.__benchBeforeReload = true; location.reload(); }"
RELOADED = f"() => !window.__benchBeforeReload && ({engine_page.READY})()"
READY_AT = "() => Number(document.documentElement.dataset.readyAt)"
SERVED_BY_WORKER = "() => Boolean(navigator.serviceWorker && navigator.serviceWorker.controller)"
OFFLINE_READY = "() => document.documentElement.dataset.offline === 'ready'"
SAVE_PAGE_AND_PYTHON = "() => window.codeclab.offline.cacheGroups(['shell', 'python']).then(() => null)"
RETARGET = """value => { delete document.querySelector('[data-testid=basis-result]').dataset.result;
  const s = document.querySelector('[data-testid=basis-target]'); s.value = value; s.dispatchEvent(new Event('change')); }"""


def _inputs(ctx, folder: Path) -> dict[str, Path | None]:
    """One ordinary file per tool (None where the tool that makes it is missing)."""
    from PIL import Image

    from tests.attention.helpers import blob_picture
    from tests.bench.bench_basis import _basisu, _photo

    made: dict[str, Path | None] = {"png": folder / "wide.png", "jxl": None, "ktx2": None, "wav": None}
    blob_picture(640, 400, 1).save(made["png"])
    cjxl = shutil.which("cjxl")
    if cjxl:
        made["jxl"] = engine_page.photo_jxl(cjxl, folder)
    basisu = _basisu()
    if basisu:
        _photo(folder / "photo.png")
        assert Image.open(folder / "photo.png").size == (BASIS_SIDE, BASIS_SIDE)
        subprocess.run([str(basisu), "-ktx2", "-file", "photo.png", "-output_file", "photo_etc1s.ktx2"], cwd=folder,
                       capture_output=True, check=True, timeout=600)
        made["ktx2"] = folder / "photo_etc1s.ktx2"
    if ctx.upstream is not None and (ctx.upstream / SPEECH).exists():
        made["wav"] = engine_page.speech_clip(ctx.upstream / SPEECH, 1.2 if ctx.quick else 60.0, folder / "speech.wav")
    return made


def _median(values) -> float:
    return statistics.median(values)


def _spread(values) -> str:
    return f"median of {len(values)}; min {min(values):.0f}, max {max(values):.0f}" if len(values) > 1 else "one run"


class Measure:
    """The rows of one engine; each step's failure becomes a row, and the next step still runs."""

    def __init__(self, ctx, Row, FAILED, engine):
        self.ctx, self.Row, self.FAILED, self.engine = ctx, Row, FAILED, engine
        self.label = f"engines: {engine.name}"
        self.rows = []

    def add(self, what: str, value: str, note: str = "") -> None:
        self.rows.append(self.Row(self.label, what, value, note))

    def step(self, what: str, function, *args) -> None:
        try:
            function(*args)
        except Exception as err:  # noqa: BLE001 (one failing step must not hide the engine's other figures)
            self.rows.append(self.Row(self.label, self.FAILED, "–",
                                      f"{what}: {type(err).__name__}: {str(err)[:300]}"))

    def _reload_to_ready(self, timeout_s: float = engine_page.BOOT_TIMEOUT_S) -> None:
        try:
            self.engine.evaluate(RELOAD)
        except EngineError:
            pass  # the page went away under the call (the reload began): the wait below is what counts
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                if self.engine.evaluate(RELOADED):
                    return
            except EngineError:
                pass  # between documents
            if time.monotonic() > deadline:
                raise EngineError(f"{self.engine.name}: no ready page {timeout_s:.0f} s after a reload")
            time.sleep(0.25)

    def boot(self) -> None:
        self.engine.goto(self.ctx.site_url)
        state = engine_page.boot(self.engine)
        if state != "ready":
            raise EngineError(f"the page reached {state!r}: "
                              f"{self.engine.evaluate('() => document.querySelector(`.boot-stage`)?.textContent')}")
        self.add("boot to ready, cold", f"{self.engine.evaluate(READY_AT):.0f} ms",
                 "first visit, empty profile: data-ready-at, ms since navigation")
        # Warm: the page and Python saved by the service worker, then reloads it serves.
        saved = "by the page at boot"
        try:
            self.engine.wait_for(OFFLINE_READY, timeout_s=60, what="the page and Python to be saved for offline use")
        except EngineError:
            # The page asks once, at ready; where that left Python unsaved, the same request again.
            self.engine.evaluate(SAVE_PAGE_AND_PYTHON)
            self.engine.wait_for(OFFLINE_READY, timeout_s=120, what="the page and Python to be saved for offline use")
            saved = "on a second request (the page's own, at ready, left Python partly unsaved in this engine)"
        warm, served = [], []
        for _ in range(self.ctx.runs(RUNS, 1)):
            self._reload_to_ready()
            warm.append(self.engine.evaluate(READY_AT))
            served.append(self.engine.evaluate(SERVED_BY_WORKER))
        self.add("boot to ready, warm", f"{_median(warm):.0f} ms",
                 f"reloads, {_spread(warm)}; served by the service worker: {sum(served)} of {len(served)}; "
                 f"page and Python saved {saved}")

    def attention(self, png: Path) -> None:
        times, predictors = [], set()
        for _ in range(1 + self.ctx.runs(RUNS, 1)):
            result = engine_page.drop(self.engine, "attention", png)
            times.append(result["ms"])
            predictors.add(f"{result['model']}/{result['predictor']}")
        how = f"640×400 PNG through the Attention tab, result ms (inference in the worker), {', '.join(sorted(predictors))}"
        self.add("attention per image, first", f"{times[0]:.0f} ms", f"{how}; the model's load and compile included")
        self.add("attention per image, later", f"{_median(times[1:]):.0f} ms", f"{how}; {_spread(times[1:])}")

    def jxl(self, path: Path) -> None:
        times, result = [], {}
        for _ in range(self.ctx.runs(RUNS, 1)):
            result = engine_page.drop(self.engine, "jxl", path)
            times.append(result["reorder_ms"])
        self.add("JPEG XL reorder, centre-first", f"{_median(times):.0f} ms",
                 f"{path.stat().st_size / 1e3:.0f} KB cjxl file, {result['width']}×{result['height']}, {result['groups']} groups; "
                 f"result reorder_ms: Pyodide, timed on the main thread (copy and worker round trip included); {_spread(times)}")

    def basis(self, path: Path) -> None:
        auto = engine_page.drop(self.engine, "basis", path)
        megapixels = auto["width"] * auto["height"] / 1e6
        times = {auto["target_format"]: [auto["ms"]], "RGBA32": []}
        # Each change of target is a fresh transcode of the same file (the wasm loaded by the first).
        for k in range(2 * self.ctx.runs(RUNS, 1)):
            value = "RGBA32" if k % 2 == 0 else "auto"
            self.engine.evaluate(RETARGET, value)
            result = json.loads(self.engine.wait_for(engine_page.RESULT, "basis-result", timeout_s=120,
                                                     what=f"the {value} transcode"))
            times.setdefault(result["target_format"], []).append(result["ms"])
        for target, values in times.items():
            if values:
                chosen = " (the tool's pick for this WebGL2)" if target == auto["target_format"] else ""
                self.add(f"Basis transcode ETC1S → {target}{chosen}", f"{_median(values) / megapixels:.2f} ms/MP",
                         f"{auto['width']}×{auto['height']} KTX2, one level; result ms (the worker's transcode); "
                         f"{_spread(values)}")

    def lyra(self, wav: Path) -> None:
        engine_page.open_tab(self.engine, "lyra")  # its module loads when the tab first opens
        self.engine.click("#panel-lyra h2")  # the user gesture that lets the page start sound
        summary = engine_page.drop(self.engine, "lyra", wav)
        how = (f"{summary['duration_s']} s speech stream, loopback ({summary['ice_candidate'] or 'MessageChannel'}), "
               f"{summary['lyra_runtime']}; the stream summary")
        self.add("Lyra encode per 20 ms frame", f"{summary['encode_ms_per_frame']:.2f} ms", f"{how} (mean)")
        self.add("Lyra decode per 20 ms frame", f"{summary['decode_ms_per_frame']:.2f} ms", f"{how} (mean)")
        self.add("Lyra real-time factor", f"{summary['real_time_factor']:.3f}",
                 f"(encode + decode) / 20 ms; {summary['packets_encoded']} packets, "
                 f"{summary['underrun_events']} playback stalls")


def _engines(ctx):
    """(name, why it cannot run or None, how to start it with a sound server's environment)."""
    def chromium_missing():
        try:
            ctx.browser()
        except Exception as err:  # noqa: BLE001 (any launch failure means no Chromium here)
            return f"Chromium did not start: {err}"
        return None

    return (("chromium", chromium_missing, lambda env: ChromiumEngine(ctx.browser())),
            ("firefox", lambda: firefox_missing() or sound_server_missing(), lambda env: FirefoxEngine(env=env)),
            ("webkit", lambda: webkit_missing() or sound_server_missing(), lambda env: WebKitEngine(env=env)))


def _engine_rows(ctx, Row, FAILED, name, start, inputs, folder: Path) -> list:
    sound = NullSoundServer(Path(tempfile.mkdtemp(dir=folder))) if name != "chromium" else None
    try:
        started = time.monotonic()
        try:
            engine = start(sound.env if sound else {})
        except Exception as err:  # noqa: BLE001 (an engine that does not start is a row, not a crash)
            return [Row(f"engines: {name}", FAILED, "–", f"the browser did not start: {type(err).__name__}: {err}")]
        measure = Measure(ctx, Row, FAILED, engine)
        measure.add("browser", engine.version or "?", f"started in {time.monotonic() - started:.1f} s")
        try:
            measure.step("boot", measure.boot)
            for tool, key, method in (("attention", "png", measure.attention), ("jxl", "jxl", measure.jxl),
                                      ("basis", "ktx2", measure.basis), ("lyra", "wav", measure.lyra)):
                if inputs[key] is None:
                    measure.add(tool, "–", f"no {key} file: its maker (cjxl, basisu, upstream speech) is missing")
                else:
                    measure.step(tool, method, inputs[key])
        finally:
            engine.close()
        return measure.rows
    finally:
        if sound:
            sound.close()


def rows(ctx):
    from tests.bench.run import FAILED, Row

    results = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        inputs = _inputs(ctx, folder)
        for name, missing, start in _engines(ctx):
            reason = missing()
            if reason:
                results.append(Row(f"engines: {name}", "not measured", "–", reason))
                continue
            results.extend(_engine_rows(ctx, Row, FAILED, name, start, inputs, folder))
    return results
