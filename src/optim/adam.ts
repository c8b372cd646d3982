// Adam with L2 weight decay (torch.optim.Adam) and AdamW with decoupled weight decay (torch.optim.AdamW),
// both with the AMSGrad option. They share the bias-corrected moment update; the math is in the pure
// `adamUpdate` and `adamwUpdate` (one fused backend kernel per parameter, src/ops/optim.ts).

import type { Tensor } from "../tensor/tensor.js";
import { zerosLike } from "../tensor/tensor.js";
import { adamStep } from "../ops/optim.js";
import { checkAdamFamily } from "./moments.js";
import {
  Optimizer,
  checkBoolean,
  type BaseHyperparameters,
  type ParamUpdate,
  type Params,
} from "./optimizer.js";

/**
 * Adam's and AdamW's hyperparameters per parameter group (torch.optim.Adam/AdamW): `lr` (default 1e-3),
 * `betas` (default [0.9, 0.999]), `eps` (default 1e-8), `weightDecay` (default 0 for Adam, added to the
 * gradient; 1e-2 for AdamW, decoupled), `amsgrad` (default false), `maximize` (default false).
 */
export interface AdamHyperparameters extends BaseHyperparameters {
  betas: [number, number];
  eps: number;
  weightDecay: number;
  amsgrad: boolean;
  maximize: boolean;
}

/** Adam's and AdamW's options: any hyperparameter, the rest default. */
export type AdamOptions = Partial<AdamHyperparameters>;

/** Per-parameter state: step count, first and second moments, and the running max of the second (AMSGrad). */
export interface AdamState {
  step?: number;
  expAvg?: Tensor;
  expAvgSq?: Tensor;
  maxExpAvgSq?: Tensor;
}

/** The fused step shared by Adam and AdamW; moments start at zero (torch's lazy state init). */
function adamCore(
  op: string,
  param: Tensor,
  grad: Tensor,
  state: AdamState,
  h: AdamHyperparameters,
  decoupledWeightDecay: boolean,
  inPlace: boolean,
): ParamUpdate<AdamState> {
  const [beta1, beta2] = h.betas;
  const step = (state.step ?? 0) + 1;
  const maxExpAvgSq = h.amsgrad ? (state.maxExpAvgSq ?? zerosLike(param)) : null;
  const next = adamStep(
    param,
    grad,
    state.expAvg ?? zerosLike(param),
    state.expAvgSq ?? zerosLike(param),
    maxExpAvgSq,
    {
      lr: h.lr,
      beta1,
      beta2,
      eps: h.eps,
      weightDecay: h.weightDecay,
      decoupledWeightDecay,
      amsgrad: h.amsgrad,
      maximize: h.maximize,
      step,
      inPlace,
    },
    op,
  );
  const nextState: AdamState = { step, expAvg: next.expAvg, expAvgSq: next.expAvgSq };
  if (next.maxExpAvgSq !== null) nextState.maxExpAvgSq = next.maxExpAvgSq;
  return { param: next.param, state: nextState };
}

/**
 * One Adam step (torch's `_single_tensor_adam`): g = ±grad + wd·param (L2); m = β1·m + (1−β1)·g;
 * v = β2·v + (1−β2)·g²; param −= lr/(1−β1ᵗ) · m / (√v/√(1−β2ᵗ) + eps) (√max(v) with AMSGrad).
 * Pure (new tensors, inputs untouched) unless `inPlace`, which lets it overwrite param and the moments (for
 * storages nobody else holds; `step()` decides); not differentiable: call it under noGrad, as `step()` does.
 */
export function adamUpdate(
  param: Tensor,
  grad: Tensor,
  state: AdamState,
  h: AdamHyperparameters,
  inPlace = false,
): ParamUpdate<AdamState> {
  return adamCore("adamUpdate", param, grad, state, h, false, inPlace);
}

/**
 * One AdamW step (torch's `_single_tensor_adamw`): param ← param·(1 − lr·wd), then Adam without L2.
 * Pure unless `inPlace`, and not differentiable, like `adamUpdate`.
 */
export function adamwUpdate(
  param: Tensor,
  grad: Tensor,
  state: AdamState,
  h: AdamHyperparameters,
  inPlace = false,
): ParamUpdate<AdamState> {
  return adamCore("adamwUpdate", param, grad, state, h, true, inPlace);
}

function validateAdam(h: AdamHyperparameters, where: string): void {
  checkAdamFamily(where, h);
  checkBoolean(where, "amsgrad", h.amsgrad);
  checkBoolean(where, "maximize", h.maximize);
}

function adamDefaults(options: AdamOptions, weightDecay: number): AdamHyperparameters {
  return {
    lr: options.lr ?? 1e-3,
    betas: options.betas ? ([...options.betas] as [number, number]) : [0.9, 0.999],
    eps: options.eps ?? 1e-8,
    weightDecay: options.weightDecay ?? weightDecay,
    amsgrad: options.amsgrad ?? false,
    maximize: options.maximize ?? false,
  };
}

/**
 * Adam (torch.optim.Adam); `weightDecay` adds an L2 term to the gradient (prefer AdamW for decoupled decay).
 * @example const opt = new Adam(model.parameters(), { lr: 1e-3, betas: [0.9, 0.999] });
 */
export class Adam extends Optimizer<AdamHyperparameters, AdamState> {
  constructor(params: Params<AdamHyperparameters>, options: AdamOptions = {}) {
    super("Adam", params, adamDefaults(options, 0), options);
  }

  protected validate(h: AdamHyperparameters, where: string): void {
    validateAdam(h, where);
  }

  protected update(
    param: Tensor,
    grad: Tensor,
    state: AdamState,
    h: AdamHyperparameters,
    inPlace: boolean,
  ): ParamUpdate<AdamState> {
    return adamUpdate(param, grad, state, h, inPlace);
  }
}

/**
 * AdamW (torch.optim.AdamW): Adam with decoupled weight decay (default 0.01), applied to the parameter
 * before the Adam step rather than added to the gradient.
 * @example const opt = new AdamW(model.parameters(), { lr: 1e-3, weightDecay: 0.05 });
 */
export class AdamW extends Optimizer<AdamHyperparameters, AdamState> {
  constructor(params: Params<AdamHyperparameters>, options: AdamOptions = {}) {
    super("AdamW", params, adamDefaults(options, 0.01), options);
  }

  protected validate(h: AdamHyperparameters, where: string): void {
    validateAdam(h, where);
  }

  protected update(
    param: Tensor,
    grad: Tensor,
    state: AdamState,
    h: AdamHyperparameters,
    inPlace: boolean,
  ): ParamUpdate<AdamState> {
    return adamwUpdate(param, grad, state, h, inPlace);
  }
}
