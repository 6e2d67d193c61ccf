"""Lyra in the page: encode and decode time per 20 ms frame (Python + the model runtime in the
worker, timed on the main thread, so the worker round trip is included), on LiteRT.js (the
default) and on onnxruntime-web (`?lyra-runtime=onnx`), threads on (cross-origin isolated site)
and off (plain static host); each divided by CPython's whole codec on the TFLite interpreter; and
a live stream with one core kept busy by another process (real-time factor, underruns)."""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

from devkit.chromium import wait_for_js

FRAMES = 150  # 3 s of audio per measurement
WARMUP = 10
BURST = 50  # frames per request in the burst rows (web/tools/lyra/service-client.js BURST)
ROUNDS = 5  # of FRAMES frames in bursts, the first burst a warm-up

MEASURE = """
async ({frames, warmup, bitrate, burst, rounds}) => {
  const { makeCodec } = await import('./tools/lyra/service-client.js');
  const app = window.codeclab;
  await app.ready;
  const codec = makeCodec(app);
  const rate = 48000, hop = rate / 50;
  // A speech-like test signal: a 140 Hz glottal pulse train through a moving formant, plus noise.
  const clip = new Float32Array(hop * (frames + warmup));
  let phase = 0;
  for (let i = 0; i < clip.length; i++) {
    const t = i / rate;
    phase += (140 + 30 * Math.sin(2 * Math.PI * 3 * t)) / rate;
    const pulse = (phase % 1) < 0.05 ? 1 : 0;
    clip[i] = 0.3 * pulse * Math.sin(2 * Math.PI * (700 + 500 * Math.sin(2 * Math.PI * 2 * t)) * t) + 0.01 * (Math.random() - 0.5);
  }
  const encoder = await codec.openEncoder({ sampleRate: rate, bitrate });
  const decoder = await codec.openDecoder({ sampleRate: 16000 });
  const enc = [], dec = [];
  for (let k = 0; k < frames + warmup; k++) {
    if (k === warmup) await app.python.call('worker.model_timings');  // clears them
    const { packet, ms: e } = await encoder.encode(clip.slice(k * hop, (k + 1) * hop));
    const { ms: d } = await decoder.decode(packet);
    if (k >= warmup) { enc.push(e); dec.push(d); }
  }
  const models = await app.python.call('worker.model_timings');
  await encoder.close(); await decoder.close();
  // The same frames in bursts of `burst` per request (encoder_encode_many / decoder_receive_many,
  // as the page's file encode and decode do): per frame, each burst's time ÷ its frames.
  const encBurst = [], decBurst = [];
  for (let round = 0; round < rounds; round++) {
    const e2 = await codec.openEncoder({ sampleRate: rate, bitrate });
    const d2 = await codec.openDecoder({ sampleRate: 16000 });
    for (let first = 0; first + burst <= frames; first += burst) {
      const { packets, ms: e } = await e2.encodeMany(clip.slice(first * hop, (first + burst) * hop));
      const { ms: d } = await d2.decodeMany(packets);
      if (round > 0 || first > 0) { encBurst.push(e / burst); decBurst.push(d / burst); }
    }
    await e2.close(); await d2.close();
  }
  const burstModels = await app.python.call('worker.model_timings');
  // The floor under every per-frame figure: a worker round trip that does (almost) no work.
  const rpc = [];
  for (let k = 0; k < 50; k++) {
    const t = performance.now();
    await app.python.call('lyra.close', { session_id: 0 });
    rpc.push(performance.now() - t);
  }
  const runtime = await app.python.call('worker.lyra_runtime', {});
  return { enc, dec, encBurst, decBurst, rpc, models, burstModels, runtime, isolated: app.runtime.crossOriginIsolated };
}
"""


def _median(values):
    return statistics.median(values)


def _p90(values):
    ordered = sorted(values)
    return ordered[int(0.9 * (len(ordered) - 1))]


