// The Tensor: a shape, a dtype and a backend-owned storage, plus what autograd needs (requiresGrad, grad,
// gradFn). Tensors are immutable values: ops return new tensors and never consume their inputs.

import type { Backend, Storage } from "../backend/backend.js";
import { getBackend } from "../backend/registry.js";
import { runBackward, type BackwardOptions, type GradNode } from "../autograd/engine.js";
import type { DType, TypedArray } from "./dtype.js";
import { dtypeOf, isFloat } from "./dtype.js";
import { formatShape, sizeOf, type Shape } from "./shape.js";
import { globalRng, type Rng } from "./rng.js";
import * as ew from "../ops/elementwise.js";
import * as red from "../ops/reduce.js";
import * as mv from "../ops/movement.js";
import * as mm from "../ops/matmul.js";
import * as act from "../ops/activations.js";
import * as sm from "../ops/softmax.js";

/** A number or nested arrays of numbers, as `tensor([[1, 2], [3, 4]])` takes them. */
export type NestedArray = number | readonly NestedArray[];
/** What arithmetic accepts as an operand: a tensor or a number (broadcast as a scalar). */
export type TensorLike = Tensor | number;

/**
 * Options of tensor creation: `dtype` (default float32), `requiresGrad` (default false), `backend` (default
 * the current one, see `setBackend`).
 */
export interface TensorOptions {
  dtype?: DType;
  requiresGrad?: boolean;
  /** Backend name; the current default when omitted. */
  backend?: string;
}

/**
 * An n-dimensional array of float32, float64 or int32 values on a backend (js or wasm), with reverse-mode
 * autodiff: `torch.Tensor`. Create one with `tensor`, `zeros`, `randn` …; ops are methods (`x.add(y)`,
 * `x.sum(1)`) or functions of `F`. Tensors are values: ops return new tensors, only parameters are updated in
 * place (by optimizers, through `assign`).
 * @example
 *   const x = randn([2, 3], { requiresGrad: true });
 *   x.mul(x).sum().backward(); // x.grad = 2x
 */
export class Tensor {
  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly backend: Backend;
  private _storage: Storage;
  /** Accumulated gradient after backward(); null until then. */
  grad: Tensor | null = null;
  private _requiresGrad = false;
  private _gradFn: GradNode | null = null;

  constructor(storage: Storage, shape: Shape, backend: Backend) {
    if (storage.size !== sizeOf(shape)) {
      throw new Error(
        `Tensor: storage holds ${storage.size} elements but shape ${formatShape(shape)} needs ${sizeOf(shape)}`,
      );
    }
    this._storage = storage;
    this.shape = Object.freeze([...shape]);
    this.dtype = storage.dtype;
    this.backend = backend;
  }

  /** The backend storage holding the values (shared by views such as `reshape`). */
  get storage(): Storage {
    return this._storage;
  }

  /**
   * Replaces this leaf tensor's values with `value`'s (same shape; like torch's `p.data = value` or
   * `p.copy_(value)`). Optimizers and loadStateDict use it; the gradient history is untouched.
   */
  assign(value: Tensor): this {
    if (this._gradFn)
      throw new Error("assign: only leaf tensors can be assigned; this tensor was computed by an op");
    if (!sameDims(value.shape, this.shape)) {
      throw new Error(
        `assign: value shape ${formatShape(value.shape)} does not match tensor shape ${formatShape(this.shape)}`,
      );
    }
    // A value from another backend (e.g. a checkpoint read on js) is copied over.
    const storage = value.backend === this.backend ? value.storage : this.backend.fromArray(value.toArray());
    this._storage = value.dtype === this.dtype ? storage : this.backend.cast(storage, this.dtype);
    // The new values outlive any scope they were computed in, and live as long as the parameter.
    this.backend.keep?.(this._storage);
    this.backend.pin?.(this._storage);
    return this;
  }

