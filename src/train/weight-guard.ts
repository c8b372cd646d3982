// Keeps fit() from training on, or saving, weights that a step made NaN or infinite although its loss was
// finite (a learning rate that overflows float32, an exploding update). The last finite state is kept on the
// host for restore(): copied after every step for models up to SNAPSHOT_VALUES_PER_STEP values, and every
// ceil(values / SNAPSHOT_VALUES_PER_STEP) steps for larger ones, so that copying weights costs every model
// about the same per step. A step that takes a copy checks it value by value; the others check the state
// where it lives, with one sum per tensor and one number read back — a sum is finite only if every value is
// (a sum that overflows is checked again value by value, so it never stops training wrongly). Browser-safe.

import type { Module } from "../nn/module.js";
import { scope } from "../backend/registry.js";
import { noGrad } from "../autograd/engine.js";
import { concat } from "../ops/movement.js";
import { sum } from "../ops/reduce.js";
import { tensor, type Tensor } from "../tensor/tensor.js";
import { isFloat, type DType, type TypedArray } from "../tensor/dtype.js";

/**
 * Values copied to the host per step, at most, to keep a restorable state: 4M float32 values (16 MB) —
 * every step for LeNet-5 (62k values), every third for ResNet-18 (11.7M).
 */
export const SNAPSHOT_VALUES_PER_STEP = 4 << 20;

/** The first value of `values` that is NaN or ±Infinity, as [index, value], or null. */
export function firstNonFinite(values: ArrayLike<number>): [number, number] | null {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    // v - v is 0 for every finite number and NaN for NaN and ±Infinity: one subtraction per element.
    if (v - v !== 0) return [i, v];
  }
  return null;
}

/** A tensor of a state dict that is not finite. */
export interface NonFiniteTensor {
  /** State-dict name, e.g. "conv1.weight". */
  name: string;
  index: number;
  value: number;
}

/** Describes a NonFiniteTensor for messages: `'conv1.weight' is NaN (first at index 12)`. */
export function describeNonFinite(bad: NonFiniteTensor): string {
  return `'${bad.name}' is ${bad.value} (first at index ${bad.index})`;
}

interface Saved {
  data: TypedArray;
  shape: readonly number[];
  dtype: DType;
  backend: string;
}

/** The last finite state of a model's parameters and buffers, refreshed by checkAndKeep(). */
export class WeightGuard {
  private saved: Map<string, Saved>;
  /** Steps between two host copies of the state (1 up to SNAPSHOT_VALUES_PER_STEP values). */
  readonly snapshotEvery: number;
  private stepsSinceSnapshot = 0;

  constructor(private readonly model: Module) {
    this.saved = this.read();
    let values = 0;
    for (const { data } of this.saved.values()) values += data.length;
    this.snapshotEvery = Math.max(1, Math.ceil(values / SNAPSHOT_VALUES_PER_STEP));
    // A backend that reads only asynchronously (webgpu) cannot answer a sum synchronously; fit has read the
    // state to the host after the step, so the host copy is checked every step there.
    this.checkOnHost = [...model.stateDict().values()].some((t) => t.backend.syncReads === false);
  }

  private readonly checkOnHost: boolean;

  private read(): Map<string, Saved> {
    const out = new Map<string, Saved>();
    for (const [name, t] of this.model.stateDict())
      out.set(name, { data: t.toArray(), shape: t.shape, dtype: t.dtype, backend: t.backend.name });
    return out;
  }

  /** Steps the state kept for restore() is behind the model's (0 right after a snapshot). */
  get stepsBehind(): number {
    return this.stepsSinceSnapshot;
  }

  /**
   * Checks the model's state; returns its first non-finite tensor, or null (after keeping the state as the
   * last finite one when a snapshot is due).
   */
  checkAndKeep(): NonFiniteTensor | null {
    if (this.checkOnHost || this.stepsSinceSnapshot + 1 >= this.snapshotEvery) {
      // A snapshot is due: the host copy is checked value by value, with no work on the device.
      const current = this.read();
      const bad = firstNonFiniteOf(current);
      if (bad) return bad;
      this.saved = current;
      this.stepsSinceSnapshot = 0;
      return null;
    }
    const state = [...this.model.stateDict()].filter(([, t]) => isFloat(t.dtype));
    if (!allSumsFinite(state.map(([, t]) => t))) {
      const bad = firstNonFiniteOf(new Map(state.map(([name, t]) => [name, { data: t.toArray() }])));
      if (bad) return bad;
    }
    this.stepsSinceSnapshot++;
    return null;
  }

  /** Loads the last finite state kept back into the model (stepsBehind steps old). */
  restore(): void {
    const state = new Map<string, Tensor>();
    for (const [name, { data, shape, dtype, backend }] of this.saved)
      state.set(name, tensor(data, shape, { dtype, backend }));
    this.model.loadStateDict(state);
  }
}

/** The first non-finite value of a state read to the host, or null. */
function firstNonFiniteOf(state: ReadonlyMap<string, { data: TypedArray }>): NonFiniteTensor | null {
  for (const [name, { data }] of state) {
    const bad = firstNonFinite(data);
    if (bad) return { name, index: bad[0], value: bad[1] };
  }
  return null;
}

/**
 * Whether the sum of every tensor is finite, computed on each tensor's backend with one value read back
 * per backend and dtype. True proves every value finite; false means a value is not finite or a sum overflowed.
 */
function allSumsFinite(tensors: readonly Tensor[]): boolean {
  const groups = new Map<string, Tensor[]>();
  for (const t of tensors) {
    // concat needs one backend and one dtype.
    const key = `${t.backend.name}/${t.dtype}`;
    const group = groups.get(key);
    if (group) group.push(t);
    else groups.set(key, [t]);
  }
  for (const group of groups.values()) {
    const total = scope(() => noGrad(() => sum(concat(group.map((t) => sum(t).reshape([1])))).item()));
    if (!Number.isFinite(total)) return false;
  }
  return true;
}
