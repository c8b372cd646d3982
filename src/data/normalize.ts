// Per-channel standardisation (torchvision's Normalize) and the statistics it needs, computed from a dataset
// rather than copied from a paper, so a new dataset gets the right constants.

import type { Dataset, ImageDataset, ImageShape, Sample } from "./dataset.js";
import type { Transform } from "./transforms.js";

/**
 * Normalizes each channel: x ← (x − mean[c]) / std[c]. One value in `mean`/`std` applies to every channel.
 *
 * @example normalize([0.1307], [0.3081]) // the usual MNIST constants
 */
export function normalize(mean: readonly number[], std: readonly number[]): Transform {
  if (mean.length === 0 || mean.length !== std.length) {
    throw new Error(
      `normalize: mean [${mean.join(", ")}] and std [${std.join(", ")}] must have the same length`,
    );
  }
  if (std.some((s) => !(s > 0))) throw new Error(`normalize: std must be positive, got [${std.join(", ")}]`);
  return (batch) => {
    const [n, c, h, w] = batch.shape;
    if (mean.length !== 1 && mean.length !== c) {
      throw new Error(
        `normalize: ${mean.length} means given for a batch with ${c} channels [${batch.shape.join(",")}]`,
      );
    }
    const plane = h * w;
    const x = batch.x;
    for (let s = 0; s < n; s++) {
      for (let ch = 0; ch < c; ch++) {
        const m = mean.length === 1 ? mean[0] : mean[ch];
        const inv = 1 / (std.length === 1 ? std[0] : std[ch]);
        const start = (s * c + ch) * plane;
        for (let i = start; i < start + plane; i++) x[i] = (x[i] - m) * inv;
      }
    }
    return batch;
  };
}

/**
 * Mean and (population) standard deviation of each channel over every pixel of every image, accumulated in
 * float64. Pass the training split only, so no test statistics leak into training.
 *
 * @example const { mean, std } = computeMeanStd(train); const norm = normalize(mean, std);
 */
export function computeMeanStd(dataset: ShapedDataset | ImageDataset): { mean: number[]; std: number[] } {
  if (!dataset.shape) throw new Error("computeMeanStd: the dataset has no image shape [C, H, W]");
  const [c, h, w] = dataset.shape;
  const plane = h * w;
  const sum = new Float64Array(c);
  const sumSq = new Float64Array(c);
  const addImage = (x: Float32Array): void => {
    for (let ch = 0; ch < c; ch++) {
      let s = 0;
      let s2 = 0;
      for (let i = ch * plane; i < (ch + 1) * plane; i++) {
        s += x[i];
        s2 += x[i] * x[i];
      }
      sum[ch] += s;
      sumSq[ch] += s2;
    }
  };
  const count = forEachImage(dataset, c * plane, addImage);
  if (count === 0) throw new Error("computeMeanStd: the dataset is empty");
  const pixels = count * plane;
  const mean = Array.from(sum, (s) => s / pixels);
  const std = Array.from(sumSq, (s2, ch) => Math.sqrt(Math.max(0, s2 / pixels - mean[ch] * mean[ch])));
  return { mean, std };
}

/** A dataset of images that may declare its [C, H, W] shape (as `TensorDataset` does). */
export type ShapedDataset = Dataset<Sample> & { readonly shape?: ImageShape };

function forEachImage(
  dataset: ShapedDataset | ImageDataset,
  size: number,
  fn: (x: Float32Array) => void,
): number {
  if ("images" in dataset && !("get" in dataset)) {
    const n = dataset.images.length / size;
    for (let i = 0; i < n; i++) fn(dataset.images.subarray(i * size, (i + 1) * size));
    return n;
  }
  const ds = dataset as ShapedDataset;
  for (let i = 0; i < ds.length; i++) fn(ds.get(i).x);
  return ds.length;
}
