// A Parameter is a leaf tensor that a Module registers as trainable (requiresGrad by default), and the
// options every layer takes for where its parameters live.

import { Tensor, zeros } from "../tensor/tensor.js";
import type { DType } from "../tensor/dtype.js";

/** Options every layer accepts: where its parameters live. */
export interface ModuleOptions {
  /** float32 by default; float64 for gradient checks on the js backend. */
  dtype?: DType;
  /** Backend name; the current default when omitted. */
  backend?: string;
}

/** Uninitialised (zero) parameter storage of `shape`, which the layer's resetParameters() fills. */
export function empty(shape: readonly number[], options: ModuleOptions = {}): Tensor {
  return zeros(shape, { dtype: options.dtype ?? "float32", backend: options.backend });
}

/**
 * A tensor a `Module` registers as trainable when assigned to one of its fields (`torch.nn.Parameter`):
 * `module.parameters()` returns it, optimizers update it in place. Requires gradients unless `requiresGrad`
 * is false.
 * @example this.weight = new Parameter(zeros([outFeatures, inFeatures]));
 */
export class Parameter extends Tensor {
  constructor(data: Tensor, requiresGrad = true) {
    super(data.storage, data.shape, data.backend);
    if (requiresGrad) this.requiresGrad = true;
  }
}
