// What every attribution method shares: the target (a class index for the batch or one per image), the
// score S = the target's output summed over the batch (so each image gets its own gradient, as in Captum),
// the gradient of S with respect to an input batch, and the checks that turn a wrong shape, a class out of
// range or a model that is not differentiable into a clear error naming the method.
//
// Parameters are frozen for the call: an explanation needs gradients w.r.t. the input (or a layer) only, and
// must leave the user's parameter gradients as they were.

import type { Module } from "../nn/module.js";
import { Tensor, tensor } from "../tensor/tensor.js";
import { formatShape } from "../tensor/shape.js";
import { enableGrad, noGrad } from "../autograd/engine.js";

/**
 * The output explained: one class index for every image, one per image (`number[]` or an int Tensor [N]),
 * or nothing when the model gives a single score per image ([N] or [N, 1]).
 */
export type Target = number | readonly number[] | Tensor | undefined;

/** Options every attribution method takes. */
export interface TargetOptions {
  /** The class explained (see {@link Target}). Required when the model has more than one output. */
  target?: Target;
}

/** An attribution method: `attribute(x, options)` gives a map for the batch x. */
export interface Attribution<O extends TargetOptions = TargetOptions> {
  attribute(x: Tensor, options?: O): Tensor;
}

/** The model's forward as a function of a batch. */
function callModel(model: Module<[x: Tensor], unknown>, x: Tensor): unknown {
  return model.forward(x);
}

/** Checks that x is a float batch with at least `minDims` dims (4 for images [N, C, H, W]). */
export function checkBatch(x: unknown, caller: string, minDims = 2, exactDims?: number): asserts x is Tensor {
  if (!(x instanceof Tensor)) throw new Error(`${caller}: the input must be a Tensor, got ${typeof x}`);
  const expected = exactDims === 4 ? "an image batch [N, C, H, W]" : `a batch [N, …] with ${minDims}+ dims`;
  if (x.dtype === "int32") throw new Error(`${caller}: expected a float ${expected}, got int32`);
  if ((exactDims !== undefined && x.ndim !== exactDims) || x.ndim < minDims || x.shape[0] === 0)
    throw new Error(`${caller}: expected ${expected}, got ${formatShape(x.shape)}`);
}

/** The per-image class indices of `target` for a batch of n (checked for count and integers, not range). */
export function targetIndices(target: Target, n: number, caller: string): Int32Array | null {
  if (target === undefined) return null;
  let values: number[];
  if (target instanceof Tensor) {
    if (target.ndim > 1 || (target.ndim === 1 && target.shape[0] !== n))
      throw new Error(
        `${caller}: target must be a class index or ${n} of them, got a tensor ${formatShape(target.shape)}`,
      );
    values = target.ndim === 0 ? new Array<number>(n).fill(target.item()) : Array.from(target.toArray());
  } else if (typeof target === "number") {
    values = new Array<number>(n).fill(target);
  } else if (Array.isArray(target)) {
    if (target.length !== n)
      throw new Error(`${caller}: target has ${target.length} class indices for a batch of ${n} images`);
    values = [...(target as number[])];
  } else {
    throw new Error(`${caller}: target must be a class index, an array of them or an int tensor [N]`);
  }
  values.forEach((v, i) => {
    if (!Number.isInteger(v) || v < 0)
      throw new Error(`${caller}: target ${v} (image ${i}) is not a class index (a non-negative integer)`);
  });
  return Int32Array.from(values);
}

/** The target indices repeated for a batch whose row r shows image rows[r] (IG's steps, occlusion's copies). */
export function indicesForRows(indices: Int32Array | null, rows: ArrayLike<number>): Int32Array | null {
  return indices && Int32Array.from(rows, (r) => indices[r]);
}

/**
 * Runs the model on x and returns the explained score of each row, S [N] (differentiable when gradients
 * are recorded). Errors from the model are re-thrown naming the method and the input shape.
 */
