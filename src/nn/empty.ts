// Options every layer accepts, and the uninitialised parameter storage that resetParameters() fills.

import { zeros, type Tensor } from "../tensor/tensor.js";
import type { DType } from "../tensor/dtype.js";

export interface ModuleOptions {
  /** float32 by default; float64 for gradient checks on the js backend. */
  dtype?: DType;
  /** Backend name; the current default when omitted. */
  backend?: string;
}

export function empty(shape: readonly number[], options: ModuleOptions = {}): Tensor {
  return zeros(shape, { dtype: options.dtype ?? "float32", backend: options.backend });
}
