// Integrated Gradients (Sundararajan, Taly & Yan 2017, "Axiomatic Attribution for Deep Networks"): the
// path integral of dS/dx from a baseline x' to x, (x - x')·∫₀¹ dS/dx(x' + α(x - x')) dα, approximated with
// Captum's rules (Riemann left/right/middle/trapezoid, Gauss–Legendre) and its completeness delta.
// The N·nSteps scaled inputs run in chunks of `internalBatchSize` rows, so memory stays bounded.

import type { Module } from "../nn/module.js";
import { tensor, type Tensor } from "../tensor/tensor.js";
import { scope } from "../backend/registry.js";
import {
  baselineValues,
  checkBatch,
  indicesForRows,
  scoresWithoutGrad,
  targetGradient,
  targetIndices,
  type Attribution,
  type TargetOptions,
} from "./attribution.js";

/** Captum's approximation rules of the path integral. */
export type IntegrationMethod =
  "riemann_trapezoid" | "riemann_left" | "riemann_right" | "riemann_middle" | "gausslegendre";

/** Options of {@link IntegratedGradients.attribute}. */
export interface IntegratedGradientsOptions extends TargetOptions {
  /** The baseline x': a number, a tensor shaped like x, like one image [C, H, W] or [1, C, H, W] (default 0). */
  baselines?: number | Tensor;
  /** Points on the path (default 50, Captum's `n_steps`). */
  nSteps?: number;
  /** Quadrature rule (default "gausslegendre", as Captum). */
  method?: IntegrationMethod;
  /** Scaled inputs per forward/backward pass (default all N·nSteps at once). */
  internalBatchSize?: number;
  /** Also return the completeness gap per image (default false). */
  returnConvergenceDelta?: boolean;
  /** Multiply the integrated gradient by (x - x') (default true, Captum's `multiply_by_inputs`). */
  multiplyByInputs?: boolean;
}

const methods: readonly IntegrationMethod[] = [
  "riemann_trapezoid",
  "riemann_left",
  "riemann_right",
  "riemann_middle",
  "gausslegendre",
];

/**
 * The points α in [0, 1] and weights of a rule with n points (the weights sum to 1), as Captum's
 * `approximation_parameters`.
 */
export function integrationPoints(
  method: IntegrationMethod,
  n: number,
): { alphas: number[]; weights: number[] } {
  if (!methods.includes(method))
    throw new Error(
      `IntegratedGradients: method must be one of ${methods.join(", ")}, got ${String(method)}`,
    );
  const minimum = method === "riemann_trapezoid" ? 2 : 1;
  if (!Number.isInteger(n) || n < minimum)
    throw new Error(`IntegratedGradients: nSteps must be an integer >= ${minimum} for ${method}, got ${n}`);
  if (method === "gausslegendre") return gaussLegendreOnUnitInterval(n);
  const range = (f: (i: number) => number) => Array.from({ length: n }, (_, i) => f(i));
  if (method === "riemann_trapezoid") {
    const weights = range((i) => (i === 0 || i === n - 1 ? 0.5 : 1) / (n - 1));
    return { alphas: range((i) => i / (n - 1)), weights };
  }
  const offset = { riemann_left: 0, riemann_right: 1, riemann_middle: 0.5 }[method];
  return { alphas: range((i) => (i + offset) / n), weights: range(() => 1 / n) };
}

/** Gauss–Legendre nodes and weights (as numpy's leggauss) mapped from [-1, 1] to [0, 1]. */
function gaussLegendreOnUnitInterval(n: number): { alphas: number[]; weights: number[] } {
  const alphas: number[] = [];
  const weights: number[] = [];
  for (let i = 0; i < n; i++) {
    // Newton's method on P_n from the Chebyshev-like first guess; converges in a few steps in float64.
    let x = Math.cos((Math.PI * (i + 0.75)) / (n + 0.5));
    let derivative = 1;
    for (let iter = 0; iter < 100; iter++) {
      let p0 = 1;
      let p1 = x;
      for (let k = 2; k <= n; k++) [p0, p1] = [p1, ((2 * k - 1) * x * p1 - (k - 1) * p0) / k];
      derivative = (n * (x * p1 - p0)) / (x * x - 1);
      const step = p1 / derivative;
      x -= step;
      if (Math.abs(step) < 1e-15) break;
    }
    alphas.push(0.5 * (1 + x));
    weights.push(0.5 * (2 / ((1 - x * x) * derivative * derivative)));
  }
  return { alphas: alphas.reverse(), weights: weights.reverse() };
}

