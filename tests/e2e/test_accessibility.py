"""The page by keyboard, on a phone and to a screen reader: axe-core finds nothing on any tab (desktop and
375 px, light and dark), every tool can be used with the keyboard alone, and nothing is wider than a
320 px screen (issue 30).

axe-core is the npm devDependency (node_modules/axe-core/axe.min.js), injected into the real page.
"""

from __future__ import annotations

import json
import wave
from pathlib import Path

import pytest
from PIL import Image

from devkit.chromium import wait_for_js
from tests.needs import missing

from .conftest import PageWatch

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parents[2]
AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
TABS = ("attention", "jxl", "lyra", "basis", "about")
BOOT_MS = 120_000
RESULT_MS = 120_000

# ---------------------------------------------------------------- helpers


def open_page(browser, url: str, width: int, height: int, scheme: str = "dark", wait_ready: bool = True):
    context = browser.new_context(viewport={"width": width, "height": height}, color_scheme=scheme)
    if AXE.exists():
        # An init script comes with the browser, not the page, so the page's CSP (no inline scripts) lets it in.
        context.add_init_script(path=str(AXE))
    page = context.new_page()
    watch = PageWatch(page, url)
    page.goto(url)
    if wait_ready:
        wait_for_js(page, "['ready', 'error'].includes(document.documentElement.dataset.state)", timeout=BOOT_MS)
        assert page.evaluate("document.documentElement.dataset.state") == "ready", page.inner_text(".boot-stage")
    return page, watch


def axe_violations(page) -> list[dict]:
    """axe-core's violations on the page as it is now (all of axe's default rules, best practices included)."""
    if not AXE.exists():
        missing(f"{AXE} is not installed: npm ci (axe-core is a devDependency)")
    assert page.evaluate("typeof window.axe === 'object'"), "axe-core was not injected (open_page adds it)"
    return page.evaluate("""async () => {
      const { violations } = await axe.run(document, { resultTypes: ['violations'] });
      return violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help,
        nodes: v.nodes.slice(0, 4).map((n) => `${n.target.join(' ')}: ${n.failureSummary}`) }));
    }""")


def show_tab(page, tool: str) -> None:
    page.click(f'[data-testid="tab-{tool}"]')
    wait_for_js(page, "id => !document.getElementById(`panel-${id}`).hidden", arg=tool)
    # A panel is complete once its module mounted (About waits for Python, which is ready).
    wait_for_js(page, "id => document.getElementById(`panel-${id}`).querySelector('h2')", arg=tool, timeout=30_000)


def photo(path: Path, size: tuple[int, int]) -> Path:
    from skimage import data

    Image.fromarray(data.astronaut()).resize(size, Image.Resampling.LANCZOS).save(path)
    return path


@pytest.fixture(scope="module")
def inputs(tmp_path_factory, upstream) -> dict:
    folder = tmp_path_factory.mktemp("a11y")
    speech = upstream / "lyra" / "testdata" / "sample1_16kHz.wav"
    if not speech.exists():
        missing(f"{speech} is not there (the upstream Lyra test data)")
    with wave.open(str(speech)) as source:
        params = source.getparams()
        frames = source.readframes(int(1.0 * params.framerate))
    short = folder / "short.wav"
    with wave.open(str(short), "wb") as out:
        out.setparams(params)
        out.writeframes(frames)
    return {"photo": photo(folder / "astronaut.png", (512, 384)), "texture": photo(folder / "texture.png", (128, 128)),
            "speech": short}


def result_of(page, testid: str, timeout_ms: int = RESULT_MS) -> dict:
    wait_for_js(page, "id => document.querySelector(`[data-testid=\"${id}\"]`)?.dataset.result", arg=testid,
                           timeout=timeout_ms)
    return json.loads(page.get_attribute(f'[data-testid="{testid}"]', "data-result"))


# The focused element, and whether a person can see it: it has a box, is rendered, and (when the header is
# sticky) is not under the header.
FOCUSED = """() => {
  const node = document.activeElement;
  if (!node || node === document.body) return null;
  const box = node.getBoundingClientRect();
  const header = document.querySelector('.topbar');
  const sticky = getComputedStyle(header).position === 'sticky';
  const inHeader = header.contains(node);
  const covered = sticky && !inHeader && box.top < header.getBoundingClientRect().bottom - 1;
  return { tag: node.tagName.toLowerCase(), role: node.getAttribute('role'), id: node.id,
           testid: node.dataset.testid || null, label: (node.getAttribute('aria-label') || node.textContent || '').trim().slice(0, 60),
           visible: box.width > 0 && box.height > 0 && node.checkVisibility({ visibilityProperty: true, opacityProperty: true }),
           covered, inView: box.bottom > 0 && box.top < innerHeight };
}"""


