// The JPEG XL card's last input, kept for a reload (lib/kept.js): the file and the quality it was encoded at.
import { keptLine } from "../../lib/kept.js";

/** `quality`: the card's quality menu; `run(file, {downscaleTo})`: what a drop does. */
export function keptJxl(quality, run) {
  const line = keptLine({
    key: "jxl", testid: "jxl-kept",
    restore: ({ files: [file], settings }) => {
      if ([...quality.options].some((o) => o.value === settings.quality)) quality.value = settings.quality;
      run(file, { downscaleTo: Number(settings.downscaleTo) || 0 });
    },
  });
  return { node: line.node, remember: (file, downscaleTo = 0) => line.remember([file], { quality: quality.value, downscaleTo }) };
}
