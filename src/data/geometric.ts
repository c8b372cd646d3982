// Geometric augmentations on NCHW batches (browser-safe): random crops (with padding, or resized as in
// Inception/ResNet training), translations, zooms and horizontal flips. Each sample in a batch draws its own
// parameters, as torchvision does when it transforms images one at a time.

import type { Rng } from "../tensor/rng.js";
import { resizeRegion } from "./resize.js";
import {
  intIn,
  pair,
  uniformIn,
  withImages,
  type RawBatch,
  type Size2,
  type Transform,
} from "./transforms.js";

/**
 * Crops an h×w window from every sample, sample n's window starting at row tops[n], column lefts[n]. Offsets may
 * be negative or run past the edge: pixels outside the image are `fill` (zero padding by default).
 */
export function cropAt(
  batch: RawBatch,
  tops: ArrayLike<number>,
  lefts: ArrayLike<number>,
  size: Size2,
  fill = 0,
): RawBatch {
  const [oh, ow] = pair("cropAt", size);
  const [n, c, h, w] = batch.shape;
  const src = batch.x;
  const out = new Float32Array(n * c * oh * ow);
  if (fill !== 0) out.fill(fill);
  for (let s = 0; s < n; s++) {
    const top = tops[s];
    const left = lefts[s];
    // The columns of the window that fall inside the image.
    const x0 = Math.max(0, -left);
    const x1 = Math.min(ow, w - left);
    for (let ch = 0; ch < c; ch++) {
      const srcPlane = (s * c + ch) * h * w;
      const dstPlane = (s * c + ch) * oh * ow;
      for (let y = 0; y < oh; y++) {
        const sy = top + y;
        if (sy < 0 || sy >= h || x1 <= x0) continue;
        const from = srcPlane + sy * w + left;
        out.set(src.subarray(from + x0, from + x1), dstPlane + y * ow + x0);
      }
    }
  }
  return withImages(batch, out, [n, c, oh, ow]);
}

/** Options of `randomCrop` (torchvision RandomCrop's `padding` and `fill`, both default 0). */
export interface RandomCropOptions {
  /** Pixels of padding added on every side before cropping (as in the CIFAR recipe: 4). */
  padding?: number;
  /** Value of the padding pixels. */
  fill?: number;
}

/**
 * Random crop of `size` from each image padded by `padding` on every side (torchvision RandomCrop).
 *
 * @example randomCrop(32, { padding: 4 }) // [N,3,32,32] → [N,3,32,32], shifted by up to 4 pixels
 */
export function randomCrop(size: Size2, options: RandomCropOptions = {}): Transform {
  const [oh, ow] = pair("randomCrop", size);
  const pad = options.padding ?? 0;
  if (!Number.isInteger(pad) || pad < 0)
    throw new Error(`randomCrop: padding must be an integer ≥ 0, got ${pad}`);
  return (batch, rng) => {
    const [n, , h, w] = batch.shape;
    if (oh > h + 2 * pad || ow > w + 2 * pad) {
      throw new Error(
        `randomCrop: crop ${oh}×${ow} is larger than the padded image ${h + 2 * pad}×${w + 2 * pad} (batch [${batch.shape.join(",")}], padding ${pad})`,
      );
    }
    const tops = new Int32Array(n);
    const lefts = new Int32Array(n);
    for (let s = 0; s < n; s++) {
      tops[s] = intIn(rng, -pad, h + pad - oh);
      lefts[s] = intIn(rng, -pad, w + pad - ow);
    }
    return cropAt(batch, tops, lefts, [oh, ow], options.fill ?? 0);
  };
}

/**
 * Shifts each image by a random whole number of pixels, dx ∈ [−maxDx, maxDx] and dy ∈ [−maxDy, maxDy]; the
 * uncovered border is `fill`. The output keeps the input's size.
 */
export function randomTranslate(maxDx: number, maxDy: number = maxDx, fill = 0): Transform {
  if (![maxDx, maxDy].every((m) => Number.isInteger(m) && m >= 0)) {
    throw new Error(`randomTranslate: maxDx and maxDy must be integers ≥ 0, got ${maxDx}, ${maxDy}`);
  }
  return (batch, rng) => {
    const [n, , h, w] = batch.shape;
    const tops = new Int32Array(n);
    const lefts = new Int32Array(n);
    for (let s = 0; s < n; s++) {
      // A shift by (dx, dy) reads the source window starting at (−dy, −dx).
      lefts[s] = -intIn(rng, -maxDx, maxDx);
      tops[s] = -intIn(rng, -maxDy, maxDy);
    }
    return cropAt(batch, tops, lefts, [h, w], fill);
  };
}

/**
 * Zooms each image about its centre by a factor drawn uniformly from [min, max] (>1 enlarges), keeping the size;
 * bilinear sampling, with `fill` where the zoomed-out image does not cover the output.
 */
export function randomScale(range: readonly [number, number], fill = 0): Transform {
  const [lo, hi] = range;
  if (!(lo > 0 && hi >= lo))
    throw new Error(`randomScale: range must satisfy 0 < min ≤ max, got [${lo}, ${hi}]`);
  return (batch, rng) => {
    const [n, c, h, w] = batch.shape;
    const out = new Float32Array(batch.x.length);
    for (let s = 0; s < n; s++) {
      const inv = 1 / uniformIn(rng, lo, hi);
      for (let ch = 0; ch < c; ch++) {
        const plane = (s * c + ch) * h * w;
        zoomPlane(batch.x, out, plane, h, w, inv, fill);
      }
    }
    return withImages(batch, out, [n, c, h, w]);
  };
}

