// Weight averaging (torch.optim.swa_utils): AveragedModel keeps a running average of a model's weights —
// the equal-weight average of stochastic weight averaging (Izmailov et al. 2018) or an exponential moving
// average (getEmaAvgFn) — and updateBn recomputes batch-norm statistics for the averaged weights, which no
// training batch has seen.

import { Tensor, tensor } from "../tensor/tensor.js";
import { noGrad } from "../autograd/engine.js";
import { add, div, mul, sub } from "../ops/elementwise.js";
import { Module } from "../nn/module.js";
import { Parameter } from "../nn/parameter.js";
import { BatchNormBase } from "../nn/normalization.js";
import { isFloat } from "../tensor/dtype.js";
import { formatShape } from "../tensor/shape.js";
import { checkOptionKeys, hostValues } from "../ops/util.js";

/** new average from the current average, the model's value and how many values the average holds. */
export type AvgFn = (averaged: Tensor, current: Tensor, numAveraged: number) => Tensor;

/** The equal-weight running mean of SWA: averaged + (current - averaged) / (n + 1). */
const swaAvgFn: AvgFn = (averaged, current, n) => add(averaged, div(sub(current, averaged), n + 1));

/**
 * The exponential moving average decay·averaged + (1 - decay)·current (torch.optim.swa_utils.get_ema_avg_fn).
 * @example new AveragedModel(model, { avgFn: getEmaAvgFn(0.999) })
 */
export function getEmaAvgFn(decay = 0.999): AvgFn {
  if (!(decay >= 0 && decay <= 1)) throw new Error(`getEmaAvgFn: decay must be in [0, 1], got ${decay}`);
  return (averaged, current) => add(mul(averaged, decay), mul(current, 1 - decay));
}

/** Options of `AveragedModel` (torch.optim.swa_utils.AveragedModel's `avg_fn` and `use_buffers`). */
export interface AveragedModelOptions<M extends Module> {
  /** How to fold a new value into the average; default the SWA equal-weight mean. */
  avgFn?: AvgFn;
  /** Average the buffers too (running statistics), as torch's use_buffers; default false. */
  useBuffers?: boolean;
  /**
   * Builds the copy that holds the average (e.g. `() => resnet18()`); it receives the model's state dict.
   * Without it the model is deep-copied structurally; such a copy computes the same forward, but forward
   * hooks registered on its submodules do not fire.
   */
  copy?: () => M;
}

/**
 * A copy of `model` whose parameters (and, with useBuffers, buffers) hold a running average of the model's
 * over the calls to updateParameters (torch.optim.swa_utils.AveragedModel). State-dict keys are torch's:
 * `n_averaged` and `module.<key>`. forward runs the averaged copy.
 * @example
 * const ema = new AveragedModel(model, { avgFn: getEmaAvgFn(0.999) });
 * // after every optimizer step:
 * ema.updateParameters(model);
 * // evaluate with ema.eval().forward(x); for SWA, await updateBn(loader, swa) first
 */
export class AveragedModel<M extends Module> extends Module {
  module: M;
  readonly useBuffers: boolean;
  private readonly avgFn: AvgFn;

  constructor(model: M, options: AveragedModelOptions<M> = {}) {
    super();
    checkOptionKeys("AveragedModel", options, ["avgFn", "useBuffers", "copy"]);
    if (!(model instanceof Module)) throw new Error("AveragedModel: model must be a Module");
    this.avgFn = options.avgFn ?? swaAvgFn;
    this.useBuffers = options.useBuffers ?? false;
    if (options.copy) {
      this.module = options.copy();
      this.module.loadStateDict(model.stateDict());
    } else {
      this.module = deepCopyModule(model);
    }
    const backend = model.parameters()[0]?.backend.name;
    this.registerBuffer("n_averaged", averagedCount(0, backend));
  }

  /** How many models the average holds. */
  get nAveraged(): number {
    return this.getBuffer("n_averaged").item();
  }

  /** Folds the current weights of `model` (same architecture) into the average. */
  updateParameters(model: M): void {
    noGrad(() => {
      const n = this.nAveraged;
      this.foldParameters(model, n);
      if (this.useBuffers) this.foldBuffers(model, n);
      this.setBuffer("n_averaged", averagedCount(n + 1, this.getBuffer("n_averaged").backend.name));
    });
  }

  private foldParameters(model: M, n: number): void {
    const mine = this.module.namedParameters();
    const theirs = model.namedParameters();
    checkSameLayout("parameters", mine, theirs);
    mine.forEach(([, averaged], i) => {
      const current = theirs[i][1].detach();
      averaged.assign(n === 0 ? copyOf(current) : this.avgFn(averaged.detach(), current, n));
    });
  }

  private foldBuffers(model: M, n: number): void {
    const mine = this.module.namedBuffers();
    const theirs = model.namedBuffers();
    checkSameLayout("buffers", mine, theirs);
    mine.forEach(([key, averaged], i) => {
      const current = theirs[i][1].detach();
      // Integer buffers (num_batches_tracked) take the model's value: an average would not be an integer.
      const value = n === 0 || !isFloat(current.dtype) ? copyOf(current) : this.avgFn(averaged, current, n);
      const dot = key.lastIndexOf(".");
      const owner = dot < 0 ? this.module : this.module.getSubmodule(key.slice(0, dot));
      owner.setBuffer(key.slice(dot + 1), value);
    });
  }

  forward(...args: unknown[]): unknown {
    return (this.module.forward as (...a: unknown[]) => unknown)(...args);
  }
}

