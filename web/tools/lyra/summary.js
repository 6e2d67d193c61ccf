// What a finished stream is, in figures: the summary a test reads (data-result), the sentence under the
// figures, the original kept for A/B, and the export the e2e tests compare with CPython.
import { retainedSeconds } from "./recording.js";
import { SOURCE_RATE } from "./audio.js";
import { PLAYBACK_RATE, FRAME_MS } from "./stream.js";

export function round(x, digits) { const f = 10 ** digits; return Math.round(x * f) / f; }

/** 125.4 -> "2:05" */
export function clock(seconds) {
  const s = Math.round(seconds);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

/** The summary of finished stream `s` from its figures `v` (ui.figuresOf) and counts (accounting.js). */
export function streamSummary(s, v, counted, pair, lyraRuntime) {
  return {
    packets_sent: v.sent ?? null,
    packets_received: v.received ?? null,
    // In the visitor's words (the figures and the sentence below): every packet sent arrived or
    // was lost on the way; a concealed slot is a lost packet or one that arrived too late.
    packets_arrived: v.received === undefined ? null : counted.arrived,
    lost_on_the_way: v.received === undefined || v.encoded === undefined ? null : counted.lost,
    concealed: v.concealed ?? null,
    bitrate: v.bitrate ?? s.receiver?.counts.bitrate ?? null,
    decode_ms_per_frame: round(v.decodeMean ?? 0, 3),
    encode_ms_per_frame: round(v.encodeMean ?? 0, 3),
    real_time_factor: round(((v.encodeMean ?? 0) + (v.decodeMean ?? 0)) / FRAME_MS, 4),
    slower_than_real_time: v.slowFactor ? round(v.slowFactor, 2) : null, // decoding, over the stream's first seconds
    packets_encoded: v.encoded ?? null,
    dropped: v.dropped ?? null,
    late: v.late ?? null,
    compressed: v.compressed ?? null,
    expanded: v.expanded ?? null,
    // One definition with the live figure: an underrun event (a stall) is a run of starved
    // render quanta; where each began, in seconds of the stream; the quanta themselves beside it.
    underrun_events: v.underrunEvents ?? null,
    underrun_event_at_s: (v.underrunEventAt ?? []).map((n) => round(n / PLAYBACK_RATE, 3)),
    underrun_quanta: v.underrunQuanta ?? null,
    frames_played: s.receiver ? s.receiver.engine.slots : v.played ?? null,
    jitter_target_frames: v.jitterTarget ?? null,
    ring_target_frames: v.ringTarget ?? null,
    target_delay_ms: v.targetMs ?? null,
    send_to_playout_ms: round(v.delayMean ?? 0, 1),
    send_to_playout_recent_ms: round(v.delayRecent ?? 0, 1),
    health: v.health || null,
    seed: s.meta.seed ?? null,
    source: s.meta.kind,
    mode: s.mode,
    receiver_worker: s.mode === "loopback" ? (s.receiverSeparate ? "own" : "shared") : "other tab",
    ice_candidate: pair ? `${pair.candidateType}/${pair.protocol}` : null,
    refused_candidates: s.link?.refusedCandidates?.() ?? null, // ICE candidates that would leave this machine
    duration_s: round((v.samples ?? 0) / PLAYBACK_RATE, 2),
    lyra_runtime: lyraRuntime,
  };
}

/** The sentence under the figures once a stream has ended. */
export function resultSentence(s, summary, counted, packetRates) {
  const where = s.mode === "caller" ? " (played in the other tab)" : s.mode === "listener" ? " from another tab" : "";
  return `Streamed ${summary.duration_s} s${packetRates ? ` at ${packetRates.label}` : ""}${where}: ${counted.sent} packets sent, ${counted.arrived} arrived, ${counted.lost} lost on the way (${summary.dropped} by the simulated loss), ${counted.concealed} concealed (${counted.concealedLost} lost + ${counted.late} arrived too late), ${summary.underrun_events} playback stalls.`;
}

/**
 * The original to compare with what was decoded: the same stretch of the stream. A stream longer
 * than retainedSeconds() keeps only its end (keptFromS: where that starts, in seconds).
 */
export function keptOriginal(s, decoded) {
  if (!s.sender) return { original: null, keptFromS: 0 };
  if (!s.meta.original) {
    const captured = s.meta.captured.window();
    return { original: captured, keptFromS: s.meta.captured.skipped / SOURCE_RATE };
  }
  const ratio = SOURCE_RATE / PLAYBACK_RATE;
  const streamed = Math.min(s.meta.original.length, (s.source?.index ?? Infinity) * Math.round(SOURCE_RATE / 50));
  const start = s.receiver ? s.receiver.decodedSkipped * ratio : Math.max(0, streamed - retainedSeconds() * SOURCE_RATE);
  const end = decoded ? Math.min(streamed, start + decoded.length * ratio) : streamed;
  return { original: start === 0 && end === s.meta.original.length ? s.meta.original : s.meta.original.subarray(start, end), keptFromS: start / SOURCE_RATE };
}

/** Everything a test needs to check the stream against CPython (plain JSON). */
export function exportRun(run) {
  const r = run.receiver;
  return {
    summary: run.summary,
    sample_rate: PLAYBACK_RATE,
    decoded: run.decoded ? Array.from(run.decoded) : [],
    decoded_skipped: r ? r.decodedSkipped : 0, // samples before `decoded` starts (a stream longer than the kept window)
    slots: r ? r.engine.slots : 0, // slots played, of which `log` holds the latest
    log: r ? r.log : [],
    late: r ? r.engine.lateSeqs : [],
    received: r ? [...r.received.entries()].map(([seq, p]) => [seq, Array.from(p)]) : [],
    sent_packets: run.sender ? run.sender.packets.map((p) => Array.from(p)) : [],
    dropped: run.sender ? run.sender.dropped : [],
    captured_rms: run.meta.kind === "mic" && run.original ? Math.sqrt(run.original.reduce((a, x) => a + x * x, 0) / Math.max(1, run.original.length)) : null,
  };
}
