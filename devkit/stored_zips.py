"""dist/'s Python archives rewritten with their members stored, not deflated: Pyodide's wheels, its standard
library (``python_stdlib.zip``) and codeclab's own zips (``py/*.zip``).

Why: a deflated zip does not compress again, so a host's Brotli (devkit/precompress.py, or one compressing on
the fly) could not touch a quarter of a first visit. Stored, the same archive compresses with Brotli to about
three quarters of its deflated size (Brotli's window sees across members), and Python reads it without
inflating anything (the standard library is imported from its zip; the wheels are unpacked at boot).

The wheels' sha256 changes with them, so the trimmed ``pyodide/pyodide-lock.json`` (which Pyodide checks each
wheel against) is rewritten with the new hashes. Every member keeps its name, date and bytes.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path

LOCK = "pyodide/pyodide-lock.json"


def stored_copy(data: bytes) -> bytes:
    """The zip ``data`` with every member stored (same names, dates, bytes, order)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as target:
        for info in source.infolist():
            copy = zipfile.ZipInfo(info.filename, date_time=info.date_time)
            copy.external_attr = info.external_attr
            copy.create_system = info.create_system
            copy.compress_type = zipfile.ZIP_STORED
            target.writestr(copy, source.read(info))
    return out.getvalue()


def archives(root: Path) -> list[Path]:
    """The Python archives of a dist/ (``root``)."""
    return sorted([*(root / "pyodide").glob("*.whl"), *(root / "pyodide").glob("*.zip"), *(root / "py").glob("*.zip")])


def store_python_archives(root: Path) -> dict:
    """Rewrite ``root``'s Python archives stored and pin the new wheels in the lock file; returns
    {"files": how many, "before": bytes, "after": bytes}."""
    lock_path = root / LOCK
    lock = json.loads(lock_path.read_text()) if lock_path.exists() else None
    by_file_name = {entry["file_name"]: entry for entry in (lock or {}).get("packages", {}).values()}
    totals = {"files": 0, "before": 0, "after": 0}
    for path in archives(root):
        data = path.read_bytes()
        stored = stored_copy(data)
        path.write_bytes(stored)
        entry = by_file_name.get(path.name)
        if entry is not None:
            entry["sha256"] = hashlib.sha256(stored).hexdigest()
        totals["files"] += 1
        totals["before"] += len(data)
        totals["after"] += len(stored)
    if lock is not None:
        lock_path.write_text(json.dumps(lock, indent=1))
    return totals
