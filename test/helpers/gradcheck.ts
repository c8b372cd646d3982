// Finite-difference gradient checking in float64, after torch.autograd.gradcheck: the analytic gradient of
// sum(f(inputs) · r) for a fixed random r (computed by backward) must match central differences element by
// element. Also holds the input generators the op tests use to keep samples away from kinks and ties.

import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../../src/tensor/rng.js";
import { noGrad } from "../../src/autograd/engine.js";
import { tensor, type Tensor } from "../../src/tensor/tensor.js";

export interface GradcheckOptions {
  /** Central-difference step (default 1e-6). */
  eps?: number;
  /** Absolute tolerance (default 1e-5). */
  atol?: number;
  /** Relative tolerance on the numerical value (default 1e-3). */
  rtol?: number;
  /** Indices of the inputs to check; default every float input. */
  wrt?: readonly number[];
  /** Seed of the random output weights r. */
  seed?: number;
}

export interface GradcheckReport {
  /** Number of gradient elements compared. */
  checked: number;
  /** Largest |analytic - numerical| over all elements. */
  maxAbsError: number;
}

type Output = Tensor | readonly Tensor[];

function outputsOf(y: Output): Tensor[] {
  return Array.isArray(y) ? [...(y as readonly Tensor[])] : [y as Tensor];
}

/** Σ_k Σ_i y_k[i] · r_k[i] in float64, computed outside autograd. */
function weightedSum(y: Output, weights: readonly Float64Array[]): number {
  let total = 0;
  outputsOf(y).forEach((t, k) => {
    const values = t.toArray();
    const r = weights[k];
    for (let i = 0; i < values.length; i++) total += values[i] * r[i];
  });
  return total;
}

function unravel(flat: number, shape: readonly number[]): number[] {
  const index = new Array<number>(shape.length).fill(0);
  for (let d = shape.length - 1; d >= 0; d--) {
    index[d] = flat % shape[d];
    flat = Math.floor(flat / shape[d]);
  }
  return index;
}

/** A float64 leaf with the same values as `t`, so that each check owns its inputs' gradients. */
function freshLeaf(t: Tensor, requiresGrad: boolean): Tensor {
  if (t.dtype === "int32") return t;
  return tensor(t.toArray(), [...t.shape], { dtype: t.dtype, requiresGrad, backend: t.backend.name });
}

/**
 * Checks the gradients of `f` at `inputs` against central differences and throws (an assertion error
 * naming the input, the worst element's index and both values) when any element is out of tolerance.
 * Float inputs must be float64; int32 inputs (labels) are passed through unchecked.
 * @example gradcheck((x, w) => F.conv2d(x, w), [randomInput([1, 2, 5, 5]), randomInput([3, 2, 3, 3])])
 */
