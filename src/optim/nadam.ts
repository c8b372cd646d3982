// NAdam (torch.optim.NAdam): Adam with Nesterov momentum (Dozat 2016), whose momentum coefficient warms up
// with torch's momentum_decay schedule; the math is in the pure `nadamUpdate`, written with ops.

import type { Tensor } from "../tensor/tensor.js";
import { add, div, mul, sqrt, sub } from "../ops/elementwise.js";
import { Optimizer, checkAtLeast, type ParamUpdate, type Params } from "./optimizer.js";
import {
  checkAdamFamily,
  updateMoments,
  type AdamFamilyHyperparameters,
  type MomentState,
} from "./moments.js";

/** NAdam's hyperparameters (torch.optim.NAdam): those of the Adam family plus `momentumDecay`. */
export interface NAdamHyperparameters extends AdamFamilyHyperparameters {
  /** ψ of the momentum schedule μ_t = β1·(1 - 0.5·0.96^(t·ψ)). Default 4e-3. */
  momentumDecay: number;
}

/** NAdam's options: any hyperparameter, the rest default (torch's). */
export type NAdamOptions = Partial<NAdamHyperparameters>;

/** Per-parameter state: step count, the product of the μ_t so far, and the two moments. */
export interface NAdamState extends MomentState {
  muProduct?: number;
}

/**
 * One NAdam step (torch's `_single_tensor_nadam`): g = grad + wd·param; m = β1·m + (1-β1)·g;
 * v = β2·v + (1-β2)·g²; d = √(v/(1-β2^t)) + eps;
 * param ← param − lr·(1-μ_t)/(1-Πμ)·g/d − lr·μ_{t+1}/(1-Πμ·μ_{t+1})·m/d.
 */
export function nadamUpdate(
  param: Tensor,
  grad: Tensor,
  state: NAdamState,
  h: NAdamHyperparameters,
): ParamUpdate<NAdamState> {
  const [beta1, beta2] = h.betas;
  const g = h.weightDecay !== 0 ? add(grad, mul(param, h.weightDecay)) : grad;
  const { step, expAvg, expAvgSq } = updateMoments(param, g, state, h.betas);
  const mu = beta1 * (1 - 0.5 * 0.96 ** (step * h.momentumDecay));
  const muNext = beta1 * (1 - 0.5 * 0.96 ** ((step + 1) * h.momentumDecay));
  const muProduct = (state.muProduct ?? 1) * mu;
  const denom = add(sqrt(div(expAvgSq, 1 - beta2 ** step)), h.eps);
  const gradTerm = mul(div(g, denom), (h.lr * (1 - mu)) / (1 - muProduct));
  const momentumTerm = mul(div(expAvg, denom), (h.lr * muNext) / (1 - muProduct * muNext));
  return { param: sub(sub(param, gradTerm), momentumTerm), state: { step, muProduct, expAvg, expAvgSq } };
}

/**
 * NAdam (torch.optim.NAdam). Defaults lr 2e-3, betas [0.9, 0.999], eps 1e-8, momentumDecay 4e-3.
 * @example const opt = new NAdam(model.parameters(), { lr: 2e-3 });
 */
export class NAdam extends Optimizer<NAdamHyperparameters, NAdamState> {
  constructor(params: Params<NAdamHyperparameters>, options: NAdamOptions = {}) {
    super(
      "NAdam",
      params,
      {
        lr: options.lr ?? 2e-3,
        betas: options.betas ?? [0.9, 0.999],
        eps: options.eps ?? 1e-8,
        weightDecay: options.weightDecay ?? 0,
        momentumDecay: options.momentumDecay ?? 4e-3,
      },
      options,
    );
  }

  protected validate(h: NAdamHyperparameters, where: string): void {
    checkAdamFamily(where, h);
    checkAtLeast(where, "momentumDecay", h.momentumDecay);
  }

  protected update(param: Tensor, grad: Tensor, state: NAdamState, h: NAdamHyperparameters) {
    return nadamUpdate(param, grad, state, h);
  }
}
