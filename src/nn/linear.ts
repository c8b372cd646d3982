// Fully connected layer and the shape helpers around it (Flatten, Identity).

import type { Tensor } from "../tensor/tensor.js";
import { formatShape } from "../tensor/shape.js";
import { empty } from "./parameter.js";
import { linear } from "../ops/matmul.js";
import { flatten } from "../ops/movement.js";
import { Module } from "./module.js";
import { checkAllocatable, checkOptionKeys } from "../ops/util.js";
import { Parameter } from "./parameter.js";
import { kaimingUniform_, uniform_, calculateFans } from "./init.js";
import type { ModuleOptions } from "./parameter.js";

/** Options of `Linear`: `bias` (default true) and the dtype/backend of `ModuleOptions`. */
export interface LinearOptions extends ModuleOptions {
  bias?: boolean;
}

/**
 * y = x·Wᵀ + b with W [outFeatures, inFeatures] (torch.nn.Linear), initialised like torch:
 * W ~ U(±1/sqrt(in)) via kaiming_uniform(a=√5), b ~ U(±1/sqrt(in)).
 * @example new Linear(400, 120).forward(x) // x [N, 400] -> [N, 120]
 */
export class Linear extends Module {
  readonly inFeatures: number;
  readonly outFeatures: number;
  weight: Parameter;
  bias: Parameter | null;

  constructor(inFeatures: number, outFeatures: number, options: LinearOptions = {}) {
    super();
    checkOptionKeys("Linear", options, ["bias", "dtype", "backend"]);
    if (
      !Number.isInteger(inFeatures) ||
      inFeatures < 1 ||
      !Number.isInteger(outFeatures) ||
      outFeatures < 1
    ) {
      throw new Error(
        `Linear: inFeatures and outFeatures must be positive integers, got ${inFeatures}, ${outFeatures}`,
      );
    }
    this.inFeatures = inFeatures;
    this.outFeatures = outFeatures;
    checkAllocatable(`Linear(${inFeatures}, ${outFeatures})`, "weight", [outFeatures, inFeatures]);
    this.weight = new Parameter(empty([outFeatures, inFeatures], options));
    this.bias = options.bias === false ? null : new Parameter(empty([outFeatures], options));
    this.resetParameters();
  }

  /** Draws new weights as the constructor does (torch's `reset_parameters`). */
  resetParameters(): void {
    kaimingUniform_(this.weight, { a: Math.sqrt(5) });
    if (this.bias) {
      const bound = 1 / Math.sqrt(calculateFans(this.weight).fanIn);
      uniform_(this.bias, -bound, bound);
    }
  }

  forward(x: Tensor): Tensor {
    if (x.ndim < 1 || x.shape[x.ndim - 1] !== this.inFeatures) {
      throw new Error(
        `Linear(${this.inFeatures}, ${this.outFeatures}): input has ${x.shape[x.ndim - 1] ?? 0} features, ` +
          `expected ${this.inFeatures}; input ${formatShape(x.shape)}`,
      );
    }
    return linear(x, this.weight, this.bias);
  }

  override extraRepr(): string {
    return `inFeatures=${this.inFeatures}, outFeatures=${this.outFeatures}, bias=${this.bias !== null}`;
  }
}

/** Flattens dims startDim..endDim (default: all but the batch dim). */
export class Flatten extends Module {
  constructor(
    readonly startDim = 1,
    readonly endDim = -1,
  ) {
    super();
  }

  forward(x: Tensor): Tensor {
    return flatten(x, this.startDim, this.endDim);
  }
}

/** Returns its input unchanged (a placeholder, e.g. for a removed classifier head). */
export class Identity extends Module {
  forward(x: Tensor): Tensor {
    return x;
  }
}