export function gradcheck(
  f: (...inputs: Tensor[]) => Output,
  inputs: readonly Tensor[],
  options: GradcheckOptions = {},
): GradcheckReport {
  const { eps = 1e-6, atol = 1e-5, rtol = 1e-3, seed = 1234 } = options;
  const wrt = options.wrt ?? inputs.flatMap((t, i) => (t.dtype === "int32" ? [] : [i]));
  for (const i of wrt) {
    assert.equal(inputs[i].dtype, "float64", `gradcheck: input ${i} must be float64, got ${inputs[i].dtype}`);
  }
  const leaves = inputs.map((t, i) => freshLeaf(t, wrt.includes(i)));

  const y = f(...leaves);
  const outputs = outputsOf(y);
  const rng = new Rng(seed);
  const weights = outputs.map((t) => Float64Array.from({ length: t.size }, () => rng.uniform() * 2 - 1));
  let objective: Tensor | null = null;
  outputs.forEach((t, k) => {
    if (!t.requiresGrad) return;
    const r = tensor(weights[k], [...t.shape], { dtype: t.dtype, backend: t.backend.name });
    const term = t.mul(r).sum();
    objective = objective ? objective.add(term) : term;
  });
  assert.ok(objective, "gradcheck: no output requires grad; f does not depend on the checked inputs");
  (objective as Tensor).backward();

  let checked = 0;
  let maxAbsError = 0;
  for (const i of wrt) {
    const leaf = leaves[i];
    const grad = leaf.grad;
    if (grad) {
      assert.deepEqual(grad.shape, leaf.shape, `gradcheck: gradient of input ${i} has the wrong shape`);
    }
    const analytic = grad ? grad.toArray() : new Float64Array(leaf.size);
    const base = leaf.toArray() as Float64Array;
    let worst = { ratio: -1, index: 0, analytic: 0, numerical: 0 };
    for (let j = 0; j < base.length; j++) {
      const probe = (delta: number) => {
        const values = base.slice();
        values[j] += delta;
        const moved = leaves.map((t, k) =>
          k === i ? tensor(values, [...t.shape], { dtype: "float64", backend: t.backend.name }) : t,
        );
        return weightedSum(
          noGrad(() => f(...moved)),
          weights,
        );
      };
      const numerical = (probe(eps) - probe(-eps)) / (2 * eps);
      const error = Math.abs(analytic[j] - numerical);
      maxAbsError = Math.max(maxAbsError, error);
      const ratio = Number.isNaN(error) ? Infinity : error / (atol + rtol * Math.abs(numerical));
      if (ratio > worst.ratio) worst = { ratio, index: j, analytic: analytic[j], numerical };
      checked++;
    }
    if (worst.ratio > 1) {
      assert.fail(
        `gradcheck: input ${i} ${JSON.stringify(leaf.shape)}: worst element at [${unravel(worst.index, leaf.shape).join(",")}] ` +
          `has analytic ${worst.analytic} vs numerical ${worst.numerical} ` +
          `(|diff| ${Math.abs(worst.analytic - worst.numerical).toExponential(3)}, atol ${atol}, rtol ${rtol})` +
          (grad ? "" : "; no gradient reached this input"),
      );
    }
  }
  return { checked, maxAbsError };
}

export interface InputOptions {
  seed?: number;
  /** Uniform range (default [-1, 1]). */
  low?: number;
  high?: number;
  /** Values closer than `margin` to any of these points are pushed away (kinks of relu, abs, clamp…). */
  avoid?: readonly number[];
  margin?: number;
}

/** Seeded uniform float64 values, nudged deterministically away from the points in `avoid`. */
export function randomInput(shape: readonly number[], options: InputOptions = {}): Tensor {
  const { seed = 1, low = -1, high = 1, avoid = [], margin = 0.05 } = options;
  const rng = new Rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let v = low + (high - low) * rng.uniform();
    for (const p of avoid) {
      if (Math.abs(v - p) < margin) v = v >= p ? p + margin : p - margin;
    }
    values[i] = v;
  }
  return tensor(values, [...shape], { dtype: "float64" });
}

/**
 * Values that are pairwise at least `gap` apart (a shuffled ramp plus small jitter), so that max, min and
 * max-pool have a unique winner everywhere and finite differences never cross a tie.
 */
export function distinctInput(
  shape: readonly number[],
  options: { seed?: number; gap?: number } = {},
): Tensor {
  const { seed = 1, gap = 0.01 } = options;
  const rng = new Rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const order = rng.permutation(n);
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) values[i] = (order[i] - n / 2) * gap + 0.25 * gap * rng.uniform();
  return tensor(values, [...shape], { dtype: "float64" });
}

/** Positive values in [low, high) (for log, sqrt, pow with fractional exponents, divisors). */
export function positiveInput(shape: readonly number[], seed = 1, low = 0.5, high = 2): Tensor {
  return randomInput(shape, { seed, low, high });
}

/** One row of an op family's table: a name, how to build the inputs, and the function to check. */
export interface GradCase {
  name: string;
  inputs: () => Tensor[];
  f: (...inputs: Tensor[]) => Output;
  options?: GradcheckOptions;
}

/** Registers one node:test test per case (OpInfo style). */
export function gradcheckCases(family: string, cases: readonly GradCase[]): void {
  for (const c of cases) {
    test(`${family} gradcheck: ${c.name}`, () => {
      const report = gradcheck(c.f, c.inputs(), c.options);
      assert.ok(report.checked > 0, `${c.name}: no gradient element was compared`);
    });
  }
}
