// The DataLoader (torch.utils.data.DataLoader for in-memory image datasets, browser-safe): batches of tensors,
// seeded shuffling that differs per epoch yet replays from the seed, per-batch transforms, and prefetching —
// batch k+1 is assembled and augmented in a macrotask while the consumer awaits its work on batch k.
// Randomness is derived from (seed, epoch, batch index) rather than drawn from one running stream, so the
// batches are identical whether or not prefetching ran ahead, and a resumed run can set `epoch` and continue.

import { Rng, globalRng } from "../tensor/rng.js";
import { tensor, type Tensor } from "../tensor/tensor.js";
import type { Dataset, ImageShape, Sample } from "./dataset.js";
import type { RawBatch, Transform } from "./transforms.js";

/** One batch: images, targets and the dataset indices of its samples. */
export interface Batch {
  /** Images [B, C, H, W] float32. */
  x: Tensor;
  /** Class indices [B] int32, or soft targets [B, K] float32 after mixup. */
  y: Tensor;
  indices: Int32Array;
}

/** What the loader needs of a dataset: samples, their [C, H, W] shape and (optionally) the class names. */
export type LoaderDataset = Dataset<Sample> & {
  readonly shape?: ImageShape;
  readonly classes?: readonly string[];
};

export interface DataLoaderOptions {
  /** Samples per batch (default 1, as in PyTorch). */
  batchSize?: number;
  /** Visit the samples in a new random order every epoch. */
  shuffle?: boolean;
  /** Skip the last batch when it is smaller than batchSize. */
  dropLast?: boolean;
  /** Seed of the shuffling and of the transforms' generator; drawn from the global generator when omitted. */
  seed?: number;
  /** Batch augmentation (use `compose` for several). */
  transform?: Transform;
  /** Build the next batch in the background while the current one is used (async iteration only). */
  prefetch?: boolean;
  /** Backend of the yielded tensors; the current default when omitted. */
  backend?: string;
}

/**
 * Iterates over a dataset in batches.
 *
 * @example
 * const loader = new DataLoader(train, { batchSize: 64, shuffle: true, seed: 1, transform: randomHorizontalFlip() });
 * for (let epoch = 0; epoch < 10; epoch++) {
 *   for await (const { x, y } of loader) { // x [64,1,28,28] float32, y [64] int32
 *     const loss = F.crossEntropy(model.forward(x), y);
 *   }
 * }
 */
export class DataLoader implements AsyncIterable<Batch> {
  readonly dataset: LoaderDataset;
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly dropLast: boolean;
  readonly seed: number;
  readonly transform?: Transform;
  readonly prefetch: boolean;
  /** The epoch the next iteration will run (0-based); each iteration increments it. Set it to resume. */
  epoch = 0;
  private readonly shape: ImageShape;
  private readonly backendName?: string;

  constructor(dataset: LoaderDataset, options: DataLoaderOptions = {}) {
    const batchSize = options.batchSize ?? 1;
    if (!Number.isInteger(batchSize) || batchSize <= 0) {
      throw new Error(`DataLoader: batchSize must be a positive integer, got ${batchSize}`);
    }
    if (!dataset.shape) {
      throw new Error(
        "DataLoader: the dataset has no image shape [C, H, W]; use TensorDataset or give it a `shape`",
      );
    }
    this.dataset = dataset;
    this.shape = dataset.shape;
    this.batchSize = batchSize;
    this.shuffle = options.shuffle ?? false;
    this.dropLast = options.dropLast ?? false;
    this.seed = (options.seed ?? globalRng.nextUint32()) >>> 0;
    this.transform = options.transform;
    this.prefetch = options.prefetch ?? true;
    this.backendName = options.backend;
  }

