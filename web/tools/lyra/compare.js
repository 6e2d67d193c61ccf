// Lyra vs Opus on the same clip: Lyra at 3.2 / 6 / 9.2 kbps (Python + onnxruntime-web) and
// Opus at 6 / 10 / 13 / 14 kbps (WebCodecs), with A/B playback and objective scores computed
// in Python (codeclab.lyra.metrics: STOI and log-spectral distance against the original).
import { el, showError, clearError, setResult } from "../../lib/ui.js";
import { opusAvailable, opusRoundTrip } from "./opus.js";

const LYRA_BITRATES = [3200, 6000, 9200];
const OPUS_BITRATES = [6000, 10000, 13000, 14000];

export function mountComparison(card, { app, codec, audio, playButton, beforeRun = async () => {} }) {
  const error = el("p", { class: "error", role: "alert", hidden: true, "data-testid": "lyra-compare-error" });
  const button = el("button", { "data-testid": "lyra-compare", disabled: true }, "Compare on this clip");
  const status = el("span", { class: "muted" }, "Stream or drop a clip first.");
  const body = el("tbody");
  const table = el("table", { class: "table lyra-compare-table", "data-testid": "lyra-compare-result", hidden: true },
    el("thead", {}, el("tr", {}, ["Codec", "Bitrate", "Size", "STOI ↑", "Log-spectral distance ↓", "Listen"].map((h) => el("th", { text: h })))),
    body);
  card.append(
    el("h3", { text: "Lyra vs Opus" }),
    el("p", { class: "muted", text: "The same clip through Lyra at 3.2, 6 and 9.2 kbps and through your browser's Opus encoder (WebCodecs) at 6, 10, 13 and 14 kbps — the bitrates of the Lyra v2 listening tests. Scores against the original, computed in Python: STOI (short-time objective intelligibility, 0–1) and the log-spectral distance in dB, both on 16 kHz audio." }),
    el("div", { class: "row" }, button, status),
    error, table);

  let clip = null;
  button.addEventListener("click", () => run().catch(async (err) => {
    // Offline without Lyra's files saved, it says so rather than blaming the clip (lib/offline.js).
    showError(error, await app.offline.explain(err, "lyra", "The Lyra speech codec"));
    status.textContent = "";
    button.disabled = false;
  }));

  async function run() {
    clearError(error);
    button.disabled = true;
    await beforeRun(); // a stream still running would compete with the comparison for the worker
    body.replaceChildren();
    table.hidden = true;
    delete table.dataset.result;
    const { samples, sampleRate } = clip;
    const candidates = [];
    for (const bps of LYRA_BITRATES) {
      const said = (what) => (done, total) => { status.textContent = `Lyra at ${bps / 1000} kbps: ${what} ${clock(done * 0.02)} of ${clock(total * 0.02)}…`; };
      const packets = await codec.encodeClip(samples, sampleRate, bps, said("encoded"));
      const decoded = await codec.decodePackets(packets, 16000, said("decoded"));
      candidates.push({ codec: "Lyra v2", bitrate: bps, bytes: packets.reduce((n, p) => n + p.length, 0), samples: decoded, sample_rate: 16000 });
    }
    if (opusAvailable()) {
      for (const bps of OPUS_BITRATES) {
        status.textContent = `Opus at ${bps / 1000} kbps…`;
        const opus = await opusRoundTrip(samples, bps);
        candidates.push({ codec: "Opus", bitrate: bps, bytes: opus.bytes, samples: opus.decoded, sample_rate: opus.sampleRate });
      }
    }
    status.textContent = "Scoring in Python…";
    // Everything is scored at 16 kHz (Lyra's bandwidth), resampled in Python.
    const to16k = (x, rate) => (rate === 16000 ? x : codec.resample(x, rate, 16000));
    const reference = await to16k(samples, sampleRate);
    const rows = [];
    for (const [i, c] of candidates.entries()) {
      status.textContent = `Scoring in Python: ${c.codec} at ${c.bitrate / 1000} kbps (${i + 1} of ${candidates.length})…`;
      const s = await codec.score(reference, await to16k(c.samples, c.sample_rate), 16000);
      rows.push({ codec: c.codec, bitrate: c.bitrate, bytes: c.bytes, stoi: s.stoi, lsd_db: s.lsd_db, delay_ms: s.delay_ms });
    }
    const seconds = samples.length / sampleRate;
    body.replaceChildren(
      el("tr", { class: "reference" }, el("td", { text: "Original" }), el("td", { text: "–" }), el("td", { text: "–" }), el("td", { text: "1" }), el("td", { text: "0" }),
        el("td", {}, playButton(audio, "Play", samples, sampleRate, "lyra-compare-play-original"))),
      ...rows.map((row, i) => el("tr", {},
        el("td", { text: row.codec }),
        el("td", { text: `${(row.bitrate / 1000).toFixed(1)} kbps` }),
        el("td", { text: `${row.bytes} B (${((row.bytes * 8) / seconds / 1000).toFixed(1)} kbps)` }),
        el("td", { text: row.stoi.toFixed(3) }),
        el("td", { text: `${row.lsd_db.toFixed(2)} dB` }),
        el("td", {}, playButton(audio, "Play", candidates[i].samples, candidates[i].sample_rate, `lyra-compare-play-${i}`)))),
    );
    table.hidden = false;
    setResult(table, rows);
    status.textContent = opusAvailable() ? `${clip.name}, ${seconds.toFixed(2)} s.` : "This browser has no WebCodecs Opus: Lyra rows only.";
    button.disabled = false;
  }

  /** 125.4 -> "2:05" */
  function clock(seconds) {
    const whole = Math.floor(seconds);
    return `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, "0")}`;
  }

  return {
    setClip(samples, sampleRate, name) {
      clip = { samples, sampleRate, name };
      button.disabled = false;
      status.textContent = `Ready: ${name}`;
    },
  };
}