/**
 * Integrated Gradients (Sundararajan et al. 2017): (x - x')·Σᵢ wᵢ·dS/dx(x' + αᵢ(x - x')), which satisfies
 * completeness: the attributions sum to S(x) - S(x') up to the quadrature error, returned as the delta.
 * Like Captum's `IntegratedGradients`.
 *
 * @example
 * const [attr, delta] = new IntegratedGradients(model).attribute(x, {
 *   target: 3, nSteps: 64, method: "riemann_trapezoid", internalBatchSize: 32, returnConvergenceDelta: true,
 * }); // attr [N, C, H, W], delta [N]
 */
export class IntegratedGradients implements Attribution<IntegratedGradientsOptions> {
  constructor(readonly model: Module) {}

  /** Attributions shaped like x; with `returnConvergenceDelta`, also the delta [N] = Σ attr - (S(x) - S(x')). */
  // The plain form last: SmoothGrad infers a wrapped method's options from its last overload.
  attribute(
    x: Tensor,
    options: IntegratedGradientsOptions & { returnConvergenceDelta: true },
  ): [Tensor, Tensor];
  attribute(x: Tensor, options?: IntegratedGradientsOptions & { returnConvergenceDelta?: false }): Tensor;
  attribute(x: Tensor, options: IntegratedGradientsOptions = {}): Tensor | [Tensor, Tensor] {
    const caller = "IntegratedGradients";
    checkBatch(x, caller);
    const { nSteps = 50, method = "gausslegendre", multiplyByInputs = true } = options;
    const { alphas, weights } = integrationPoints(method, nSteps);
    const n = x.shape[0];
    const d = x.size / n;
    const rowsTotal = n * nSteps;
    const chunk = options.internalBatchSize ?? rowsTotal;
    if (!Number.isInteger(chunk) || chunk < 1)
      throw new Error(`${caller}: internalBatchSize must be a positive integer, got ${chunk}`);
    const indices = targetIndices(options.target, n, caller);
    const input = Float64Array.from(x.toArray());
    const baseline = baselineValues(options.baselines ?? 0, x, caller);
    // S(x) first: the completeness delta needs it, and a wrong input fails here with its own shape
    // rather than the expanded batch's.
    const atInput = scoresWithoutGrad(this.model, x, indices, caller);
    const total = new Float64Array(n * d);
    // Row r of the expanded batch is step ⌊r/N⌋ of image r mod N, as Captum orders it.
    for (let start = 0; start < rowsTotal; start += chunk) {
      const rows = Array.from({ length: Math.min(chunk, rowsTotal - start) }, (_, i) => start + i);
      const scaled = new Float32Array(rows.length * d);
      rows.forEach((r, i) => {
        const alpha = alphas[Math.floor(r / n)];
        const o = (r % n) * d;
        for (let e = 0; e < d; e++)
          scaled[i * d + e] = baseline[o + e] + alpha * (input[o + e] - baseline[o + e]);
      });
      const rowIndices = indicesForRows(
        indices,
        rows.map((r) => r % n),
      );
      // In a scope, so that on wasm each chunk's tensors are freed before the next: memory stays one chunk's.
      const grad = scope(() => {
        const batch = tensor(scaled, [rows.length, ...x.shape.slice(1)], { backend: x.backend.name });
        return targetGradient(this.model, batch.to(x.dtype), rowIndices, caller).toArray();
      });
      rows.forEach((r, i) => {
        const w = weights[Math.floor(r / n)];
        const o = (r % n) * d;
        for (let e = 0; e < d; e++) total[o + e] += w * grad[i * d + e];
      });
    }
    if (multiplyByInputs) for (let e = 0; e < n * d; e++) total[e] *= input[e] - baseline[e];
    const attributions = tensor(Float32Array.from(total), x.shape, { backend: x.backend.name }).to(x.dtype);
    if (!options.returnConvergenceDelta) return attributions;
    return [attributions, this.delta(x, atInput, baseline, total, indices)];
  }

  /** Σ attributions - (S(x) - S(x')) per image: how far the quadrature is from completeness. */
  private delta(
    x: Tensor,
    atInput: Float64Array,
    baseline: Float64Array,
    total: Float64Array,
    indices: Int32Array | null,
  ): Tensor {
    const n = x.shape[0];
    const d = x.size / n;
    const base = tensor(Float32Array.from(baseline), x.shape, { backend: x.backend.name }).to(x.dtype);
    const atBaseline = scoresWithoutGrad(this.model, base, indices, "IntegratedGradients");
    const delta = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      let sum = 0;
      for (let e = 0; e < d; e++) sum += total[i * d + e];
      delta[i] = sum - (atInput[i] - atBaseline[i]);
    }
    return tensor(delta, [n], { backend: x.backend.name });
  }
}
