"""A fifth tool is one folder: added to a copy of the source (a manifest and a page module in web/tools/stub/,
a one-function Python service in pysrc/codeclab/stub/), it is built, served and shown with no shared file
edited: its tab is in the tab bar, its module is loaded when the tab is first opened, the RPC router answers
"stub.<function>" from that module, and dist/tools.json and the offline manifest list it (issue 25)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from devkit.chromium import wait_for_js
from devkit.paths import REPO, resolve_upstream
from devkit.server import BackgroundSite
from tests.e2e.conftest import open_app
from tests.needs import missing

pytestmark = pytest.mark.e2e

# What a build reads; node_modules is linked (the build only reads it) and the caches are linked file by file
# where the file system allows (the build writes new cache files beside them, never into one).
SOURCES = ["web", "pysrc", "devkit", "models", "build.py", "package.json", "package-lock.json", "pyproject.toml",
           "requirements-dev.txt"]
CACHES = ["models", "pycache", "pyodide-wheels", "wheel-carrier", "precompressed"]

STUB_MANIFEST = {
    "id": "stub",
    "label": "Stub tool",
    "order": 50,
    "python": "codeclab.stub.service",
    "needs": ["stub"],
    "groups": {"stub": {"label": "The stub's table", "paths": ["tools/stub/table.json"]}},
}
STUB_MODULE = """\
// The stub tool's page: one call to its Python service, its answer shown.
export function mount(panel, app) {
  const out = document.createElement("output");
  out.dataset.testid = "stub-result";
  panel.append(out);
  app.ready.then(() => app.python.call("stub.multiply", { a: 6, b: 7 })).then((reply) => {
    out.dataset.result = JSON.stringify(reply);
  }, (err) => { out.dataset.result = JSON.stringify({ error: String(err.message || err) }); });
}
"""
STUB_SERVICE = '''"""The stub tool's service: one function."""


def multiply(a: int, b: int) -> dict:
    return {"product": a * b, "module": __name__}
'''


def _link_or_copy(source: str, target: str) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


@pytest.fixture(scope="module")
def stub_dist(tmp_path_factory) -> Path:
    upstream = resolve_upstream(None)
    if upstream is None:
        missing("the upstream model files ($CODECLAB_UPSTREAM or ../shared/upstream) are needed to build a copy")
    if not (REPO / "node_modules").is_dir():
        missing("node_modules not installed (npm ci)")
    root = tmp_path_factory.mktemp("stub-tool") / "repo"
    root.mkdir()
    for name in SOURCES:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, root / name, ignore=shutil.ignore_patterns("__pycache__"))
        elif source.exists():
            shutil.copy2(source, root / name)
    (root / "node_modules").symlink_to(REPO / "node_modules")
    for name in CACHES:
        if (REPO / ".cache" / name).is_dir():
            shutil.copytree(REPO / ".cache" / name, root / ".cache" / name, copy_function=_link_or_copy)
    # The fifth tool: one folder in web/tools, one package in pysrc/codeclab. Nothing else is touched.
    tool = root / "web" / "tools" / "stub"
    tool.mkdir()
    (tool / "tool.json").write_text(json.dumps(STUB_MANIFEST, indent=1))
    (tool / "index.js").write_text(STUB_MODULE)
    (tool / "table.json").write_text(json.dumps({"rows": [1, 2, 3]}))
    package = root / "pysrc" / "codeclab" / "stub"
    package.mkdir()
    (package / "__init__.py").write_text('"""The stub tool (tests/e2e/test_stub_tool.py)."""\n')
    (package / "service.py").write_text(STUB_SERVICE)
    env = {**os.environ, "CODECLAB_UPSTREAM": str(upstream)}
    done = subprocess.run([sys.executable, "build.py", "build"], cwd=root, env=env, capture_output=True, text=True,
                          timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return root / "dist"


def test_the_stub_is_listed_for_the_page_and_in_the_offline_manifest(stub_dist):
    index = json.loads((stub_dist / "tools.json").read_text())
    stub = next(tool for tool in index["tools"] if tool["id"] == "stub")
    assert stub["python"] == "codeclab.stub.service" and stub["module"] == "tools/stub/index.js"
    assert [tool["id"] for tool in index["tools"]][-1] == "stub"  # order 50: after the four
    manifest = json.loads((stub_dist / "offline-manifest.json").read_text())
    assert manifest["files"]["tools/stub/table.json"]["group"] == "stub"
    assert "stub" in manifest["groups"]


def test_the_stub_tab_mounts_when_opened_and_its_service_answers(browser, stub_dist):
    site = BackgroundSite(stub_dist, isolate=True)
    try:
        page, watch = open_app(browser, site.url)
        tabs = page.eval_on_selector_all('[role="tab"]', "tabs => tabs.map((t) => t.id)")
        assert tabs[-2:] == ["tab-stub", "tab-about"] and page.inner_text('[data-testid="tab-stub"]') == "Stub tool"
        # Not loaded before its tab is opened.
        assert not any(url.endswith("tools/stub/index.js") for url in watch.requests)
        assert page.eval_on_selector("#panel-stub", "panel => panel.children.length") == 0
        page.click('[data-testid="tab-stub"]')
        wait_for_js(page, "document.querySelector('[data-testid=stub-result]')?.dataset.result", timeout=60_000)
        reply = json.loads(page.get_attribute('[data-testid="stub-result"]', "data-result"))
        assert reply == {"product": 42, "module": "codeclab.stub.service"}
        assert any(url.endswith("tools/stub/index.js") for url in watch.requests)
        assert page.evaluate("location.hash") == "#stub"
        assert not watch.console_errors, watch.console_errors
        page.context.close()
    finally:
        site.close()
