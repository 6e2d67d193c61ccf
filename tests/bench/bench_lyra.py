"""Lyra in the page: encode and decode time per 20 ms frame (Python + onnxruntime-web in the
worker, timed on the main thread, so the worker round trip is included), threads on
(cross-origin isolated site) and off (plain static host), and the real-time factor."""

from __future__ import annotations

import json
import statistics

FRAMES = 150  # 3 s of audio per measurement
WARMUP = 10

MEASURE = """
async ({frames, warmup, bitrate}) => {
  const { makeCodec } = await import('./tools/speech-codec.js');
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
  // The floor under every per-frame figure: a worker round trip that does no work.
  const rpc = [];
  for (let k = 0; k < 50; k++) {
    const t = performance.now();
    await app.python.call('lyra.packet_info', { packet: new Uint8Array(15) });
    rpc.push(performance.now() - t);
  }
  return { enc, dec, rpc, models, threads: app.runtime.threads, isolated: app.runtime.crossOriginIsolated };
}
"""


def _median(values):
    return statistics.median(values)


def _p90(values):
    ordered = sorted(values)
    return ordered[int(0.9 * (len(ordered) - 1))]


def _cpython_rows(Row, label: str, models) -> list:
    """Per-frame encode / decode through codeclab.lyra in CPython (codec logic + the model runner)."""
    import time

    import numpy as np

    from codeclab.lyra.decoder import LyraDecoder  # noqa: PLC0415
    from codeclab.lyra.encoder import LyraEncoder  # noqa: PLC0415

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
    return [
        Row("lyra", f"CPython encode per 20 ms frame ({label})", f"{_median(enc):.2f} ms", note),
        Row("lyra", f"CPython decode per 20 ms frame ({label})", f"{_median(dec):.2f} ms", note),
        Row("lyra", f"CPython real-time factor ({label})", f"{(_median(enc) + _median(dec)) / 20:.3f}", "(encode + decode) / 20 ms"),
    ]


def _model_only_rows(Row, models) -> list:
    """The two networks alone in the TFLite interpreter (no resampling, quantizer or concealment)."""
    import time

    import numpy as np

    from codeclab.lyra.models import DECODER_MODEL, ENCODER_MODEL  # noqa: PLC0415

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


def _reference_rows(Row, ctx) -> list:
    """The native reference: the upstream .tflite files in the TFLite interpreter, and our ONNX in onnxruntime."""
    from codeclab.lyra.models import load_models  # noqa: PLC0415

    rows = []
    if ctx.upstream is not None and (ctx.upstream / "lyra" / "soundstream_encoder.tflite").exists():
        models = load_models(ctx.upstream / "lyra", backend="tflite")
        rows += _model_only_rows(Row, models)
        rows += _cpython_rows(Row, "TFLite interpreter (reference)", models)
    folder = ctx.dist / "models" / "lyra"
    if (folder / "lyragan.onnx").exists():
        rows += _cpython_rows(Row, "onnxruntime", load_models(folder, backend="onnx"))
    return rows


def rows(ctx):
    from run import Row  # noqa: PLC0415 (the runner's module)

    reference = _reference_rows(Row, ctx)
    index = ctx.dist / "models" / "index.json"
    names = json.loads(index.read_text()) if index.exists() else {}
    wanted = ("soundstream_encoder", "lyragan")
    if not all(any(k == n or k.endswith("/" + n) for k in names) for n in wanted):
        return reference + [Row("lyra", "page encode/decode per frame", "–", "Lyra models are not in dist/ (build with --upstream)")]
    browser = ctx.browser()
    results = []
    for label, url in (("site", ctx.site_url), ("plain_site", ctx.plain_url)):
        context = browser.new_context()
        page = context.new_page()
        page.goto(url)
        page.wait_for_function("document.documentElement.dataset.state === 'ready'", timeout=120_000)
        measured = page.evaluate(MEASURE, {"frames": FRAMES, "warmup": WARMUP, "bitrate": 6000})
        context.close()
        threads = f"{measured['threads']} thread{'s' if measured['threads'] != 1 else ''}"
        enc, dec = measured["enc"], measured["dec"]
        note = f"{label}: {threads}, median of {FRAMES} frames at 6 kbps (p90 {{:.2f}} ms); main thread -> worker -> Python + ORT-web -> main thread"
        results.append(Row("lyra", f"page encode per 20 ms frame ({label})", f"{_median(enc):.2f} ms", note.format(_p90(enc))))
        results.append(Row("lyra", f"page decode per 20 ms frame ({label})", f"{_median(dec):.2f} ms", note.format(_p90(dec))))
        for model, what in (("soundstream_encoder", "encoder"), ("lyragan", "decoder (LyraGAN)")):
            runs = measured["models"].get(model) or []
            if runs:
                results.append(Row("lyra", f"page {what} model alone, per frame ({label})", f"{_median(runs):.2f} ms",
                                    f"onnxruntime-web session.run in the worker, median of {len(runs)} frames (part of the rows above)"))
        results.append(Row("lyra", f"page worker round trip, no work ({label})", f"{_median(measured['rpc']):.2f} ms",
                           "median of 50 calls of lyra.packet_info (a plain function): the messaging floor under the rows above"))
        rtf = (_median(enc) + _median(dec)) / 20.0
        results.append(Row("lyra", f"page real-time factor, encode + decode ({label})", f"{rtf:.3f}",
                           "(encode + decode) / 20 ms, one after the other in one worker; < 1 is faster than real time (a live stream gives the receiver its own worker)"))
    return reference + results