def tab_until(page, matches, backwards: bool = False, limit: int = 60) -> dict:
    """Press Tab (or Shift+Tab) until the focused element matches; every stop on the way must be seen."""
    key = "Shift+Tab" if backwards else "Tab"
    stops = []
    for _ in range(limit):
        page.keyboard.press(key)
        focused = page.evaluate(FOCUSED)
        if focused is None:
            continue
        stops.append(focused)
        assert focused["visible"], f"an invisible Tab stop: {focused} (after {stops[:-1]})"
        assert focused["inView"] and not focused["covered"], f"a focused control is off screen or under the header: {focused}"
        if matches(focused):
            return focused
    raise AssertionError(f"{key} never reached the control; stops: {[s['testid'] or s['label'] for s in stops]}")


def to_tab_list(page) -> None:
    tab_until(page, lambda f: f["role"] == "tab", backwards=True)


def selected_tab(page) -> str:
    return page.evaluate("document.querySelector('[role=tab][aria-selected=true]').id")


def arrow_to_tab(page, tool: str) -> None:
    """From a focused tab, the arrow keys reach `tool`'s tab (and select it)."""
    for _ in range(len(TABS)):
        if selected_tab(page) == f"tab-{tool}":
            break
        page.keyboard.press("ArrowRight")
    assert selected_tab(page) == f"tab-{tool}"
    assert page.evaluate("document.activeElement.id") == f"tab-{tool}"
    page.locator(f"#panel-{tool}").wait_for(state="visible", timeout=30_000)  # its module loads as it first opens


class FileChoosers:
    """The file choosers a page opens. Listening from the start keeps Playwright's interception of the
    chooser on before any key is pressed (turning it on inside `expect_file_chooser` races the key)."""

    def __init__(self, page):
        self.page = page
        self.opened = []
        page.on("filechooser", lambda chooser: self.opened.append(chooser))

    def press_and_choose(self, key: str, path: Path) -> None:
        self.choose(lambda: self.page.keyboard.press(key), path, key)

    def choose(self, act, path: Path, what: str = "the action") -> None:
        before = len(self.opened)
        act()
        for _ in range(100):
            if len(self.opened) > before:
                self.opened[-1].set_files(str(path))
                return
            self.page.wait_for_timeout(100)
        raise AssertionError(f"{what} opened no file chooser")


def pick_with_enter(page, choosers: FileChoosers, zone_panel: str, path: Path) -> None:
    """Tab to the panel's drop zone, and pick `path` in the file chooser Enter opens."""
    zone = tab_until(page, lambda f: f["role"] == "button" and page.evaluate(
        "p => document.activeElement.classList.contains('dropzone') && document.getElementById(p).contains(document.activeElement)",
        zone_panel))
    assert zone["tag"] == "div"
    choosers.press_and_choose("Enter", path)


def overflow(page) -> dict:
    """How wide the page lays out, and the elements that stick out of the viewport (not those inside a box
    that scrolls on its own)."""
    return page.evaluate("""() => {
      const width = document.documentElement.clientWidth;
      const page = [document.body, document.documentElement];
      const scrolls = (node) => {
        for (let n = node.parentElement; n && !page.includes(n); n = n.parentElement) {
          if (['auto', 'scroll', 'hidden', 'clip'].includes(getComputedStyle(n).overflowX)) return true;
        }
        return false;
      };
      const wide = [];
      for (const node of document.querySelectorAll('body *')) {
        const box = node.getBoundingClientRect();
        if (!box.width || box.right <= width + 0.5 || scrolls(node)) continue;
        wide.push(`${node.tagName.toLowerCase()}.${node.className} ${node.dataset.testid || ''} right=${Math.round(box.right)}`);
      }
      return { width, scrollWidth: document.documentElement.scrollWidth, wide: wide.slice(0, 12) };
    }""")


# ---------------------------------------------------------------- axe on every tab


@pytest.mark.parametrize("scheme", ["dark", "light"])
@pytest.mark.parametrize(("width", "height"), [(1280, 900), (375, 812)], ids=["desktop", "375px"])
def test_axe_finds_no_violations_on_any_tab(browser, site, width, height, scheme):
    page, watch = open_page(browser, site.url, width, height, scheme, wait_ready=False)
    try:
        page.wait_for_selector('[data-testid="attention-input"]', state="attached")
        found = {"while booting": axe_violations(page)}  # the boot card, over the first tab (if still booting)
        wait_for_js(page, "['ready', 'error'].includes(document.documentElement.dataset.state)", timeout=BOOT_MS)
        for tool in TABS:
            show_tab(page, tool)
            found[tool] = axe_violations(page)
        assert {k: v for k, v in found.items() if v} == {}
        assert page.evaluate("matchMedia('(prefers-color-scheme: dark)').matches") == (scheme == "dark")
        assert watch.console_errors == []
    finally:
        page.context.close()


