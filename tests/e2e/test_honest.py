"""Issue 31: every claim on the page is true, and nothing the visitor made is lost (attention, JPEG XL, Basis).

Every input is made here: photos drawn with numpy/Pillow (PNG, JPEG, WebP, AVIF), JPEG XL files by cjxl,
textures by basisu (a cubemap and a texture array), a PDF, an empty file.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from devkit.chromium import wait_for_js

from .conftest import wait_result

pytestmark = pytest.mark.e2e

PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
FACE_COLOURS = [(230, 40, 40), (40, 200, 60), (40, 70, 230), (235, 220, 40), (40, 210, 220), (220, 50, 210)]


def photo(width: int, height: int, seed: int, blob: tuple[float, float] = (0.62, 0.4)) -> Image.Image:
    """A textured picture with one bright disc (where people would look), reproducible from the seed."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width]
    base = 60 + 40 * np.sin(xx / 37.0)[..., None] * np.array([1.0, 0.6, 0.3]) + rng.normal(0, 12, (height, width, 3))
    disc = np.exp(-((xx - blob[0] * width) ** 2 + (yy - blob[1] * height) ** 2) / (2 * (0.07 * min(width, height)) ** 2))
    pixels = base + disc[..., None] * np.array([190.0, 170.0, 120.0])
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


@pytest.fixture(scope="module")
def made(tmp_path_factory, cjxl) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("honest")
    files: dict[str, Path] = {}

    def save(name: str, image: Image.Image, **options) -> None:
        files[name] = out / name
        image.save(files[name], **options)

    save("wide.png", photo(900, 700, 1))
    save("small.png", photo(500, 400, 2))
    save("corner.png", photo(300, 280, 3, blob=(0.3, 0.3)))  # group 0 is 256×256 of it
    save("other.png", photo(320, 240, 4))
    save("photo.jpg", photo(640, 480, 5), quality=90)
    save("photo.webp", photo(400, 300, 6), quality=85)
    save("photo.avif", photo(640, 480, 7), quality=80)
    save("big.png", photo(1024, 1024, 8))
    for stem in ("wide", "small", "corner"):
        files[f"{stem}.jxl"] = out / f"{stem}.jxl"
        subprocess.run([cjxl, str(files[f"{stem}.png"]), str(files[f"{stem}.jxl"]), "-d", "1.5", "-e", "3", "--quiet"],
                       check=True, capture_output=True)
    (out / "empty.bin").write_bytes(b"")
    (out / "paper.pdf").write_bytes(PDF)
    files["empty"], files["pdf"] = out / "empty.bin", out / "paper.pdf"
    return files


