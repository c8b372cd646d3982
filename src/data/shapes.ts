// A synthetic segmentation set made in code, so that segmentation can be learned and tested without a
// download: grey images of circles, squares and triangles on a textured background, with a class per
// pixel. As in PASCAL VOC, a one-pixel band along every shape's outline can be marked "ignore" (255):
// the exact boundary of a rasterised shape is ambiguous, so it is neither trained nor scored.

import { Rng } from "../tensor/rng.js";

/** The classes of {@link syntheticShapes}, by label. */
export const SHAPE_CLASSES = ["background", "circle", "square", "triangle"] as const;

/** The label of pixels that losses and metrics skip (VOC's convention; pass it as `ignoreIndex`). */
export const IGNORE_LABEL = 255;

/** Options of `syntheticShapes`. */
export interface SyntheticShapesOptions {
  /** Image side in pixels (default 32). */
  size?: number;
  /** Seed of the generator (default 0): the same seed gives the same images. */
  seed?: number;
  /** Shapes per image, at most (default 3; at least 1). */
  maxShapes?: number;
  /** Mark the one-pixel outline of each region IGNORE_LABEL (default true). */
  ignoreBoundary?: boolean;
}

/** A segmentation data set: images, per-pixel class masks, the image shape [C, H, W] and the class names. */
export interface SegmentationSet {
  /** [N, 1, size, size] row-major, values in [0, 1]. */
  images: Float32Array;
  /** [N, size, size] class per pixel (index into `classes`, or IGNORE_LABEL). */
  masks: Int32Array;
  shape: readonly [number, number, number];
  classes: readonly string[];
}

type Inside = (x: number, y: number) => boolean;

const clamp01 = (v: number) => Math.min(1, Math.max(0, v));

function randomShape(rng: Rng, size: number): { label: number; inside: Inside } {
  const label = 1 + Math.floor(rng.uniform() * 3);
  const r = size * (0.12 + 0.13 * rng.uniform());
  const cx = r + rng.uniform() * (size - 2 * r);
  const cy = r + rng.uniform() * (size - 2 * r);
  if (label === 1) return { label, inside: (x, y) => (x - cx) ** 2 + (y - cy) ** 2 <= r * r };
  if (label === 2) return { label, inside: (x, y) => Math.abs(x - cx) <= r && Math.abs(y - cy) <= r };
  // An upward triangle: apex at (cx, cy - r), base from (cx - r, cy + r) to (cx + r, cy + r).
  return { label, inside: (x, y) => y <= cy + r && Math.abs(x - cx) <= ((y - (cy - r)) / (2 * r)) * r };
}

/** Marks every pixel with a 4-neighbour of another label. */
function markBoundaries(mask: Int32Array, size: number): void {
  const original = mask.slice();
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      const v = original[y * size + x];
      const differs = (nx: number, ny: number) =>
        nx >= 0 && ny >= 0 && nx < size && ny < size && original[ny * size + nx] !== v;
      if (differs(x - 1, y) || differs(x + 1, y) || differs(x, y - 1) || differs(x, y + 1))
        mask[y * size + x] = IGNORE_LABEL;
    }
}

/**
 * `count` images of 1..maxShapes random circles, squares and triangles (later ones drawn over earlier
 * ones), each with its own brightness, on a background of smooth noise, and their per-pixel labels.
 * @example const { images, masks } = syntheticShapes(512, { size: 32, seed: 1 });
 */
export function syntheticShapes(count: number, options: SyntheticShapesOptions = {}): SegmentationSet {
  const { size = 32, seed = 0, maxShapes = 3, ignoreBoundary = true } = options;
  for (const [name, v, min] of [
    ["count", count, 1],
    ["size", size, 8],
    ["maxShapes", maxShapes, 1],
  ] as const)
    if (!Number.isInteger(v) || v < min)
      throw new Error(`syntheticShapes: ${name} must be an integer >= ${min}, got ${v}`);
  const rng = new Rng(seed);
  const plane = size * size;
  const images = new Float32Array(count * plane);
  const masks = new Int32Array(count * plane);
  for (let n = 0; n < count; n++) {
    const [fx, fy, phase, base] = [
      rng.uniform() * 0.5,
      rng.uniform() * 0.5,
      rng.uniform() * 6.3,
      0.1 + 0.3 * rng.uniform(),
    ];
    const image = images.subarray(n * plane, (n + 1) * plane);
    const mask = masks.subarray(n * plane, (n + 1) * plane);
    for (let y = 0; y < size; y++)
      for (let x = 0; x < size; x++)
        image[y * size + x] = clamp01(
          base + 0.08 * Math.sin(fx * x + fy * y + phase) + 0.05 * (rng.uniform() - 0.5),
        );
    const shapes = 1 + Math.floor(rng.uniform() * maxShapes);
    for (let s = 0; s < shapes; s++) {
      const { label, inside } = randomShape(rng, size);
      const brightness = 0.55 + 0.45 * rng.uniform();
      for (let y = 0; y < size; y++)
        for (let x = 0; x < size; x++)
          if (inside(x + 0.5, y + 0.5)) {
            image[y * size + x] = clamp01(brightness + 0.05 * (rng.uniform() - 0.5));
            mask[y * size + x] = label;
          }
    }
    if (ignoreBoundary) markBoundaries(mask, size);
  }
  return { images, masks, shape: [1, size, size], classes: SHAPE_CLASSES };
}
