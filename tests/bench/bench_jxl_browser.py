"""Attention-first JPEG XL in the page: codeclab.jxl in Pyodide (inspect, reorder, load plan) on a
~3 MB file, timed on the main thread (the worker round trip and the copy of the file are included),
and libjxl (wasm, the page's PNG/JPEG encoder) encoding a 1 MP image.

The CPython rows (reorder in CPython vs `cjxl` re-encoding with a centre, bytes-to-centre on the test
images) are in bench_jxl.py.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import tempfile
from pathlib import Path

from devkit.chromium import wait_for_js

RUNS = 5
TARGET_BYTES = 3_000_000

MEASURE = """
async ({url, runs}) => {
  const app = window.codeclab;
  await app.ready;
  const response = await fetch(url);
  if (!response.ok) throw new Error(`the bench's JPEG XL file did not arrive: ${url} gave ${response.status}`);
  const data = new Uint8Array(await response.arrayBuffer());
  const call = async (method, args) => {
    const t = performance.now();
    const reply = await app.python.call(method, { ...args, data: data.slice() });
    return { ms: performance.now() - t, reply };
  };
  const info = (await call('jxl.inspect', {})).reply;
  const center = [info.width * 0.3, info.height * 0.6];
  const times = { inspect: [], reorder: [], scanline: [], plan: [] };
  let reordered = null;
  for (let k = 0; k < runs; k++) {
    times.inspect.push((await call('jxl.inspect', {})).ms);
    const r = await call('jxl.reorder', { center, order: 'center' });
    times.reorder.push(r.ms);
    reordered = r.reply;
    times.scanline.push((await call('jxl.reorder', { order: 'scanline' })).ms);
    times.plan.push((await call('jxl.load_plan', { center })).ms);
  }
  // The floor under every figure: a worker round trip that carries the file and does nothing with it.
  const floor = [];
  for (let k = 0; k < runs; k++) {
    const t = performance.now();
    await app.python.call('platform.info', { data: data.slice() }).catch(() => null);
    floor.push(performance.now() - t);
  }
  return { size: data.length, width: info.width, height: info.height, groups: info.frames[0].num_groups,
           changed: reordered.changed, times, floor };
}
"""

ENCODE = """
async ({width, height}) => {
  const { encodeJxl } = await import('./tools/jxl/workers.js');
  const { encodeSettings } = await import('./tools/jxl/images.js');
  // A photo-like test image: smooth gradients plus texture, deterministic.
  const rgba = new Uint8ClampedArray(width * height * 4);
  let seed = 1;
  for (let i = 0; i < width * height; i++) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    const x = i % width, y = (i / width) | 0, n = (seed >> 16) & 15;
    rgba[4 * i] = (x * 255) / width + n; rgba[4 * i + 1] = (y * 255) / height + n;
    rgba[4 * i + 2] = 128 + 100 * Math.sin(x / 23) * Math.cos(y / 31); rgba[4 * i + 3] = 255;
  }
  const settings = encodeSettings(width, height);
  await encodeJxl(new Uint8ClampedArray(64 * 64 * 4).fill(255), 64, 64, settings); // load the wasm
  const { bytes, ms } = await encodeJxl(rgba, width, height, settings);
  return { ms, size: bytes.length, settings };
}
"""


def _make_file(folder: Path) -> Path | None:
    """A ~3 MB lossy JXL from scikit-image's astronaut (upscaled to 4000×3000, with grain)."""
    import numpy as np
    from PIL import Image
    from skimage import data

    cjxl = shutil.which("cjxl")
    if cjxl is None:
        return None
    pixels = np.asarray(Image.fromarray(data.astronaut()).resize((4000, 3000), Image.Resampling.LANCZOS)).astype(float)
    pixels += np.random.default_rng(0).normal(0, 4, pixels.shape)  # grain: real photos are not this smooth
    png = folder / "big.png"
    Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(png)
    best = None
    for distance in ("0.45", "0.4", "0.5"):
        out = folder / f"big_{distance}.jxl"
        subprocess.run([cjxl, str(png), str(out), "-d", distance, "-e", "3", "--quiet"], check=True, capture_output=True)
        if best is None or abs(out.stat().st_size - TARGET_BYTES) < abs(best.stat().st_size - TARGET_BYTES):
            best = out
    return best


def _ms(values) -> str:
    return f"{statistics.median(values):.0f} ms"


def rows(ctx):
    from tests.bench.run import Row

    with tempfile.TemporaryDirectory() as tmp:
        path = _make_file(Path(tmp))
        if path is None:
            return [Row("jxl (page)", "reorder in Pyodide", "–", "cjxl not found: apt-get install libjxl-tools")]
        body = path.read_bytes()
    browser = ctx.browser()
    context = browser.new_context(service_workers="block")  # page.route does not see a service worker's fetches
    page = context.new_page()
    runs = ctx.runs(RUNS)
    try:
        page.route("**/bench-jxl/big.jxl", lambda route: route.fulfill(status=200, body=body, headers={
            "Content-Type": "image/jxl", "Cross-Origin-Resource-Policy": "same-origin"}))
        page.goto(ctx.site_url)
        wait_for_js(page, "document.documentElement.dataset.state === 'ready'", timeout=120_000)
        m = page.evaluate(MEASURE, {"url": ctx.site_url + "bench-jxl/big.jxl", "runs": runs})
        side = 256 if ctx.quick else 1000
        e = page.evaluate(ENCODE, {"width": side, "height": side})
    finally:
        context.close()
    what = f"{m['size'] / 1e6:.2f} MB, {m['width']}×{m['height']}, {m['groups']} groups"
    note = f"median of {runs}, timed on the main thread: copy of the file → Python worker → reply"
    t = m["times"]
    return [
        Row("jxl (page)", f"reorder centre-first in Pyodide ({what})", _ms(t["reorder"]),
            f"{note}; min {min(t['reorder']):.0f} ms; file {'rewritten' if m['changed'] else 'UNCHANGED'}"),
        Row("jxl (page)", "reorder to scanline in Pyodide (same file)", _ms(t["scanline"]), note),
        Row("jxl (page)", "inspect in Pyodide (same file)", _ms(t["inspect"]), note),
        Row("jxl (page)", "load_plan in Pyodide (same file)", _ms(t["plan"]), note),
        Row("jxl (page)", "round trip carrying the file, no work", _ms(m["floor"]), "the floor under the rows above"),
        Row("jxl (page)", f"encode {side}×{side} RGBA → JXL in the page (libjxl wasm)", f"{e['ms']:.0f} ms",
            f"{e['size'] / 1e3:.0f} KB; quality {e['settings']['quality']}, effort {e['settings']['effort']}, "
            "progressive; one run after a warm-up, single-threaded wasm"),
    ]
