"""Lyra soak: one long live stream over the real data channel at 20 % bursty loss.

Stalls (underrun events), underruns, where the playout delay settles, and the page's memory at the
start and the end (performance.measureUserAgentSpecificMemory, which covers the page and its
workers; it needs the cross-origin isolated site). Ten minutes by default
(CODECLAB_SOAK_MINUTES=N for another length); `python3 tests/bench/run.py soak` runs it alone.
Not part of the test suite: it is real time, and its figures are measurements, not pass/fail.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
import wave
from pathlib import Path

from devkit.chromium import wait_for_js

LOSS_PERCENT = 20
MEAN_BURST = 3.0
SEED = 2026

# Total bytes, and bytes per realm (the page, each worker) so that growth can be attributed.
MEMORY = """async () => {
  if (!self.crossOriginIsolated || !performance.measureUserAgentSpecificMemory) return null;
  const m = await performance.measureUserAgentSpecificMemory();
  const parts = {};
  for (const entry of m.breakdown) {
    for (const a of entry.attribution) {
      const name = a.scope === "Window" ? "page" : (a.url || a.scope).split("/").pop();
      parts[name] = (parts[name] || 0) + entry.bytes / entry.attribution.length;
    }
    if (!entry.attribution.length) parts.shared = (parts.shared || 0) + entry.bytes;
  }
  return { bytes: m.bytes, parts };
}"""


def _megabytes(memory: dict) -> str:
    parts = ", ".join(f"{name} {b / 1e6:.0f}" for name, b in sorted(memory["parts"].items(), key=lambda kv: -kv[1]))
    return f"{memory['bytes'] / 1e6:.0f} MB ({parts})"

LIVE = """() => {
  const s = window.codeclab.lyra.session;
  return s && s.receiver ? s.receiver.snapshot() : null;
}"""


def _soak_wav(speech: Path, minutes: float, folder: Path) -> Path:
    with wave.open(str(speech)) as source:
        params = source.getparams()
        clip = source.readframes(params.nframes)
    repeats = max(1, round(minutes * 60 / (params.nframes / params.framerate)))
    path = folder / "soak.wav"
    with wave.open(str(path), "wb") as out:
        out.setparams(params)
        for _ in range(repeats):
            out.writeframes(clip)
    return path


def rows(ctx):
    from tests.bench.run import Row
    from tests.e2e.lyra_page import set_loss

    minutes = float(os.environ.get("CODECLAB_SOAK_MINUTES", "0.25" if ctx.quick else "10"))
    poll_ms = 5_000 if ctx.quick else 30_000
    speech = ctx.upstream / "lyra" / "testdata" / "sample1_16kHz.wav" if ctx.upstream else None
    index = ctx.dist / "models" / "index.json"
    if speech is None or not speech.exists() or not index.exists():
        return [Row("lyra soak", "long stream", "skipped", "needs the upstream sample and a dist with the Lyra models")]
    browser = ctx.browser()
    context = browser.new_context()
    page = context.new_page()
    try:
        page.goto(ctx.site_url + "#lyra")
        wait_for_js(page, "document.documentElement.dataset.state === 'ready'", timeout=120_000)
        page.click('[data-testid="tab-lyra"]')
        set_loss(page, LOSS_PERCENT, MEAN_BURST, SEED)
        with tempfile.TemporaryDirectory() as folder:
            wav = _soak_wav(speech, minutes, Path(folder))
            memory_before = None  # taken at the first poll (30 s in), once both peers' workers and models are up
            started = time.perf_counter()
            page.set_input_files('[data-testid="lyra-input"]', str(wav))
            samples = []  # (seconds into the stream, receiver snapshot), every poll
            memory_trace = []  # (seconds into the stream, bytes), during the stream
            deadline = started + minutes * 60 * 1.5 + 120
            while time.perf_counter() < deadline:
                page.wait_for_timeout(poll_ms)
                live = page.evaluate(LIVE)
                if live:
                    samples.append((time.perf_counter() - started, live))
                if memory_before is None:
                    memory_before = page.evaluate(MEMORY)
                elif live and len(samples) % 4 == 0:  # every 2 minutes: is it growing while it streams?
                    memory_trace.append((time.perf_counter() - started, page.evaluate(MEMORY)))
                if page.get_attribute('[data-testid="lyra-result"]', "data-result"):
                    break
            result = json.loads(page.get_attribute('[data-testid="lyra-result"]', "data-result") or "null")
            memory_after = page.evaluate(MEMORY)
    finally:
        context.close()
    if result is None:
        return [Row("lyra soak", "long stream", "did not finish", f"{minutes} min stream, no result within the deadline")]
    note = f"{minutes:g} min of speech over the data channel, {LOSS_PERCENT} % loss in bursts of {MEAN_BURST:g}, seed {SEED}"
    out = [
        Row("lyra soak", "frames played / concealed / late", f"{result['frames_played']} / {result['concealed']} / {result['late']}",
            note + "; concealed = dropped + late"),
        Row("lyra soak", "dropped by the simulated channel", str(result["dropped"]), note),
        Row("lyra soak", "stalls (underrun events) / underrun quanta", f"{result['underrun_events']} / {result['underrun_quanta']}",
            "a stall is one run of render quanta the ring could not fill (8 ms each); each is bridged and deepens the ring"),
        Row("lyra soak", "frames shortened / stretched", f"{result['compressed']} / {result['expanded']}",
            "time-compression brings the delay back down after a stall; stretching builds it up"),
        Row("lyra soak", "send-to-playout delay, mean / last second",
            f"{result['send_to_playout_ms']} / {result['send_to_playout_recent_ms']} ms",
            f"target at the end: {result['target_delay_ms']} ms ({result['jitter_target_frames']} frames for jitter + "
            f"{result['ring_target_frames']} decoded ahead)"),
        Row("lyra soak", "decode per frame (mean)", f"{result['decode_ms_per_frame']} ms", "in the receiver's worker, round trip included"),
    ]
    if samples:
        trace = ", ".join(f"{t / 60:.0f}′ {s['delayRecent']:.0f}" for t, s in samples[:: max(1, len(samples) // 8)])
        out.append(Row("lyra soak", "delay over the stream (minute′ ms)", trace,
                       "receiver's mean send-to-playout delay of the last 50 packets"))
    if memory_trace and all(m is not None for _, m in memory_trace):
        trace = "; ".join(f"{t / 60:.0f}′ {_megabytes(m)}" for t, m in memory_trace)
        out.append(Row("lyra soak", "page memory while streaming (minute′ total (per realm))", trace,
                       "measureUserAgentSpecificMemory every 2 minutes, before the stream's end-of-run copies"))
    if memory_before is not None and memory_after is not None:
        out.append(Row("lyra soak", "page memory, 30 s in / end", f"{_megabytes(memory_before)} / {_megabytes(memory_after)}",
                       "performance.measureUserAgentSpecificMemory (page + workers, after a GC)"))
    else:
        out.append(Row("lyra soak", "page memory", "–", "measureUserAgentSpecificMemory unavailable (needs cross-origin isolation)"))
    return out
