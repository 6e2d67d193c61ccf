// The attention card's last images, kept for a reload (lib/kept.js): every image shown and both menus.
import { keptLine } from "../../lib/kept.js";

/** `menus`: {predictor, models}; `run(files)`: what a drop does. */
export function keptAttention(menus, run) {
  const line = keptLine({
    key: "attention", testid: "attention-kept",
    restore: ({ files, settings }) => {
      for (const [name, menu] of Object.entries(menus)) {
        if (![...menu.options].some((o) => o.value === settings[name])) continue;
        menu.value = settings[name];
        menu.dispatchEvent(new Event("change"));
      }
      run(files);
    },
  });
  return {
    node: line.node,
    remember: (files) => (files.length ? line.remember(files, Object.fromEntries(Object.entries(menus).map(([n, m]) => [n, m.value]))) : null),
  };
}
