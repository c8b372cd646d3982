// Datasets: indexable collections of samples (torch.utils.data.Dataset). Image datasets keep every image in one
// Float32Array [N,C,H,W] and every label in one Int32Array, so a whole MNIST or CIFAR split is two allocations
// and `get(i)` returns views, not copies. `subset` and `randomSplit` select samples by index (validation splits).

import { Rng } from "../tensor/rng.js";
import type { Tensor } from "../tensor/tensor.js";

/** Anything indexable by 0..length-1, like torch.utils.data.Dataset. */
export interface Dataset<T> {
  readonly length: number;
  /** The sample at index `i` (0 ≤ i < length). */
  get(i: number): T;
}

/** One labelled image: `x` holds C·H·W values in CHW order; `y` is the class index. */
export interface Sample {
  x: Float32Array;
  y: number;
}

/** Image shape without the batch dimension: [channels, height, width]. */
export type ImageShape = readonly [number, number, number];

/**
 * A dataset of labelled images that the DataLoader can batch: samples plus their common [C,H,W] shape and
 * (optionally) the class names.
 */
export interface SampleDataset extends Dataset<Sample> {
  readonly shape: ImageShape;
  readonly classes?: readonly string[];
}

/** A whole image dataset in memory, as the parsers and loaders produce it. Pixel values are in [0, 1]. */
export interface ImageDataset {
  /** [N, C, H, W] row-major. */
  images: Float32Array;
  /** [N] class indices. */
  labels: Int32Array;
  /** [C, H, W]. */
  shape: ImageShape;
  /** Class names, indexed by label. */
  classes: string[];
}

/** Options of `TensorDataset`: the image shape [C, H, W] and the class names. */
export interface TensorDatasetOptions {
  /** [C, H, W]; required when `x` is a Float32Array, checked against the tensor's shape otherwise. */
  shape?: ImageShape;
  classes?: readonly string[];
}

/**
 * Images and labels held in memory (torch.utils.data.TensorDataset for the image case).
 *
 * `x` is a float32 tensor [N, C, H, W] or a Float32Array of N·C·H·W values (then `options.shape` gives [C,H,W]);
 * `y` is an int32 tensor [N] or an Int32Array of N labels. The arrays are kept, not copied.
 *
 * @example
 * const ds = new TensorDataset(randn([100, 1, 28, 28]), randint(0, 10, [100]));
 * const { x, y } = ds.get(0); // x: Float32Array(784), y: number
 */
export class TensorDataset implements SampleDataset, ImageDataset {
  readonly images: Float32Array;
  readonly labels: Int32Array;
  readonly shape: ImageShape;
  readonly classes: string[];
  private readonly sampleSize: number;

  constructor(x: Tensor | Float32Array, y: Tensor | Int32Array, options: TensorDatasetOptions = {}) {
    const { images, shape } = imagesOf(x, options.shape);
    this.images = images;
    this.shape = shape;
    this.labels = labelsOf(y);
    this.sampleSize = shape[0] * shape[1] * shape[2];
    const n = this.labels.length;
    if (images.length !== n * this.sampleSize) {
      throw new Error(
        `TensorDataset: ${n} labels need ${n}×${shape.join("×")} = ${n * this.sampleSize} image values, got ${images.length}`,
      );
    }
    this.classes = options.classes ? [...options.classes] : inferClasses(this.labels);
  }

  /** Wraps an {@link ImageDataset} (parser or loader output) without copying. */
  static fromImages(data: ImageDataset): TensorDataset {
    return new TensorDataset(data.images, data.labels, { shape: data.shape, classes: data.classes });
  }

  /** Number of samples. */
  get length(): number {
    return this.labels.length;
  }

  /** Sample `i`: its C·H·W values (a view, not a copy) and its label. */
  get(i: number): Sample {
    checkIndex("TensorDataset", i, this.length);
    const start = i * this.sampleSize;
    return { x: this.images.subarray(start, start + this.sampleSize), y: this.labels[i] };
  }
}

function imagesOf(x: Tensor | Float32Array, shape?: ImageShape): { images: Float32Array; shape: ImageShape } {
  if (x instanceof Float32Array) {
    if (!shape)
      throw new Error("TensorDataset: images given as a Float32Array need options.shape = [C, H, W]");
    checkImageShape(shape);
    return { images: x, shape: [shape[0], shape[1], shape[2]] };
  }
  if (x.dtype !== "float32" || x.ndim !== 4) {
    throw new Error(
      `TensorDataset: x must be a float32 tensor [N, C, H, W], got ${x.dtype} [${x.shape.join(",")}]`,
    );
  }
  const own: ImageShape = [x.shape[1], x.shape[2], x.shape[3]];
  if (shape && shape.some((d, i) => d !== own[i])) {
    throw new Error(
      `TensorDataset: options.shape [${shape.join(",")}] does not match x [${x.shape.join(",")}]`,
    );
  }
  return { images: x.toArray() as Float32Array, shape: own };
}

function labelsOf(y: Tensor | Int32Array): Int32Array {
  if (y instanceof Int32Array) return y;
  if (y.dtype !== "int32" || y.ndim !== 1) {
    throw new Error(`TensorDataset: y must be an int32 tensor [N], got ${y.dtype} [${y.shape.join(",")}]`);
  }
  return y.toArray() as Int32Array;
}