# ---------------------------------------------------------------- the keyboard alone


def test_every_tool_by_keyboard_alone(browser, site, inputs):
    page, watch = open_page(browser, site.url, 1280, 900)
    choosers = FileChoosers(page)
    try:
        # The tab list is one Tab stop: the selected tab; arrows, Home and End move and select.
        first = tab_until(page, lambda f: f["role"] == "tab")
        assert first["id"] == "tab-attention"
        after = tab_until(page, lambda f: True)
        assert after["role"] != "tab", "every tab is its own Tab stop"
        to_tab_list(page)
        page.keyboard.press("End")
        assert selected_tab(page) == "tab-about"
        page.locator("#panel-about").wait_for(state="visible", timeout=30_000)
        page.keyboard.press("Home")
        assert selected_tab(page) == "tab-attention"
        page.keyboard.press("ArrowLeft")  # wraps around
        assert selected_tab(page) == "tab-about"
        page.keyboard.press("ArrowRight")
        assert selected_tab(page) == "tab-attention" and page.evaluate("document.activeElement.id") == "tab-attention"
        tabs = page.eval_on_selector_all(
            '[role="tab"]', "ts => ts.map(t => [t.getAttribute('aria-selected'), t.tabIndex, t.getAttribute('aria-controls')])")
        assert tabs == [["true", 0, "panel-attention"]] + [["false", -1, f"panel-{t}"] for t in TABS[1:]]

        # Attention: pick a photo with Enter; its centre is shown as text.
        pick_with_enter(page, choosers, "panel-attention", inputs["photo"])
        page.wait_for_selector('[data-testid="attention-coords"]', timeout=RESULT_MS)
        assert "(" in page.inner_text('[data-testid="attention-coords"]')

        # JPEG XL: the PNG is encoded and reordered; the byte slider moves with the arrow keys.
        to_tab_list(page)
        arrow_to_tab(page, "jxl")
        pick_with_enter(page, choosers, "panel-jxl", inputs["photo"])
        jxl = result_of(page, "jxl-result")
        assert jxl["bytes_to_center_first"] > 0
        assert page.evaluate("document.querySelector('[data-testid=jxl-announce]').textContent").startswith("Attention centre at")
        tab_until(page, lambda f: f["testid"] == "jxl-slider")
        page.keyboard.press("Home")
        for _ in range(3):
            page.keyboard.press("ArrowRight")
        wait_for_js(page, "document.querySelector('[data-testid=jxl-result]').dataset.slider === '3'")
        assert page.get_attribute('[data-testid="jxl-slider"]', "aria-valuetext").endswith("Mbps")

        # Lyra: bitrate from the keyboard, loss moved with the arrows, a clip picked with Enter and streamed.
        to_tab_list(page)
        arrow_to_tab(page, "lyra")
        tab_until(page, lambda f: f["testid"] == "lyra-bitrate")
        before = page.input_value('[data-testid="lyra-bitrate"]')
        page.keyboard.press("ArrowDown")
        assert page.input_value('[data-testid="lyra-bitrate"]') != before
        tab_until(page, lambda f: f["testid"] == "lyra-loss")
        page.keyboard.press("ArrowRight")
        page.keyboard.press("ArrowRight")
        assert page.input_value('[data-testid="lyra-loss"]') == "2"
        tab_until(page, lambda f: f["role"] == "button" and f["label"].startswith("Drop"), backwards=True)
        choosers.press_and_choose("Enter", inputs["speech"])
        lyra = result_of(page, "lyra-result")
        assert lyra["packets_sent"] > 0 and page.inner_text('[data-testid="lyra-fig-sent"]') not in ("", "–")

        # Basis: a PNG picked with Enter is encoded to KTX2 and shown; the quality slider moves with the arrows.
        to_tab_list(page)
        arrow_to_tab(page, "basis")
        pick_with_enter(page, choosers, "panel-basis", inputs["texture"])
        basis = result_of(page, "basis-result")
        assert basis["gpu_bytes"] > 0 and basis["encoded"] is True
        tab_until(page, lambda f: f["testid"] == "basis-quality", backwards=True)
        page.keyboard.press("ArrowLeft")
        assert page.input_value('[data-testid="basis-quality"]') == "127"

        # With results on every tab, axe still finds nothing.
        found = {}
        for tool in TABS:
            show_tab(page, tool)
            found[tool] = axe_violations(page)
        assert {k: v for k, v in found.items() if v} == {}
        assert watch.console_errors == []
    finally:
        page.context.close()


# ---------------------------------------------------------------- a 320 px phone