  /** Number of batches per epoch. */
  get length(): number {
    const n = this.dataset.length;
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  /** The order in which epoch `epoch` visits the dataset. */
  order(epoch: number): Int32Array {
    const n = this.dataset.length;
    if (this.shuffle) return new Rng(mixSeed(this.seed, epoch, 0x5f)).permutation(n);
    return Int32Array.from({ length: n }, (_, i) => i);
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Batch, void, undefined> {
    const epoch = this.epoch++;
    const order = this.order(epoch);
    const count = this.length;
    let next: Pending | null = count > 0 ? new Pending(() => this.build(order, epoch, 0)) : null;
    try {
      for (let k = 0; k < count; k++) {
        const raw = next!.take();
        next = k + 1 < count ? new Pending(() => this.build(order, epoch, k + 1)) : null;
        if (next && this.prefetch) next.schedule();
        yield this.toBatch(raw);
      }
    } finally {
      next?.cancel();
    }
  }

  /**
   * The batches of one epoch, synchronously (no prefetching); the same batches as async iteration gives for
   * that epoch.
   *
   * @example for (const { x, y } of loader.batches()) { … }
   */
  *batches(): Generator<Batch, void, undefined> {
    const epoch = this.epoch++;
    const order = this.order(epoch);
    for (let k = 0; k < this.length; k++) yield this.toBatch(this.build(order, epoch, k));
  }

  private build(order: Int32Array, epoch: number, k: number): RawBatch {
    const indices = order.slice(k * this.batchSize, Math.min(order.length, (k + 1) * this.batchSize));
    const [c, h, w] = this.shape;
    const size = c * h * w;
    const x = new Float32Array(indices.length * size);
    const y = new Int32Array(indices.length);
    indices.forEach((index, row) => {
      const sample = this.dataset.get(index);
      if (sample.x.length !== size) {
        throw new Error(
          `DataLoader: sample ${index} has ${sample.x.length} values, expected ${size} for shape [${this.shape.join(",")}]`,
        );
      }
      x.set(sample.x, row * size);
      y[row] = sample.y;
    });
    const raw: RawBatch = {
      x,
      shape: [indices.length, c, h, w],
      y,
      numClasses: this.dataset.classes?.length ?? 0,
      indices,
    };
    if (!this.transform) return raw;
    const out = this.transform(raw, new Rng(mixSeed(this.seed, epoch, k + 1)));
    const expected = out.shape.reduce((a, b) => a * b, 1);
    if (out.x.length !== expected) {
      throw new Error(
        `DataLoader: transform returned ${out.x.length} values for shape [${out.shape.join(",")}]`,
      );
    }
    return out;
  }

  // Tensors are made here, at hand-out, not when prefetching: a background build must not allocate backend
  // storage inside whatever memory scope the consumer's step happens to be running.
  private toBatch(raw: RawBatch): Batch {
    const options = this.backendName ? { backend: this.backendName } : undefined;
    const n = raw.shape[0];
    const y = raw.targets
      ? tensor(raw.targets, [n, raw.targets.length / n], options)
      : tensor(raw.y, [n], { ...options, dtype: "int32" });
    return { x: tensor(raw.x, raw.shape, options), y, indices: raw.indices };
  }
}

// A batch to be built once: in a scheduled macrotask if that runs first, otherwise on demand in take().
class Pending {
  private state: "waiting" | "done" | "failed" | "cancelled" = "waiting";
  private result: RawBatch | null = null;
  private error: unknown = null;

  constructor(private readonly build: () => RawBatch) {}

  schedule(): void {
    scheduleMacrotask(() => this.run());
  }

  take(): RawBatch {
    this.run();
    if (this.state === "failed") throw this.error;
    return this.result!;
  }

  cancel(): void {
    if (this.state === "waiting") this.state = "cancelled";
  }

  private run(): void {
    if (this.state !== "waiting") return;
    try {
      this.result = this.build();
      this.state = "done";
    } catch (error) {
      // Kept until take(), so the error surfaces in the consumer's loop rather than as an unhandled exception.
      this.error = error;
      this.state = "failed";
    }
  }
}

// A macrotask rather than a microtask: it must wait until the consumer yields to the event loop (awaits I/O, a
// timer or a worker), not run before the consumer has even received the current batch.
function scheduleMacrotask(fn: () => void): void {
  const g = globalThis as { setImmediate?: (f: () => void) => unknown };
  if (typeof g.setImmediate === "function") {
    g.setImmediate(fn);
  } else if (typeof MessageChannel === "function") {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      fn();
    };
    channel.port2.postMessage(null);
  } else {
    setTimeout(fn, 0);
  }
}

/** Hashes several integers into one 32-bit seed (FNV-1a steps with a murmur3 finaliser). */
export function mixSeed(...parts: number[]): number {
  let h = 0x811c9dc5;
  for (const part of parts) {
    h = Math.imul(h ^ (part >>> 0), 0x01000193);
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
  }
  return h >>> 0;
}