@pytest.fixture(scope="module")
def textures(made, basisu) -> dict[str, Path]:
    """basisu's cubemap (six faces of six colours), a 3-layer texture array and a flat texture."""
    out = made["empty"].parent
    faces = []
    for i, colour in enumerate(FACE_COLOURS):
        faces.append(f"face{i}.png")
        Image.new("RGB", (32, 32), colour).save(out / faces[-1])
    files = dict(made)
    for name, args in {"cube.ktx2": ["-ktx2", "-tex_type", "cubemap", *faces],
                       "array.basis": ["-tex_type", "2darray", *faces[:3]],
                       "flat.basis": [faces[0]]}.items():
        done = subprocess.run([str(basisu), *args, "-output_file", name], cwd=out, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stdout + done.stderr
        files[name] = out / name
    return files


@pytest.fixture
def page(watched_page):
    return watched_page


def drop_files(page, testid: str, paths: list[Path]) -> None:
    """Several files dropped at once on a drop zone (a file input that takes one cannot be given several)."""
    payload = [{"name": p.name, "data": base64.b64encode(p.read_bytes()).decode(), "type": mime(p)} for p in paths]
    page.locator(f'[data-testid="{testid}"]').wait_for(state="attached")  # a tab's module mounts as it first opens
    page.evaluate("""([testid, files]) => {
        const transfer = new DataTransfer();
        for (const f of files) transfer.items.add(new File([Uint8Array.from(atob(f.data), c => c.charCodeAt(0))], f.name, {type: f.type}));
        const zone = document.querySelector(`[data-testid="${testid}"]`).closest('.dropzone');
        zone.dispatchEvent(new DragEvent('drop', {dataTransfer: transfer, bubbles: true, cancelable: true}));
    }""", [testid, payload])


def mime(path: Path) -> str:
    return {".png": "image/png", ".jpg": "image/jpeg", ".webp": "image/webp", ".avif": "image/avif",
            ".pdf": "application/pdf"}.get(path.suffix, "application/octet-stream")


def error_parts(page, testid: str) -> tuple[str, str, bool]:
    """(the sentence a visitor reads, the details text, whether the details are open) of an error box."""
    box = page.locator(f'[data-testid="{testid}"]')
    box.wait_for(state="visible", timeout=60_000)
    return page.evaluate("""testid => {
        const box = document.querySelector(`[data-testid="${testid}"]`);
        const more = box.querySelector('details');
        const copy = box.cloneNode(true);
        copy.querySelector('details')?.remove();
        return [copy.textContent, more ? more.querySelector('.error-details').textContent : '', more ? more.open : false];
    }""", testid)


def jxl_drop(page, path: Path) -> dict:
    page.click('[data-testid="tab-jxl"]')
    page.locator('[data-testid="jxl-result"]').evaluate("n => delete n.dataset.result")
    page.set_input_files('[data-testid="jxl-input"]', str(path))
    return wait_result(page, "jxl-result", 240_000)


def basis_drop(page, path: Path, timeout_ms: int = 120_000) -> dict:
    page.click('[data-testid="tab-basis"]')
    page.locator('[data-testid="basis-result"]').evaluate("n => delete n.dataset.result")
    page.set_input_files('[data-testid="basis-input"]', str(path))
    return wait_result(page, "basis-result", timeout_ms)


# ---------------------------------------------------------------- 4. honest headlines (JPEG XL)

def _kb(page, testid: str) -> list[str]:
    return page.inner_text(f'[data-testid="{testid}"] b').split(" · ")[0].split(" / ")


def _expected_verdict(first: int, scanline: int) -> str:
    """The page's rule (plan.js compareBytes), restated: equal within max(64 B, 1 %)."""
    if abs(scanline - first) <= max(64, 0.01 * scanline):
        return "same"
    return "sooner" if first < scanline else "later"


@pytest.mark.parametrize("stem", ["wide", "small", "corner"])
def test_the_jxl_headline_says_what_its_own_figures_say(page, made, stem):
    """"×1.19 sooner" beside "no gain possible", "×1.27 sooner" while half the salient area came later."""
    result = jxl_drop(page, made[f"{stem}.jxl"])
    headline = page.inner_text('[data-testid="jxl-headline"]')
    ratio = page.inner_text('[data-testid="jxl-fig-ratio"] b')
    why = page.locator('[data-testid="jxl-fig-ratio-why"]')
    centre = _expected_verdict(result["bytes_to_center_first"], result["bytes_to_center_scanline"])
    salient = _expected_verdict(result["half_salient_first"], result["half_salient_scanline"])
    assert result["verdict"] == {"centre": centre, "salient": salient}, result
    # the sentence quotes the figures shown beside it, byte for byte
    first, scan = _kb(page, "jxl-fig-first")[0], _kb(page, "jxl-fig-scanline")[0]
    half_first, half_scan = _kb(page, "jxl-fig-salient")
    assert f"{first} attention-first vs {scan} in scanline order" in headline, headline
    assert f"{half_first} attention-first vs {half_scan} in scanline order" in headline, headline
    if centre == "sooner":
        ratio_value = result["bytes_to_center_scanline"] / result["bytes_to_center_first"]
        assert ratio == f"×{ratio_value:.2f}" and f"×{ratio_value:.2f} sooner" in headline
        assert why.is_hidden() and "No gain" not in headline
    else:
        assert "sooner" not in ratio and headline.startswith("No gain") and why.is_visible()
        assert "no gain" in why.inner_text()
    if salient == "later":
        assert "but half the salient area is complete later attention-first" in headline
    else:
        assert "later" not in headline.split(";")[1]
    if stem == "small":  # 500×400: 2×2 groups
        assert result["groups"] == 4
        if centre != "sooner":
            assert "only 4 groups" in why.inner_text() or "first group" in why.inner_text()
    if stem == "corner":  # 300×280: the top-left group is most of the image, and the disc is in it
        assert result["center_group"] == 0, result["center"]
        assert centre != "sooner" and "first group that scanline order loads" in why.inner_text()


def test_the_salient_area_is_drawn_with_an_outline_on_both_panes(page, made):
    jxl_drop(page, made["wide.jxl"])
    pixels = """() => [...document.querySelectorAll('[data-testid=jxl-view-first] canvas.jxl-overlay')].map(c =>
        Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data))"""
    with_area = page.evaluate(pixels)
    page.uncheck("#jxl-salient-toggle")
    page.wait_for_timeout(300)
    without = page.evaluate(pixels)
    assert len(with_area) == len(without) == 2  # Chromium's pane and the simulation
    for on, off in zip(with_area, without):
        on, off = np.array(on, np.int16).reshape(-1, 4), np.array(off, np.int16).reshape(-1, 4)
        changed = np.abs(on - off).max(axis=1) > 0
        outline = (on[:, 0] > 200) & (on[:, 1] > 150) & (on[:, 2] < 140) & (on[:, 3] > 200)  # the opaque #ffd166 dashes
        dark = (on[:, :3].max(axis=1) < 40) & (on[:, 3] > 120) & changed  # and the dark dashes between them
        assert changed.sum() > 500 and outline.sum() >= 10 and dark.sum() >= 10, (changed.sum(), outline.sum(), dark.sum())


# ---------------------------------------------------------------- 5. inputs as advertised

def test_avif_listed_in_the_attention_hint_is_read_through_the_browser(page, made):
    page.click('[data-testid="tab-attention"]')
    assert "AVIF" in page.inner_text("#attention-card .dropzone-hint")
    page.select_option('[data-testid="attention-predictor"]', "fallback")
    page.set_input_files('[data-testid="attention-input"]', [str(made["photo.avif"]), str(made["photo.jpg"])])
    wait_for_js(page, "document.querySelectorAll('.attention-shot').length === 2", timeout=120_000)
    assert page.inner_text('[data-testid="attention-error"]').strip() == ""
    shots = page.locator(".attention-shot")
    avif = shots.nth(0)
    assert "photo.avif" in avif.inner_text() and "decoded by the browser" in avif.inner_text()
    assert "of 640×480" in avif.inner_text()
    # the same picture as a JPEG gives nearly the same point (both are the drawn disc)
    ax, ay = float(avif.get_attribute("data-x")), float(avif.get_attribute("data-y"))
    jx, jy = float(shots.nth(1).get_attribute("data-x")), float(shots.nth(1).get_attribute("data-y"))
    assert abs(ax - 0.62 * 640) < 64 and abs(ay - 0.4 * 480) < 64, (ax, ay)
    assert jx > 0 and jy > 0


@pytest.mark.parametrize("kind", ["empty", "pdf", "webp"])
def test_a_bad_file_gets_the_same_sentence_on_every_tab_with_details_behind_a_disclosure(page, made, kind):
    path = {"empty": made["empty"], "pdf": made["pdf"], "webp": made["photo.webp"]}[kind]
    expected = {"empty": "the file is empty", "pdf": "this is a PDF document, not ", "webp": "this is a WebP image, not "}[kind]
    tabs = [("attention", "attention-input", "attention-error"), ("jxl", "jxl-input", "jxl-error"),
            ("basis", "basis-input", "basis-error")]
    if kind == "webp":  # attention reads WebP, and JPEG XL encodes it: only Basis refuses it
        tabs = tabs[2:]
    for tab, input_id, error_id in tabs:
        page.click(f'[data-testid="tab-{tab}"]')
        page.set_input_files(f'[data-testid="{input_id}"]', str(path))
        sentence, details, opened = error_parts(page, error_id)
        assert expected in sentence, (tab, sentence)
        for tail in ("byte offset", "field ", "magic", "Error"):
            assert tail not in sentence, (tab, sentence)
        assert details and not opened, (tab, details)  # the technical detail is there, behind "details"
    page.click('[data-testid="tab-jxl"]')
    assert jxl_drop(page, made["wide.jxl"])["total"] > 0  # and the page keeps working


def test_several_files_on_jxl_or_basis_are_said_to_use_only_the_first(page, textures):
    page.click('[data-testid="tab-jxl"]')  # a tab's module mounts when the tab is first opened
    drop_files(page, "jxl-input", [textures["small.jxl"], textures["wide.jxl"]])
    result = wait_result(page, "jxl-result", 240_000)
    assert (result["width"], result["height"]) == (500, 400)
    note = page.inner_text('[data-testid="jxl-input-note"]')
    assert note == "2 files dropped: only the first, small.jxl, is used (this tool takes one file at a time)."
    page.click('[data-testid="tab-basis"]')
    drop_files(page, "basis-input", [textures["flat.basis"], textures["cube.ktx2"], textures["array.basis"]])
    assert wait_result(page, "basis-result")["name"] == "flat.basis"
    assert "3 files dropped: only the first, flat.basis, is used" in page.inner_text('[data-testid="basis-input-note"]')
    basis_drop(page, textures["cube.ktx2"])  # one file: the note goes
    assert page.inner_text('[data-testid="basis-input-note"]') == ""


# ---------------------------------------------------------------- 6. menus mean what they say (attention)

def _cards(page) -> list[dict]:
    return page.evaluate("""() => [...document.querySelectorAll('.attention-shot')].map(s => ({
        name: s.querySelector('strong').textContent, predictor: s.dataset.predictor, x: Number(s.dataset.x),
        y: Number(s.dataset.y), text: s.innerText}))""")


def test_attention_menus_combine_as_labelled_rerun_the_shown_images_and_exports_carry_every_figure(page, made, dist):
    index = json.loads((dist / "models" / "index.json").read_text()) if (dist / "models" / "index.json").exists() else {}
    if "attention_lite" not in index:
        pytest.fail(f"{dist}/models has no attention_lite: build with the upstream models")
    page.click('[data-testid="tab-attention"]')
    page.wait_for_selector('[data-testid="attention-model"][data-lite]', timeout=120_000)
    page.select_option('[data-testid="attention-predictor"]', "auto")
    page.select_option('[data-testid="attention-models"]', "both")
    page.set_input_files('[data-testid="attention-input"]', [str(made["wide.png"]), str(made["other.png"])])
    wait_for_js(page, "document.querySelectorAll('.attention-shot').length === 2", timeout=240_000)
    full = _cards(page)
    assert [c["predictor"] for c in full] == ["model", "model"]
    assert all("px from the full model's centre" in c["text"] for c in full)

    # the fallback fills the full place: the shown images run again, and the lite line names the fallback
    page.select_option('[data-testid="attention-predictor"]', "fallback")
    assert page.eval_on_selector('[data-testid="attention-models"]', "n => n.selectedOptions[0].textContent").startswith("fallback + ")
    wait_for_js(page, """() => { const s = [...document.querySelectorAll('.attention-shot')];
        return s.length === 2 && s.every(n => n.dataset.predictor === 'fallback'); }""", timeout=240_000)
    fallback = _cards(page)
    assert [c["name"] for c in fallback] == ["wide.png", "other.png"]
    for card in fallback:
        assert "from the fallback predictor's centre" in card["text"] and "full model" not in card["text"], card["text"]

    with page.expect_download() as info:
        page.click('[data-testid="attention-export-json"]')
    exported = json.loads(Path(info.value.path()).read_text())
    with page.expect_download() as info:
        page.click('[data-testid="attention-export-csv"]')
    rows = list(csv.DictReader(io.StringIO(Path(info.value.path()).read_text())))
    assert [r["file"] for r in rows] == [e["file"] for e in exported] == ["wide.png", "other.png"]
    for row, record in zip(rows, exported):
        assert row["predictor"] == record["predictor"] == "fallback"
        assert record["lite_compared_with"]["predictor"] == "fallback"
        assert row["lite_compared_with"] == record["lite_compared_with"]["model"]
        assert float(row["lite_x"]) == pytest.approx(record["lite"]["x"], abs=0.01)
        assert float(row["lite_y"]) == pytest.approx(record["lite"]["y"], abs=0.01)
        assert float(row["lite_distance_frame_px"]) == pytest.approx(record["lite_distance"], abs=0.01)
        assert float(row["total_ms"]) == pytest.approx(record["total_ms"], abs=0.1)
        assert row["lite_model"] == record["lite"]["model"]
        shown = next(c for c in fallback if c["name"] == row["file"])
        assert f"{record['lite_distance']:.1f} px" in shown["text"]

    # the lite model alone: the predictor menu says it is not used, and the images run as lite
    page.select_option('[data-testid="attention-models"]', "lite")
    assert page.is_disabled('[data-testid="attention-predictor"]')
    assert "not used" in page.inner_text('[data-testid="attention-predictor-note"]')
    wait_for_js(page, """() => { const s = [...document.querySelectorAll('.attention-shot')];
        return s.length === 2 && s.every(n => n.dataset.predictor === 'lite'); }""", timeout=240_000)
    assert page.inner_text('[data-testid="attention-error"]').strip() == ""


# ---------------------------------------------------------------- 7. nothing lost

def test_a_bad_file_after_a_good_jxl_result_keeps_the_result(page, made):
    good = jxl_drop(page, made["wide.jxl"])
    page.set_input_files('[data-testid="jxl-input"]', str(made["pdf"]))
    sentence, _, _ = error_parts(page, "jxl-error")
    assert "paper.pdf" in sentence and "Still showing wide below." in sentence
    result = page.locator('[data-testid="jxl-result"]')
    assert result.is_visible() and json.loads(result.get_attribute("data-result")) == good
    assert "jxl-result-stale" not in result.get_attribute("class")
    assert jxl_drop(page, made["small.jxl"])["groups"] == 4
    assert page.locator('[data-testid="jxl-error"]').is_hidden()


def test_a_bad_file_after_a_good_basis_result_keeps_the_texture(page, textures):
    good = basis_drop(page, textures["cube.ktx2"])
    page.locator('[data-testid="basis-result"]').evaluate("n => delete n.dataset.result")
    page.set_input_files('[data-testid="basis-input"]', str(textures["pdf"]))
    sentence, _, _ = error_parts(page, "basis-error")
    assert "paper.pdf" in sentence and "Still showing cube.ktx2 below." in sentence
    assert wait_result(page, "basis-result") == good
    assert page.evaluate("window.codeclab.basis.current().name") == "cube.ktx2"
    assert page.locator('[data-testid="basis-canvas"]').is_visible() and page.locator(".basis-placeholder").is_hidden()


def test_a_long_uastc_encode_shows_progress_and_can_be_cancelled_keeping_the_texture(page, textures):
    before = basis_drop(page, textures["flat.basis"])
    page.select_option('[data-testid="basis-mode"]', "uastc")
    page.select_option('[data-testid="basis-uastc-level"]', "4")
    started = time.monotonic()
    page.set_input_files('[data-testid="basis-input"]', str(textures["big.png"]))
    wait_for_js(page, "document.querySelector('[data-testid=basis-progress]').dataset.stage"
                           "?.startsWith('Encoding 1024×1024 to UASTC level 4')", timeout=60_000)
    page.wait_for_timeout(1500)
    progress = page.inner_text('[data-testid="basis-progress"]')
    assert "UASTC level 4" in progress and " s" in progress  # the time spent so far is shown
    page.click('[data-testid="basis-cancel"]')
    wait_for_js(page, "!document.querySelector('[data-testid=basis-notice]').hidden", timeout=10_000)
    cancelled_after = time.monotonic() - started
    assert page.inner_text('[data-testid="basis-notice"]') == "Encoding big.png cancelled. Still showing flat.basis."
    assert page.locator('[data-testid="basis-progress"]').is_hidden()
    assert wait_result(page, "basis-result") == before
    # the encoder starts afresh for the next file
    page.select_option('[data-testid="basis-mode"]', "etc1s")
    again = basis_drop(page, textures["other.png"])
    assert again["encoded"] and again["name"] == "other.ktx2"
    print(f"cancelled a UASTC level 4 encode of 1024×1024 after {cancelled_after:.1f} s")


def test_a_file_dropped_while_python_starts_is_acknowledged(browser, site, made):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        page.goto(site.url)
        page.click('[data-testid="tab-jxl"]')
        page.set_input_files('[data-testid="jxl-input"]', str(made["small.jxl"]))
        booting = page.evaluate("document.documentElement.dataset.state")
        if booting == "booting":
            assert "small.jxl: queued, Python is starting" in page.inner_text('[data-testid="jxl-progress"]')
        page.click('[data-testid="tab-attention"]')
        page.set_input_files('[data-testid="attention-input"]', str(made["other.png"]))
        if page.evaluate("document.documentElement.dataset.state") == "booting":
            assert "queued, Python is starting" in page.inner_text(".attention-pending")
        assert booting == "booting", "Python was ready before the drop: the acknowledgement was not exercised"
        wait_for_js(page, "document.querySelectorAll('.attention-shot').length === 1", timeout=240_000)
        page.click('[data-testid="tab-jxl"]')
        assert wait_result(page, "jxl-result", 240_000)["groups"] == 4
    finally:
        context.close()


# ---------------------------------------------------------------- 8. each face and layer

def _level0_colour(page) -> np.ndarray:
    reply = page.evaluate("window.codeclab.basis.readback(0)")
    texels = np.frombuffer(base64.b64decode(reply["base64"]), np.uint8).reshape(reply["height"], reply["width"], 4)
    return texels[..., :3].reshape(-1, 3).mean(axis=0)


@pytest.mark.parametrize("name,count,labels", [
    ("cube.ktx2", 6, ["face 0 (+X)", "face 1 (−X)", "face 2 (+Y)", "face 3 (−Y)", "face 4 (+Z)", "face 5 (−Z)"]),
    ("array.basis", 3, ["image 0", "image 1", "image 2"]),
])
def test_every_face_and_layer_can_be_shown(page, textures, name, count, labels):
    result = basis_drop(page, textures[name])
    assert result["images"] == count and result["image"] == 0
    options = page.eval_on_selector_all('[data-testid="basis-image"] option', "os => os.map(o => o.textContent)")
    assert options == labels
    for i in range(count):
        if i:
            page.locator('[data-testid="basis-result"]').evaluate("n => delete n.dataset.result")
            page.select_option('[data-testid="basis-image"]', str(i))
            assert wait_result(page, "basis-result")["image"] == i
        assert f"{labels[i]} shown" in page.inner_text(".basis-facts")
        colour = _level0_colour(page)
        assert np.abs(colour - np.array(FACE_COLOURS[i])).max() < 24, (i, colour)
