"""The scenario list every non-Chromium engine runs (test_firefox.py, test_webkit.py import it).

One browser and one page per engine module: the page boots once, then one real file goes through each
tool and its result is checked against the same oracles as the Chromium suite (the CPython CLI, the
CPython JPEG XL service, basisu's own unpack, CPython's TFLite decoding of the received packets), a
Lyra stream's packets are accounted for, and last the page reloads with the host gone (service worker).
The importing module names its engine: ``ENGINE`` (a driver.Engine class) and ``ENGINE_MISSING``.

Timings are measured, printed (``-s``) and recorded as properties, never asserted.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest

from devkit.server import BackgroundSite
from tests.attention.helpers import blob_picture
from tests.engines import page as engine_page
from tests.engines.driver import NullSoundServer, sound_server_missing
from tests.engines.page import RESULT, open_tab
from tests.needs import missing

pytestmark = [pytest.mark.e2e, pytest.mark.engines]

REPO = Path(__file__).resolve().parents[2]


class App:
    """The booted page in one engine, and what was measured on it."""

    def __init__(self, engine, site: BackgroundSite):
        self.engine = engine
        self.site = site
        self.timings: dict[str, float] = {}
        self.results: dict[str, dict] = {}  # each tool's first result, to compare after the offline reload

    def measure(self, name: str, started: float) -> None:
        self.timings[name] = round(time.monotonic() - started, 2)
        print(f"\n[{self.engine.name} {self.engine.version}] {name}: {self.timings[name]:.2f} s", flush=True)

    def boot(self) -> str:
        return engine_page.boot(self.engine)

    def drop(self, tool: str, path: Path, result_id: str | None = None, timeout_s: float = engine_page.TOOL_TIMEOUT_S) -> dict:
        """Open `tool`'s tab, give `path` to its file input, and return the data-result it sets (or fail
        with the error the page shows)."""
        try:
            result = engine_page.drop(self.engine, tool, path, result_id, timeout_s)
        except engine_page.ToolError as err:
            pytest.fail(str(err))
        self.results.setdefault(tool, result)
        return result


# ---------------------------------------------------------------- the engine and the page

@pytest.fixture(scope="module")
def engine(request, tmp_path_factory):
    reason = request.module.ENGINE_MISSING() or sound_server_missing()
    if reason:
        missing(reason)
    sound = NullSoundServer(tmp_path_factory.mktemp("sound"))
    try:
        started = time.monotonic()
        instance = request.module.ENGINE(env=sound.env)
        print(f"\n[{instance.name} {instance.version}] browser started in {time.monotonic() - started:.1f} s", flush=True)
        yield instance
        instance.close()
    finally:
        sound.close()


@pytest.fixture(scope="module")
def app(engine, dist):
    site = BackgroundSite(dist, isolate=True)
    page = App(engine, site)
    started = time.monotonic()
    engine.goto(site.url)
    state = page.boot()
    page.measure("boot to ready", started)
    yield page, state
    site.close()


@pytest.fixture(scope="module")
def inputs(tmp_path_factory, cjxl, basisu) -> dict[str, Path]:
    """One ordinary file per tool, made the way the Chromium suite makes them."""
    from PIL import Image

    from tests.basis.cases import draw_image
    from tests.e2e.test_basis import run_basisu

    folder = tmp_path_factory.mktemp("engines")
    blob_picture(640, 400, 1).save(folder / "wide.png")
    engine_page.photo_jxl(cjxl, folder)
    # An ETC1S texture with alpha and mipmaps, as KTX2 and as its .basis twin (whose RGBA32 unpack is the reference).
    Image.fromarray(draw_image(61, 37, True)).save(folder / "61x37a.png")
    for name, flags in (("e_61x37a_mip.basis", ("-mipmap",)), ("e_61x37a_mip.ktx2", ("-ktx2", "-mipmap"))):
        run_basisu(basisu, *flags, "-file", "61x37a.png", "-output_file", name, cwd=folder)
    unpacked = folder / "e_61x37a_mip.basis.unpacked"
    unpacked.mkdir()
    run_basisu(basisu, "-unpack", "-no_ktx", "-file", "../e_61x37a_mip.basis", cwd=unpacked)
    return {"png": folder / "wide.png", "jxl": folder / "astronaut.jxl", "ktx2": folder / "e_61x37a_mip.ktx2", "folder": folder}


@pytest.fixture(scope="module")
def speech_wav(tmp_path_factory, upstream) -> Path:
    """The first 1.2 s of upstream's 16 kHz speech sample."""
    return engine_page.speech_clip(upstream / "lyra" / "testdata" / "sample1_16kHz.wav", 1.2,
                            tmp_path_factory.mktemp("engines-speech") / "speech.wav")


