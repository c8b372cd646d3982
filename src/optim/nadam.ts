// NAdam (torch.optim.NAdam): Adam with Nesterov momentum (Dozat 2016), whose momentum coefficient warms up
// with torch's momentum_decay schedule; the math is in the pure `nadamUpdate`, written with ops.

import type { Tensor } from "../tensor/tensor.js";
import { zerosLike } from "../tensor/tensor.js";
import { add, div, mul, sqrt, square, sub } from "../ops/elementwise.js";
import {
  Optimizer,
  checkAtLeast,
  checkLr,
  checkUnitInterval,
  type BaseHyperparameters,
  type ParamUpdate,
  type Params,
} from "./optimizer.js";

export interface NAdamHyperparameters extends BaseHyperparameters {
  betas: [number, number];
  eps: number;
  weightDecay: number;
  /** ψ of the momentum schedule μ_t = β1·(1 - 0.5·0.96^(t·ψ)). Default 4e-3. */
  momentumDecay: number;
}

export type NAdamOptions = Partial<NAdamHyperparameters>;

/** Per-parameter state: step count, the product of the μ_t so far, and the two moments. */
export interface NAdamState {
  step?: number;
  muProduct?: number;
  expAvg?: Tensor;
  expAvgSq?: Tensor;
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
  const step = (state.step ?? 0) + 1;
  const g = h.weightDecay !== 0 ? add(grad, mul(param, h.weightDecay)) : grad;
  const mu = beta1 * (1 - 0.5 * 0.96 ** (step * h.momentumDecay));
  const muNext = beta1 * (1 - 0.5 * 0.96 ** ((step + 1) * h.momentumDecay));
  const muProduct = (state.muProduct ?? 1) * mu;
  const expAvg = add(mul(state.expAvg ?? zerosLike(param), beta1), mul(g, 1 - beta1));
  const expAvgSq = add(mul(state.expAvgSq ?? zerosLike(param), beta2), mul(square(g), 1 - beta2));
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
    super("NAdam", params, {
      lr: options.lr ?? 2e-3,
      betas: options.betas ?? [0.9, 0.999],
      eps: options.eps ?? 1e-8,
      weightDecay: options.weightDecay ?? 0,
      momentumDecay: options.momentumDecay ?? 4e-3,
    });
  }

  protected validate(h: NAdamHyperparameters, where: string): void {
    checkLr(where, h.lr);
    checkBetas(where, h.betas);
    checkAtLeast(where, "eps", h.eps);
    checkAtLeast(where, "weightDecay", h.weightDecay);
    checkAtLeast(where, "momentumDecay", h.momentumDecay);
  }

  protected update(param: Tensor, grad: Tensor, state: NAdamState, h: NAdamHyperparameters) {
    return nadamUpdate(param, grad, state, h);
  }
}

/** betas must be a pair of numbers in [0, 1) (shared by NAdam, RAdam and LAMB). */
export function checkBetas(where: string, betas: unknown): void {
  if (!Array.isArray(betas) || betas.length !== 2) {
    throw new Error(`${where}: betas must be a pair [beta1, beta2], got ${JSON.stringify(betas)}`);
  }
  checkUnitInterval(where, "beta1", betas[0]);
  checkUnitInterval(where, "beta2", betas[1]);
}
