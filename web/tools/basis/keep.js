// The texture panel's last input, kept for a reload (lib/kept.js): the file and the encoder settings.
import { keptLine } from "../../lib/kept.js";

/** `controls`: the encoder's menus {mode, quality, uastcLevel, mipmaps, zstd}; `open(file)`: what a drop does. */
export function keptBasis(controls, open) {
  const line = keptLine({
    key: "basis", testid: "basis-kept",
    restore: ({ files: [file], settings }) => {
      for (const [name, control] of Object.entries(controls)) {
        if (!(name in settings)) continue;
        if (control.type === "checkbox") control.checked = Boolean(settings[name]);
        else control.value = String(settings[name]);
        control.dispatchEvent(new Event(control.type === "range" ? "input" : "change"));
      }
      open(file);
    },
  });
  return { node: line.node, remember: (file, settings) => line.remember([file], settings) };
}
