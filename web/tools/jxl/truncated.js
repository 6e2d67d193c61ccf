// A JPEG XL file that is cut off part-way (issue 18): in a tool about partial loading it is shown for what its
// bytes hold, not refused. Python (codeclab.jxl.partial, through "jxl.truncation") says which groups are
// complete; Chromium's own decoder draws the bytes; an overlay marks the complete groups.
import { el, setResult } from "../../lib/ui.js";

/** "7.5 of 25.1 KB": both sizes in the unit of the larger, one decimal. */
export function sizeOf(size, expected) {
  if (!expected) return `${formatOne(size)} (the rest of the file's size is not known yet)`;
  const [unit, scale] = expected >= 1e6 ? ["MB", 1e6] : expected >= 1e3 ? ["KB", 1e3] : ["B", 1];
  const digits = scale === 1 ? 0 : 1;
  return `${(size / scale).toFixed(digits)} of ${(expected / scale).toFixed(digits)} ${unit}`;
}

function formatOne(size) {
  return size >= 1e6 ? `${(size / 1e6).toFixed(1)} MB` : size >= 1e3 ? `${(size / 1e3).toFixed(1)} KB` : `${size} B`;
}

export function showTruncated(result, { name, data, truncated: t }) {
  const width = t.display_width;
  const height = t.display_height;
  const url = URL.createObjectURL(new Blob([data], { type: "image/jxl" }));
  const img = el("img", { class: "jxl-truncated-image", alt: `${name}, as far as its bytes go`, "data-testid": "jxl-truncated-native" });
  img.addEventListener("load", () => URL.revokeObjectURL(url), { once: true });
  img.addEventListener("error", () => URL.revokeObjectURL(url), { once: true });
  img.src = url;
  const overlay = el("canvas", { class: "jxl-truncated-overlay", width, height });
  drawGroups(overlay, t.groups);
  const stage = el("div", { class: "jxl-truncated-stage", style: { aspectRatio: `${width}/${height}`, width: `min(100%, ${Math.round((420 * width) / height)}px)` } }, img, overlay);
  const lf = t.lf_complete
    ? "The 1:8 preview (LF) is complete, so a decoder can show the whole image coarsely"
    : "The 1:8 preview (LF) is not complete yet, so a decoder can show nothing of this frame";
  result.hidden = false;
  result.replaceChildren(
    el("p", { class: "jxl-truncated-head" }, el("b", { "data-testid": "jxl-truncated", text: `${name}: truncated: ${sizeOf(t.size, t.expected_size)}` })),
    el("p", { class: "muted" },
      `${lf}; ${t.groups_complete} of ${t.groups.length} group${t.groups.length === 1 ? " is" : "s are"} complete `
      + `(outlined), ${t.sections_complete} of ${t.sections} sections in the bytes. ${width}×${height}. `
      + "Below: what Chromium's own decoder draws from these bytes. Reordering needs the whole file."),
    stage,
  );
  setResult(result, {
    truncated: true, size: t.size, expected_size: t.expected_size, groups_complete: t.groups_complete,
    groups: t.groups.length, lf_complete: t.lf_complete, width, height,
  });
}

function drawGroups(canvas, groups) {
  const ctx = canvas.getContext("2d");
  const line = Math.max(2, Math.round(canvas.width / 300));
  for (const g of groups) {
    if (!g.rect) continue;
    const [x, y, w, h] = g.rect;
    if (g.complete) {
      ctx.strokeStyle = "rgba(80, 220, 120, 0.95)";
      ctx.lineWidth = line;
      ctx.strokeRect(x + line / 2, y + line / 2, w - line, h - line);
    } else {
      ctx.fillStyle = "rgba(10, 12, 16, 0.45)";
      ctx.fillRect(x, y, w, h);
    }
  }
}