def _cpython_rows(Row, label: str, models) -> tuple[list, float, float]:
    """Per-frame encode / decode through codeclab.lyra in CPython (codec logic + the model runner)."""
    import time

    import numpy as np

    from codeclab.lyra.decoder import LyraDecoder
    from codeclab.lyra.encoder import LyraEncoder

    rng = np.random.default_rng(0)
    hops = (rng.normal(0, 0.1, (FRAMES + WARMUP, 320)) * 32767 * 0.3).astype(np.int16)
    encoder = LyraEncoder(16000, 6000, models.fresh())
    decoder = LyraDecoder(16000, models.fresh())
    enc, dec = [], []
    for k, hop in enumerate(hops):
        t0 = time.perf_counter()
        packet = encoder.encode(hop)
        t1 = time.perf_counter()
        decoder.set_encoded_packet(packet)
        decoder.decode_samples(320)
        t2 = time.perf_counter()
        if k >= WARMUP:
            enc.append((t1 - t0) * 1e3)
            dec.append((t2 - t1) * 1e3)
    note = f"CPython, 1 thread, codeclab.lyra over {label}, median of {FRAMES} frames at 6 kbps"
    return _median(enc), _median(dec), [
        Row("lyra", f"CPython encode per 20 ms frame ({label})", f"{_median(enc):.2f} ms", note),
        Row("lyra", f"CPython decode per 20 ms frame ({label})", f"{_median(dec):.2f} ms", note),
        Row("lyra", f"CPython real-time factor ({label})", f"{(_median(enc) + _median(dec)) / 20:.3f}", "(encode + decode) / 20 ms"),
    ]


def _model_only_rows(Row, models) -> list:
    """The two networks alone in the TFLite interpreter (no resampling, quantizer or concealment)."""
    import time

    import numpy as np

    from codeclab.lyra.models import DECODER_MODEL, ENCODER_MODEL

    runner = models.fresh().runner
    feeds = {ENCODER_MODEL: {"audio": np.zeros((1, 320), np.float32)}, DECODER_MODEL: {"features": np.zeros((1, 1, 64), np.float32)}}
    out = []
    for name, what in ((ENCODER_MODEL, "encoder"), (DECODER_MODEL, "decoder (LyraGAN)")):
        times = []
        for k in range(FRAMES + WARMUP):
            t = time.perf_counter()
            runner.run_sync(name, feeds[name])
            if k >= WARMUP:
                times.append((time.perf_counter() - t) * 1e3)
        out.append(Row("lyra", f"TFLite {what} model alone, per frame", f"{_median(times):.3f} ms",
                       f"native reference: ai-edge-litert, 1 thread, median of {FRAMES} calls (upstream README: ~0.10 / 0.16 ms)"))
    return out


def _reference_rows(Row, ctx) -> tuple[list, tuple[float, float] | None]:
    """The native reference: the upstream .tflite files in the TFLite interpreter, and our ONNX in
    onnxruntime; with the reference's (encode, decode) medians per frame."""
    from codeclab.lyra.models import load_models

    rows, reference = [], None
    if ctx.upstream is not None and (ctx.upstream / "lyra" / "soundstream_encoder.tflite").exists():
        models = load_models(ctx.upstream / "lyra", backend="tflite")
        rows += _model_only_rows(Row, models)
        enc, dec, codec_rows = _cpython_rows(Row, "TFLite interpreter (reference)", models)
        rows += codec_rows
        reference = (enc, dec)
    folder = ctx.dist / "models" / "lyra"
    if (folder / "lyragan.onnx").exists():
        rows += _cpython_rows(Row, "onnxruntime", load_models(folder, backend="onnx"))[2]
    return rows, reference