function checkSameLayout(what: string, mine: [string, Tensor][], theirs: [string, Tensor][]): void {
  const same =
    mine.length === theirs.length &&
    mine.every(
      ([k, t], i) =>
        k === theirs[i][0] &&
        t.shape.length === theirs[i][1].shape.length &&
        t.shape.every((d, j) => d === theirs[i][1].shape[j]),
    );
  if (!same) {
    const describe = (list: [string, Tensor][]) =>
      list.length === 0 ? "none" : `${list.length} (first ${list[0][0]} ${formatShape(list[0][1].shape)})`;
    throw new Error(
      `AveragedModel.updateParameters: the model's ${what} do not match the averaged copy's: ${describe(theirs)} vs ${describe(mine)}`,
    );
  }
}

/**
 * n_averaged as an int32 scalar made from an array: webgpu keeps such a value on the host too, so
 * updateParameters reads the count without waiting for the GPU.
 */
function averagedCount(n: number, backend: string | undefined): Tensor {
  return tensor(Int32Array.of(n), [], { backend });
}

/** A copy of a tensor: from its host values where they are there, else (webgpu) by a copy on the device. */
function copyOf(t: Tensor): Tensor {
  const values = hostValues(t);
  if (values === null) return noGrad(() => t.mul(1));
  return tensor(values, [...t.shape], { dtype: t.dtype, backend: t.backend.name });
}

/**
 * A structural deep copy of a module tree: same classes and configuration, copies of every parameter and
 * buffer, shared references kept shared. The Module constructor's forward wrapper (hooks, memory scopes)
 * is bound to the original instance, so it is not copied: the copy runs its class's forward directly.
 */
export function deepCopyModule<M extends Module>(model: M): M {
  const memo = new Map<unknown, unknown>();
  const copy = (value: unknown): unknown => {
    if (value === null || typeof value !== "object") return value;
    if (memo.has(value)) return memo.get(value);
    if (value instanceof Parameter) {
      const p = new Parameter(copyOf(value), value.requiresGrad);
      memo.set(value, p);
      return p;
    }
    if (value instanceof Tensor) {
      const t = copyOf(value);
      memo.set(value, t);
      return t;
    }
    if (value instanceof Module) {
      const m = Object.create(Object.getPrototypeOf(value)) as Record<PropertyKey, unknown>;
      memo.set(value, m);
      for (const key of Reflect.ownKeys(value)) {
        if (key === "forward") continue;
        const descriptor = Object.getOwnPropertyDescriptor(value, key)!;
        // Hooks belong to the original (and are counted globally); the copy starts without any.
        const fresh = typeof key === "string" && /hook/i.test(key) ? emptyLike(descriptor.value) : undefined;
        Object.defineProperty(m, key, { ...descriptor, value: fresh ?? copy(descriptor.value) });
      }
      return m;
    }
    if (Array.isArray(value)) {
      const a: unknown[] = [];
      memo.set(value, a);
      for (const item of value) a.push(copy(item));
      return a;
    }
    if (value instanceof Map) {
      const m = new Map();
      memo.set(value, m);
      for (const [k, v] of value) m.set(k, copy(v));
      return m;
    }
    if (value instanceof Set) {
      const s = new Set();
      memo.set(value, s);
      for (const v of value) s.add(copy(v));
      return s;
    }
    if (Object.getPrototypeOf(value) === Object.prototype) {
      const o: Record<string, unknown> = {};
      memo.set(value, o);
      for (const [k, v] of Object.entries(value)) o[k] = copy(v);
      return o;
    }
    // Other objects (generators, backends, functions' closures) are shared, as references.
    return value;
  };
  return copy(model) as M;
}

function emptyLike(value: unknown): unknown {
  if (value instanceof Set) return new Set();
  if (value instanceof Map) return new Map();
  if (Array.isArray(value)) return [];
  return undefined;
}

/** One batch of a loader: a tensor, a [x, …] tuple or a { x } batch (the DataLoader's). */
export type BatchLike = Tensor | readonly [Tensor, ...unknown[]] | { x: Tensor };

/**
 * Recomputes the running statistics of every batch-norm layer of `model` as the plain average over one
 * pass of `loader` (torch.optim.swa_utils.update_bn): running stats are reset, momentum is set to
 * cumulative (null) for the pass, and the model runs in training mode without gradients. Momenta and the
 * training flag are restored afterwards. Models without batch norm are left alone.
 * @example await updateBn(trainLoader, swaModel)
 */
export async function updateBn(
  loader: Iterable<BatchLike> | AsyncIterable<BatchLike>,
  model: Module,
): Promise<void> {
  const norms = model.modules().filter((m): m is BatchNormBase => m instanceof BatchNormBase);
  if (norms.length === 0) return;
  const momenta = norms.map((bn) => bn.momentum);
  const modes = model.modules().map((m) => [m, m.training] as const);
  for (const bn of norms) {
    bn.resetRunningStats();
    (bn as { momentum: number | null }).momentum = null;
  }
  model.train();
  try {
    let batches = 0;
    for await (const batch of loader as AsyncIterable<BatchLike>) {
      const x =
        batch instanceof Tensor ? batch : Array.isArray(batch) ? batch[0] : (batch as { x: Tensor }).x;
      if (!(x instanceof Tensor)) throw new Error("updateBn: a batch must be a tensor, [x, …] or { x }");
      noGrad(() => (model.forward as (x: Tensor) => unknown)(x));
      batches++;
    }
    if (batches === 0) throw new Error("updateBn: the loader gave no batches");
  } finally {
    norms.forEach((bn, i) => ((bn as { momentum: number | null }).momentum = momenta[i]));
    for (const [m, training] of modes) m.training = training;
  }
}
