// Drawing for the JPEG XL card: the group grid overlay (load order, bytes per group, what has
// arrived) and the "salient area complete vs bytes" plot.
import { formatBytes } from "../../lib/ui.js";

const ACCENT = "#ff6b35";
const DONE = "rgba(91, 214, 138, 0.95)";
const DENSE_LABELS = 24; // on a dense grid, number only the first groups to load

/**
 * Draw the group grid over a view. `canvas` has the view's pixel size; `scale` maps image pixels to it.
 * groups: load_plan groups; ranks: Map group -> load rank; sizes: Map group -> bytes; bytes: bytes received.
 */
export function drawGrid(canvas, { groups, ranks, sizes, scale, dpr = 1, center, centerGroup, bytes, labels = true, salient = null }) {
  const ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  if (salient) drawSalient(ctx, salient, scale);
  const fontPx = dpr * Math.max(9, Math.min(14, Math.round((256 * scale) / dpr / 9)));
  for (const g of groups) {
    const [x, y, w, h] = g.rect.map((v) => v * scale);
    const complete = g.complete_at <= bytes;
    ctx.lineWidth = dpr * (g.group === centerGroup ? 2.5 : 1);
    ctx.strokeStyle = g.group === centerGroup ? ACCENT : complete ? DONE : "rgba(255, 255, 255, 0.45)";
    ctx.strokeRect(x + 0.5, y + 0.5, Math.max(0, w - 1), Math.max(0, h - 1));
    if (!labels) continue;
    const rank = ranks.get(g.group);
    // Every group is numbered when there is room; on a dense grid only the first ones to load are
    // (the rest: hover a group, or see the table of contents).
    const roomy = w >= 48 * dpr && h >= 30 * dpr;
    if (!roomy && !(rank <= DENSE_LABELS && w >= 1.3 * fontPx && h >= 1.2 * fontPx)) continue;
    const size = sizes.has(g.group) ? formatBytes(sizes.get(g.group)) : "";
    const small = roomy ? fontPx : Math.round(Math.min(w / 1.8, fontPx));
    label(ctx, x + 2 * dpr, y + 2 * dpr, String(rank ?? ""), size, small, complete, dpr, roomy && w > 5 * fontPx && h > 2.8 * fontPx);
  }
  if (center) marker(ctx, center[0] * scale, center[1] * scale, dpr);
}

/** The salient area: a tint over it and a dashed outline around it, so it reads on any photo. */
function drawSalient(ctx, { nx, ny, step, cells }, scale) {
  const tile = new OffscreenCanvas(nx, ny);
  const t = tile.getContext("2d");
  const image = t.createImageData(nx, ny);
  for (let i = 0; i < cells.length; i++) {
    image.data[4 * i] = 255; image.data[4 * i + 1] = 209; image.data[4 * i + 2] = 102;
    image.data[4 * i + 3] = cells[i] ? 110 : 0;
  }
  t.putImageData(image, 0, 0);
  ctx.imageSmoothingEnabled = true;
  ctx.filter = `blur(${Math.max(1, step * scale * 0.5).toFixed(1)}px)`; // a soft area, not a staircase of samples
  ctx.drawImage(tile, 0, 0, nx * step * scale, ny * step * scale);
  ctx.filter = "none";
  // The outline: every sample edge between a salient and a non-salient sample (or the image edge).
  const inside = (i, j) => i >= 0 && j >= 0 && i < nx && j < ny && cells[j * nx + i] === 1;
  // Whole canvas pixels, with an even line width: a crisp line, not an anti-aliased smear.
  const at = (k) => Math.round(k * step * scale);
  ctx.beginPath();
  for (let j = 0; j < ny; j++) {
    for (let i = 0; i < nx; i++) {
      if (!inside(i, j)) continue;
      if (!inside(i - 1, j)) { ctx.moveTo(at(i), at(j)); ctx.lineTo(at(i), at(j + 1)); }
      if (!inside(i + 1, j)) { ctx.moveTo(at(i + 1), at(j)); ctx.lineTo(at(i + 1), at(j + 1)); }
      if (!inside(i, j - 1)) { ctx.moveTo(at(i), at(j)); ctx.lineTo(at(i + 1), at(j)); }
      if (!inside(i, j + 1)) { ctx.moveTo(at(i), at(j + 1)); ctx.lineTo(at(i + 1), at(j + 1)); }
    }
  }
  ctx.lineWidth = 2 * Math.max(1, Math.round(window.devicePixelRatio || 1));
  ctx.setLineDash([6, 4]);
  ctx.strokeStyle = "rgba(0, 0, 0, 0.55)";
  ctx.stroke();
  ctx.lineDashOffset = 5;
  ctx.strokeStyle = "#ffd166";
  ctx.stroke();
  ctx.setLineDash([]);
  ctx.lineDashOffset = 0;
}

