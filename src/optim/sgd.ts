// Stochastic gradient descent with optional momentum, dampening, Nesterov momentum, L2 weight decay and
// maximisation: torch.optim.SGD's semantics, with the math in the pure `sgdUpdate` (one fused backend
// kernel per parameter, src/ops/optim.ts).

import type { Tensor } from "../tensor/tensor.js";
import { sgdStep } from "../ops/optim.js";
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
 * SGD's hyperparameters per parameter group (torch.optim.SGD): `lr`, `momentum` (default 0), `dampening`
 * (default 0), `nesterov` (default false), `weightDecay` (L2, default 0), `maximize` (default false).
 */
export interface SGDHyperparameters extends BaseHyperparameters {
  momentum: number;
  dampening: number;
  nesterov: boolean;
  weightDecay: number;
  maximize: boolean;
}

/** SGD's options; `lr` has no default and must be given here or in every parameter group. */
export type SGDOptions = Partial<SGDHyperparameters>;

/** Per-parameter state: the momentum buffer (absent until the first step with momentum). */
export interface SGDState {
  momentumBuffer?: Tensor;
}

/**
 * One SGD step for one parameter (torch's `_single_tensor_sgd`): g = ±grad + wd·param;
 * with momentum, buf = g on the first step and momentum·buf + (1 − dampening)·g after, and the step
 * direction is buf (or g + momentum·buf with Nesterov); param ← param − lr·direction.
 * Pure (new tensors, inputs untouched) unless `inPlace`, which lets it overwrite param and the buffer (for
 * storages nobody else holds; `step()` decides); not differentiable: call it under noGrad, as `step()` does.
 */
export function sgdUpdate(
  param: Tensor,
  grad: Tensor,
  state: SGDState,
  h: SGDHyperparameters,
  inPlace = false,
): ParamUpdate<SGDState> {
  const { lr, momentum, dampening, nesterov, weightDecay, maximize } = h;
  const buffer = momentum !== 0 ? (state.momentumBuffer ?? null) : null;
  const next = sgdStep(
    param,
    grad,
    buffer,
    { lr, momentum, dampening, nesterov, weightDecay, maximize, inPlace },
    "sgdUpdate",
  );
  // With momentum 0 (e.g. set by a scheduler) an existing buffer is kept for later steps, as torch does.
  const buf = next.momentumBuffer ?? state.momentumBuffer;
  return { param: next.param, state: buf === undefined ? {} : { momentumBuffer: buf } };
}

/**
 * Stochastic gradient descent (torch.optim.SGD).
 * @example
 * const opt = new SGD(model.parameters(), { lr: 0.05, momentum: 0.9, weightDecay: 5e-4 });
 * loss.backward(); opt.step(); opt.zeroGrad();
 * @example // per-group learning rates
 * new SGD([{ params: backbone.parameters(), lr: 1e-3 }, { params: head.parameters() }], { lr: 1e-2 });
 */
export class SGD extends Optimizer<SGDHyperparameters, SGDState> {
  constructor(params: Params<SGDHyperparameters>, options: SGDOptions = {}) {
    super(
      "SGD",
      params,
      {
        lr: options.lr as number,
        momentum: options.momentum ?? 0,
        dampening: options.dampening ?? 0,
        nesterov: options.nesterov ?? false,
        weightDecay: options.weightDecay ?? 0,
        maximize: options.maximize ?? false,
      },
      options,
    );
  }

  protected validate(h: SGDHyperparameters, where: string): void {
    checkLr(where, h.lr);
    checkAtLeast(where, "momentum", h.momentum);
    checkAtLeast(where, "dampening", h.dampening);
    checkAtLeast(where, "weightDecay", h.weightDecay);
    checkBoolean(where, "nesterov", h.nesterov);
    checkBoolean(where, "maximize", h.maximize);
    if (h.nesterov && (h.momentum <= 0 || h.dampening !== 0)) {
      throw new Error(
        `${where}: nesterov needs momentum > 0 and dampening 0 (got momentum ${h.momentum}, dampening ${h.dampening})`,
      );
    }
  }

  protected update(
    param: Tensor,
    grad: Tensor,
    state: SGDState,
    h: SGDHyperparameters,
    inPlace: boolean,
  ): ParamUpdate<SGDState> {
    return sgdUpdate(param, grad, state, h, inPlace);
  }
}
