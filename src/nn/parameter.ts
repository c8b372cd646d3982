// A Parameter is a leaf tensor that a Module registers as trainable (requiresGrad by default).

import { Tensor } from "../tensor/tensor.js";

export class Parameter extends Tensor {
  constructor(data: Tensor, requiresGrad = true) {
    super(data.storage, data.shape, data.backend);
    if (requiresGrad) this.requiresGrad = true;
  }
}
