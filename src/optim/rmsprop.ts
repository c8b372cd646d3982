// RMSprop: gradients divided by a running root-mean-square, optionally centred and with momentum, in
// torch.optim.RMSprop's form (eps added outside the square root); the math is in the pure `rmspropUpdate`.

import type { Tensor } from "../tensor/tensor.js";
import { zerosLike } from "../tensor/tensor.js";
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
 * RMSprop's hyperparameters per parameter group (torch.optim.RMSprop): `lr` (default 1e-2), `alpha`
 * (smoothing, default 0.99), `eps` (default 1e-8), `weightDecay` (default 0), `momentum` (default 0),
 * `centered` (default false), `maximize` (default false).
 */
export interface RMSpropHyperparameters extends BaseHyperparameters {
  alpha: number;
  eps: number;
  weightDecay: number;
  momentum: number;
  centered: boolean;
  maximize: boolean;
}

/** RMSprop's options: any hyperparameter, the rest default. */
export type RMSpropOptions = Partial<RMSpropHyperparameters>;

/** Per-parameter state; `gradAvg` exists only when centred, `momentumBuffer` only with momentum. */
export interface RMSpropState {
  step?: number;
  squareAvg?: Tensor;
  gradAvg?: Tensor;
  momentumBuffer?: Tensor;
}

/**
 * One RMSprop step (torch's `_single_tensor_rmsprop`): g = ±grad + wd·param; v = α·v + (1−α)·g²;
 * centred: v − (mean of g)²; avg = √v + eps; with momentum buf = m·buf + g/avg and param −= lr·buf,
 * else param −= lr·g/avg.
 */
export function rmspropUpdate(
  param: Tensor,
  grad: Tensor,
  state: RMSpropState,
  h: RMSpropHyperparameters,
): ParamUpdate<RMSpropState> {
  let g = h.maximize ? neg(grad) : grad;
  if (h.weightDecay !== 0) g = add(g, mul(param, h.weightDecay));
  const next: RMSpropState = { step: (state.step ?? 0) + 1 };
  next.squareAvg = add(mul(state.squareAvg ?? zerosLike(param), h.alpha), mul(square(g), 1 - h.alpha));
  let variance = next.squareAvg;
  if (h.centered) {
    next.gradAvg = add(mul(state.gradAvg ?? zerosLike(param), h.alpha), mul(g, 1 - h.alpha));
    variance = sub(variance, square(next.gradAvg));
  }
  const avg = add(sqrt(variance), h.eps);
  if (h.momentum > 0) {
    next.momentumBuffer = add(mul(state.momentumBuffer ?? zerosLike(param), h.momentum), div(g, avg));
    return { param: sub(param, mul(next.momentumBuffer, h.lr)), state: next };
  }
  return { param: sub(param, mul(div(g, avg), h.lr)), state: next };
}

/**
 * RMSprop (torch.optim.RMSprop).
 * @example const opt = new RMSprop(model.parameters(), { lr: 1e-3, momentum: 0.9 });
 */
export class RMSprop extends Optimizer<RMSpropHyperparameters, RMSpropState> {
  constructor(params: Params<RMSpropHyperparameters>, options: RMSpropOptions = {}) {
    super(
      "RMSprop",
      params,
      {
        lr: options.lr ?? 0.01,
        alpha: options.alpha ?? 0.99,
        eps: options.eps ?? 1e-8,
        weightDecay: options.weightDecay ?? 0,
        momentum: options.momentum ?? 0,
        centered: options.centered ?? false,
        maximize: options.maximize ?? false,
      },
      options,
    );
  }

  protected validate(h: RMSpropHyperparameters, where: string): void {
    checkLr(where, h.lr);
    checkAtLeast(where, "alpha", h.alpha);
    if (h.alpha > 1) throw new Error(`${where}: invalid alpha ${h.alpha} (must be in [0, 1])`);
    checkAtLeast(where, "eps", h.eps);
    checkAtLeast(where, "weightDecay", h.weightDecay);
    checkAtLeast(where, "momentum", h.momentum);
    checkBoolean(where, "centered", h.centered);
    checkBoolean(where, "maximize", h.maximize);
  }

  protected update(
    param: Tensor,
    grad: Tensor,
    state: RMSpropState,
    h: RMSpropHyperparameters,
  ): ParamUpdate<RMSpropState> {
    return rmspropUpdate(param, grad, state, h);
  }
}
