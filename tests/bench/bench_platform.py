"""Boot time of the page to `ready` (Pyodide + numpy + Pillow + codeclab), cold and warm."""

from __future__ import annotations

import statistics

RUNS = 5


def _ready_ms(page) -> float:
    page.wait_for_function("document.documentElement.dataset.state === 'ready'", timeout=120_000)
    return float(page.evaluate("document.documentElement.dataset.readyAt"))


def rows(ctx):
    from run import Row

    browser = ctx.browser()
    results = []
    for label, url in (("isolated (COOP/COEP)", ctx.site_url), ("plain static host", ctx.plain_url)):
        cold, warm = [], []
        for _ in range(RUNS):
            context = browser.new_context()  # a fresh profile: empty HTTP cache
            page = context.new_page()
            page.goto(url)
            cold.append(_ready_ms(page))
            page.reload()
            warm.append(_ready_ms(page))
            context.close()
        results.append(Row("platform", f"boot to ready, cold, {label}", f"{statistics.median(cold):.0f} ms",
                           f"median of {RUNS} fresh profiles; min {min(cold):.0f}, max {max(cold):.0f}"))
        results.append(Row("platform", f"boot to ready, warm, {label}", f"{statistics.median(warm):.0f} ms",
                           f"median of {RUNS} reloads (HTTP cache revalidated)"))
    size = sum(p.stat().st_size for p in ctx.dist.rglob("*") if p.is_file())
    boot_files = ["pyodide/pyodide.asm.wasm", "pyodide/pyodide.asm.js", "pyodide/python_stdlib.zip", "pyodide/pyodide.mjs"]
    boot = sum((ctx.dist / f).stat().st_size for f in boot_files) + sum(p.stat().st_size for p in (ctx.dist / "pyodide").glob("*.whl"))
    results.append(Row("platform", "dist/ size", f"{size / 1e6:.1f} MB", f"of which {boot / 1e6:.1f} MB loaded at boot (runtime + wheels)"))
    return results
