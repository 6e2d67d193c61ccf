// The after-stream card: both spectrograms, their captions, A/B playback and the downloads, for a finished
// stream or a decoded .lyra file.
import { el, download, formatBytes, setResult } from "../../lib/ui.js";
import { encodeWav } from "./wav.js";
import { retainedSeconds } from "./recording.js";
import { drawSpectrogram } from "./spectrogram.js";
import { SOURCE_RATE } from "./audio.js";
import { playButton } from "./ui.js";
import { lyraFileName } from "./lyra-file.js";
import { PLAYBACK_RATE, FRAME_MS } from "./stream.js";
import { clock } from "./summary.js";

const blank = (canvas) => { canvas.width = 1; canvas.height = 1; };

function captions(ui, run) {
  ui.captionOriginal.textContent = run.original ? `Original (${run.meta.name}, ${(run.original.length / SOURCE_RATE).toFixed(2)} s) · 0–8 kHz` : "(the original stayed in the calling tab)";
  ui.captionDecoded.textContent = run.decoded
    ? `Lyra ${run.packetRates?.label ?? `${(run.summary.bitrate / 1000).toFixed(1)} kbps`} after the data channel (${run.summary.concealed} frames concealed) · 0–8 kHz`
    : "(decoded and played in the other tab)";
  if (run.keptFromS > 0) {
    // A long stream keeps its last minutes for A/B, so that memory stays flat however long it runs.
    const streamed = (run.summary.frames_played ?? run.summary.packets_encoded) * (FRAME_MS / 1000);
    const kept = `last ${clock(retainedSeconds())} of ${clock(streamed)}, from ${clock(run.keptFromS)}`;
    ui.captionOriginal.textContent += ` · ${kept}`;
    if (run.decoded) ui.captionDecoded.textContent += ` · ${kept}`;
  }
}

function lyraDownload(run) {
  const label = run.packetRates.bitrates.length > 1
    ? `Download .lyra (${formatBytes(run.lyra.length)}, ${run.packetRates.label}: codeclab's file of runs)`
    : `Download .lyra (${formatBytes(run.lyra.length)})`;
  return el("button", { class: "secondary", "data-testid": "lyra-download-lyra", onclick: () => download(run.lyra, lyraFileName(run.packetRates.bitrates)) }, label);
}

/** A finished stream: {summary, decoded, original, keptFromS, meta, lyra, packetRates}. */
export function showAfterwards(ui, audio, run) {
  ui.after.hidden = false;
  if (run.original) drawSpectrogram(ui.specOriginal, run.original, SOURCE_RATE); else blank(ui.specOriginal);
  if (run.decoded) drawSpectrogram(ui.specDecoded, run.decoded, PLAYBACK_RATE); else blank(ui.specDecoded);
  captions(ui, run);
  ui.ab.replaceChildren(
    run.original ? playButton(audio, "Play original", run.original, SOURCE_RATE, "lyra-play-original") : null,
    run.decoded ? playButton(audio, "Play Lyra", run.decoded, PLAYBACK_RATE, "lyra-play-decoded") : null,
    run.decoded ? el("button", { class: "secondary", "data-testid": "lyra-download-wav", onclick: () => download(encodeWav(run.decoded, PLAYBACK_RATE), "lyra-decoded.wav", "audio/wav") }, "Download decoded WAV") : null,
    run.lyra.length ? lyraDownload(run) : null,
  );
}

/** A decoded .lyra file (codec.decodeFile's answer): its spectrogram, what it holds, play and download. */
export function showLyraFile(ui, audio, name, decodedFile) {
  const samples = decodedFile.samples;
  ui.after.hidden = false;
  drawSpectrogram(ui.specDecoded, samples, PLAYBACK_RATE);
  blank(ui.specOriginal);
  ui.captionOriginal.textContent = "(a .lyra file carries no original)";
  const trailing = decodedFile.trailing ? `, ${decodedFile.trailing} trailing bytes ignored` : "";
  const changeCount = decodedFile.runs.length - 1;
  const changes = changeCount ? ` (${changeCount} bitrate change${changeCount > 1 ? "s" : ""})` : "";
  ui.captionDecoded.textContent = `${name}: ${decodedFile.packets} packets at ${decodedFile.bitrateLabel}${changes}, ${(samples.length / PLAYBACK_RATE).toFixed(2)} s${trailing}`;
  ui.ab.replaceChildren(
    playButton(audio, "Play", samples, PLAYBACK_RATE, "lyra-play-decoded"),
    el("button", { class: "secondary", "data-testid": "lyra-download-wav", onclick: () => download(encodeWav(samples, PLAYBACK_RATE), name.replace(/\.lyra$/i, ".wav"), "audio/wav") }, "Download WAV"),
  );
  setResult(ui.fileResult, {
    name, packets: decodedFile.packets, bitrate: decodedFile.bitrate, runs: decodedFile.runs, bitrates: decodedFile.bitrates,
    average_bitrate: decodedFile.averageBps, bitrate_label: decodedFile.bitrateLabel, samples: samples.length, sample_rate: PLAYBACK_RATE,
  });
}