function inferClasses(labels: Int32Array): string[] {
  let max = -1;
  for (const label of labels) max = Math.max(max, label);
  return Array.from({ length: max + 1 }, (_, i) => String(i));
}

function checkImageShape(shape: ImageShape): void {
  if (shape.length !== 3 || shape.some((d) => !Number.isInteger(d) || d <= 0)) {
    throw new Error(
      `TensorDataset: shape must be [C, H, W] with positive integers, got [${shape.join(",")}]`,
    );
  }
}

function checkIndex(what: string, i: number, length: number): void {
  if (!Number.isInteger(i) || i < 0 || i >= length) {
    throw new Error(`${what}: index ${i} is out of range for a dataset of length ${length}`);
  }
}

/**
 * The samples of `dataset` at `indices`, in that order (torch.utils.data.Subset). The image shape and class
 * names carry over, so a subset of an image dataset can be batched by a DataLoader.
 */
export class Subset<T> implements Dataset<T> {
  readonly indices: Int32Array;
  readonly shape?: ImageShape;
  readonly classes?: readonly string[];

  constructor(
    readonly dataset: Dataset<T>,
    indices: ArrayLike<number>,
  ) {
    this.indices = Int32Array.from(indices);
    for (const i of this.indices) checkIndex("subset", i, dataset.length);
    const meta = dataset as Partial<SampleDataset>;
    if (meta.shape) this.shape = meta.shape;
    if (meta.classes) this.classes = meta.classes;
  }

  /** Number of selected samples. */
  get length(): number {
    return this.indices.length;
  }

  /** The `i`-th selected sample of the underlying dataset. */
  get(i: number): T {
    checkIndex("Subset", i, this.length);
    return this.dataset.get(this.indices[i]);
  }
}

/**
 * The samples of `dataset` at `indices`.
 *
 * @example const firstThousand = subset(train, Array.from({ length: 1000 }, (_, i) => i));
 */
export function subset<T>(dataset: Dataset<T>, indices: ArrayLike<number>): Subset<T> {
  return new Subset(dataset, indices);
}

/**
 * Splits `dataset` into disjoint random subsets (torch.utils.data.random_split). `lengths` are sample counts
 * summing to the dataset length, or fractions summing to 1 (remainders go to the first subsets, as in PyTorch).
 * `rng` (a generator or a seed) makes the split reproducible.
 *
 * @example const [train, val] = randomSplit(full, [0.9, 0.1], 42);
 */
export function randomSplit<T>(
  dataset: Dataset<T>,
  lengths: readonly number[],
  rng: Rng | number,
): Subset<T>[] {
  const counts = splitCounts(dataset.length, lengths);
  const generator = typeof rng === "number" ? new Rng(rng) : rng;
  const order = generator.permutation(dataset.length);
  const parts: Subset<T>[] = [];
  let start = 0;
  for (const count of counts) {
    parts.push(new Subset(dataset, order.subarray(start, start + count)));
    start += count;
  }
  return parts;
}

function splitCounts(n: number, lengths: readonly number[]): number[] {
  if (lengths.length === 0 || lengths.some((l) => !(l >= 0))) {
    throw new Error(`randomSplit: lengths must be non-negative numbers, got [${lengths.join(", ")}]`);
  }
  const total = lengths.reduce((a, b) => a + b, 0);
  if (lengths.every((l) => Number.isInteger(l)) && total === n) return [...lengths];
  if (Math.abs(total - 1) > 1e-6 || lengths.some((l) => l > 1)) {
    throw new Error(
      `randomSplit: lengths [${lengths.join(", ")}] must be counts summing to the dataset length ${n} or fractions summing to 1`,
    );
  }
  const counts = lengths.map((f) => Math.floor(f * n));
  let remainder = n - counts.reduce((a, b) => a + b, 0);
  for (let i = 0; remainder > 0; i = (i + 1) % counts.length, remainder--) counts[i]++;
  return counts;
}

/**
 * The images of the given classes, relabelled 0, 1, … in the order `classes` lists them, at most
 * `perClass` of each (the first ones): for a transfer task (digits 5–9 as classes 0–4) or a few-label
 * subset. The images are copied.
 * @example const fewNines = selectClasses(mnist, [5, 6, 7, 8, 9], { perClass: 100 });
 */
export function selectClasses(
  dataset: ImageDataset,
  classes: readonly number[],
  options: { perClass?: number } = {},
): TensorDataset {
  const perClass = options.perClass ?? Infinity;
  const counts = new Map<number, number>();
  const picked: number[] = [];
  dataset.labels.forEach((label, i) => {
    if (!classes.includes(label) || (counts.get(label) ?? 0) >= perClass) return;
    counts.set(label, (counts.get(label) ?? 0) + 1);
    picked.push(i);
  });
  const size = dataset.shape[0] * dataset.shape[1] * dataset.shape[2];
  const images = new Float32Array(picked.length * size);
  picked.forEach((i, k) => images.set(dataset.images.subarray(i * size, (i + 1) * size), k * size));
  const labels = Int32Array.from(picked, (i) => classes.indexOf(dataset.labels[i]));
  const names = classes.map((c) => dataset.classes[c] ?? String(c));
  return new TensorDataset(images, labels, { shape: dataset.shape, classes: names });
}
