"""Whether dist/ is current, decided by the build's inputs rather than by file times.

A build stores the fingerprint of its inputs in ``dist/build-inputs.json``: a content hash of each source
tree it reads (web/, pysrc/, models/, devkit/), a digest of the upstream folder's path (never the path itself:
dist/ is published, and a build machine's paths are nobody's business) and the sha256 of every file in it,
the converter version, and which converter dependencies were importable. ``serve`` compares that with the
fingerprint of the checkout as it is now and rebuilds, saying why, when any of them differ. File times are
not used: a `git checkout`, a copy or a new upstream folder changes them without changing what gets built,
and a different --upstream folder changes what gets built without touching any file time.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import re
from pathlib import Path

from .paths import REPO

FINGERPRINT_FILE = "build-inputs.json"
SOURCE_TREES = ("web", "pysrc", "models", "devkit")
# The Python modules the model converter imports, with the pip requirement that provides each (the pins
# are requirements-dev.txt's; tests/platform/test_fingerprint.py checks that they agree).
CONVERTER_REQUIREMENTS = {"numpy": "numpy>=2.0", "onnx": "onnx==1.23.2", "tflite": "tflite==2.18.0"}
_SKIPPED_PARTS = {"__pycache__", ".pytest_cache", ".ruff_cache"}


def tree_digest(root: Path) -> str:
    """sha256 over the relative paths and contents of every file under ``root`` (caches skipped)."""
    digest = hashlib.sha256()
    if not root.is_dir():
        return "absent"
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        relative = path.relative_to(root)
        if _SKIPPED_PARTS.intersection(relative.parts) or path.suffix == ".pyc":
            continue
        digest.update(relative.as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def upstream_files(upstream: Path | None) -> dict[str, str]:
    """sha256 of every file in the upstream folder, by relative path ({} when there is none)."""
    if upstream is None or not upstream.is_dir():
        return {}
    files = {}
    for path in sorted(p for p in upstream.rglob("*") if p.is_file()):
        with open(path, "rb") as handle:
            files[path.relative_to(upstream).as_posix()] = hashlib.file_digest(handle, "sha256").hexdigest()
    return files


def folder_tag(folder: Path | None) -> str | None:
    """Which folder, as a digest of its resolved path: tells another --upstream folder from this one without
    writing the path into dist/."""
    if folder is None:
        return None
    return "sha256:" + hashlib.sha256(str(Path(folder).resolve()).encode()).hexdigest()[:16]


def converter_dependencies() -> dict[str, bool]:
    """Which of the converter's modules this Python can import."""
    return {module: importlib.util.find_spec(module) is not None for module in CONVERTER_REQUIREMENTS}


def missing_dependency_command(present: dict[str, bool]) -> str | None:
    """The pip command that installs the converter's missing modules, or None when nothing is missing."""
    missing = [CONVERTER_REQUIREMENTS[module] for module, ok in present.items() if not ok]
    if not missing:
        return None
    return "python3 -m pip install " + " ".join(f"'{req}'" if re.search(r"[<>=]", req) else req for req in missing)


def converter_version(repo: Path = REPO) -> str:
    """CONVERTER_VERSION read from the converter's source (importing it would need onnx)."""
    text = (repo / "models" / "tflite2onnx" / "convert.py").read_text()
    found = re.search(r'^CONVERTER_VERSION = "([^"]+)"', text, re.MULTILINE)
    return found.group(1) if found else "unknown"


def compute(upstream: Path | None, repo: Path = REPO, dependencies: dict[str, bool] | None = None) -> dict:
    """The fingerprint of everything a build of ``repo`` with ``upstream`` reads."""
    return {
        "sources": {tree: tree_digest(repo / tree) for tree in SOURCE_TREES},
        "upstream": folder_tag(upstream),
        "upstream_files": upstream_files(upstream),
        "converter_version": converter_version(repo),
        "dependencies": converter_dependencies() if dependencies is None else dependencies,
    }


def differences(stored: dict | None, current: dict) -> list[str]:
    """Why a dist built with ``stored`` inputs is not what ``current`` inputs would build ([] = current)."""
    if stored is None:
        return ["dist/ has no record of its build inputs (never built, or built by an older build.py)"]
    reasons = []
    for tree in SOURCE_TREES:
        if stored.get("sources", {}).get(tree) != current["sources"][tree]:
            reasons.append(f"{tree}/ changed")
    if stored.get("upstream") != current["upstream"]:
        before, after = ("a folder" if tag else "none" for tag in (stored.get("upstream"), current["upstream"]))
        change = "another folder than the last build's" if before == after else f"{before} -> {after}"
        reasons.append(f"upstream folder changed: {change}")
    elif stored.get("upstream_files") != current["upstream_files"]:
        before, after = stored.get("upstream_files", {}), current["upstream_files"]
        changed = sorted(name for name in before.keys() | after.keys() if before.get(name) != after.get(name))
        reasons.append(f"upstream files changed: {', '.join(changed[:5])}{' …' if len(changed) > 5 else ''}")
    if stored.get("converter_version") != current["converter_version"]:
        reasons.append(f"converter version {stored.get('converter_version')} -> {current['converter_version']}")
    if stored.get("dependencies") != current["dependencies"]:
        now = ", ".join(f"{name} {'present' if ok else 'missing'}" for name, ok in current["dependencies"].items())
        reasons.append(f"converter dependencies changed (now: {now})")
    return reasons


def read_stored(dist: Path) -> dict | None:
    path = dist / FINGERPRINT_FILE
    if not (path.is_file() and (dist / "build-info.json").is_file()):
        return None
    try:
        return json.loads(path.read_text())
    except ValueError:
        return None


def write(dist: Path, fingerprint: dict) -> None:
    (dist / FINGERPRINT_FILE).write_text(json.dumps(fingerprint, indent=1))