def convolutions_only(path):
    """A lower bound for onnxruntime-web on a Lyra model: only its convolutions, each as the fastest
    single operator we found for it (QLinearConv on uint8 for Conv, float ConvTranspose),
    each fed its own input of the real shape, nothing else (no requantisation, state, activations).
    The weights are the real shapes with made-up values; only the time is of interest."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper, shape_inference

    model = shape_inference.infer_shapes(onnx.load(path))
    graph = model.graph
    shapes = {v.name: [d.dim_value for d in v.type.tensor_type.shape.dim]
              for v in [*graph.value_info, *graph.input, *graph.output]}
    weights = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    nodes, inputs, outputs = [], [], []
    init = [numpy_helper.from_array(np.array(1.0, np.float32), "one"),
            numpy_helper.from_array(np.array(128, np.uint8), "zero_point")]
    for k, node in enumerate(n for n in graph.node if n.op_type in ("Conv", "ConvTranspose")):
        w = weights[node.input[1]]
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        if node.op_type == "ConvTranspose":
            init.append(numpy_helper.from_array(w.astype(np.float32), f"w{k}"))
            nodes.append(helper.make_node("ConvTranspose", [f"x{k}", f"w{k}"], [f"y{k}"], **attrs))
            kind = TensorProto.FLOAT
        else:
            init += [numpy_helper.from_array(np.clip(w, -127, 127).astype(np.int8), f"w{k}"),
                     numpy_helper.from_array(np.full(w.shape[0], 1e-3, np.float32), f"ws{k}"),
                     numpy_helper.from_array(np.zeros(w.shape[0], np.int8), f"wz{k}"),
                     numpy_helper.from_array(np.zeros(w.shape[0], np.int32), f"b{k}")]
            nodes.append(helper.make_node("QLinearConv", [f"x{k}", "one", "zero_point", f"w{k}", f"ws{k}", f"wz{k}",
                                                          "one", "zero_point", f"b{k}"], [f"y{k}"], **attrs))
            kind = TensorProto.UINT8
        inputs.append(helper.make_tensor_value_info(f"x{k}", kind, shapes[node.input[0]]))
        outputs.append(helper.make_tensor_value_info(f"y{k}", kind, None))
    floor = helper.make_model(helper.make_graph(nodes, "convolutions_only", inputs, outputs, init),
                              opset_imports=[helper.make_opsetid("", 17)])
    floor.ir_version = 8
    return floor.SerializeToString(), len(nodes)


FLOOR = """
async ({urls, runs, warmup}) => {
  const ort = await import('./vendor/ort/ort.wasm.min.mjs');
  ort.env.wasm.wasmPaths = new URL('./vendor/ort/', location.href).href;
  ort.env.wasm.numThreads = 1;
  const result = {};
  for (const [name, url] of Object.entries(urls)) {
    const bytes = new Uint8Array(await (await fetch(url)).arrayBuffer());
    const session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
    const feeds = {};
    for (const meta of session.inputMetadata) {
      const n = meta.shape.reduce((a, b) => a * b, 1);
      feeds[meta.name] = meta.type === 'uint8'
        ? new ort.Tensor('uint8', new Uint8Array(n).map(() => Math.random() * 255), meta.shape)
        : new ort.Tensor('float32', new Float32Array(n).map(() => Math.random() - 0.5), meta.shape);
    }
    for (let i = 0; i < warmup; i++) await session.run(feeds);
    // batches of 20 runs: a page without cross-origin isolation gets a coarse clock
    const times = [];
    for (let b = 0; b < runs / 20; b++) {
      const t = performance.now();
      for (let i = 0; i < 20; i++) await session.run(feeds);
      times.push((performance.now() - t) / 20);
    }
    times.sort((a, b) => a - b);
    result[name] = times[times.length >> 1];
    await session.release();
  }
  return result;
}
"""


def _serve_bytes(data: bytes):
    return lambda route, request: route.fulfill(body=data, content_type="application/octet-stream")


def _floor_rows(Row, ctx, browser) -> list:
    """How fast onnxruntime-web could run each model if it were nothing but its convolutions."""
    built = {}
    for name in ("soundstream_encoder", "lyragan"):
        built[name] = convolutions_only(ctx.dist / "models" / "lyra" / f"{name}.onnx")
    context = browser.new_context(service_workers="block")  # page.route does not see a service worker's fetches
    page = context.new_page()
    for name, (data, _) in built.items():
        page.route(f"**/__bench__/{name}.onnx", _serve_bytes(data))
    page.goto(ctx.plain_url)
    wait_for_js(page, "document.documentElement.dataset.state === 'ready'", timeout=120_000)
    urls = {n: f"./__bench__/{n}.onnx" for n in built}
    runs = ctx.runs(300, 40)
    measured = page.evaluate(FLOOR, {"urls": urls, "runs": runs, "warmup": ctx.runs(100, 10)})
    context.close()
    rows = []
    for name, what in (("soundstream_encoder", "encoder"), ("lyragan", "decoder (LyraGAN)")):
        rows.append(Row("lyra", f"page floor: {what}'s {built[name][1]} convolutions alone, per frame",
                        f"{measured[name]:.2f} ms",
                        f"onnxruntime-web, 1 thread, median of {runs // 20} batches of 20 runs: every Conv as one "
                        "uint8 QLinearConv, ConvTranspose in float (uint8 QLinearConv beat float Conv on the 4 Lyra "
                        "shapes measured), nothing else: a lower bound "
                        "for this graph in this runtime"))
    return rows


# (label, runtime, URL suffix, isolated): the page on each runtime, cross-origin isolated (the
# default: threaded builds, the models' one-thread hint), with 2 threads (onnxruntime-web only:
# LiteRT.js runs one thread, see worker.js), and on a plain static host.
PAGES = (
    ("LiteRT.js, site", "LiteRT.js", "", True),
    ("onnxruntime-web, site", "onnxruntime-web", "?lyra-runtime=onnx", True),
    ("onnxruntime-web, threads_on", "onnxruntime-web", "?lyra-runtime=onnx&threads=2", True),
    ("LiteRT.js, plain_site", "LiteRT.js", "", False),
    ("onnxruntime-web, plain_site", "onnxruntime-web", "?lyra-runtime=onnx", False),
)

# One core kept busy by another process, as a loaded laptop would be.
HOG = "import os\ntry: os.sched_setaffinity(0, {0})\nexcept (AttributeError, OSError): pass\nwhile True: pass\n"


def _page_rows(Row, ctx, browser, reference) -> list:
    results = []
    for label, runtime, suffix, isolated in PAGES:
        context = browser.new_context()
        page = context.new_page()
        page.goto((ctx.site_url if isolated else ctx.plain_url) + suffix)
        wait_for_js(page, "document.documentElement.dataset.state === 'ready'", timeout=120_000)
        measured = page.evaluate(MEASURE, {"frames": FRAMES, "warmup": WARMUP, "bitrate": 6000, "burst": BURST,
                                           "rounds": ctx.runs(ROUNDS)})
        context.close()
        active = {"litert": "LiteRT.js", "onnx": "onnxruntime-web"}[measured["runtime"]["active"]]
        if active != runtime:
            results.append(Row("lyra", f"page per frame ({label})", "–", f"the page ran {active}: {measured['runtime']['reason']}"))
            continue
        count = measured["runtime"]["threads"]
        threads = f"{count} thread{'s' if count != 1 else ''}"
        enc, dec = measured["enc"], measured["dec"]
        note = (f"{threads}, median of {FRAMES} frames at 6 kbps (p90 {{:.2f}} ms); "
                f"main thread -> worker -> Python + {runtime} -> main thread")
        results.append(Row("lyra", f"page encode per 20 ms frame ({label})", f"{_median(enc):.2f} ms", note.format(_p90(enc))))
        results.append(Row("lyra", f"page decode per 20 ms frame ({label})", f"{_median(dec):.2f} ms", note.format(_p90(dec))))
        if reference is not None:
            for what, values, ref in (("encode", enc, reference[0]), ("decode", dec, reference[1])):
                results.append(Row("lyra", f"page {what} ÷ CPython TFLite codec ({label})", f"{_median(values) / ref:.2f}",
                                   f"median page {what} per frame (incl. Python and the round trip) ÷ median CPython "
                                   f"codeclab.lyra {what} per frame on ai-edge-litert ({ref:.3f} ms); goal ≤ 2.0 on LiteRT.js"))
        for model, what in (("soundstream_encoder", "encoder"), ("lyragan", "decoder (LyraGAN)")):
            runs = measured["models"].get(model) or []
            if runs:
                results.append(Row("lyra", f"page {what} model alone, per frame ({label})", f"{_median(runs):.3f} ms",
                                   f"{runtime} run in the worker, median of {len(runs)} frames (part of the rows above)"))
        results.append(Row("lyra", f"page worker round trip, no work ({label})", f"{_median(measured['rpc']):.2f} ms",
                           "median of 50 calls of lyra.close on no stream (a plain function): the messaging floor under "
                           "the rows above"))
        results += _breakdown_rows(Row, label, measured["models"], {"encode": enc, "decode": dec}, 1,
                                   "one frame per request")
        encb, decb = measured["encBurst"], measured["decBurst"]
        burst_note = (f"{threads}, {BURST} frames per request (encoder_encode_many / decoder_receive_many), median of "
                      f"{len(encb)} bursts' time ÷ {BURST} (p90 {{:.2f}} ms); the same signal, a fresh stream")
        results.append(Row("lyra", f"page encode per 20 ms frame, bursts of {BURST} ({label})", f"{_median(encb):.3f} ms",
                           burst_note.format(_p90(encb))))
        results.append(Row("lyra", f"page decode per 20 ms frame, bursts of {BURST} ({label})", f"{_median(decb):.3f} ms",
                           burst_note.format(_p90(decb))))
        if reference is not None:
            for what, values, ref in (("encode", encb, reference[0]), ("decode", decb, reference[1])):
                results.append(Row("lyra", f"page {what} ÷ CPython TFLite codec, bursts of {BURST} ({label})",
                                   f"{_median(values) / ref:.2f}",
                                   f"median page {what} per frame in bursts of {BURST} (incl. Python and the round trip) ÷ "
                                   f"median CPython codeclab.lyra {what} per frame on ai-edge-litert ({ref:.3f} ms); goal ≤ 2.0"))
        results += _breakdown_rows(Row, label, measured["burstModels"], {"encode": encb, "decode": decb}, BURST,
                                   f"bursts of {BURST}")
        rtf = (_median(enc) + _median(dec)) / 20.0
        results.append(Row("lyra", f"page real-time factor, encode + decode ({label})", f"{rtf:.3f}",
                           "(encode + decode) / 20 ms, one after the other in one worker; < 1 is faster than real time "
                           "(a live stream gives the receiver its own worker)"))
    return results


METHODS = {"encode": ("lyra.encoder_encode", "lyra.encoder_encode_many", "soundstream_encoder"),
           "decode": ("lyra.decoder_receive", "lyra.decoder_receive_many", "lyragan")}


def _breakdown_rows(Row, label: str, timings: dict, per_frame: dict, frames: int, how: str) -> list:
    """Where a frame's time goes, from the worker's own clocks (worker.js): Python (adapter.begin /
    resume, the JS <-> Python conversions included), the model bridge less the model's runs (the
    Python -> JS -> runtime crossing: tensors, promises), the model, and the rest of the page's
    figure (postMessage both ways, the worker's event loop, the main thread)."""
    rows = []
    for what, (single, many, model) in METHODS.items():
        method = single if frames == 1 else many
        python = timings.get(f"python:{method}") or []
        bridge = timings.get(f"bridge:{method}") or []
        runs = timings.get(model) or []
        if not python or not bridge or not runs:
            continue
        total = _median(per_frame[what])
        py, br = _median(python) / frames, _median(bridge) / frames
        # every model run of this measurement, per frame (a burst's runs are all in one bridge call)
        mod = _median(runs)
        rows.append(Row("lyra", f"page {what} per frame, where the time goes, {how} ({label})",
                        f"Python {py:.3f} · crossing {max(0.0, br - mod):.3f} · model {mod:.3f} · "
                        f"messaging {max(0.0, total - py - br):.3f} ms",
                        f"of the {total:.3f} ms median: Python = adapter.begin/resume incl. conversions (median per request "
                        f"÷ {frames}); crossing = model bridge less the runtime's runs; messaging = the rest "
                        "(postMessage both ways, event loops)"))
    return rows


def _step_rows(Row, ctx) -> list:
    """The model-free Python steps of a frame and the page's service calls, timed inside Pyodide
    (the page's interpreter, run in Node: lyra_pyodide.mjs, codeclab.lyra.bench)."""
    runtime = Path(__file__).resolve().parents[2] / "node_modules" / "pyodide"
    if shutil.which("node") is None or not (runtime / "pyodide.mjs").exists():
        return [Row("lyra", "Pyodide step per frame", "–", "needs node and node_modules/pyodide")]
    command = ["node", str(Path(__file__).with_name("lyra_pyodide.mjs")), str(runtime), str(ctx.dist),
               str(ctx.runs(FRAMES, BURST)), "48000", "6000", str(BURST)]
    steps = json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)
    return [Row("lyra", f"Pyodide step per frame: {name}", f"{ms:.3f} ms",
                f"codeclab.lyra.bench in Pyodide (Node): models stood in for, {ctx.runs(FRAMES, BURST)} frames at 48 kHz "
                "in, 16 kHz out, 6 kbps, median per call (÷ frames for a burst); no JS <-> Python conversion")
            for name, ms in steps.items()]


