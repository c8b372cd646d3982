// Adagrad: per-coordinate learning rates from the running sum of squared gradients, with torch.optim.Adagrad's
// lr decay, L2 weight decay and initial accumulator; the math is in the pure `adagradUpdate`.

import type { Tensor } from "../tensor/tensor.js";
import { full } from "../tensor/tensor.js";
import { add, div, mul, neg, sqrt, square, sub } from "../ops/elementwise.js";
import {
  Optimizer,
  checkAtLeast,
  checkBoolean,
  checkLr,
  type BaseHyperparameters,
  type ParamUpdate,
  type Params,
} from "./optimizer.js";

/**
 * Adagrad's hyperparameters per parameter group (torch.optim.Adagrad): `lr` (default 1e-2), `lrDecay`
 * (default 0), `weightDecay` (default 0), `initialAccumulatorValue` (default 0), `eps` (default 1e-10),
 * `maximize` (default false).
 */
export interface AdagradHyperparameters extends BaseHyperparameters {
  lrDecay: number;
  weightDecay: number;
  initialAccumulatorValue: number;
  eps: number;
  maximize: boolean;
}

/** Adagrad's options: any hyperparameter, the rest default. */
export type AdagradOptions = Partial<AdagradHyperparameters>;

/** Per-parameter state: the step count and the running sum of squared gradients. */
export interface AdagradState {
  step?: number;
  sum?: Tensor;
}

/**
 * One Adagrad step (torch's `_single_tensor_adagrad`): g = ±grad + wd·param; sum += g²;
 * param ← param − clr·g / (√sum + eps) with clr = lr / (1 + (step − 1)·lrDecay).
 */
export function adagradUpdate(
  param: Tensor,
  grad: Tensor,
  state: AdagradState,
  h: AdagradHyperparameters,
): ParamUpdate<AdagradState> {
  const step = (state.step ?? 0) + 1;
  let g = h.maximize ? neg(grad) : grad;
  if (h.weightDecay !== 0) g = add(g, mul(param, h.weightDecay));
  const previous =
    state.sum ??
    full(param.shape, h.initialAccumulatorValue, { dtype: param.dtype, backend: param.backend.name });
  const sum = add(previous, square(g));
  const clr = h.lr / (1 + (step - 1) * h.lrDecay);
  const updated = sub(param, mul(div(g, add(sqrt(sum), h.eps)), clr));
  return { param: updated, state: { step, sum } };
}

/**
 * Adagrad (torch.optim.Adagrad).
 * @example const opt = new Adagrad(model.parameters(), { lr: 0.01 });
 */
export class Adagrad extends Optimizer<AdagradHyperparameters, AdagradState> {
  constructor(params: Params<AdagradHyperparameters>, options: AdagradOptions = {}) {
    super(
      "Adagrad",
      params,
      {
        lr: options.lr ?? 0.01,
        lrDecay: options.lrDecay ?? 0,
        weightDecay: options.weightDecay ?? 0,
        initialAccumulatorValue: options.initialAccumulatorValue ?? 0,
        eps: options.eps ?? 1e-10,
        maximize: options.maximize ?? false,
      },
      options,
    );
  }

  protected validate(h: AdagradHyperparameters, where: string): void {
    checkLr(where, h.lr);
    checkAtLeast(where, "lrDecay", h.lrDecay);
    checkAtLeast(where, "weightDecay", h.weightDecay);
    checkAtLeast(where, "initialAccumulatorValue", h.initialAccumulatorValue);
    checkAtLeast(where, "eps", h.eps);
    checkBoolean(where, "maximize", h.maximize);
  }

  protected update(
    param: Tensor,
    grad: Tensor,
    state: AdagradState,
    h: AdagradHyperparameters,
  ): ParamUpdate<AdagradState> {
    return adagradUpdate(param, grad, state, h);
  }
}