def built_model(dist: Path, name: str) -> Path:
    index = dist / "models" / "index.json"
    files = json.loads(index.read_text()) if index.exists() else {}
    if name not in files:
        reason = json.loads((dist / "build-info.json").read_text()).get("models", {}).get("reason")
        missing(f"model {name} is not in {dist}/models (build with the upstream files; {reason or 'not converted'})")
    return dist / "models" / files[name]


# ---------------------------------------------------------------- the scenarios

def test_boots_to_ready_cross_origin_isolated(app):
    page, state = app
    assert state == "ready", page.engine.evaluate("() => document.querySelector('.boot-stage')?.textContent")
    assert page.engine.evaluate("() => crossOriginIsolated") is True


def test_attention_model_point_matches_the_cpython_cli(app, inputs, dist, record_property):
    from tests.e2e.test_attention import cli_points

    page, _ = app
    model = built_model(dist, "attention_center")
    started = time.monotonic()
    result = page.drop("attention", inputs["png"])
    page.measure("attention (640x400 PNG, model)", started)
    record_property("attention_page_ms", result["ms"])
    expected = cli_points([inputs["png"]], str(model))["wide.png"]
    assert result["predictor"] == "model" and (result["width"], result["height"]) == (640, 400)
    assert abs(result["x"] - expected["x"]) <= 1 and abs(result["y"] - expected["y"]) <= 1, (result, expected)


def test_jxl_reorder_matches_the_cpython_service(app, inputs):
    from codeclab.jxl import service
    from tests.e2e.test_jxl import _expected

    page, _ = app
    started = time.monotonic()
    result = page.drop("jxl", inputs["jxl"])
    page.measure("jxl (900x700 cjxl file)", started)
    assert result["source"] == "jxl" and (result["width"], result["height"]) == (900, 700)
    expected = _expected(service, inputs["jxl"].read_bytes(), result["center"])
    for key in ("bytes_to_center_first", "bytes_to_center_scanline", "total", "center_group"):
        assert result[key] == expected[key], key


def test_basis_texture_transcodes_to_this_webgl_and_rgba32_is_basisu_exact(app, inputs):
    from codeclab.basis.info import describe
    from tests.e2e.test_basis import pixels, rgba32_reference

    page, _ = app
    info = describe(inputs["ktx2"].read_bytes())
    started = time.monotonic()
    auto = page.drop("basis", inputs["ktx2"])
    page.measure("basis (61x37 ETC1S KTX2, auto target)", started)
    assert (auto["width"], auto["height"], auto["levels"]) == (info.width, info.height, len(info.levels))
    assert auto["container"] == "ktx2" and auto["source_format"] == "etc1s"
    # The automatic target is one this engine's WebGL2 offers (the menu lists only those).
    offered = page.engine.evaluate("() => [...document.querySelector('[data-testid=basis-target]').options]"
                                   ".filter(o => !o.disabled && o.value !== 'auto').map(o => o.value)")
    assert auto["target_format"] in offered, (auto, offered)
    page.engine.evaluate("""() => { delete document.querySelector('[data-testid=basis-result]').dataset.result;
        const s = document.querySelector('[data-testid=basis-target]'); s.value = 'RGBA32'; s.dispatchEvent(new Event('change')); }""")
    forced = json.loads(page.engine.wait_for(RESULT, "basis-result", timeout_s=60, what="the RGBA32 transcode"))
    assert forced["target_format"] == "RGBA32"
    reference = rgba32_reference(inputs["folder"], "e_61x37a_mip.basis", 0)
    got = pixels(page.engine.evaluate("() => window.codeclab.basis.transcoded(0)"))
    assert np.array_equal(got, reference), f"{np.count_nonzero(got != reference)} bytes differ from basisu's unpack"
    assert np.array_equal(pixels(page.engine.evaluate("() => window.codeclab.basis.readback(0)")), got)  # what the GPU holds