  /**
   * Keeps this tensor's storage alive past the end of every enclosing `scope` and module forward (for
   * tensors stored somewhere the scope cannot see, e.g. a cache). Returns the tensor. Like every tensor no
   * scope owns, its values may leave the wasm memory at the end of a backward pass and come back when used
   * (docs/design.md, "Memory").
   */
  keep(): this {
    this.backend.keep?.(this._storage);
    return this;
  }

  /** Number of elements. */
  get size(): number {
    return this.storage.size;
  }

  /** Number of dimensions (`shape.length`): 4 for an image batch [N, C, H, W]. */
  get ndim(): number {
    return this.shape.length;
  }

  /**
   * Whether operations on this tensor are recorded for `backward()` (torch's `requires_grad`). Only float
   * tensors can require gradients; results of ops on such tensors require them too.
   */
  get requiresGrad(): boolean {
    return this._requiresGrad;
  }

  /**
   * Turns gradient recording on or off for a leaf tensor (float only; a computed tensor cannot turn it off:
   * use `detach()`).
   */
  set requiresGrad(value: boolean) {
    if (value && !isFloat(this.dtype))
      throw new Error(`requiresGrad: only float tensors can require gradients, not ${this.dtype}`);
    if (!value && this._gradFn)
      throw new Error("requiresGrad: cannot turn off on a non-leaf tensor; use detach()");
    this._requiresGrad = value;
  }

  /** In-place form that returns the tensor, like torch's `requires_grad_()`. */
  requiresGrad_(value = true): this {
    this.requiresGrad = value;
    return this;
  }

  /** The node that produced this tensor (null for leaves). */
  get gradFn(): GradNode | null {
    return this._gradFn;
  }

  /** @internal Called by primitives when they record this tensor as their output. */
  attachGradFn(node: GradNode): void {
    this._gradFn = node;
    this._requiresGrad = true;
  }

  /**
   * True for tensors not computed by a recorded op (created tensors, parameters): `backward()` accumulates
   * their `.grad`.
   */
  get isLeaf(): boolean {
    return this._gradFn === null;
  }

  /** @internal Adds to .grad on a leaf during backward. */
  accumulateGrad(g: Tensor): void {
    if (!this._requiresGrad) return;
    const shaped = sameDims(g.shape, this.shape) ? g : g.reshape(this.shape);
    this.grad = this.grad ? this.grad.add(shaped) : shaped.detach();
    this.backend.keep?.(this.grad.storage);
  }

  /**
   * Computes gradients of this tensor with respect to every leaf that requires them, adding into `.grad`.
   * `upstream` defaults to 1 for a one-element tensor.
   */
  backward(upstream?: Tensor, options: BackwardOptions = {}): void {
    if (!this._requiresGrad) {
      throw new Error(
        "backward: tensor does not require grad (no input had requiresGrad, or it ran under noGrad)",
      );
    }
    let seed = upstream;
    if (!seed) {
      if (this.size !== 1) {
        throw new Error(
          `backward: an upstream gradient is needed for a non-scalar output of shape ${formatShape(this.shape)}`,
        );
      }
      seed = full(this.shape, 1, { dtype: this.dtype, backend: this.backend.name });
    } else if (!sameDims(seed.shape, this.shape)) {
      throw new Error(
        `backward: upstream shape ${formatShape(seed.shape)} does not match output shape ${formatShape(this.shape)}`,
      );
    }
    runBackward(this, seed, options);
  }

  /** A tensor with the same storage and no gradient history. */
  detach(): Tensor {
    return new Tensor(this.storage, this.shape, this.backend);
  }

  /** A copy of the values as a flat typed array (Float32Array, Float64Array or Int32Array). */
  toArray(): TypedArray {
    return this.backend.toArray(this.storage);
  }

  /**
   * A copy of the values as a flat typed array, read asynchronously: works on every backend, and is the way
   * to read a tensor on webgpu (whose GPU buffers are read back asynchronously). Afterwards toArray() and
   * item() return the same values synchronously (until the tensor is updated in place).
   * @example const values = await logits.data();
   */
  async data(): Promise<TypedArray> {
    return this.backend.readAsync ? this.backend.readAsync(this.storage) : this.toArray();
  }

