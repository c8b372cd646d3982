// Keeps fit() from training on, or saving, weights that a step made NaN or infinite although its loss was
// finite (a learning rate that overflows float32, an exploding update). After every step the model's state
// is read once (one copy per tensor, one subtraction per value) and, if all of it is finite, kept as the
// last finite state, so a step that breaks the weights can be undone. Browser-safe.

import type { Module } from "../nn/module.js";
import { tensor, type Tensor } from "../tensor/tensor.js";
import type { DType, TypedArray } from "../tensor/dtype.js";

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

  constructor(private readonly model: Module) {
    this.saved = this.read();
  }

  private read(): Map<string, Saved> {
    const out = new Map<string, Saved>();
    for (const [name, t] of this.model.stateDict())
      out.set(name, { data: t.toArray(), shape: t.shape, dtype: t.dtype, backend: t.backend.name });
    return out;
  }

  /**
   * Reads the model's state; returns its first non-finite tensor, or null after keeping the state as the
   * last finite one.
   */
  checkAndKeep(): NonFiniteTensor | null {
    const current = this.read();
    for (const [name, { data }] of current) {
      const bad = firstNonFinite(data);
      if (bad) return { name, index: bad[0], value: bad[1] };
    }
    this.saved = current;
    return null;
  }

  /** Loads the last finite state back into the model. */
  restore(): void {
    const state = new Map<string, Tensor>();
    for (const [name, { data, shape, dtype, backend }] of this.saved)
      state.set(name, tensor(data, shape, { dtype, backend }));
    this.model.loadStateDict(state);
  }
}
