// The WebGL2 texture view: uploads a transcoded mip chain exactly as the GPU will keep it
// (compressedTexImage2D for block formats, texImage2D for RGBA32/565/4444), then draws one mip
// level over a checkerboard with zoom (wheel) and pan (drag).
//
// Values are uploaded with the linear (non-sRGB) internal format on purpose: the texels are
// already sRGB-encoded and the canvas shows them as they are, so what you see is the raw decode.

const VERTEX = `#version 300 es
void main() {
  // One triangle that covers the viewport.
  vec2 p = vec2(float((gl_VertexID << 1) & 2), float(gl_VertexID & 2));
  gl_Position = vec4(p * 2.0 - 1.0, 0.0, 1.0);
}`;

// Screen pixel -> level-0 texel: img = (screen - pan) / zoom. Every level is drawn over the
// level-0 footprint, so lower mips show their coarseness instead of shrinking.
const DISPLAY = `#version 300 es
precision highp float;
uniform sampler2D tex;
uniform vec2 size;      // level-0 size in texels (what is shown)
uniform vec2 texSize;   // level-0 size as uploaded (block-padded for a lone S3TC/BPTC/RGTC level)
uniform vec2 pan;       // screen position (device pixels, top-left origin) of texel (0, 0)
uniform float zoom;     // device pixels per level-0 texel
uniform float canvasHeight;
uniform float level;
uniform bool alpha;     // blend over the checkerboard (else show RGB opaque)
uniform bool flipY;     // the file stores rows bottom-up (KTXorientation "ru")
out vec4 color;
void main() {
  vec2 screen = vec2(gl_FragCoord.x, canvasHeight - gl_FragCoord.y);
  vec2 img = (screen - pan) / zoom;
  if (any(lessThan(img, vec2(0.0))) || any(greaterThanEqual(img, size))) {
    color = vec4(0.090, 0.102, 0.129, 1.0);
    return;
  }
  if (flipY) img.y = size.y - img.y;
  vec4 t = textureLod(tex, img / texSize, level);
  vec2 cell = floor(screen / 10.0);
  float check = mod(cell.x + cell.y, 2.0) < 1.0 ? 0.80 : 0.55;
  color = alpha ? vec4(mix(vec3(check), t.rgb, t.a), 1.0) : vec4(t.rgb, 1.0);
}`;

// Readback: texel (x, y) of one level written to pixel (x, y) of an RGBA8 framebuffer, unblended.
const COPY = `#version 300 es
precision highp float;
uniform sampler2D tex;
uniform int level;
out vec4 color;
void main() { color = texelFetch(tex, ivec2(gl_FragCoord.xy), level); }`;

function compile(gl, vertexSource, fragmentSource) {
  const program = gl.createProgram();
  for (const [type, source] of [[gl.VERTEX_SHADER, vertexSource], [gl.FRAGMENT_SHADER, fragmentSource]]) {
    const shader = gl.createShader(type);
    gl.shaderSource(shader, source);
    gl.compileShader(shader);
    if (!gl.getShaderParameter(shader, gl.COMPILE_STATUS)) throw new Error(`shader: ${gl.getShaderInfoLog(shader)}`);
    gl.attachShader(program, shader);
  }
  gl.linkProgram(program);
  if (!gl.getProgramParameter(program, gl.LINK_STATUS)) throw new Error(`program: ${gl.getProgramInfoLog(program)}`);
  const uniforms = {};
  for (let i = 0; i < gl.getProgramParameter(program, gl.ACTIVE_UNIFORMS); i++) {
    const { name } = gl.getActiveUniform(program, i);
    uniforms[name] = gl.getUniformLocation(program, name);
  }
  return { program, uniforms };
}

