// The DataLoader (torch.utils.data.DataLoader for in-memory image datasets, browser-safe): batches of tensors,
// seeded shuffling that differs per epoch yet replays from the seed, per-batch transforms, and prefetching —
// batch k+1 is assembled and augmented in a macrotask while the consumer awaits its work on batch k. At
// most `prefetchFactor` batches are built ahead, and at most one macrotask is queued per iteration, so a
// loop whose body never yields to the event loop (a synchronous training step) holds nothing extra.
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

/**
 * Options of `DataLoader` (torch.utils.data.DataLoader's `batch_size`, `shuffle`, `drop_last`,
 * `prefetch_factor`, plus a seed and a batch transform). Defaults: batch size 1, no shuffling, keep the last
 * partial batch, prefetch on.
 */
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
  /** Build the next batches in the background while the current one is used (async iteration only; default true). */
  prefetch?: boolean;
  /**
   * With prefetch, how many batches may be built ahead of the one in use (default 1; torch's
   * `prefetch_factor`). Each holds one batch of memory until it is handed out.
   */
  prefetchFactor?: number;
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
  readonly prefetchFactor: number;
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
    const factor = options.prefetchFactor ?? 1;
    if (!Number.isInteger(factor) || factor < 1) {
      throw new Error(`DataLoader: prefetchFactor must be a positive integer, got ${factor}`);
    }
    this.prefetchFactor = factor;
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

  /**
   * Iterates over one epoch's batches (`for await (const { x, y } of loader)`): x [N, C, H, W] float32, y [N]
   * int32 (or [N, K] soft targets after mixup). The order and augmentation come from (seed, epoch, batch), so
   * setting `loader.epoch` replays an epoch exactly; batches are built ahead while the current one is used
   * (`prefetch`).
   */
  async *[Symbol.asyncIterator](): AsyncGenerator<Batch, void, undefined> {
    const epoch = this.epoch++;
    const order = this.order(epoch);
    const count = this.length;
    const ahead = new Prefetcher(
      count,
      (k) => this.build(order, epoch, k),
      this.prefetch ? this.prefetchFactor : 0,
    );
    try {
      for (let k = 0; k < count; k++) yield this.toBatch(ahead.take(k));
    } finally {
      ahead.close();
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

// The batches after the one in use, up to `depth` of them, built one per macrotask while the consumer awaits.
// Only one macrotask is ever queued: a consumer that never yields to the event loop would otherwise queue
// one per batch, each holding its batch until the loop ends.
class Prefetcher {
  private readonly waiting = new Map<number, Pending>();
  private scheduled = false;
  private closed = false;

  constructor(
    private readonly count: number,
    private readonly build: (k: number) => RawBatch,
    private readonly depth: number,
  ) {}

  /** Batch k (built now if the background has not built it yet); queues the ones after it. */
  take(k: number): RawBatch {
    const pending = this.waiting.get(k) ?? new Pending(() => this.build(k));
    this.waiting.delete(k);
    const raw = pending.take();
    for (let j = k + 1; j <= Math.min(this.count - 1, k + this.depth); j++) {
      if (!this.waiting.has(j)) this.waiting.set(j, new Pending(() => this.build(j)));
    }
    this.schedule();
    return raw;
  }

  close(): void {
    this.closed = true;
    this.waiting.clear();
  }

  private schedule(): void {
    if (this.scheduled || this.closed || this.waiting.size === 0) return;
    this.scheduled = true;
    scheduleMacrotask(() => {
      this.scheduled = false;
      if (this.closed) return;
      // Maps iterate in insertion order, which is batch order.
      for (const pending of this.waiting.values()) {
        if (pending.run()) break;
      }
      if ([...this.waiting.values()].some((p) => p.waitingToRun)) this.schedule();
    });
  }
}

// A batch to be built once: in a scheduled macrotask if that runs first, otherwise on demand in take().
class Pending {
  private state: "waiting" | "done" | "failed" = "waiting";
  private result: RawBatch | null = null;
  private error: unknown = null;

  constructor(private readonly build: () => RawBatch) {}

  get waitingToRun(): boolean {
    return this.state === "waiting";
  }

  /** The batch, handed over once (the Pending no longer holds it). */
  take(): RawBatch {
    this.run();
    if (this.state === "failed") throw this.error;
    const result = this.result!;
    this.result = null;
    return result;
  }

  /** Builds the batch if not built yet; true if this call built it. */
  run(): boolean {
    if (this.state !== "waiting") return false;
    try {
      this.result = this.build();
      this.state = "done";
    } catch (error) {
      // Kept until take(), so the error surfaces in the consumer's loop rather than as an unhandled exception.
      this.error = error;
      this.state = "failed";
    }
    return true;
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
