// A Parameter is a leaf tensor that a Module registers as trainable (requiresGrad by default).

import { Tensor } from "../tensor/tensor.js";

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