def test_nothing_is_wider_than_a_320px_screen(browser, site, inputs):
    page, watch = open_page(browser, site.url, 320, 640)
    try:
        assert page.evaluate("getComputedStyle(document.querySelector('.topbar')).position") == "static"
        for tool in TABS:
            show_tab(page, tool)
            seen = overflow(page)
            assert seen["scrollWidth"] <= seen["width"] and not seen["wide"], (tool, seen)
        # The tools' results too (tables, canvases, figures), one file each.
        for tool, testid, path in (("attention", "attention-input", "photo"), ("jxl", "jxl-input", "photo"),
                                   ("basis", "basis-input", "texture"), ("lyra", "lyra-input", "speech")):
            show_tab(page, tool)
            page.set_input_files(f'[data-testid="{testid}"]', str(inputs[path]))
            if tool == "attention":
                page.wait_for_selector('[data-testid="attention-coords"]', timeout=RESULT_MS)
            else:
                result_of(page, {"jxl": "jxl-result", "basis": "basis-result", "lyra": "lyra-result"}[tool])
            page.wait_for_timeout(200)  # a layout pass after the result
            seen = overflow(page)
            assert seen["scrollWidth"] <= seen["width"] and not seen["wide"], (tool, seen)
        assert watch.console_errors == []
    finally:
        page.context.close()


# ---------------------------------------------------------------- touch, on a 390 x 844 phone


def touch(cdp, kind: str, points: list[tuple[float, float]]) -> None:
    cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": [{"x": x, "y": y, "id": i} for i, (x, y) in enumerate(points)]})


def test_touch_opens_the_pickers_pinches_the_texture_and_drags_the_byte_slider(browser, site, inputs):
    context = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True, device_scale_factor=1)
    page = context.new_page()
    watch = PageWatch(page, site.url)
    choosers = FileChoosers(page)
    page.goto(site.url + "#basis")
    wait_for_js(page, "document.documentElement.dataset.state === 'ready'", timeout=BOOT_MS)
    cdp = context.new_cdp_session(page)
    try:
        # A tap on a drop zone opens the picker.
        choosers.choose(lambda: page.tap("#panel-basis .dropzone"), inputs["texture"], "a tap on the drop zone")
        result_of(page, "basis-result")
        canvas = page.locator('[data-testid="basis-canvas"]')
        canvas.scroll_into_view_if_needed()
        box = canvas.bounding_box()
        cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        before = page.evaluate("window.codeclab.basis.viewState()")
        # Two fingers 60 px apart move to 180 px apart: three times the zoom.
        touch(cdp, "touchStart", [(cx - 30, cy), (cx + 30, cy)])
        for step in range(1, 7):
            touch(cdp, "touchMove", [(cx - 30 - 10 * step, cy), (cx + 30 + 10 * step, cy)])
        touch(cdp, "touchEnd", [])
        pinched = page.evaluate("window.codeclab.basis.viewState()")
        assert pinched["zoom"] == pytest.approx(before["zoom"] * 3, rel=0.02)
        # One finger pans.
        touch(cdp, "touchStart", [(cx, cy)])
        for step in range(1, 5):
            touch(cdp, "touchMove", [(cx + 10 * step, cy + 5 * step)])
        touch(cdp, "touchEnd", [])
        panned = page.evaluate("window.codeclab.basis.viewState()")
        assert panned["zoom"] == pinched["zoom"]
        assert panned["pan"][0] - pinched["pan"][0] == pytest.approx(40, abs=1)
        assert panned["pan"][1] - pinched["pan"][1] == pytest.approx(20, abs=1)

        # JPEG XL: a tap picks the photo; a finger drags the byte slider from its end to a quarter.
        # Scrolled up first, and past the double-tap window of the last touch: a tap Playwright makes right
        # after scrolling the tab into view, or right after another touch, may give no click.
        page.evaluate("scrollTo(0, 0)")
        page.wait_for_timeout(600)
        page.tap('[data-testid="tab-jxl"]')
        wait_for_js(page, "!document.getElementById('panel-jxl').hidden", timeout=5_000)
        choosers.choose(lambda: page.tap("#panel-jxl .dropzone"), inputs["photo"], "a tap on the drop zone")
        result_of(page, "jxl-result")
        slider = page.locator('[data-testid="jxl-slider"]')
        slider.scroll_into_view_if_needed()
        box = slider.bounding_box()
        y = box["y"] + box["height"] / 2
        start, goal = box["x"] + box["width"] - 4, box["x"] + box["width"] * 0.25
        touch(cdp, "touchStart", [(start, y)])
        for step in range(1, 11):
            touch(cdp, "touchMove", [(start + (goal - start) * step / 10, y)])
        touch(cdp, "touchEnd", [])
        wait_for_js(page, "Number(document.querySelector('[data-testid=jxl-result]').dataset.slider) < 400")
        assert watch.console_errors == []
    finally:
        context.close()
