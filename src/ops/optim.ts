// Fused optimizer updates on tensors: one backend kernel per parameter for SGD (momentum, Nesterov,
// weight decay) and Adam/AdamW, instead of a dozen elementwise ops. They return new tensors (the optimizer
// assigns them) and are not differentiable: optimizers run them under noGrad, and asking for a gradient
// through one is an error rather than a silently wrong graph. Not exported from `F`; src/optim uses them.

import type { AdamKernelParams, SgdKernelParams } from "../backend/backend.js";
import { isGradEnabled } from "../autograd/engine.js";
import type { Tensor } from "../tensor/tensor.js";
import { formatShape } from "../tensor/shape.js";
import { checkCompatible, checkFloat, wrapLike } from "./util.js";

/** Throws unless the update's tensors are float, on one backend with one dtype and shape, and need no grad. */
function checkUpdate(op: string, param: Tensor, others: Record<string, Tensor | null>): void {
  checkFloat(op, param, "param");
  const present = Object.entries(others).filter((e): e is [string, Tensor] => e[1] !== null);
  checkCompatible(op, param, ...present.map(([, t]) => t));
  for (const [name, t] of present) {
    if (t.ndim !== param.ndim || t.shape.some((d, i) => d !== param.shape[i])) {
      throw new Error(
        `${op}: ${name} ${formatShape(t.shape)} does not match param ${formatShape(param.shape)}`,
      );
    }
  }
  if (isGradEnabled() && [param, ...present.map(([, t]) => t)].some((t) => t.requiresGrad)) {
    throw new Error(
      `${op}: optimizer updates are not differentiable; run it under noGrad (as Optimizer.step does)`,
    );
  }
}

/**
 * One SGD step (torch's `_single_tensor_sgd`) as a single kernel. `momentumBuffer` null with momentum ≠ 0
 * means the first step; the returned buffer is null when momentum is 0.
 */
export function sgdStep(
  param: Tensor,
  grad: Tensor,
  momentumBuffer: Tensor | null,
  h: SgdKernelParams,
  op = "sgdStep",
): { param: Tensor; momentumBuffer: Tensor | null } {
  checkUpdate(op, param, { grad, momentumBuffer });
  const out = param.backend.sgdUpdate(param.storage, grad.storage, momentumBuffer?.storage ?? null, h);
  return {
    param: wrapLike(param, out.param, param.shape),
    momentumBuffer: out.momentumBuffer === null ? null : wrapLike(param, out.momentumBuffer, param.shape),
  };
}

export interface AdamStepResult {
  param: Tensor;
  expAvg: Tensor;
  expAvgSq: Tensor;
  maxExpAvgSq: Tensor | null;
}

/**
 * One Adam or AdamW step (torch's `_single_tensor_adam(w)`) as a single kernel; `maxExpAvgSq` must be
 * given (zeros before the first step) exactly when `h.amsgrad`.
 */
export function adamStep(
  param: Tensor,
  grad: Tensor,
  expAvg: Tensor,
  expAvgSq: Tensor,
  maxExpAvgSq: Tensor | null,
  h: AdamKernelParams,
  op = "adamStep",
): AdamStepResult {
  checkUpdate(op, param, { grad, expAvg, expAvgSq, maxExpAvgSq });
  if (h.amsgrad !== (maxExpAvgSq !== null)) {
    throw new Error(`${op}: maxExpAvgSq must be given exactly when amsgrad is on (amsgrad ${h.amsgrad})`);
  }
  const b = param.backend;
  const out = b.adamUpdate(
    param.storage,
    grad.storage,
    expAvg.storage,
    expAvgSq.storage,
    maxExpAvgSq?.storage ?? null,
    h,
  );
  const wrap = (s: typeof out.param) => wrapLike(param, s, param.shape);
  return {
    param: wrap(out.param),
    expAvg: wrap(out.expAvg),
    expAvgSq: wrap(out.expAvgSq),
    maxExpAvgSq: out.maxExpAvgSq === null ? null : wrap(out.maxExpAvgSq),
  };
}
