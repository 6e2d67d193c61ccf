#!/usr/bin/env python3
"""Benchmarks: `python3 build.py bench` runs this and prints one table.

Each `tests/bench/bench_*.py` module offers `rows(ctx) -> list[Row]`; a module whose
prerequisites are missing returns rows that say so instead of numbers.
"""

from __future__ import annotations

import importlib.util
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
    site_url: str = ""
    plain_url: str = ""
    _browser: object = None
    _playwright: object = None
    extras: dict = field(default_factory=dict)

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


def main() -> int:
    dist = Path(os.environ.get("CODECLAB_DIST", REPO / "dist"))
    upstream_env = os.environ.get("CODECLAB_UPSTREAM")
    upstream = Path(upstream_env) if upstream_env else (REPO.parent / "shared" / "upstream")
    ctx = Context(dist=dist, upstream=upstream if upstream.is_dir() else None)
    ctx.site_url = _serve(dist, True)
    ctx.plain_url = _serve(dist, False)
    only = sys.argv[1:]
    rows: list[Row] = []
    for path in sorted(HERE.glob("bench_*.py")):
        name = path.stem.removeprefix("bench_")
        if only and name not in only:
            continue
        spec = importlib.util.spec_from_file_location(f"bench_{name}", path)
        module = importlib.util.module_from_spec(spec)
        try:
            spec.loader.exec_module(module)
            print(f"[bench] {name} …", file=sys.stderr, flush=True)
            rows.extend(module.rows(ctx))
        except Exception as err:  # noqa: BLE001 (one broken benchmark must not hide the others)
            traceback.print_exc()
            rows.append(Row(name, "benchmark failed", "–", f"{type(err).__name__}: {err}"))
    ctx.close()
    print_table(rows)
    return 0


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