def _hog_rows(Row, ctx, browser) -> list:
    """A live stream in the Speech tab (real time, WebRTC, jitter buffer, AudioWorklet playback) while
    a busy loop in another process holds one core: the page's real-time factor and underruns."""
    if ctx.upstream is None or not (ctx.upstream / "lyra" / "testdata" / "sample1_16kHz.wav").exists():
        return [Row("lyra", "live stream with one core busy", "–", "needs the upstream test speech")]
    clip = ctx.upstream / "lyra" / "testdata" / "sample1_16kHz.wav"
    rows = []
    for runtime, suffix in (("LiteRT.js", ""), ("onnxruntime-web", "?lyra-runtime=onnx")):
        context = browser.new_context()
        page = context.new_page()
        page.goto(ctx.site_url + suffix + "#lyra")
        wait_for_js(page, "document.documentElement.dataset.state === 'ready'", timeout=120_000)
        page.click('[data-testid="tab-lyra"]')
        hog = subprocess.Popen([sys.executable, "-c", HOG])
        try:
            page.set_input_files('[data-testid="lyra-input"]', str(clip))
            wait_for_js(page, "Boolean(document.querySelector('[data-testid=lyra-result]')?.dataset.result)",
                                   timeout=120_000)
            summary = json.loads(page.get_attribute('[data-testid="lyra-result"]', "data-result"))
        finally:
            hog.kill()
            hog.wait()
            context.close()
        rows.append(Row("lyra", f"live stream, one core busy ({runtime}): real-time factor", f"{summary['real_time_factor']:.3f}",
                        f"{summary['duration_s']} s clip streamed in the Speech tab while a busy-loop process holds core 0; "
                        f"(encode + decode mean per frame) / 20 ms = ({summary['encode_ms_per_frame']} + "
                        f"{summary['decode_ms_per_frame']}) / 20; runtime reported: {summary.get('lyra_runtime')}"))
        rows.append(Row("lyra", f"live stream, one core busy ({runtime}): stalls (underrun events) / underrun quanta",
                        f"{summary['underrun_events']} / {summary['underrun_quanta']}",
                        f"{summary['frames_played']} frames played, {summary['concealed']} concealed, {summary['late']} late; "
                        f"stalls at {summary['underrun_event_at_s']} s"))
    return rows


def rows(ctx):
    from tests.bench.run import Row

    reference_rows, reference = _reference_rows(Row, ctx)
    index = ctx.dist / "models" / "litert.json"
    names = json.loads(index.read_text()) if index.exists() else {}
    if not {"soundstream_encoder", "lyragan"} <= set(names):
        return reference_rows + [Row("lyra", "page encode/decode per frame", "–", "Lyra models are not in dist/ (build with --upstream)")]
    browser = ctx.browser()
    results = _page_rows(Row, ctx, browser, reference)
    results += _step_rows(Row, ctx)
    results += _hog_rows(Row, ctx, browser)
    results += _floor_rows(Row, ctx, browser)
    return reference_rows + results