  /** The single value of a one-element tensor, read asynchronously (see data()). */
  async itemAsync(): Promise<number> {
    if (this.size !== 1)
      throw new Error(
        `itemAsync: tensor of shape ${formatShape(this.shape)} has ${this.size} elements, not 1`,
      );
    return (await this.data())[0];
  }

  /** The values as nested JavaScript arrays. */
  toList(): NestedArray {
    const flat = this.toArray();
    const build = (dim: number, offset: number): NestedArray => {
      if (dim === this.shape.length) return flat[offset];
      const stride = sizeOf(this.shape.slice(dim + 1));
      return Array.from({ length: this.shape[dim] }, (_, i) => build(dim + 1, offset + i * stride));
    };
    return build(0, 0);
  }

  /** The single value of a one-element tensor. */
  item(): number {
    if (this.size !== 1)
      throw new Error(`item: tensor of shape ${formatShape(this.shape)} has ${this.size} elements, not 1`);
    return this.toArray()[0];
  }

  /** `Tensor(shape=[2, 3], dtype=float32)`: the shape and dtype, not the values (use `toArray()`). */
  toString(): string {
    return `Tensor(shape=${formatShape(this.shape)}, dtype=${this.dtype}${this._requiresGrad ? ", requiresGrad" : ""})`;
  }

  // Arithmetic (broadcasting).
  /** `this + other`, broadcasting as NumPy/PyTorch (`torch.add`). */
  add(other: TensorLike): Tensor {
    return ew.add(this, other);
  }
  /** `this - other`, broadcasting (`torch.sub`). */
  sub(other: TensorLike): Tensor {
    return ew.sub(this, other);
  }
  /** `this * other` elementwise, broadcasting (`torch.mul`). */
  mul(other: TensorLike): Tensor {
    return ew.mul(this, other);
  }
  /** `this / other` elementwise, broadcasting (`torch.div`). */
  div(other: TensorLike): Tensor {
    return ew.div(this, other);
  }
  /** `this ** exponent` elementwise with a constant exponent (`torch.pow`). */
  pow(exponent: number): Tensor {
    return ew.pow(this, exponent);
  }
  /** `-this` (`torch.neg`). */
  neg(): Tensor {
    return ew.neg(this);
  }
  /** `e ** this` elementwise (`torch.exp`). */
  exp(): Tensor {
    return ew.exp(this);
  }
  /** Natural logarithm elementwise (`torch.log`). */
  log(): Tensor {
    return ew.log(this);
  }
  /** Square root elementwise (`torch.sqrt`). */
  sqrt(): Tensor {
    return ew.sqrt(this);
  }
  /** Absolute value elementwise (`torch.abs`). */
  abs(): Tensor {
    return ew.abs(this);
  }
  /** `this * this` elementwise (`torch.square`). */
  square(): Tensor {
    return ew.square(this);
  }
  /** Limits every value to [min, max] (`torch.clamp`); the gradient is 0 where a bound applied. */
  clamp(min: number, max: number): Tensor {
    return ew.clamp(this, min, max);
  }

  // Reductions.
  /**
   * Sum over `dim` (one or several dimensions; all when omitted), dropping them unless `keepdim`
   * (`torch.sum`).
   */
  sum(dim?: number | readonly number[], keepdim = false): Tensor {
    return red.sum(this, dim, keepdim);
  }
  /** Mean over `dim` (all dimensions when omitted), dropping them unless `keepdim` (`torch.mean`). */
  mean(dim?: number | readonly number[], keepdim = false): Tensor {
    return red.mean(this, dim, keepdim);
  }
  /**
   * Maximum over `dim` (all dimensions when omitted), values only (`torch.amax`); the gradient goes to the
   * maxima, split between ties.
   */
  max(dim?: number | readonly number[], keepdim = false): Tensor {
    return red.max(this, dim, keepdim);
  }
  /** Minimum over `dim` (all dimensions when omitted), values only (`torch.amin`). */
  min(dim?: number | readonly number[], keepdim = false): Tensor {
    return red.min(this, dim, keepdim);
  }
  /**
   * Index of the largest value along `dim` as int32 (`torch.argmax`): `logits.argmax(1)` gives the predicted
   * classes [N].
   */
  argmax(dim: number, keepdim = false): Tensor {
    return red.argmax(this, dim, keepdim);
  }