function label(ctx, x, y, rank, size, fontPx, complete, dpr, withSize) {
  const pad = 3 * dpr;
  ctx.font = `700 ${fontPx}px system-ui, sans-serif`;
  ctx.textBaseline = "top";
  const rankWidth = ctx.measureText(rank).width;
  ctx.fillStyle = complete ? "rgba(20, 60, 35, 0.85)" : "rgba(15, 17, 21, 0.72)";
  ctx.fillRect(x, y, rankWidth + 2 * pad, fontPx + pad);
  ctx.fillStyle = complete ? "#b9f5cf" : "#fff";
  ctx.fillText(rank, x + pad, y + pad / 2 + 1);
  if (!withSize) return;
  const sizePx = Math.round(fontPx * 0.8);
  ctx.font = `${sizePx}px system-ui, sans-serif`;
  const sizeWidth = ctx.measureText(size).width;
  ctx.fillStyle = "rgba(15, 17, 21, 0.6)";
  ctx.fillRect(x, y + fontPx + pad + dpr, sizeWidth + 2 * pad, sizePx + pad);
  ctx.fillStyle = "#d6dae3";
  ctx.fillText(size, x + pad, y + fontPx + 1.5 * pad + dpr);
}

function marker(ctx, x, y, dpr) {
  const r = 10 * dpr, arm = 17 * dpr;
  ctx.lineWidth = 3 * dpr;
  ctx.strokeStyle = ACCENT;
  ctx.beginPath(); ctx.arc(x, y, r, 0, 2 * Math.PI); ctx.stroke();
  ctx.lineWidth = 1.5 * dpr;
  ctx.strokeStyle = "#fff";
  ctx.beginPath(); ctx.moveTo(x - arm, y); ctx.lineTo(x + arm, y); ctx.moveTo(x, y - arm); ctx.lineTo(x, y + arm); ctx.stroke();
}

/** Plot step curves [{label, color, points: [[bytes, fraction]]}] with a cursor at `cursor` bytes. */
export function drawCurves(canvas, series, total, cursor) {
  const dpr = window.devicePixelRatio || 1;
  const cssW = canvas.clientWidth || 520, cssH = canvas.clientHeight || 200;
  canvas.width = Math.round(cssW * dpr);
  canvas.height = Math.round(cssH * dpr);
  const ctx = canvas.getContext("2d");
  ctx.scale(dpr, dpr);
  const m = { l: 44, r: 12, t: 12, b: 30 };
  const W = cssW - m.l - m.r, H = cssH - m.t - m.b;
  const px = (bytes) => m.l + (W * bytes) / Math.max(1, total);
  const py = (f) => m.t + H * (1 - f);
  ctx.font = "11px system-ui, sans-serif";
  ctx.fillStyle = "#9aa3b2";
  ctx.strokeStyle = "#2d3340";
  ctx.lineWidth = 1;
  for (const f of [0, 0.25, 0.5, 0.75, 1]) {
    ctx.beginPath(); ctx.moveTo(m.l, py(f)); ctx.lineTo(m.l + W, py(f)); ctx.stroke();
    ctx.textAlign = "right"; ctx.textBaseline = "middle";
    ctx.fillText(`${f * 100}%`, m.l - 6, py(f));
  }
  ctx.textBaseline = "top";
  for (let i = 0; i <= 4; i++) {
    ctx.textAlign = i === 0 ? "left" : i === 4 ? "right" : "center";
    ctx.fillText(formatBytes((total * i) / 4), px((total * i) / 4), m.t + H + 6);
  }
  for (const s of series) {
    ctx.strokeStyle = s.color;
    ctx.lineWidth = 2.2;
    ctx.beginPath();
    s.points.forEach(([b, f], i) => (i ? ctx.lineTo(px(b), py(f)) : ctx.moveTo(px(b), py(f))));
    ctx.stroke();
  }
  if (cursor !== null && cursor !== undefined) {
    ctx.strokeStyle = "rgba(255, 255, 255, 0.6)";
    ctx.setLineDash([4, 4]);
    ctx.beginPath(); ctx.moveTo(px(cursor), m.t); ctx.lineTo(px(cursor), m.t + H); ctx.stroke();
    ctx.setLineDash([]);
  }
}
