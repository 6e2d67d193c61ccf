// Pure helpers over codeclab.jxl.service's inspect() and load_plan() replies: load order, bytes per
// group, the salient area, and the "fraction of the salient area complete" curve.

/** The frame the page shows: the one load_plan used (`plan.frame_index`), else the first displayed
 *  frame (a progressive file starts with a 1:8 "LF frame" that is never shown on its own). */
export function mainFrame(info, plan = null) {
  const frames = info.frames;
  if (plan && plan.frame_index !== undefined) {
    const planned = frames.find((f) => f.index === plan.frame_index);
    if (planned) return planned;
  }
  return frames.find((f) => f.frame_type === "regular" || f.frame_type === "skip_progressive")
    || frames.find((f) => f.width === info.width && f.height === info.height) || frames[0];
}

/** Bytes of every group summed over its passes (a single-section frame is one group). */
export function groupBytes(frame) {
  const bytes = new Map();
  for (const section of frame.toc) {
    if (section.kind === "pass_group" || section.kind === "single") {
      const group = section.group ?? 0;
      bytes.set(group, (bytes.get(group) || 0) + section.size);
    }
  }
  return bytes;
}

/** Group index -> 1-based load rank, by when the group is complete (ties by group index). */
export function loadRanks(plan) {
  const sorted = [...plan.groups].sort((a, b) => a.complete_at - b.complete_at || a.group - b.group);
  return new Map(sorted.map((g, i) => [g.group, i + 1]));
}

/** Seconds to receive `bytes` at `mbps` megabits per second. */
export const secondsAt = (bytes, mbps) => (bytes * 8) / (mbps * 1e6);

/**
 * Weight of the salient area inside each group: Map(group -> weight), weights summing to 1.
 * Salient = the attention heatmap at or above `threshold` of its peak; with no heatmap (or an empty
 * one), a disk around the centre with a radius of 15 % of the shorter side.
 */
export function salientWeights(plan, width, height, attention, threshold = 0.5) {
  const heat = heatSampler(attention, width, height);
  const radius = 0.15 * Math.min(width, height);
  const disk = (x, y) => Math.hypot(x - attention.x, y - attention.y) <= radius;
  let source = `heatmap ≥ ${Math.round(threshold * 100)} % of its peak`;
  let counted = heat ? countPerGroup(plan, width, height, (x, y) => heat(x, y) >= threshold) : null;
  if (!counted || counted.total === 0) { // no map, or a flat one: use the disk rather than an empty area
    source = "disk around the centre (15 % of the shorter side)";
    counted = countPerGroup(plan, width, height, disk);
  }
  const { weights, total, mask } = counted;
  if (total === 0) { weights.set(plan.center_group, 1); return { weights, source, mask }; } // e.g. a 1×1 image
  for (const [g, w] of weights) weights.set(g, w / total);
  return { weights, source, mask };
}

/** Count the sample points inside the salient area, per group (96 samples on the longer side);
 *  `mask` keeps which samples are salient, for drawing. */
function countPerGroup(plan, width, height, isSalient) {
  const step = Math.max(width, height) / 96;
  const nx = Math.max(1, Math.ceil(width / step));
  const ny = Math.max(1, Math.ceil(height / step));
  const weights = new Map(plan.groups.map((g) => [g.group, 0]));
  const cells = new Uint8Array(nx * ny);
  let total = 0;
  for (let j = 0; j < ny; j++) {
    for (let i = 0; i < nx; i++) {
      const x = Math.min(width - 1e-6, (i + 0.5) * step);
      const y = Math.min(height - 1e-6, (j + 0.5) * step);
      if (!isSalient(x, y)) continue;
      cells[j * nx + i] = 1;
      const g = plan.groups.find(({ rect: [gx, gy, gw, gh] }) => x >= gx && x < gx + gw && y >= gy && y < gy + gh);
      if (g) { weights.set(g.group, weights.get(g.group) + 1); total++; }
    }
  }
  return { weights, total, mask: { nx, ny, step, cells } };
}