  // Movement.
  /**
   * The same values in another shape with the same number of elements; one dimension may be -1 (inferred)
   * (`torch.reshape`).
   */
  reshape(shape: readonly number[]): Tensor {
    return mv.reshape(this, shape);
  }
  /** Same as `reshape`, under torch's other name (`Tensor.view`). */
  view(shape: readonly number[]): Tensor {
    return mv.reshape(this, shape);
  }
  /**
   * Merges dimensions `startDim`..`endDim` into one (`torch.flatten`); `x.flatten(1)` turns [N, C, H, W] into
   * [N, C·H·W].
   */
  flatten(startDim = 0, endDim = -1): Tensor {
    return mv.flatten(this, startDim, endDim);
  }
  /** Reorders the dimensions: `x.permute([0, 2, 3, 1])` turns NCHW into NHWC (`torch.permute`). */
  permute(dims: readonly number[]): Tensor {
    return mv.permute(this, dims);
  }
  /** Swaps two dimensions (`torch.transpose`). */
  transpose(dim0: number, dim1: number): Tensor {
    return mv.transpose(this, dim0, dim1);
  }
  /** Removes dimension `dim` if it has size 1, or every size-1 dimension when omitted (`torch.squeeze`). */
  squeeze(dim?: number): Tensor {
    return mv.squeeze(this, dim);
  }
  /**
   * Inserts a size-1 dimension at `dim` (`torch.unsqueeze`): [C, H, W] → [1, C, H, W] with `unsqueeze(0)`.
   */
  unsqueeze(dim: number): Tensor {
    return mv.unsqueeze(this, dim);
  }
  /** Broadcasts size-1 dimensions to `shape` (-1 keeps a size) (`torch.expand`); the gradient sums back. */
  expand(shape: readonly number[]): Tensor {
    return mv.expand(this, shape);
  }
  /**
   * The elements `start` (inclusive) to `end` (exclusive, default the end) along `dim`: `x.slice(0, 0, 1)` is
   * the first item of a batch, keeping the dimension (`x[0:1]` in PyTorch).
   */
  slice(dim: number, start: number, end?: number): Tensor {
    return mv.slice(this, dim, start, end);
  }

  // Linear algebra and activations.
  /**
   * Matrix product, batched over leading dimensions with broadcasting (`torch.matmul`): [.., n, k] @ [.., k,
   * m] → [.., n, m].
   */
  matmul(other: Tensor): Tensor {
    return mm.matmul(this, other);
  }
  /** `max(x, 0)` elementwise (`torch.relu`). */
  relu(): Tensor {
    return act.relu(this);
  }
  /** `1 / (1 + e^-x)` elementwise (`torch.sigmoid`). */
  sigmoid(): Tensor {
    return act.sigmoid(this);
  }
  /** Hyperbolic tangent elementwise (`torch.tanh`). */
  tanh(): Tensor {
    return act.tanh(this);
  }
  /** Softmax along `dim` (`torch.softmax`): `logits.softmax(1)` gives class probabilities [N, K]. */
  softmax(dim: number): Tensor {
    return sm.softmax(this, dim);
  }
  /** Log of the softmax along `dim`, computed stably (`torch.log_softmax`). */
  logSoftmax(dim: number): Tensor {
    return sm.logSoftmax(this, dim);
  }

  /** A copy with another dtype (no gradient flows through an int cast). */
  to(dtype: DType): Tensor {
    return ew.cast(this, dtype);
  }
}

