// Gradient clipping (torch.nn.utils.clip_grad_norm_ and clip_grad_value_): rescale or clamp the .grad of
// parameters in place, between backward() and the optimizer step, to keep exploding gradients (deep or
// recurrent nets, high learning rates) from wrecking a run.

import { Tensor } from "../tensor/tensor.js";
import { noGrad } from "../autograd/engine.js";
import { abs, clamp, mul } from "../ops/elementwise.js";
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

/** ‖(g_1, …, g_k)‖_p over every element of every gradient, as one number. */
function totalNorm(grads: readonly Tensor[], normType: number): number {
  if (normType === Infinity) return Math.max(...grads.map((g) => max(abs(g)).item()));
  let total = 0;
  for (const g of grads) total += sum(normType === 2 ? g.square() : abs(g).pow(normType)).item();
  return total ** (1 / normType);
}

/**
 * Scales every parameter's gradient by maxNorm / (total + 1e-6) when the total p-norm of all gradients
 * (taken together, as one vector) exceeds maxNorm (torch.nn.utils.clip_grad_norm_). Parameters without a
 * gradient are skipped.
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
  if (!(typeof maxNorm === "number" && maxNorm >= 0)) {
    throw new Error(`${op}: maxNorm must be a non-negative number, got ${maxNorm}`);
  }
  if (!(typeof normType === "number" && normType > 0)) {
    throw new Error(`${op}: normType must be a positive number or Infinity, got ${normType}`);
  }
  return noGrad(() => {
    const params = [...parameters];
    const grads = gradsOf(op, params);
    if (grads.length === 0) return 0;
    const total = totalNorm(grads, normType);
    if (!Number.isFinite(total) && errorIfNonfinite) {
      throw new Error(
        `${op}: the total ${normType}-norm of the gradients is ${total}; some gradient holds NaN or infinity ` +
          `(pass errorIfNonfinite: false to scale anyway, as torch does by default)`,
      );
    }
    const coefficient = maxNorm / (total + 1e-6);
    // Kept like accumulated gradients, so that a memory scope around the step does not free them.
    if (coefficient < 1) for (const p of params) if (p.grad) p.grad = mul(p.grad, coefficient).keep();
    return total;
  });
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