export function targetScores(model: Module, x: Tensor, indices: Int32Array | null, caller: string): Tensor {
  let out: unknown;
  try {
    out = callModel(model, x);
  } catch (e) {
    throw new Error(
      `${caller}: the model rejected the input ${formatShape(x.shape)}: ${(e as Error).message}`,
    );
  }
  const n = x.shape[0];
  if (!(out instanceof Tensor) || out.ndim < 1 || out.ndim > 2 || out.shape[0] !== n) {
    const got = out instanceof Tensor ? formatShape(out.shape) : typeof out;
    throw new Error(
      `${caller}: the model must return scores [${n}, K] (or [${n}]) for this batch, got ${got}`,
    );
  }
  const k = out.ndim === 2 ? out.shape[1] : 1;
  if (!indices) {
    if (k !== 1)
      throw new Error(
        `${caller}: the model has ${k} outputs per image; pass { target } (a class index in 0..${k - 1})`,
      );
    return out.reshape([n]);
  }
  indices.forEach((v, i) => {
    if (v >= k)
      throw new Error(`${caller}: target ${v} (image ${i}) is out of range for a model with ${k} classes`);
  });
  if (out.ndim === 1) return out;
  const oneHot = new Float32Array(n * k);
  indices.forEach((v, i) => (oneHot[i * k + v] = 1));
  const mask = tensor(oneHot, [n, k], { backend: out.backend.name }).to(out.dtype);
  return out.mul(mask).sum(1);
}

/**
 * Runs `fn` with every parameter of `model` not requiring gradients, then restores them: the explanation
 * needs gradients w.r.t. the input (or a layer) only, and leaves the parameters' .grad as they were.
 */
export function withFrozenParameters<T>(model: Module, fn: () => T): T {
  const params = model.parameters();
  const previous = params.map((p) => p.requiresGrad);
  for (const p of params) p.requiresGrad = false;
  try {
    return fn();
  } finally {
    params.forEach((p, i) => (p.requiresGrad = previous[i]));
  }
}

/** The explained scores of x without gradients (occlusion, IG's completeness check). */
export function scoresWithoutGrad(
  model: Module,
  x: Tensor,
  indices: Int32Array | null,
  caller: string,
): Float64Array {
  return noGrad(() => Float64Array.from(targetScores(model, x, indices, caller).toArray()));
}

/** Runs backward from the summed scores, or explains why the model gives no gradient. */
export function backwardFromScores(scores: Tensor, caller: string, what = "its input"): void {
  if (!scores.requiresGrad) {
    throw new Error(
      `${caller}: the model's output does not depend differentiably on ${what} (a part of the model runs ` +
        `under noGrad, detaches, casts to int or takes an argmax)`,
    );
  }
  scores.sum().backward();
}

/**
 * dS/dx for the batch x, S = the target's score summed over the batch, with the parameters frozen.
 * Runs inside `wrap` when given (withBackwardOverride for guided backprop and deconvnet).
 */
export function targetGradient(
  model: Module,
  x: Tensor,
  indices: Int32Array | null,
  caller: string,
  wrap: <T>(fn: () => T) => T = (fn) => fn(),
): Tensor {
  return withFrozenParameters(model, () =>
    enableGrad(() =>
      wrap(() => {
        const input = x.detach().requiresGrad_(true);
        backwardFromScores(targetScores(model, input, indices, caller), caller);
        if (!input.grad)
          throw new Error(`${caller}: the model's output does not depend differentiably on its input`);
        return input.grad;
      }),
    ),
  );
}

/** A baseline (IG's x', occlusion's fill) as values of the whole batch [N·D]: a number, a tensor like x or like one image. */
export function baselineValues(baselines: number | Tensor, x: Tensor, caller: string): Float64Array {
  const n = x.shape[0];
  const d = x.size / n;
  if (typeof baselines === "number") {
    if (!Number.isFinite(baselines)) throw new Error(`${caller}: baselines must be finite, got ${baselines}`);
    return new Float64Array(n * d).fill(baselines);
  }
  if (!(baselines instanceof Tensor)) throw new Error(`${caller}: baselines must be a number or a Tensor`);
  const one = x.shape.slice(1).join(",");
  const shape = baselines.shape.join(",");
  const values = Float64Array.from(baselines.toArray());
  if (shape === x.shape.join(",")) return values;
  if (shape === one || shape === `1,${one}`) {
    const out = new Float64Array(n * d);
    for (let i = 0; i < n; i++) out.set(values, i * d);
    return out;
  }
  throw new Error(
    `${caller}: baselines ${formatShape(baselines.shape)} must match the input ${formatShape(x.shape)} or one image ${formatShape(x.shape.slice(1))}`,
  );
}
