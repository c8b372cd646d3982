// Gradient clipping (torch.nn.utils.clip_grad_norm_ and clip_grad_value_): rescale or clamp the .grad of
// parameters in place, between backward() and the optimizer step, to keep exploding gradients (deep or
// recurrent nets, high learning rates) from wrecking a run.

import { Tensor } from "../tensor/tensor.js";
import { noGrad } from "../autograd/engine.js";
import { abs, add, clamp, div, maximum, minimum, mul } from "../ops/elementwise.js";
import { max, sum } from "../ops/reduce.js";

/** Options of `clipGradNorm_` (torch.nn.utils.clip_grad_norm_'s `norm_type` and `error_if_nonfinite`). */
export interface ClipGradNormOptions {
  /** The p of the p-norm over all gradients together (default 2); Infinity for the largest |g|. */
  normType?: number;
  /** Throw when the total norm is NaN or infinite instead of scaling by it (default false, as torch). */
  errorIfNonfinite?: boolean;
}

function gradsOf(op: string, parameters: Iterable<Tensor>): Tensor[] {
  const grads: Tensor[] = [];
  let i = 0;
  for (const p of parameters) {
    if (!(p instanceof Tensor)) throw new Error(`${op}: parameters[${i}] is not a Tensor`);
    if (p.grad) grads.push(p.grad);
    i++;
  }
  return grads;
}

/** ‖(g_1, …, g_k)‖_p over every element of every gradient, as a 0-d tensor on their backend (no read). */
function totalNorm(grads: readonly Tensor[], normType: number): Tensor {
  if (normType === Infinity) return grads.map((g) => max(abs(g))).reduce((a, b) => maximum(a, b));
  const partial = (g: Tensor) => sum(normType === 2 ? g.square() : abs(g).pow(normType));
  const total = grads.map(partial).reduce((a, b) => add(a, b));
  return normType === 2 ? total.sqrt() : total.pow(1 / normType);
}

/**
 * Scales every gradient by min(maxNorm / (total + 1e-6), 1) as a tensor (torch's clip_coef_clamped), so
 * the clipping itself never reads a value back: on webgpu it stays on the GPU. Below maxNorm the factor
 * is exactly 1 and the gradients keep their values.
 */
function scaleGrads(params: readonly Tensor[], total: Tensor, maxNorm: number): void {
  const coefficient = minimum(div(maxNorm, add(total, 1e-6)), 1);
  // Kept like accumulated gradients, so that a memory scope around the step does not free them.
  for (const p of params) if (p.grad) p.grad = mul(p.grad, coefficient).keep();
}

function checkOptions(op: string, maxNorm: number, normType: number): void {
  if (!(typeof maxNorm === "number" && maxNorm >= 0)) {
    throw new Error(`${op}: maxNorm must be a non-negative number, got ${maxNorm}`);
  }
  if (!(typeof normType === "number" && normType > 0)) {
    throw new Error(`${op}: normType must be a positive number or Infinity, got ${normType}`);
  }
}

function checkFinite(op: string, total: number, normType: number, errorIfNonfinite: boolean): void {
  if (!Number.isFinite(total) && errorIfNonfinite) {
    throw new Error(
      `${op}: the total ${normType}-norm of the gradients is ${total}; some gradient holds NaN or infinity ` +
        `(pass errorIfNonfinite: false to scale anyway, as torch does by default)`,
    );
  }
}

/**
 * Clips the gradients' total norm without reading anything back and returns the norm as a 0-d tensor (null
 * without gradients): what `fit` runs between backward and the optimizer step, on every backend.
 */
export function clipGradNormOnDevice_(
  parameters: Iterable<Tensor>,
  maxNorm: number,
  normType = 2,
): Tensor | null {
  const op = "clipGradNorm_";
  checkOptions(op, maxNorm, normType);
  return noGrad(() => {
    const params = [...parameters];
    const grads = gradsOf(op, params);
    if (grads.length === 0) return null;
    const total = totalNorm(grads, normType);
    scaleGrads(params, total, maxNorm);
    return total;
  });
}

/**
 * Scales every parameter's gradient by maxNorm / (total + 1e-6) when the total p-norm of all gradients
 * (taken together, as one vector) exceeds maxNorm (torch.nn.utils.clip_grad_norm_). Parameters without a
 * gradient are skipped. The scaling runs as tensor ops where the gradients live; returning the norm as a
 * number reads it, so on webgpu (whose reads are asynchronous) use `clipGradNormAsync_`.
 * @returns the total norm before clipping (a number; torch returns it as a tensor)
 * @example
 * loss.backward();
 * clipGradNorm_(model.parameters(), 1.0);
 * optimizer.step();
 */
export function clipGradNorm_(
  parameters: Iterable<Tensor>,
  maxNorm: number,
  options: ClipGradNormOptions = {},
): number {
  const op = "clipGradNorm_";
  const { normType = 2, errorIfNonfinite = false } = options;
  checkOptions(op, maxNorm, normType);
  return noGrad(() => {
    const params = [...parameters];
    const grads = gradsOf(op, params);
    if (grads.length === 0) return 0;
    if (grads[0].backend.syncReads === false) {
      throw new Error(
        `${op}: the gradients are on ${grads[0].backend.name}, whose values are read asynchronously, so the ` +
          `total norm cannot be returned as a number; use \`await clipGradNormAsync_(…)\` (nothing was clipped)`,
      );
    }
    const total = totalNorm(grads, normType);
    const value = total.item();
    checkFinite(op, value, normType, errorIfNonfinite);
    scaleGrads(params, total, maxNorm);
    return value;
  });
}

/**
 * `clipGradNorm_` for any backend, webgpu included: it awaits the total norm (`itemAsync`), checks it when
 * `errorIfNonfinite` is set, then scales the gradients where they live.
 * @returns the total norm before clipping
 * @example
 * loss.backward();
 * await clipGradNormAsync_(model.parameters(), 1.0);
 * optimizer.step();
 */
export async function clipGradNormAsync_(
  parameters: Iterable<Tensor>,
  maxNorm: number,
  options: ClipGradNormOptions = {},
): Promise<number> {
  const op = "clipGradNormAsync_";
  const { normType = 2, errorIfNonfinite = false } = options;
  checkOptions(op, maxNorm, normType);
  const params = [...parameters];
  const grads = gradsOf(op, params);
  if (grads.length === 0) return 0;
  const total = noGrad(() => totalNorm(grads, normType));
  const value = await total.itemAsync();
  checkFinite(op, value, normType, errorIfNonfinite);
  noGrad(() => scaleGrads(params, total, maxNorm));
  return value;
}

/**
 * Clamps every gradient element to [-clipValue, clipValue] (torch.nn.utils.clip_grad_value_).
 * @example clipGradValue_(model.parameters(), 0.5)
 */
export function clipGradValue_(parameters: Iterable<Tensor>, clipValue: number): void {
  const op = "clipGradValue_";
  if (!(typeof clipValue === "number" && clipValue >= 0 && Number.isFinite(clipValue))) {
    throw new Error(`${op}: clipValue must be a non-negative finite number, got ${clipValue}`);
  }
  noGrad(() => {
    const params = [...parameters];
    gradsOf(op, params);
    for (const p of params) if (p.grad) p.grad = clamp(p.grad, -clipValue, clipValue).keep();
  });
}
