"""What the service worker may keep for offline use: dist/offline-manifest.json and the version in dist/sw.js.

The manifest lists every file of dist/ with its sha256 and size, grouped by what needs it: ``shell`` (the
page, its scripts, icons: precached when the service worker installs), ``python`` (Pyodide, the wheels and
codeclab: needed by every tool, cached as the page boots) and one group per tool (its runtime, codecs and
models: cached the first time the tool uses them). The version is a hash of all (path, sha256) pairs, so
a new deploy that changes any byte gets a new cache, and one that changes nothing keeps the old one.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from .paths import BuildError
from .precompress import is_precompressed_copy
from .tools import Tool, load_tools

MANIFEST = "offline-manifest.json"
SERVICE_WORKER = "sw.js"
DEPLOYED_VERSION = "version.json"  # never cached: the page reads it to notice a deploy (web/lib/update.js)
VERSION_PLACEHOLDER = "__CODECLAB_OFFLINE_VERSION__"

# The groups every tool shares; each tool adds its own (the "groups" of its manifest, devkit/tools.py).
# First matching prefix wins; paths are relative to dist/, with forward slashes.
SHARED_GROUPS: list[tuple[str, str]] = [
    ("pyodide/", "python"),
    ("py/", "python"),
    ("vendor/ort/", "models-runtime"),
]
# Human names of the groups, for the About page.
SHARED_GROUP_LABELS = {
    "shell": "The page (shell)",
    "python": "Python runtime (Pyodide, numpy, Pillow, codeclab)",
    "models-runtime": "Model runtime (onnxruntime-web)",
}


def groups(tools: list[Tool] | None = None) -> tuple[list[tuple[str, str]], dict[str, str]]:
    """(path prefix, group) pairs, first match wins, and each group's label: the shared ones, then each tool's."""
    prefixes, labels = list(SHARED_GROUPS), dict(SHARED_GROUP_LABELS)
    for tool in load_tools() if tools is None else tools:
        for group in tool.groups:
            if group.name in labels:
                raise BuildError(f"{tool.id}: offline group {group.name!r} is a shared one")
            labels[group.name] = group.label
            prefixes += [(prefix, group.name) for prefix in group.paths]
    return prefixes, labels


def group_of(path: str, prefixes: list[tuple[str, str]] | None = None) -> str:
    for prefix, group in groups()[0] if prefixes is None else prefixes:
        if path.startswith(prefix):
            return group
    return "shell"


def _sha256(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def manifest_of(root: Path) -> dict:
    """Every file of ``root`` (but the manifest and the service worker) with its group, sha256 and size."""
    prefixes, labels = groups()
    files = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if not path.is_file() or rel in (MANIFEST, SERVICE_WORKER, DEPLOYED_VERSION) or is_precompressed_copy(root, rel):
            continue  # a precompressed copy is the same file on the wire (devkit/precompress.py)
        files[rel] = {"group": group_of(rel, prefixes), "sha256": _sha256(path), "size": path.stat().st_size}
    version = hashlib.sha256("".join(f"{rel}\0{entry['sha256']}\n" for rel, entry in files.items()).encode()).hexdigest()[:16]
    return {"version": version, "groups": labels, "files": files}


def write_offline_files(root: Path, required: bool = False) -> str:
    """Write root/offline-manifest.json and root/version.json and stamp the version into root/sw.js; return the version.

    Run it again after changing a file of ``root`` (a redeploy): the version follows the content. ``required``
    marks the deploy as one that open pages switch to at their next idle moment (a security fix).
    """
    manifest = manifest_of(root)
    (root / MANIFEST).write_text(json.dumps(manifest, indent=1))
    (root / DEPLOYED_VERSION).write_text(json.dumps({"version": manifest["version"], "required": required}))
    worker = root / SERVICE_WORKER
    template = worker.read_text()
    if VERSION_PLACEHOLDER in template:
        worker.write_text(template.replace(VERSION_PLACEHOLDER, manifest["version"]))
    else:  # already stamped by an earlier run: restamp
        worker.write_text(re.sub(r'const VERSION = "[0-9a-f]+";', f'const VERSION = "{manifest["version"]}";', template, count=1))
    return manifest["version"]
