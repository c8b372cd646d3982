// Builds raw batches with known pixel values for the transform tests.

import type { RawBatch } from "../../src/data/index.js";

/** A batch [n, c, h, w] whose pixel (s, ch, y, x) is value(s, ch, y, x). */
export function makeBatch(
  shape: [number, number, number, number],
  value: (s: number, ch: number, y: number, x: number) => number,
  numClasses = 10,
): RawBatch {
  const [n, c, h, w] = shape;
  const x = new Float32Array(n * c * h * w);
  for (let s = 0; s < n; s++)
    for (let ch = 0; ch < c; ch++)
      for (let y = 0; y < h; y++)
        for (let xx = 0; xx < w; xx++) x[((s * c + ch) * h + y) * w + xx] = value(s, ch, y, xx);
  return {
    x,
    shape: [n, c, h, w],
    y: Int32Array.from({ length: n }, (_, i) => i % numClasses),
    numClasses,
    indices: Int32Array.from({ length: n }, (_, i) => i),
  };
}

/** Pixel (s, ch, y, x) of a batch. */
export function pixel(batch: RawBatch, s: number, ch: number, y: number, x: number): number {
  const [, c, h, w] = batch.shape;
  return batch.x[((s * c + ch) * h + y) * w + x];
}

/** One sample's [C, H, W] values. */
export function sampleOf(batch: RawBatch, s: number): Float32Array {
  const size = batch.shape[1] * batch.shape[2] * batch.shape[3];
  return batch.x.subarray(s * size, (s + 1) * size);
}
