"""The Content Security Policy (devkit/csp.py) in Chromium: every tool runs under it with no violation,
and what it exists to stop (eval, an injected inline script or style) is stopped."""

from __future__ import annotations

import urllib.request

import numpy as np
import pytest
from PIL import Image

from devkit import csp
from devkit.chromium import wait_for_js

from .conftest import wait_result

pytestmark = pytest.mark.e2e

# Recorded in the page from its first script on (an init script runs before the page's own).
RECORD_VIOLATIONS = """
globalThis.cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) =>
  globalThis.cspViolations.push(`${e.effectiveDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`));
"""
# The same in each worker, as soon as Playwright sees it (a worker reports to its own global scope).
RECORD_IN_WORKER = """() => { self.cspViolations = [];
  self.addEventListener("securitypolicyviolation", (e) =>
    self.cspViolations.push(`${e.effectiveDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`)); }"""


# Emscripten pthreads (the runtimes' thread pools): they run wasm only and fetch nothing; a violation there
# would still reach the console reports below.
PTHREAD_GLUE = ("litert_wasm_threaded_internal.js", "ort-wasm-simd-threaded")


class PolicyWatch:
    """Violations seen by the page and its workers, and Chromium's console reports of them (which
    also come from workers, and from workers that ended before they could be asked)."""

    def __init__(self, page):
        self.page = page
        self.workers = []
        self.console: list[str] = []
        page.on("worker", self._attach)
        page.on("console", lambda m: "Content Security Policy" in m.text and self.console.append(m.text))

    def _attach(self, worker) -> None:
        if any(glue in worker.url for glue in PTHREAD_GLUE):
            return  # a thread of a wasm runtime: it may sit in Atomics.wait, where an evaluate never returns
        self.workers.append(worker)
        try:
            worker.evaluate(RECORD_IN_WORKER)
        except Exception:  # noqa: BLE001 (a worker may end before it is asked; the console still reports)
            pass

    def violations(self) -> list[str]:
        found = list(self.page.evaluate("() => globalThis.cspViolations"))
        for worker in self.workers:
            try:
                found += [f"{worker.url}: {v}" for v in worker.evaluate("() => self.cspViolations || []")]
            except Exception:  # noqa: BLE001 (ended workers are covered by the console reports)
                pass
        return found + self.console


@pytest.fixture
def watched_page(browser, site):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_init_script(RECORD_VIOLATIONS)
    page = context.new_page()
    watch = PolicyWatch(page)
    page.goto(site.url)
    wait_for_js(page, "() => ['ready', 'error'].includes(document.documentElement.dataset.state)", timeout=180_000)
    assert page.evaluate("() => document.documentElement.dataset.state") == "ready"
    yield page, watch
    context.close()


@pytest.fixture(scope="module")
def picture(tmp_path_factory):
    path = tmp_path_factory.mktemp("csp") / "picture.png"
    rng = np.random.default_rng(7)
    Image.fromarray((rng.random((300, 400, 3)) * 255).astype(np.uint8)).save(path)
    return path


def test_the_page_and_server_carry_the_one_policy(dist, site):
    page = (dist / "index.html").read_text()
    assert csp.meta_tag() in page
    assert page.index(csp.meta_tag()) < page.index("<script")  # it covers every script of the page
    with urllib.request.urlopen(site.url) as response:
        assert response.headers["Content-Security-Policy"] == csp.policy()
    with urllib.request.urlopen(site.url + "worker.js") as response:
        assert "'unsafe-eval'" not in response.headers["Content-Security-Policy"]
    for path in csp.WORKER_POLICIES:
        with urllib.request.urlopen(site.url + path) as response:
            assert response.headers["Content-Security-Policy"] == csp.policy(path)
            assert "'unsafe-eval'" in response.headers["Content-Security-Policy"]


def test_every_tool_runs_with_no_violation(watched_page, picture, upstream):
    page, watch = watched_page
    for tool in ("attention", "jxl", "basis"):
        page.click(f'[data-testid="tab-{tool}"]')
        page.set_input_files(f'[data-testid="{tool}-input"]', str(picture))
        result = wait_result(page, f"{tool}-result", 240_000)
        assert result, tool
    assert page.evaluate("() => document.querySelector('[data-testid=basis-result]').dataset.result.includes('ktx2')")
    page.click('[data-testid="tab-lyra"]')
    page.set_input_files('[data-testid="lyra-input"]', str(upstream / "lyra" / "testdata" / "sample1_16kHz.wav"))
    lyra = wait_result(page, "lyra-result", 300_000)
    assert lyra["packets_encoded"] > 0 and lyra["packets_received"] > 0
    assert watch.violations() == []
    assert len(watch.workers) >= 4  # the two Python workers, the Basis encoder and transcoder


def test_eval_and_injected_inline_code_are_refused(watched_page):
    page, watch = watched_page
    # Run from a timer: code that Playwright evaluates itself is exempt from the page's policy.
    outcome = page.evaluate("""() => new Promise((resolve) => setTimeout(() => {
        const tried = {};
        try { eval("1 + 1"); tried.eval = "ran"; } catch (e) { tried.eval = e.name; }
        try { new Function("return 1")(); tried.function = "ran"; } catch (e) { tried.function = e.name; }
        const script = document.createElement("script");
        script.textContent = "window.injectedScriptRan = true;";
        document.body.append(script);
        const box = document.createElement("div");
        box.setAttribute("style", "position: absolute; width: 123px");
        document.body.append(box);
        tried.inline = window.injectedScriptRan === true ? "ran" : "refused";
        tried.style = getComputedStyle(box).width === "123px" ? "applied" : "refused";
        resolve(tried);
    }))""")
    assert outcome == {"eval": "EvalError", "function": "EvalError", "inline": "refused", "style": "refused"}
    wait_for_js(page, "() => globalThis.cspViolations.length >= 4", timeout=10_000)
    directives = {v.split(" ")[0] for v in page.evaluate("() => globalThis.cspViolations")}
    assert directives == {"script-src", "script-src-elem", "style-src-attr"}, directives
    # A worker made from a blob inherits the page's policy: no eval there either.
    in_worker = page.evaluate("""async () => {
        const probe = new Worker(URL.createObjectURL(new Blob(
          ['try { eval("1"); postMessage("ran"); } catch (e) { postMessage(e.name); }'], { type: "text/javascript" })));
        return await new Promise((resolve) => { probe.onmessage = (e) => resolve(e.data); });
    }""")
    assert in_worker == "EvalError"
