// Inverted dropout: in training, zero each element with probability p and scale survivors by 1/(1-p), so
// that evaluation is the identity.

import type { Tensor } from "../tensor/tensor.js";
import { tensor } from "../tensor/tensor.js";
import { globalRng, type Rng } from "../tensor/rng.js";
import { mul } from "./elementwise.js";
import { checkFloat, checkOptionKeys } from "./util.js";

export interface DropoutOptions {
  training?: boolean;
  rng?: Rng;
}

export function dropout(x: Tensor, p = 0.5, options: DropoutOptions = {}): Tensor {
  checkFloat("dropout", x);
  checkOptionKeys("dropout", options, ["training", "rng"]);
  if (!(typeof p === "number" && p >= 0 && p <= 1))
    throw new Error(`dropout: probability p must be in [0, 1], got ${p}`);
  if (options.training === false || p === 0) return x;
  if (p === 1) return mul(x, 0);
  const rng = options.rng ?? globalRng;
  const scale = 1 / (1 - p);
  const mask = x.dtype === "float64" ? new Float64Array(x.size) : new Float32Array(x.size);
  for (let i = 0; i < mask.length; i++) mask[i] = rng.uniform() >= p ? scale : 0;
  return mul(x, tensor(mask, x.shape, { backend: x.backend.name }));
}
