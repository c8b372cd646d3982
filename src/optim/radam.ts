// RAdam (torch.optim.RAdam, Liu et al. 2020): Adam whose adaptive step is switched on only once the
// variance of the adaptive learning rate is tractable (ρ_t > 5), with the rectification factor r_t;
// before that it takes bias-corrected momentum steps. The math is in the pure `radamUpdate`.

import type { Tensor } from "../tensor/tensor.js";
import { add, div, mul, sqrt, sub } from "../ops/elementwise.js";
import { Optimizer, type ParamUpdate, type Params } from "./optimizer.js";
import {
  checkAdamFamily,
  updateMoments,
  type AdamFamilyHyperparameters,
  type MomentState,
} from "./moments.js";

/** RAdam's hyperparameters (torch.optim.RAdam): those of the Adam family. */
export type RAdamHyperparameters = AdamFamilyHyperparameters;
/** RAdam's options: any hyperparameter, the rest default (torch's). */
export type RAdamOptions = Partial<RAdamHyperparameters>;
/** RAdam's per-parameter state: the step count and the two moments. */
export type RAdamState = MomentState;

/**
 * One RAdam step (torch's `_single_tensor_radam`): g = grad + wd·param; moments as Adam; m̂ = m/(1-β1^t);
 * ρ_∞ = 2/(1-β2) - 1, ρ_t = ρ_∞ - 2t·β2^t/(1-β2^t). If ρ_t > 5:
 * param ← param − lr·m̂·r_t·√(1-β2^t)/(√v + eps) with r_t = √((ρ_t-4)(ρ_t-2)ρ_∞ / ((ρ_∞-4)(ρ_∞-2)ρ_t));
 * else param ← param − lr·m̂.
 */
export function radamUpdate(
  param: Tensor,
  grad: Tensor,
  state: RAdamState,
  h: RAdamHyperparameters,
): ParamUpdate<RAdamState> {
  const [beta1, beta2] = h.betas;
  const g = h.weightDecay !== 0 ? add(grad, mul(param, h.weightDecay)) : grad;
  const { step, expAvg, expAvgSq } = updateMoments(param, g, state, h.betas);
  const biasCorrection2 = 1 - beta2 ** step;
  const corrected = div(expAvg, 1 - beta1 ** step);
  const rhoInf = 2 / (1 - beta2) - 1;
  const rho = rhoInf - (2 * step * beta2 ** step) / biasCorrection2;
  let delta: Tensor;
  if (rho > 5) {
    const rect = Math.sqrt(((rho - 4) * (rho - 2) * rhoInf) / ((rhoInf - 4) * (rhoInf - 2) * rho));
    delta = mul(div(corrected, add(sqrt(expAvgSq), h.eps)), h.lr * rect * Math.sqrt(biasCorrection2));
  } else {
    delta = mul(corrected, h.lr);
  }
  return { param: sub(param, delta), state: { step, expAvg, expAvgSq } };
}

/**
 * RAdam (torch.optim.RAdam): no warm-up schedule needed. Defaults lr 1e-3, betas [0.9, 0.999], eps 1e-8.
 * @example const opt = new RAdam(model.parameters(), { lr: 1e-3 });
 */
export class RAdam extends Optimizer<RAdamHyperparameters, RAdamState> {
  constructor(params: Params<RAdamHyperparameters>, options: RAdamOptions = {}) {
    super(
      "RAdam",
      params,
      {
        lr: options.lr ?? 1e-3,
        betas: options.betas ?? [0.9, 0.999],
        eps: options.eps ?? 1e-8,
        weightDecay: options.weightDecay ?? 0,
      },
      options,
    );
  }

  protected validate(h: RAdamHyperparameters, where: string): void {
    checkAdamFamily(where, h);
  }

  protected update(param: Tensor, grad: Tensor, state: RAdamState, h: RAdamHyperparameters) {
    return radamUpdate(param, grad, state, h);
  }
}