/** Map image pixel coordinates to the normalised heatmap, or null when the reply has no heatmap. */
function heatSampler(attention, width, height) {
  const map = attention.heatmap;
  const shape = attention.heatmap_shape;
  if (!map || !shape || !map.length) return null;
  const [h, w] = shape;
  let peak = 0;
  for (let i = 0; i < map.length; i++) peak = Math.max(peak, map[i]);
  if (!(peak > 0)) return null;
  // heatmap_box: the rectangle [x0, y0, x1, y1] of original pixels the map covers (it may reach a
  // little past the image: the model saw a padded frame); without one, the map covers the image.
  const [x0, y0, x1, y1] = attention.heatmap_box?.length === 4 ? attention.heatmap_box : [0, 0, width, height];
  return (x, y) => {
    const i = Math.floor(((x - x0) / (x1 - x0)) * w);
    const j = Math.floor(((y - y0) / (y1 - y0)) * h);
    return i >= 0 && i < w && j >= 0 && j < h ? map[j * w + i] / peak : 0; // outside the map: not salient
  };
}

/** Step curve [[bytes, fraction complete], ...] of the salient area for one load plan. */
export function salientCurve(plan, weights) {
  const points = [[0, 0]];
  let fraction = 0;
  const sorted = [...plan.groups].sort((a, b) => a.complete_at - b.complete_at);
  for (const g of sorted) {
    const w = weights.get(g.group) || 0;
    if (w <= 0) continue;
    points.push([g.complete_at, fraction]);
    fraction = Math.min(1, fraction + w);
    points.push([g.complete_at, fraction]);
  }
  points.push([plan.total, fraction]);
  return points;
}

/** Bytes until `share` of the salient area is complete. */
export function bytesToShare(curve, share) {
  for (const [bytes, fraction] of curve) if (fraction >= share - 1e-9) return bytes;
  return curve[curve.length - 1][0];
}

/** Two byte counts are "the same" within a few table-of-contents bytes (or 1 %): no gain either way. */
export function compareBytes(attentionFirst, scanline) {
  if (Math.abs(scanline - attentionFirst) <= Math.max(64, 0.01 * scanline)) return "same";
  return attentionFirst < scanline ? "sooner" : "later";
}

/**
 * The summary of one file, computed only from the figures shown beside it, so it cannot contradict them.
 * centre: bytes until the centre group is complete ({first, scanline}); half: bytes until half the salient
 * area is complete ({first, scanline}); groups: number of groups; centreFirstInScanline: the centre's group
 * is the first to load in scanline order. `format` formats a byte count as the figures do.
 * Returns {centre, salient ("sooner" | "same" | "later"), ratioText, why (null when attention-first helps), sentence}.
 */
export function headline({ centre, half, groups, centreFirstInScanline }, format) {
  const centreVerdict = compareBytes(centre.first, centre.scanline);
  const salientVerdict = compareBytes(half.first, half.scanline);
  const ratio = centre.scanline / Math.max(1, centre.first);
  const vs = (a, b) => `${format(a)} attention-first vs ${format(b)} in scanline order`;
  let why = null;
  if (centreVerdict !== "sooner") {
    const plural = groups === 1 ? "" : "s";
    why = centreFirstInScanline
      ? "the centre is in the first group that scanline order loads, so there is nothing to move ahead of it"
      : groups <= 4
        ? `this image has only ${groups} group${plural} of 256×256, so the centre's group comes within the first few in any order`
        : "the groups loaded before the centre's in scanline order are about as large as those attention-first puts before it";
    if (centreVerdict === "later") why += " (and a reordered table of contents costs a few bytes)";
  }
  const centreText = {
    sooner: `The centre group is complete ×${ratio.toFixed(2)} sooner attention-first (${vs(centre.first, centre.scanline)})`,
    same: `No gain: the centre group is complete at about the same byte in both orders (${vs(centre.first, centre.scanline)}), because ${why}`,
    later: `No gain: the centre group is complete slightly later attention-first (${vs(centre.first, centre.scanline)}), because ${why}`,
  }[centreVerdict];
  const salientText = {
    sooner: `; half the salient area is complete sooner too (${vs(half.first, half.scanline)}).`,
    same: `; half the salient area is complete at about the same byte (${vs(half.first, half.scanline)}).`,
    later: `; but half the salient area is complete later attention-first (${vs(half.first, half.scanline)}): it spreads over groups that scanline order loads early.`,
  }[salientVerdict];
  const ratioText = centreVerdict === "sooner" ? `×${ratio.toFixed(2)}` : centreVerdict === "same" ? "no gain" : `×${ratio.toFixed(2)} (later)`;
  return { centre: centreVerdict, salient: salientVerdict, ratioText, why, sentence: centreText + salientText };
}
