// Occlusion augmentations (browser-safe): Cutout (DeVries & Taylor, 2017) blanks a fixed-size square at a random
// centre; Random Erasing (Zhong et al., 2017; torchvision RandomErasing) blanks a rectangle of random area and
// aspect ratio. Both are usually placed after normalize, where 0 is the dataset mean.

import type { Rng } from "../tensor/rng.js";
import { intIn, uniformIn, type RawBatch, type Transform } from "./transforms.js";

/**
 * Sets a size×size square of every image (all channels) to `value`. The square's centre is uniform over the
 * image, so near the border the square is clipped — as in the paper, which lets the model sometimes see the
 * whole object.
 *
 * @example cutout(16) // CIFAR-10 setting
 */
export function cutout(size: number, value = 0): Transform {
  if (!Number.isInteger(size) || size <= 0)
    throw new Error(`cutout: size must be a positive integer, got ${size}`);
  return (batch, rng) => {
    const [n, , h, w] = batch.shape;
    for (let s = 0; s < n; s++) {
      const top = rng.int(h) - Math.floor(size / 2);
      const left = rng.int(w) - Math.floor(size / 2);
      fillRect(
        batch,
        s,
        Math.max(0, top),
        Math.min(h, top + size),
        Math.max(0, left),
        Math.min(w, left + size),
        () => value,
      );
    }
    return batch;
  };
}

/**
 * Options of `randomErasing` (torchvision RandomErasing's): `p` (default 0.5), `scale` (default [0.02,
 * 0.33]), `ratio` (default [0.3, 3.3]), `value` (default 0).
 */
export interface RandomErasingOptions {
  /** Probability of erasing each image. */
  p?: number;
  /** Range of the erased area as a fraction of the image's. */
  scale?: readonly [number, number];
  /** Range of the rectangle's aspect ratio (height / width), sampled log-uniformly. */
  ratio?: readonly [number, number];
  /** Fill: one number, one number per channel, or "random" for standard-normal noise. */
  value?: number | readonly number[] | "random";
}

/**
 * Erases a random rectangle of each image with probability `p` (torchvision RandomErasing). Ten tries at a
 * rectangle that fits; if none fits the image is left as it is.
 *
 * @example randomErasing({ p: 0.5, value: "random" })
 */
export function randomErasing(options: RandomErasingOptions = {}): Transform {
  const p = options.p ?? 0.5;
  const scale = options.scale ?? [0.02, 0.33];
  const ratio = options.ratio ?? [0.3, 3.3];
  const value = options.value ?? 0;
  if (!(p >= 0 && p <= 1)) throw new Error(`randomErasing: p must be in [0, 1], got ${p}`);
  if (!(scale[0] >= 0 && scale[1] >= scale[0] && scale[1] <= 1 && ratio[0] > 0 && ratio[1] >= ratio[0])) {
    throw new Error(`randomErasing: bad scale [${scale.join(", ")}] or ratio [${ratio.join(", ")}]`);
  }
  return (batch, rng) => {
    const [n, c, h, w] = batch.shape;
    if (Array.isArray(value) && value.length !== c) {
      throw new Error(
        `randomErasing: ${value.length} fill values for a batch with ${c} channels [${batch.shape.join(",")}]`,
      );
    }
    for (let s = 0; s < n; s++) {
      if (rng.uniform() >= p) continue;
      const rect = sampleRect(rng, h, w, scale, ratio);
      if (!rect) continue;
      const fill =
        value === "random"
          ? () => rng.normal()
          : typeof value === "number"
            ? () => value
            : (ch: number) => (value as readonly number[])[ch];
      fillRect(batch, s, rect.top, rect.top + rect.height, rect.left, rect.left + rect.width, fill);
    }
    return batch;
  };
}

function sampleRect(
  rng: Rng,
  h: number,
  w: number,
  scale: readonly [number, number],
  ratio: readonly [number, number],
): { top: number; left: number; height: number; width: number } | null {
  const logRatio = [Math.log(ratio[0]), Math.log(ratio[1])];
  for (let attempt = 0; attempt < 10; attempt++) {
    const area = h * w * uniformIn(rng, scale[0], scale[1]);
    const aspect = Math.exp(uniformIn(rng, logRatio[0], logRatio[1]));
    const eh = Math.round(Math.sqrt(area * aspect));
    const ew = Math.round(Math.sqrt(area / aspect));
    if (eh >= h || ew >= w || eh === 0 || ew === 0) continue;
    return { top: intIn(rng, 0, h - eh), left: intIn(rng, 0, w - ew), height: eh, width: ew };
  }
  return null;
}

// Rows y0..y1-1 and columns x0..x1-1 of sample s, every channel, set to fill(channel).
function fillRect(
  batch: RawBatch,
  s: number,
  y0: number,
  y1: number,
  x0: number,
  x1: number,
  fill: (channel: number) => number,
): void {
  const [, c, h, w] = batch.shape;
  for (let ch = 0; ch < c; ch++) {
    const plane = (s * c + ch) * h * w;
    for (let y = y0; y < y1; y++) {
      for (let x = x0; x < x1; x++) batch.x[plane + y * w + x] = fill(ch);
    }
  }
}
