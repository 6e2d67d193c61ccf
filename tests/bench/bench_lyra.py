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
    const { packet, ms: e } = await encoder.encode(clip.slice(k * hop, (k + 1) * hop));
    const { ms: d } = await decoder.decode(packet);
    if (k >= warmup) { enc.push(e); dec.push(d); }
  }
  await encoder.close(); await decoder.close();
  // The floor under every per-frame figure: a worker round trip that does no work.
  const rpc = [];
  for (let k = 0; k < 50; k++) {
    const t = performance.now();
    await app.python.call('lyra.packet_info', { packet: new Uint8Array(15) });
    rpc.push(performance.now() - t);
  }
  return { enc, dec, rpc, threads: app.runtime.threads, isolated: app.runtime.crossOriginIsolated };
}
"""


def _median(values):
    return statistics.median(values)


def _p90(values):
    ordered = sorted(values)
    return ordered[int(0.9 * (len(ordered) - 1))]


def rows(ctx):
    from run import Row  # noqa: PLC0415 (the runner's module)

    index = ctx.dist / "models" / "index.json"
    names = json.loads(index.read_text()) if index.exists() else {}
    wanted = ("soundstream_encoder", "lyragan")
    if not all(any(k == n or k.endswith("/" + n) for k in names) for n in wanted):
        return [Row("lyra", "page encode/decode per frame", "–", "Lyra models are not in dist/ (build with --upstream)")]
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
        results.append(Row("lyra", f"page worker round trip, no work ({label})", f"{_median(measured['rpc']):.2f} ms",
                           "median of 50 calls of lyra.packet_info: the RPC floor under the rows above (decode = 2 calls)"))
        rtf = (_median(enc) + _median(dec)) / 20.0
        results.append(Row("lyra", f"page real-time factor, encode + decode ({label})", f"{rtf:.3f}",
                           "(encode + decode) / 20 ms; < 1 is faster than real time; both peers share one worker"))
    return results