export class TextureView {
  constructor(canvas) {
    this.canvas = canvas;
    // preserveDrawingBuffer: screenshots and readPixels of the canvas see the last frame.
    this.gl = canvas.getContext("webgl2", { alpha: false, antialias: false, preserveDrawingBuffer: true });
    if (!this.gl) throw new Error("this browser has no WebGL2: textures cannot be shown");
    const gl = this.gl;
    this.display = compile(gl, VERTEX, DISPLAY);
    this.copy = compile(gl, VERTEX, COPY);
    this.vao = gl.createVertexArray();
    this.texture = null;
    this.levels = [];
    this.texSize = [1, 1];
    this.level = 0;
    this.alpha = true;
    this.flipY = false;
    this.zoom = 1;
    this.pan = [0, 0];
    this.onchange = null; // called after zoom/pan changes (for the zoom read-out)
    this.installControls();
    new ResizeObserver(() => this.resize()).observe(canvas);
    this.resize();
  }

  /** The extension names the page hands to Python to choose a target. */
  // What Python chooses the GPU format from (pysrc/codeclab/basis/targets.py).
  extensions() { return this.gl.getSupportedExtensions() || []; }

  get dpr() { return window.devicePixelRatio || 1; }

  resize() {
    const width = Math.max(1, Math.round(this.canvas.clientWidth * this.dpr));
    const height = Math.max(1, Math.round(this.canvas.clientHeight * this.dpr));
    if (width !== this.canvas.width || height !== this.canvas.height) {
      const hadSize = this.canvas.width > 1;
      this.canvas.width = width;
      this.canvas.height = height;
      if (!hadSize && this.levels.length) this.fit();
    }
    this.render();
  }

