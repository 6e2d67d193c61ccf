#!/usr/bin/env python3
"""Benchmarks: `python3 build.py bench [--quick] [NAME ...]` runs this and prints one table.

    python3 -m tests.bench [--quick] [NAME ...]     (from the checkout; NAME = attention, lyra, ...)

Each `tests/bench/bench_<name>.py` module offers `rows(ctx) -> list[Row]`; a module whose
prerequisites are missing returns rows that say so instead of numbers. `--quick` runs every module
with a few iterations (`ctx.runs(n)`), so that CI can check that the benchmarks still run: the exit
status is 1 when a module raised (its row says "benchmark failed").
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path[:0] = [str(REPO / "pysrc"), str(REPO)]

from devkit import chromium  # noqa: E402 (importable once the checkout is on sys.path, just above)
from devkit.server import BackgroundSite  # noqa: E402 (as above)

FAILED = "benchmark failed"


@dataclass
class Row:
    tool: str
    what: str
    value: str
    note: str = ""


@dataclass
class Context:
    dist: Path
    upstream: Path | None
    quick: bool = False
    site_url: str = ""
    plain_url: str = ""
    _browser: object = None
    _playwright: object = None
    extras: dict = field(default_factory=dict)

    def runs(self, full: int, quick: int = 2) -> int:
        """How many iterations a measurement makes: `full`, or a few in quick mode."""
        return min(full, quick) if self.quick else full

    def browser(self):
        """One headless Chromium shared by all benchmark modules."""
        if self._browser is None:
            from playwright.sync_api import sync_playwright

            sys.path.insert(0, str(REPO / "tests" / "e2e"))
            self._playwright = sync_playwright().start()
            self._browser = chromium.launch(self._playwright, os.environ.get("CHROMIUM", "/usr/bin/chromium"))
        return self._browser

    def close(self):
        if self._browser is not None:
            self._browser.close()
            self._playwright.stop()


def _serve(root: Path, isolate: bool) -> str:
    return BackgroundSite(root, isolate).url


def bench_modules() -> dict[str, str]:
    """name -> importable module, for every tests/bench/bench_<name>.py."""
    return {path.stem.removeprefix("bench_"): f"{__package__ or 'tests.bench'}.{path.stem}"
            for path in sorted(HERE.glob("bench_*.py"))}


def run_module(module_name: str, name: str, ctx: Context) -> list[Row]:
    """One module's rows; a module that raises gives one FAILED row (it must not hide the others)."""
    print(f"[bench] {name} …", file=sys.stderr, flush=True)
    try:
        return list(importlib.import_module(module_name).rows(ctx))
    except Exception as err:  # noqa: BLE001 (one broken benchmark must not hide the others)
        traceback.print_exc()
        return [Row(name, FAILED, "–", f"{type(err).__name__}: {err}")]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a few iterations of everything (CI)")
    parser.add_argument("names", nargs="*", help="only these modules (default: all)")
    args = parser.parse_args(argv)
    modules = bench_modules()
    unknown = sorted(set(args.names) - set(modules))
    if unknown:
        parser.error(f"no benchmark named {', '.join(unknown)} (have: {', '.join(modules)})")
    dist = Path(os.environ.get("CODECLAB_DIST", REPO / "dist"))
    upstream_env = os.environ.get("CODECLAB_UPSTREAM")
    upstream = Path(upstream_env) if upstream_env else (REPO.parent / "shared" / "upstream")
    ctx = Context(dist=dist, upstream=upstream if upstream.is_dir() else None, quick=args.quick)
    ctx.site_url = _serve(dist, True)
    ctx.plain_url = _serve(dist, False)
    rows: list[Row] = []
    try:
        for name, module_name in modules.items():
            if not args.names or name in args.names:
                rows.extend(run_module(module_name, name, ctx))
    finally:
        ctx.close()
    print_table(rows)
    return exit_status(rows)


def exit_status(rows: list[Row]) -> int:
    """1 when a module failed (CI must not go green on a broken benchmark), else 0."""
    failed = [row.tool for row in rows if row.what == FAILED]
    if failed:
        print(f"[bench] failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


def print_table(rows: list[Row]) -> None:
    headers = ("tool", "what", "value", "note")
    cells = [headers] + [(r.tool, r.what, r.value, r.note) for r in rows]
    widths = [max(len(str(c[i])) for c in cells) for i in range(4)]
    line = "| " + " | ".join("-" * w for w in widths) + " |"
    print("| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths)) + " |")
    print(line)
    for r in cells[1:]:
        print("| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths)) + " |")


if __name__ == "__main__":
    sys.exit(main())
