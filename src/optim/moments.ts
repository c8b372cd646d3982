// What the Adam-family optimizers share: the common hyperparameters and their validation (Adam and AdamW
// too), and the exponential moving averages of the gradient and its square (NAdam, RAdam and LAMB, which
// are written with ops).

import type { Tensor } from "../tensor/tensor.js";
import { zerosLike } from "../tensor/tensor.js";
import { add, mul, square } from "../ops/elementwise.js";
import { checkAtLeast, checkLr, checkUnitInterval, type BaseHyperparameters } from "./optimizer.js";

/**
 * Hyperparameters shared by the Adam-like optimizers (NAdam, RAdam, LAMB): `lr`, `betas` (two decay rates in
 * [0, 1)), `eps` and `weightDecay`, with torch's defaults for each optimizer.
 */
export interface AdamFamilyHyperparameters extends BaseHyperparameters {
  betas: [number, number];
  eps: number;
  weightDecay: number;
}

/** Step count and the two moments; they start at zero (torch's lazy state init). */
export interface MomentState {
  step?: number;
  expAvg?: Tensor;
  expAvgSq?: Tensor;
}

/** lr, betas (a pair in [0, 1)), eps and weightDecay (>= 0). */
export function checkAdamFamily(where: string, h: AdamFamilyHyperparameters): void {
  checkLr(where, h.lr);
  if (!Array.isArray(h.betas) || h.betas.length !== 2) {
    throw new Error(`${where}: betas must be a pair [beta1, beta2], got ${JSON.stringify(h.betas)}`);
  }
  checkUnitInterval(where, "betas[0]", h.betas[0]);
  checkUnitInterval(where, "betas[1]", h.betas[1]);
  checkAtLeast(where, "eps", h.eps);
  checkAtLeast(where, "weightDecay", h.weightDecay);
}

/** m = β1·m + (1-β1)·g and v = β2·v + (1-β2)·g², with the step count advanced. */
export function updateMoments(
  param: Tensor,
  g: Tensor,
  state: MomentState,
  [beta1, beta2]: [number, number],
): Required<MomentState> {
  return {
    step: (state.step ?? 0) + 1,
    expAvg: add(mul(state.expAvg ?? zerosLike(param), beta1), mul(g, 1 - beta1)),
    expAvgSq: add(mul(state.expAvgSq ?? zerosLike(param), beta2), mul(square(g), 1 - beta2)),
  };
}
