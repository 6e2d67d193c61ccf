"""The Content Security Policy, in one place: the page's meta tag, the dev server's headers and
dist/csp.json (for the service worker, which adds the same headers on hosts that send none) are all
written from here.

The page gets no ``unsafe-inline`` and no ``unsafe-eval``. A worker gets its policy from its own
response, not from the page's meta tag, so a worker that needs more is listed in ``WORKER_POLICIES``
and served with that policy alone.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

from .tools import Tool, load_tools

# (directive, sources); order is kept in the header text.
DIRECTIVES: tuple[tuple[str, str], ...] = (
    ("default-src", "'self'"),
    ("script-src", "'self' 'wasm-unsafe-eval'"),
    ("style-src", "'self'"),
    ("img-src", "'self' data: blob:"),
    ("worker-src", "'self' blob:"),
    ("connect-src", "'self'"),
    ("object-src", "'none'"),
    ("base-uri", "'none'"),
)

# Worker scripts (paths in dist/, as the service worker sees them under its scope) that need a source the
# page does not get: a tool lists them under "eval_workers" in its manifest, with the reason (devkit/tools.py).
# Such a worker may evaluate strings, so it should see no DOM and get only bytes.
WITH_EVAL = {"script-src": "'self' 'wasm-unsafe-eval' 'unsafe-eval'"}


def worker_policies(tools: list[Tool] | None = None) -> dict[str, dict[str, str]]:
    """{dist path of a worker script: the directives it gets beyond the page's}."""
    return {f"{tool.web_path}/{worker}": WITH_EVAL
            for tool in (load_tools() if tools is None else tools) for worker in tool.eval_workers}


WORKER_POLICIES: dict[str, dict[str, str]] = worker_policies()

POLICY_FILE = "csp.json"
META_ANCHOR = re.compile(r'(<meta charset="utf-8">\n)', re.IGNORECASE)


def policy(path: str = "") -> str:
    """The policy text for a dist/ path (``""`` or any non-worker path: the page's policy)."""
    overrides = WORKER_POLICIES.get(path.lstrip("/").split("?", 1)[0], {})
    return "; ".join(f"{name} {overrides.get(name, sources)}" for name, sources in DIRECTIVES)


def meta_tag() -> str:
    return f'<meta http-equiv="Content-Security-Policy" content="{html.escape(policy(), quote=False)}">'


def add_meta_tag(page: Path) -> None:
    """Put the policy first in <head>, right after the charset, so it covers everything the page loads."""
    text = page.read_text()
    if "Content-Security-Policy" in text:
        raise ValueError(f"{page} already has a Content-Security-Policy")
    marked, count = META_ANCHOR.subn(lambda m: f"{m.group(1)}  {meta_tag()}\n", text, count=1)
    if count != 1:
        raise ValueError(f'{page}: no <meta charset="utf-8"> line to put the policy after')
    page.write_text(marked)


SERVICE_WORKER_PLACEHOLDER = "/*__CODECLAB_CSP__*/ null"


def write_policy_files(root: Path) -> None:
    """dist/index.html gets the meta tag; dist/csp.json and the service worker (stamped in, so the policy
    arrives with the worker's own script) hold the header values: ``{"policy": page policy, "workers":
    {path: policy}}``."""
    add_meta_tag(root / "index.html")
    workers = {path: policy(path) for path in WORKER_POLICIES}
    values = {"policy": policy(), "workers": workers}
    (root / POLICY_FILE).write_text(json.dumps(values, indent=1))
    worker = root / "sw.js"
    template = worker.read_text()
    if SERVICE_WORKER_PLACEHOLDER not in template:
        raise ValueError(f"{worker}: no {SERVICE_WORKER_PLACEHOLDER} to stamp the policy into")
    worker.write_text(template.replace(SERVICE_WORKER_PLACEHOLDER, json.dumps(values)))