// Output pixel (y, x) samples the source at centre + (p − centre)·inv (pixel-centre coordinates), bilinearly,
// reading `fill` outside the image (grid_sample's zero padding).
function zoomPlane(
  src: Float32Array,
  dst: Float32Array,
  offset: number,
  h: number,
  w: number,
  inv: number,
  fill: number,
): void {
  const at = (y: number, x: number): number =>
    y < 0 || y >= h || x < 0 || x >= w ? fill : src[offset + y * w + x];
  for (let y = 0; y < h; y++) {
    const fy = (y + 0.5 - h / 2) * inv + h / 2 - 0.5;
    const y0 = Math.floor(fy);
    const wy = fy - y0;
    for (let x = 0; x < w; x++) {
      const fx = (x + 0.5 - w / 2) * inv + w / 2 - 0.5;
      const x0 = Math.floor(fx);
      const wx = fx - x0;
      const top = at(y0, x0) * (1 - wx) + at(y0, x0 + 1) * wx;
      const bottom = at(y0 + 1, x0) * (1 - wx) + at(y0 + 1, x0 + 1) * wx;
      dst[offset + y * w + x] = top * (1 - wy) + bottom * wy;
    }
  }
}

/**
 * Options of `randomResizedCrop` (torchvision's `scale`, default [0.08, 1], and `ratio`, default [3/4, 4/3]).
 */
export interface RandomResizedCropOptions {
  /** Range of the crop's area as a fraction of the image's. */
  scale?: readonly [number, number];
  /** Range of the crop's aspect ratio (width / height), sampled log-uniformly. */
  ratio?: readonly [number, number];
}

/**
 * Crops a random area and aspect ratio of each image and resizes it to `size` (torchvision RandomResizedCrop,
 * the ImageNet training augmentation), bilinearly.
 *
 * @example randomResizedCrop(224) // scale [0.08, 1], ratio [3/4, 4/3]
 */
export function randomResizedCrop(size: Size2, options: RandomResizedCropOptions = {}): Transform {
  const [oh, ow] = pair("randomResizedCrop", size);
  const scale = options.scale ?? [0.08, 1];
  const ratio = options.ratio ?? [3 / 4, 4 / 3];
  if (!(scale[0] > 0 && scale[1] >= scale[0] && ratio[0] > 0 && ratio[1] >= ratio[0])) {
    throw new Error(`randomResizedCrop: bad scale [${scale.join(", ")}] or ratio [${ratio.join(", ")}]`);
  }
  return (batch, rng) => {
    const [n, c, h, w] = batch.shape;
    const out = new Float32Array(n * c * oh * ow);
    for (let s = 0; s < n; s++) {
      const region = sampleCropRegion(rng, h, w, scale, ratio);
      for (let ch = 0; ch < c; ch++) {
        resizeRegion(batch.x, (s * c + ch) * h * w, w, region, out, (s * c + ch) * oh * ow, oh, ow);
      }
    }
    return withImages(batch, out, [n, c, oh, ow]);
  };
}

// torchvision's RandomResizedCrop.get_params: ten tries at a random area and ratio, then a centred fallback.
function sampleCropRegion(
  rng: Rng,
  h: number,
  w: number,
  scale: readonly [number, number],
  ratio: readonly [number, number],
): { top: number; left: number; height: number; width: number } {
  const area = h * w;
  const logRatio = [Math.log(ratio[0]), Math.log(ratio[1])];
  for (let attempt = 0; attempt < 10; attempt++) {
    const target = area * uniformIn(rng, scale[0], scale[1]);
    const aspect = Math.exp(uniformIn(rng, logRatio[0], logRatio[1]));
    const cw = Math.round(Math.sqrt(target * aspect));
    const chh = Math.round(Math.sqrt(target / aspect));
    if (cw > 0 && cw <= w && chh > 0 && chh <= h) {
      return { top: intIn(rng, 0, h - chh), left: intIn(rng, 0, w - cw), height: chh, width: cw };
    }
  }
  const inRatio = w / h;
  let cw = w;
  let chh = h;
  if (inRatio < ratio[0]) chh = Math.round(w / ratio[0]);
  else if (inRatio > ratio[1]) cw = Math.round(h * ratio[1]);
  return { top: Math.floor((h - chh) / 2), left: Math.floor((w - cw) / 2), height: chh, width: cw };
}

/**
 * Mirrors each image left–right with probability `p` (torchvision RandomHorizontalFlip).
 *
 * @example randomHorizontalFlip() // p = 0.5
 */
export function randomHorizontalFlip(p = 0.5): Transform {
  if (!(p >= 0 && p <= 1)) throw new Error(`randomHorizontalFlip: p must be in [0, 1], got ${p}`);
  return (batch, rng) => {
    const [n, c, h, w] = batch.shape;
    for (let s = 0; s < n; s++) {
      if (rng.uniform() >= p) continue;
      for (let row = s * c * h; row < (s * c + c) * h; row++)
        batch.x.subarray(row * w, (row + 1) * w).reverse();
    }
    return batch;
  };
}