def test_lyra_stream_accounts_for_every_packet_and_decodes_as_cpython(app, speech_wav, dist, upstream):
    from tests.e2e.test_lyra import assert_packet_accounting, cpython_replay, snr_db

    page, _ = app
    for name in ("soundstream_encoder", "lyragan"):
        built_model(dist, name)
    open_tab(page.engine, "lyra")
    # A click in the panel is the user gesture that lets the page start sound (WebKit asks for one).
    page.engine.click("#panel-lyra h2")
    started = time.monotonic()
    result = page.drop("lyra", speech_wav)
    page.measure("lyra (1.2 s speech stream, loopback data channel)", started)
    export = page.engine.evaluate("() => window.codeclab.lyra.export()")
    assert result["source"] == "file" and result["packets_encoded"] == 60  # 1.2 s of 20 ms frames
    assert result["packets_received"] > 0
    assert_packet_accounting(result, export)
    # A real WebRTC data channel where the engine has one (a host/udp pair); else the MessageChannel fallback.
    has_webrtc = page.engine.evaluate("() => typeof RTCPeerConnection === 'function'")
    assert result["ice_candidate"] == ("host/udp" if has_webrtc else None), result
    from codeclab.lyra.models import load_models

    # LiteRT.js runs the upstream .tflite files (TFLite in CPython decodes identically); the ONNX runtime, the converted ones.
    reference = cpython_replay(load_models(upstream / "lyra", backend="tflite"), export)
    decoded = np.asarray(export["decoded"], dtype=np.float64)
    assert np.sqrt(np.mean(decoded ** 2)) > 0.01, "the decoded speech is silent"
    assert reference.size == decoded.size, (reference.size, decoded.size)
    # The same slots decoded by the same model. LiteRT.js agrees with CPython's TFLite to float rounding, not bit
    # for bit as in Chromium: its build uses relaxed SIMD, whose multiply-adds each engine may fuse or round its
    # own way. Where LiteRT.js cannot start (no relaxed SIMD) the page runs onnxruntime-web on the converted
    # models, held to the Chromium suite's bar for that runtime.
    floor_db = 60 if result["lyra_runtime"] == "litert" else 30
    assert snr_db(reference, decoded) > floor_db, f"SNR {snr_db(reference, decoded):.1f} dB on {result['lyra_runtime']}"


def test_offline_reload_with_the_host_gone(app, inputs, dist):
    page, _ = app
    tools = [tool["id"] for tool in json.loads((dist / "tools.json").read_text())["tools"]]  # from the manifests
    page.engine.wait_for("tools => tools.every(t => (document.documentElement.dataset.offlineTools || '').split(' ').includes(t))",
                         tools, timeout_s=180, what="every tool to be saved for offline use")
    online = page.results.get("basis") or pytest.skip("the Basis scenario gave no result to compare with")
    page.site.close()
    started = time.monotonic()
    page.engine.evaluate("() => { location.reload(); }")
    time.sleep(1)
    state = page.boot()
    page.measure("offline reload to ready", started)
    assert state == "ready"
    assert page.engine.evaluate("() => crossOriginIsolated") is True
    # The Basis tool is checked again (the lightest on a fresh interpreter: the attention model's and the JPEG
    # XL tool's first calls after a reload can outlast the page's 60 s watchdog in WebKit on two loaded cores).
    offline = page.drop("basis", inputs["ktx2"])
    same = ("width", "height", "levels", "source_format", "target_format", "gpu_bytes", "file_size", "container")
    assert {k: offline[k] for k in same} == {k: online[k] for k in same}
