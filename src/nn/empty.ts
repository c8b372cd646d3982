// Options every layer accepts, and the uninitialised parameter storage that resetParameters() fills.

import { zeros, type Tensor } from "../tensor/tensor.js";
import type { DType } from "../tensor/dtype.js";

/** Options every layer accepts: the dtype and backend of its parameters. */
export interface ModuleOptions {
  /** float32 by default; float64 for gradient checks on the js backend. */
  dtype?: DType;
  /** Backend name; the current default when omitted. */
  backend?: string;
}

/**
 * A zero-filled tensor of `shape` with the layer options' dtype and backend, for a layer's parameters before
 * `resetParameters()` draws their values.
 */
export function empty(shape: readonly number[], options: ModuleOptions = {}): Tensor {
  return zeros(shape, { dtype: options.dtype ?? "float32", backend: options.backend });
}
