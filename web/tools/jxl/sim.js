// codeclab's simulation of a progressive JPEG XL decoder at a given byte count:
// nothing until the LF (1:8) image is complete, then that image smoothly upsampled,
// and each group in full detail once all of its passes have arrived (borders softened,
// as a decoder's smoothing across group edges would).

const LF_SCALE = 8;

export class LoadSimulator {
  /** bitmap: the fully decoded image; width/height: image pixels; displayWidth: canvas pixels. */
  constructor(bitmap, width, height, displayWidth) {
    this.width = width;
    this.height = height;
    this.scale = Math.min(1, displayWidth / width);
    this.w = Math.max(1, Math.round(width * this.scale));
    this.h = Math.max(1, Math.round(height * this.scale));
    this.detail = canvas(this.w, this.h);
    draw(this.detail, bitmap, this.w, this.h);
    // The LF image is the image at 1:8 of its own pixels, whatever the display size.
    const lf = canvas(Math.max(1, Math.ceil(width / LF_SCALE)), Math.max(1, Math.ceil(height / LF_SCALE)));
    draw(lf, bitmap, lf.width, lf.height);
    this.lf = canvas(this.w, this.h);
    draw(this.lf, lf, this.w, this.h);
    // Soften over ~1/16 of a group: enough to hide the seam, small enough to keep groups readable.
    this.blur = Math.max(1, Math.round(this.scale * 16));
    // The mask has a margin, so a group on the image edge is extended past it and the blur does not fade the edge.
    this.pad = 3 * this.blur;
    this.mask = canvas(this.w + 2 * this.pad, this.h + 2 * this.pad);
    this.soft = canvas(this.w, this.h);
    this.layer = canvas(this.w, this.h);
  }

  /** Draw the state after `bytes` bytes of a file whose load plan is `plan` onto `target`;
   *  the 1:8 image is shown from `previewAt` bytes (default: when the frame's LF sections are in). */
  render(target, plan, bytes, previewAt = plan.lf_complete_at) {
    const ctx = target.getContext("2d");
    target.width = this.w;
    target.height = this.h;
    ctx.clearRect(0, 0, this.w, this.h);
    if (bytes < previewAt) return { lf: false, complete: 0 };
    ctx.drawImage(this.lf, 0, 0);
    const complete = plan.groups.filter((g) => g.complete_at <= bytes);
    if (!complete.length) return { lf: true, complete: 0 };
    this.#paintMask(complete);
    const layer = this.layer.getContext("2d");
    layer.globalCompositeOperation = "copy";
    layer.drawImage(this.detail, 0, 0);
    layer.globalCompositeOperation = "destination-in";
    layer.drawImage(this.soft, 0, 0);
    layer.globalCompositeOperation = "source-over";
    ctx.drawImage(this.layer, 0, 0);
    return { lf: true, complete: complete.length };
  }

  #paintMask(groups) {
    const mask = this.mask.getContext("2d");
    const pad = this.pad;
    mask.clearRect(0, 0, this.mask.width, this.mask.height);
    mask.fillStyle = "#fff";
    for (const { rect: [x, y, w, h] } of groups) {
      let x0 = x * this.scale, y0 = y * this.scale, x1 = (x + w) * this.scale, y1 = (y + h) * this.scale;
      if (x <= 0) x0 -= pad;
      if (y <= 0) y0 -= pad;
      if (x + w >= this.width) x1 += pad;
      if (y + h >= this.height) y1 += pad;
      mask.fillRect(pad + x0, pad + y0, x1 - x0, y1 - y0);
    }
    const soft = this.soft.getContext("2d");
    soft.clearRect(0, 0, this.w, this.h);
    soft.filter = `blur(${this.blur}px)`;
    soft.drawImage(this.mask, -pad, -pad);
    soft.filter = "none";
  }
}

function canvas(w, h) {
  const c = document.createElement("canvas");
  c.width = w;
  c.height = h;
  return c;
}

function draw(target, source, w, h) {
  const ctx = target.getContext("2d");
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = "high";
  ctx.drawImage(source, 0, 0, w, h);
}