function sameDims(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

function resolveBackend(options: TensorOptions | undefined): Backend {
  return getBackend(options?.backend);
}

function finish(
  storage: Storage,
  shape: Shape,
  options: TensorOptions | undefined,
  backend: Backend,
): Tensor {
  const t = new Tensor(storage, shape, backend);
  if (options?.requiresGrad) t.requiresGrad = true;
  return t;
}

function checkShape(op: string, shape: Shape): void {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0)
      throw new Error(`${op}: shape ${formatShape(shape)} must hold non-negative integers`);
  }
}

function inferShape(data: NestedArray): number[] {
  const shape: number[] = [];
  let level: NestedArray = data;
  while (Array.isArray(level)) {
    shape.push(level.length);
    level = (level as readonly NestedArray[])[0];
  }
  return shape;
}

function flattenNested(data: NestedArray, shape: Shape, out: number[], dim = 0): void {
  if (dim === shape.length) {
    if (typeof data !== "number")
      throw new Error(`tensor: ragged nested array; expected shape ${formatShape(shape)}`);
    out.push(data);
    return;
  }
  if (!Array.isArray(data) || data.length !== shape[dim]) {
    throw new Error(`tensor: ragged nested array; expected shape ${formatShape(shape)}`);
  }
  for (const d of data as readonly NestedArray[]) flattenNested(d, shape, out, dim + 1);
}

function makeArray(dtype: DType, values: ArrayLike<number>): TypedArray {
  if (dtype === "float32") return Float32Array.from(values);
  if (dtype === "float64") return Float64Array.from(values);
  return Int32Array.from(values);
}

/**
 * Creates a tensor from a typed array, a flat number array (with `shape`) or nested arrays.
 * @example tensor([[1, 2], [3, 4]]) // shape [2, 2], float32
 * @example tensor(new Float32Array(12), [3, 4])
 */
export function tensor(
  data: NestedArray | TypedArray,
  shape?: readonly number[],
  options?: TensorOptions,
): Tensor {
  const backend = resolveBackend(options);
  let values: TypedArray;
  let finalShape: number[];
  if (ArrayBuffer.isView(data)) {
    const dtype = options?.dtype ?? dtypeOf(data);
    values = dtype === dtypeOf(data) ? data : makeArray(dtype, data);
    finalShape = shape ? [...shape] : [data.length];
  } else {
    const inferred = inferShape(data);
    const flat: number[] = [];
    flattenNested(data, inferred, flat);
    values = makeArray(options?.dtype ?? "float32", flat);
    finalShape = shape ? [...shape] : inferred;
  }
  checkShape("tensor", finalShape);
  if (sizeOf(finalShape) !== values.length) {
    throw new Error(
      `tensor: ${values.length} values do not fill shape ${formatShape(finalShape)} (${sizeOf(finalShape)} elements)`,
    );
  }
  return finish(backend.fromArray(values), finalShape, options, backend);
}

/** Wraps an existing storage (no copy). */
export function fromStorage(storage: Storage, shape: Shape, backend: Backend): Tensor {
  return new Tensor(storage, shape, backend);
}

/** A 0-dimensional tensor (shape []) holding `value` (`torch.tensor(value)`). */
export function scalar(value: number, options?: TensorOptions): Tensor {
  return full([], value, options);
}

/**
 * A tensor of `shape` filled with `value` (`torch.full`); float32 unless `options.dtype`.
 * @example full([2, 2], 0.5)
 */
export function full(shape: readonly number[], value: number, options?: TensorOptions): Tensor {
  checkShape("full", shape);
  const backend = resolveBackend(options);
  return finish(backend.full(options?.dtype ?? "float32", sizeOf(shape), value), shape, options, backend);
}

/** A tensor of `shape` filled with 0 (`torch.zeros`); float32 unless `options.dtype`. */
export function zeros(shape: readonly number[], options?: TensorOptions): Tensor {
  return full(shape, 0, options);
}

