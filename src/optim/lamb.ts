// LAMB (You et al. 2020, "Large Batch Optimization for Deep Learning", Algorithm 2): Adam's bias-corrected
// step plus decoupled weight decay, rescaled per parameter tensor by the trust ratio ‖w‖/‖r‖ so that every
// layer moves by a similar relative amount. torch has no LAMB; the fixture reference is a float64 loop of
// the paper's algorithm (scripts/fixtures/torch_layers.py). The math is in the pure `lambUpdate`.

import type { Tensor } from "../tensor/tensor.js";
import { add, compare, div, mul, sqrt, square, sub } from "../ops/elementwise.js";
import { where } from "../ops/indexing.js";
import { sum } from "../ops/reduce.js";
import { Optimizer, type ParamUpdate, type Params } from "./optimizer.js";
import {
  checkAdamFamily,
  updateMoments,
  type AdamFamilyHyperparameters,
  type MomentState,
} from "./moments.js";

/** LAMB's hyperparameters (You et al. 2020): those of the Adam family. */
export type LambHyperparameters = AdamFamilyHyperparameters;
/** LAMB's options: any hyperparameter, the rest default. */
export type LambOptions = Partial<LambHyperparameters>;
/** LAMB's per-parameter state: the step count and the two moments. */
export type LambState = MomentState;

/**
 * One LAMB step: moments as Adam; r = m̂/(√v̂ + eps) + wd·param; trust = ‖param‖/‖r‖ (1 when either norm
 * is 0, the paper's φ the identity); param ← param − lr·trust·r.
 */
export function lambUpdate(
  param: Tensor,
  grad: Tensor,
  state: LambState,
  h: LambHyperparameters,
): ParamUpdate<LambState> {
  const [beta1, beta2] = h.betas;
  const { step, expAvg, expAvgSq } = updateMoments(param, grad, state, h.betas);
  const mHat = div(expAvg, 1 - beta1 ** step);
  const vHat = div(expAvgSq, 1 - beta2 ** step);
  let r = div(mHat, add(sqrt(vHat), h.eps));
  if (h.weightDecay !== 0) r = add(r, mul(param, h.weightDecay));
  // The trust ratio stays a 0-d tensor (no read back, so the step runs on webgpu without waiting).
  const weightNorm = sqrt(sum(square(param)));
  const updateNorm = sqrt(sum(square(r)));
  const bothPositive = mul(compare("gt", weightNorm, 0), compare("gt", updateNorm, 0));
  const trust = where(bothPositive, div(weightNorm, updateNorm), 1);
  return { param: sub(param, mul(r, mul(trust, h.lr))), state: { step, expAvg, expAvgSq } };
}

/**
 * LAMB (layer-wise adaptive moments for large batches). Defaults lr 1e-3, betas [0.9, 0.999], eps 1e-6,
 * weightDecay 0.
 * @example const opt = new LAMB(model.parameters(), { lr: 2e-3, weightDecay: 0.01 });
 */
export class LAMB extends Optimizer<LambHyperparameters, LambState> {
  constructor(params: Params<LambHyperparameters>, options: LambOptions = {}) {
    super(
      "LAMB",
      params,
      {
        lr: options.lr ?? 1e-3,
        betas: options.betas ?? [0.9, 0.999],
        eps: options.eps ?? 1e-6,
        weightDecay: options.weightDecay ?? 0,
      },
      options,
    );
  }

  protected validate(h: LambHyperparameters, where: string): void {
    checkAdamFamily(where, h);
  }

  protected update(param: Tensor, grad: Tensor, state: LambState, h: LambHyperparameters) {
    return lambUpdate(param, grad, state, h);
  }
}
