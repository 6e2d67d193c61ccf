// The speech panel's last recording, kept for a reload (lib/kept.js): a dropped file (streamed again when
// asked) and the bitrate. The microphone is never kept: the page says so.
import { keptLine } from "../../lib/kept.js";

/** `ui`: the panel (ui.bitrate(), ui.setBitrate()); `run(file)`: what a drop does. */
export function keptLyra(ui, run) {
  const line = keptLine({
    key: "lyra", testid: "lyra-kept",
    restore: ({ files: [file], settings }) => {
      if (settings.bitrate) ui.setBitrate(Number(settings.bitrate));
      run(file);
    },
  });
  return {
    node: line.node,
    remember: (file) => line.remember([file], { bitrate: ui.bitrate() }),
    microphone: () => line.notKept("a microphone recording is not kept in this browser"),
  };
}
