// The transform contract (browser-safe). A transform works on a whole batch as raw arrays — images NCHW in one
// Float32Array — before the DataLoader turns it into tensors, so augmentation costs no graph and no backend calls.
// Each transform receives an Rng from the loader, seeded per (seed, epoch, batch), so augmented runs are
// reproducible whatever the prefetch timing. Transforms may modify `batch.x` in place: the loader owns it.

import type { Rng } from "../tensor/rng.js";

/** A batch as raw arrays, the unit transforms work on. */
export interface RawBatch {
  /** Images [N, C, H, W], row-major. */
  x: Float32Array;
  shape: [number, number, number, number];
  /** Hard labels [N]. */
  y: Int32Array;
  /** Soft targets [N, numClasses] (e.g. after mixup); when present the loader yields these as `y`. */
  targets?: Float32Array;
  /** Number of classes (from the dataset's class names), needed to build soft targets. */
  numClasses: number;
  /** The dataset indices of the samples. */
  indices: Int32Array;
}

/** A batch augmentation: takes a batch and the loader's generator, returns the (possibly new) batch. */
export type Transform = (batch: RawBatch, rng: Rng) => RawBatch;

/**
 * Chains transforms, applied left to right with the same generator.
 *
 * @example
 * const augment = compose([randomCrop(32, { padding: 4 }), randomHorizontalFlip(), normalize(mean, std)]);
 */
export function compose(transforms: readonly Transform[]): Transform {
  return (batch, rng) => transforms.reduce((b, t) => t(b, rng), batch);
}

/** A batch with new images of shape `shape` and the same labels. */
export function withImages(
  batch: RawBatch,
  x: Float32Array,
  shape: [number, number, number, number],
): RawBatch {
  return { ...batch, x, shape };
}

/** Size argument of the cropping transforms: one number for a square, or [height, width]. */
export type Size2 = number | readonly [number, number];

export function pair(what: string, size: Size2): [number, number] {
  const [h, w] = typeof size === "number" ? [size, size] : size;
  if (!Number.isInteger(h) || !Number.isInteger(w) || h <= 0 || w <= 0) {
    throw new Error(`${what}: size must be a positive integer or [height, width], got ${String(size)}`);
  }
  return [h, w];
}

/** Uniform in [lo, hi). */
export function uniformIn(rng: Rng, lo: number, hi: number): number {
  return lo + (hi - lo) * rng.uniform();
}

/** Integer in [lo, hi] inclusive. */
export function intIn(rng: Rng, lo: number, hi: number): number {
  return lo + rng.int(hi - lo + 1);
}
