// The drawing pad: pointer events (mouse, pen and touch alike) draw white strokes on black, and `sample()`
// turns the drawing into an MNIST-like input: the ink's bounding box scaled into a 20x20 box (28x28 images;
// proportionally for other sizes), then shifted so its centre of mass is the image centre, as LeCun et al.
// prepared MNIST.

export class DrawingPad {
  readonly canvas: HTMLCanvasElement;
  private readonly ctx: CanvasRenderingContext2D;
  private last: { x: number; y: number } | null = null;
  private ink = false;

  constructor(
    canvas: HTMLCanvasElement,
    private readonly onChange: () => void,
  ) {
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d", { willReadFrequently: true })!;
    this.clear();
    canvas.style.touchAction = "none";
    canvas.addEventListener("pointerdown", (e) => {
      canvas.setPointerCapture(e.pointerId);
      this.last = this.at(e);
      this.line(this.last, this.last);
    });
    canvas.addEventListener("pointermove", (e) => {
      if (!this.last) return;
      const p = this.at(e);
      this.line(this.last, p);
      this.last = p;
    });
    const end = () => {
      if (!this.last) return;
      this.last = null;
      this.onChange();
    };
    canvas.addEventListener("pointerup", end);
    canvas.addEventListener("pointercancel", end);
  }

  get empty(): boolean {
    return !this.ink;
  }

  clear(): void {
    this.ctx.fillStyle = "#000";
    this.ctx.fillRect(0, 0, this.canvas.width, this.canvas.height);
    this.ink = false;
  }

  /** Shows an image [C, H, W] in [0, 1] (a gallery item) on the pad. */
  show(pixels: Float32Array, shape: readonly number[]): void {
    const [c, h, w] = shape;
    const img = new ImageData(w, h);
    for (let i = 0; i < h * w; i++) {
      for (let k = 0; k < 3; k++)
        img.data[4 * i + k] = Math.round(255 * pixels[(c === 3 ? k : 0) * h * w + i]);
      img.data[4 * i + 3] = 255;
    }
    const small = new OffscreenCanvas(w, h);
    small.getContext("2d")!.putImageData(img, 0, 0);
    this.ctx.imageSmoothingEnabled = false;
    this.ctx.drawImage(small, 0, 0, this.canvas.width, this.canvas.height);
    this.ink = true;
  }

  private at(e: PointerEvent): { x: number; y: number } {
    const r = this.canvas.getBoundingClientRect();
    return {
      x: ((e.clientX - r.left) / r.width) * this.canvas.width,
      y: ((e.clientY - r.top) / r.height) * this.canvas.height,
    };
  }

  private line(a: { x: number; y: number }, b: { x: number; y: number }): void {
    const ctx = this.ctx;
    ctx.strokeStyle = "#fff";
    ctx.lineWidth = this.canvas.width / 14;
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    ctx.beginPath();
    ctx.moveTo(a.x, a.y);
    ctx.lineTo(b.x, b.y);
    ctx.stroke();
    this.ink = true;
  }

  /** The drawing as an input [C, H, W] (grey replicated to C channels), values in [0, 1]. */
  sample(shape: readonly number[]): Float32Array {
    const [c, h, w] = shape;
    const { width, height } = this.canvas;
    const src = this.ctx.getImageData(0, 0, width, height).data;
    let x0 = width,
      y0 = height,
      x1 = -1,
      y1 = -1;
    for (let y = 0; y < height; y++)
      for (let x = 0; x < width; x++)
        if (src[4 * (y * width + x)] > 20) {
          x0 = Math.min(x0, x);
          x1 = Math.max(x1, x);
          y0 = Math.min(y0, y);
          y1 = Math.max(y1, y);
        }
    const out = new Float32Array(c * h * w);
    if (x1 < 0) return out;
    // The bounding box into a box of 20/28 of the image, keeping the aspect ratio (area-averaged by the browser).
    const box = Math.round((Math.min(h, w) * 20) / 28);
    const bw = x1 - x0 + 1;
    const bh = y1 - y0 + 1;
    const f = box / Math.max(bw, bh);
    const tw = Math.max(1, Math.round(bw * f));
    const th = Math.max(1, Math.round(bh * f));
    const small = new OffscreenCanvas(w, h);
    const sctx = small.getContext("2d", { willReadFrequently: true })!;
    sctx.fillStyle = "#000";
    sctx.fillRect(0, 0, w, h);
    sctx.imageSmoothingEnabled = true;
    sctx.imageSmoothingQuality = "high";
    sctx.drawImage(this.canvas, x0, y0, bw, bh, (w - tw) / 2, (h - th) / 2, tw, th);
    const grey = sctx.getImageData(0, 0, w, h).data;
    const values = new Float32Array(h * w);
    let mass = 0,
      mx = 0,
      my = 0;
    for (let i = 0; i < h * w; i++) {
      values[i] = grey[4 * i] / 255;
      mass += values[i];
      mx += values[i] * (i % w);
      my += values[i] * Math.floor(i / w);
    }
    // Shift the centre of mass to the centre (whole pixels, as the MNIST preparation did).
    const dx = Math.round((w - 1) / 2 - mx / mass);
    const dy = Math.round((h - 1) / 2 - my / mass);
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        const sx = x - dx;
        const sy = y - dy;
        const v = sx >= 0 && sx < w && sy >= 0 && sy < h ? values[sy * w + sx] : 0;
        for (let k = 0; k < c; k++) out[k * h * w + y * w + x] = v;
      }
    return out;
  }
}