/** A tensor of `shape` filled with 1 (`torch.ones`); float32 unless `options.dtype`. */
export function ones(shape: readonly number[], options?: TensorOptions): Tensor {
  return full(shape, 1, options);
}

/** Zeros with `t`'s shape, dtype and backend (`torch.zeros_like`). */
export function zerosLike(t: Tensor, options?: TensorOptions): Tensor {
  return full(t.shape, 0, { dtype: t.dtype, backend: t.backend.name, ...options });
}

/** Ones with `t`'s shape, dtype and backend (`torch.ones_like`). */
export function onesLike(t: Tensor, options?: TensorOptions): Tensor {
  return full(t.shape, 1, { dtype: t.dtype, backend: t.backend.name, ...options });
}

/**
 * Options of the random creators (`rand`, `randn`, `randint`): those of `TensorOptions` plus `rng`, the
 * generator to draw from (default the global one that `manualSeed` seeds).
 */
export interface RandomOptions extends TensorOptions {
  rng?: Rng;
}

function randomTensor(
  op: string,
  shape: readonly number[],
  options: RandomOptions | undefined,
  draw: (rng: Rng) => number,
) {
  checkShape(op, shape);
  const dtype = options?.dtype ?? "float32";
  if (!isFloat(dtype)) throw new Error(`${op}: dtype must be float32 or float64, got ${dtype}`);
  const rng = options?.rng ?? globalRng;
  const values = dtype === "float64" ? new Float64Array(sizeOf(shape)) : new Float32Array(sizeOf(shape));
  for (let i = 0; i < values.length; i++) values[i] = draw(rng);
  return tensor(values, shape, options);
}

/** Uniform in [low, high) (default [0, 1)). */
export function rand(
  shape: readonly number[],
  options?: RandomOptions & { low?: number; high?: number },
): Tensor {
  const low = options?.low ?? 0;
  const high = options?.high ?? 1;
  if (!Number.isFinite(low) || !Number.isFinite(high))
    throw new Error(`rand: low ${low} and high ${high} must be finite`);
  return randomTensor("rand", shape, options, (rng) => low + (high - low) * rng.uniform());
}

/** Normal with the given mean and std (default standard normal). */
export function randn(
  shape: readonly number[],
  options?: RandomOptions & { mean?: number; std?: number },
): Tensor {
  const mean = options?.mean ?? 0;
  const std = options?.std ?? 1;
  if (!Number.isFinite(mean) || !Number.isFinite(std))
    throw new Error(`randn: mean ${mean} and std ${std} must be finite`);
  return randomTensor("randn", shape, options, (rng) => mean + std * rng.normal());
}

/** Integers in [low, high) as int32. */
export function randint(
  low: number,
  high: number,
  shape: readonly number[],
  options?: RandomOptions,
): Tensor {
  checkShape("randint", shape);
  if (!Number.isInteger(low) || !Number.isInteger(high) || high <= low) {
    throw new Error(`randint: need integers low < high, got low ${low} and high ${high}`);
  }
  const rng = options?.rng ?? globalRng;
  const values = new Int32Array(sizeOf(shape));
  for (let i = 0; i < values.length; i++) values[i] = low + rng.int(high - low);
  return tensor(values, shape, { ...options, dtype: "int32" });
}

/** start, start+step, … below end (float32 unless dtype is given). */
export function arange(start: number, end?: number, step = 1, options?: TensorOptions): Tensor {
  const [from, to] = end === undefined ? [0, start] : [start, end];
  if (step === 0) throw new Error("arange: step must not be 0");
  if (![start, end ?? 0, step].every(Number.isFinite))
    throw new Error(`arange: start ${start}, end ${end} and step ${step} must be finite`);
  const n = Math.max(0, Math.ceil((to - from) / step));
  const values = Array.from({ length: n }, (_, i) => from + i * step);
  return tensor(makeArray(options?.dtype ?? "float32", values), [n], options);
}
