"""Lighthouse on the built site as a plain static host serves it: its category scores and the load metrics it
judges them by (CLS, LCP, TBT, main-thread work), on its mobile preset (the default: a mid-range phone,
simulated slow 4G) and its desktop preset. One run of each; Lighthouse's own scoring.

Needs the npm devDependency `lighthouse` (node_modules) and Chromium (CHROME_PATH, else $CHROMIUM, else
/usr/bin/chromium).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from devkit.chromium import CHROMIUM_FLAGS

REPO = Path(__file__).resolve().parents[2]
CLI = REPO / "node_modules" / "lighthouse" / "cli" / "index.js"
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
METRICS = (  # audit id, label, how its numericValue reads
    ("cumulative-layout-shift", "CLS", lambda v: f"{v:.3f}"),
    ("largest-contentful-paint", "LCP", lambda v: f"{v / 1000:.2f} s"),
    ("first-contentful-paint", "FCP", lambda v: f"{v / 1000:.2f} s"),
    ("total-blocking-time", "TBT", lambda v: f"{v:.0f} ms"),
    ("mainthread-work-breakdown", "main-thread work", lambda v: f"{v / 1000:.2f} s"),
)
PRESETS = {"mobile": [], "desktop": ["--preset=desktop"]}
RUN_TIMEOUT_S = 300


def chrome_path() -> str | None:
    path = os.environ.get("CHROME_PATH") or os.environ.get("CHROMIUM", "/usr/bin/chromium")
    return path if Path(path).exists() or shutil.which(path) else None


def run_lighthouse(url: str, preset: str, chrome: str, out: Path) -> dict:
    flags = " ".join(["--headless=new", *CHROMIUM_FLAGS])
    command = ["node", str(CLI), url, *PRESETS[preset], f"--only-categories={','.join(CATEGORIES)}",
               "--output=json", f"--output-path={out}", f"--chrome-flags={flags}", "--quiet"]
    subprocess.run(command, check=True, timeout=RUN_TIMEOUT_S, env={**os.environ, "CHROME_PATH": chrome},
                   capture_output=True, text=True)
    return json.loads(out.read_text())


def report_rows(preset: str, report: dict, row_type) -> list:
    rows = []
    for category in CATEGORIES:
        score = report["categories"][category]["score"]
        failing = [audit["id"] for ref in report["categories"][category]["auditRefs"]
                   if ref["weight"] > 0 and (audit := report["audits"][ref["id"]])["score"] is not None and audit["score"] < 1]
        note = "" if category == "performance" or not failing else "below 1: " + ", ".join(failing[:6])
        rows.append(row_type("lighthouse", f"{preset}: {category}", "–" if score is None else f"{round(score * 100)}", note))
    for audit_id, label, show in METRICS:
        audit = report["audits"].get(audit_id, {})
        value = audit.get("numericValue")
        rows.append(row_type("lighthouse", f"{preset}: {label}", "–" if value is None else show(value),
                             audit.get("displayValue", "") if audit_id == "mainthread-work-breakdown" else ""))
    return rows


def rows(ctx) -> list:
    from tests.bench.run import Row

    chrome = chrome_path()
    if not CLI.exists():
        return [Row("lighthouse", "scores", "–", f"not installed: {CLI} (npm ci; lighthouse is a devDependency)")]
    if chrome is None:
        return [Row("lighthouse", "scores", "–", "no Chromium: set CHROME_PATH or apt-get install chromium")]
    found = []
    with tempfile.TemporaryDirectory() as folder:
        for preset in PRESETS:
            report = run_lighthouse(ctx.plain_url, preset, chrome, Path(folder) / f"{preset}.json")
            found.extend(report_rows(preset, report, Row))
    return found