  /**
   * Upload every level of a transcoded chain. `target` is Python's plan target:
   * {name, compressed, gl_internal_format, gl_format, gl_type, extension}; `sizes` is the
   * plan's levels ({level, upload_width, upload_height}): the size WebGL is told, which is
   * block-padded for a single-level S3TC/RGTC/BPTC texture whose sides are not multiples of 4.
   */
  upload(levels, target, { flipY = false, sizes = [] } = {}) {
    const gl = this.gl;
    if (target.extension && !gl.getExtension(target.extension)) {
      throw new Error(`this WebGL2 context cannot enable ${target.extension} for ${target.name}`);
    }
    while (gl.getError() !== gl.NO_ERROR) { /* clear stale errors */ }
    const texture = gl.createTexture();
    gl.bindTexture(gl.TEXTURE_2D, texture);
    gl.pixelStorei(gl.UNPACK_ALIGNMENT, 1);
    gl.pixelStorei(gl.UNPACK_FLIP_Y_WEBGL, false);
    gl.pixelStorei(gl.UNPACK_PREMULTIPLY_ALPHA_WEBGL, false);
    const uploaded = [];
    for (const { level, width: shownWidth, height: shownHeight, data } of levels) {
      const width = sizes[level]?.upload_width ?? shownWidth;
      const height = sizes[level]?.upload_height ?? shownHeight;
      uploaded.push([width, height]);
      const bytes = new Uint8Array(data);
      if (target.compressed) {
        gl.compressedTexImage2D(gl.TEXTURE_2D, level, target.gl_internal_format, width, height, 0, bytes);
      } else {
        // 565 and 4444 arrive as little-endian 16-bit texels.
        const pixels = target.gl_type === gl.UNSIGNED_BYTE ? bytes : new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2);
        gl.texImage2D(gl.TEXTURE_2D, level, target.gl_internal_format, width, height, 0, target.gl_format, target.gl_type, pixels);
      }
      const error = gl.getError();
      if (error !== gl.NO_ERROR) {
        gl.deleteTexture(texture);
        throw new Error(`WebGL refused mip level ${level} (${width}x${height}) as ${target.name}: GL error 0x${error.toString(16)}`);
      }
    }
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_BASE_LEVEL, 0);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MAX_LEVEL, levels.length - 1);
    // Nearest everywhere: the view shows texels (and the chosen level) exactly, no blending between them.
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MIN_FILTER, gl.NEAREST_MIPMAP_NEAREST);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MAG_FILTER, gl.NEAREST);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_S, gl.CLAMP_TO_EDGE);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_T, gl.CLAMP_TO_EDGE);
    const firstTexture = !this.texture;
    if (this.texture) gl.deleteTexture(this.texture);
    const sameSize = this.levels[0] && this.levels[0].width === levels[0].width && this.levels[0].height === levels[0].height;
    this.texture = texture;
    this.levels = levels.map(({ level, width, height }) => ({ level, width, height }));
    this.texSize = uploaded[0];
    this.flipY = flipY;
    this.level = Math.min(this.level, levels.length - 1);
    if (firstTexture || !sameSize) this.fit(); else this.render();
  }

  /** Forget the texture (after an error: the previous one must not stay on screen as if it were the answer). */
  clear() {
    if (this.texture) this.gl.deleteTexture(this.texture);
    this.texture = null;
    this.levels = [];
    this.level = 0;
    this.render();
  }

  setLevel(level) { this.level = level; this.render(); }
  setAlpha(on) { this.alpha = on; this.render(); }

  /** Whole texture in view, at most 8 screen pixels per texel, centred. */
  fit() {
    if (!this.levels.length) return;
    const { width, height } = this.levels[0];
    const margin = 16 * this.dpr;
    const zoom = Math.min((this.canvas.width - margin) / width, (this.canvas.height - margin) / height, 8 * this.dpr);
    this.setZoom(Math.max(zoom, 1e-3), [this.canvas.width / 2, this.canvas.height / 2], true);
  }

  /** One texel per CSS pixel, centred. */
  actualSize() { this.setZoom(this.dpr, [this.canvas.width / 2, this.canvas.height / 2], true); }

  setZoom(zoom, anchor, centre = false) {
    if (!this.levels.length) return;
    const { width, height } = this.levels[0];
    if (centre) {
      // Whole device pixels, so that at 1:1 every screen pixel samples a texel's centre.
      this.pan = [Math.round(anchor[0] - (width * zoom) / 2), Math.round(anchor[1] - (height * zoom) / 2)];
    } else {
      // Keep the texel under the cursor where it is.
      const k = zoom / this.zoom;
      this.pan = [anchor[0] - (anchor[0] - this.pan[0]) * k, anchor[1] - (anchor[1] - this.pan[1]) * k];
    }
    this.zoom = zoom;
    this.render();
    this.onchange?.();
  }

  /** Screen pixels per level-0 texel in CSS pixels (1 = actual size). */
  get cssZoom() { return this.zoom / this.dpr; }

  installControls() {
    const canvas = this.canvas;
    canvas.addEventListener("wheel", (event) => {
      if (!this.levels.length) return;
      event.preventDefault();
      const rect = canvas.getBoundingClientRect();
      const anchor = [(event.clientX - rect.left) * this.dpr, (event.clientY - rect.top) * this.dpr];
      const zoom = Math.min(Math.max(this.zoom * Math.exp(-event.deltaY * 0.0015), 0.01), 256);
      this.setZoom(zoom, anchor);
    }, { passive: false });
    // One pointer (a mouse or a finger) pans; two fingers pinch: the texel under their midpoint follows it
    // and the zoom follows their distance.
    const pointers = new Map(); // pointerId -> [clientX, clientY]
    let gesture = null; // {pan, zoom, mid, dist} when the current set of pointers went down
    const spread = () => {
      const points = [...pointers.values()];
      const mid = [points.reduce((a, p) => a + p[0], 0) / points.length, points.reduce((a, p) => a + p[1], 0) / points.length];
      const dist = points.length > 1 ? Math.hypot(points[0][0] - points[1][0], points[0][1] - points[1][1]) : 0;
      return { mid, dist };
    };
    const begin = () => { gesture = { pan: [...this.pan], zoom: this.zoom, ...spread() }; };
    canvas.addEventListener("pointerdown", (event) => {
      if (!this.levels.length) return;
      pointers.set(event.pointerId, [event.clientX, event.clientY]);
      canvas.setPointerCapture(event.pointerId);
      canvas.classList.add("dragging");
      begin();
    });
    canvas.addEventListener("pointermove", (event) => {
      if (!pointers.has(event.pointerId)) return;
      pointers.set(event.pointerId, [event.clientX, event.clientY]);
      const { mid, dist } = spread();
      const rect = canvas.getBoundingClientRect();
      const from = [(gesture.mid[0] - rect.left) * this.dpr, (gesture.mid[1] - rect.top) * this.dpr];
      const to = [(mid[0] - rect.left) * this.dpr, (mid[1] - rect.top) * this.dpr];
      const zoom = gesture.dist > 0 && dist > 0 ? Math.min(Math.max(gesture.zoom * (dist / gesture.dist), 0.01), 256) : gesture.zoom;
      const k = zoom / gesture.zoom;
      this.zoom = zoom;
      this.pan = [to[0] - (from[0] - gesture.pan[0]) * k, to[1] - (from[1] - gesture.pan[1]) * k];
      this.render();
      if (k !== 1) this.onchange?.();
    });
    const end = (event) => {
      pointers.delete(event.pointerId);
      if (pointers.size) begin();
      else { gesture = null; canvas.classList.remove("dragging"); }
    };
    canvas.addEventListener("pointerup", end);
    canvas.addEventListener("pointercancel", end);
    canvas.addEventListener("dblclick", () => this.fit());
  }

  render() {
    const gl = this.gl;
    gl.bindFramebuffer(gl.FRAMEBUFFER, null);
    gl.viewport(0, 0, this.canvas.width, this.canvas.height);
    gl.clearColor(0.090, 0.102, 0.129, 1);
    gl.clear(gl.COLOR_BUFFER_BIT);
    if (!this.texture) return;
    this.#draw(this.display, (u) => {
      gl.uniform2f(u.size, this.levels[0].width, this.levels[0].height);
      gl.uniform2f(u.texSize, this.texSize[0], this.texSize[1]);
      gl.uniform2f(u.pan, this.pan[0], this.pan[1]);
      gl.uniform1f(u.zoom, this.zoom);
      gl.uniform1f(u.canvasHeight, this.canvas.height);
      gl.uniform1f(u.level, this.level);
      gl.uniform1i(u.alpha, this.alpha ? 1 : 0);
      gl.uniform1i(u.flipY, this.flipY ? 1 : 0);
    });
  }

  /** One full-screen triangle through `pass` ({program, uniforms}) sampling the uploaded texture. */
  #draw(pass, setUniforms) {
    const gl = this.gl;
    gl.useProgram(pass.program);
    gl.bindVertexArray(this.vao);
    gl.activeTexture(gl.TEXTURE0);
    gl.bindTexture(gl.TEXTURE_2D, this.texture);
    gl.uniform1i(pass.uniforms.tex, 0);
    setUniforms(pass.uniforms);
    gl.drawArrays(gl.TRIANGLES, 0, 3);
  }

  /**
   * What the GPU decodes for one level: RGBA8 texels, top row first (file order), read back
   * with readPixels after sampling the uploaded texture with texelFetch.
   */
  readback(level = this.level) {
    const gl = this.gl;
    const { width, height } = this.levels[level];
    const target = gl.createTexture();
    gl.bindTexture(gl.TEXTURE_2D, target);
    gl.texStorage2D(gl.TEXTURE_2D, 1, gl.RGBA8, width, height);
    const framebuffer = gl.createFramebuffer();
    gl.bindFramebuffer(gl.FRAMEBUFFER, framebuffer);
    gl.framebufferTexture2D(gl.FRAMEBUFFER, gl.COLOR_ATTACHMENT0, gl.TEXTURE_2D, target, 0);
    gl.viewport(0, 0, width, height);
    gl.disable(gl.BLEND);
    this.#draw(this.copy, (u) => gl.uniform1i(u.level, level));
    const pixels = new Uint8Array(width * height * 4);
    gl.readPixels(0, 0, width, height, gl.RGBA, gl.UNSIGNED_BYTE, pixels);
    gl.bindFramebuffer(gl.FRAMEBUFFER, null);
    gl.deleteFramebuffer(framebuffer);
    gl.deleteTexture(target);
    this.render();
    return { width, height, pixels };
  }
}
