// Pieces every model family shares: the options all builders accept, a Sequential whose children carry
// torchvision's names (`features.conv0`, `features.denseblock1`), and
// the weight initialisations the papers (and torchvision) use, applied over a whole model.

import type { Tensor } from "../tensor/tensor.js";
import type { DType } from "../tensor/dtype.js";
import { Module, init, BatchNorm2d, Conv2d, Linear, type TensorModule } from "../nn/index.js";

/** Options every model builder accepts. */
export interface ModelOptions {
  /** Size of the classifier output (1000 for ImageNet, 10 for MNIST/CIFAR-10). */
  numClasses?: number;
  /** Channels of the input image (3 for RGB, 1 for grayscale). */
  inChannels?: number;
  /** Parameter dtype (float32 by default). */
  dtype?: DType;
  /** Backend the parameters live on; `'meta'` builds a shape-only model for summary(). */
  backend?: string;
}

/** The part of ModelOptions that every layer constructor takes. */
export interface LayerOptions {
  dtype?: DType;
  backend?: string;
}

export function layerOptions(options: ModelOptions): LayerOptions {
  return { dtype: options.dtype, backend: options.backend };
}

/**
 * Calls a module's forward with one tensor.
 * @deprecated Type the module as its class or as `TensorModule` (`Module<[Tensor], Tensor>`) and call
 * `module.forward(x)`. Kept, untyped as before, while code written against it moves over.
 */
export function call(module: Module, x: Tensor): Tensor {
  return (module as unknown as TensorModule).forward(x);
}

/**
 * A Sequential whose children have names instead of indices, like torch's `Sequential(OrderedDict(...))`:
 * DenseNet's state_dict keys are `features.conv0.weight`, `features.denseblock1.denselayer1.norm1.weight`.
 */
export class NamedSequential extends Module<[input: Tensor], Tensor> {
  private readonly order: TensorModule[] = [];

  constructor(layers: readonly [string, TensorModule][] = []) {
    super();
    for (const [name, layer] of layers) this.add(name, layer);
  }

  add(name: string, layer: TensorModule): this {
    this.registerModule(name, layer);
    this.order.push(layer);
    return this;
  }

  protected override replaceChild(name: string, module: Module): void {
    const old = this.getSubmodule(name);
    super.replaceChild(name, module);
    // As in Sequential: a replacement must map a tensor to a tensor too.
    this.order[this.order.findIndex((m) => m === old)] = module as TensorModule;
  }

  forward(x: Tensor): Tensor {
    let out = x;
    for (const layer of this.order) out = layer.forward(out);
    return out;
  }
}

export function positiveInteger(model: string, name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new Error(`${model}: ${name} must be a positive integer, got ${value}`);
  }
  return value;
}

/** How a model family initialises its layers (each field optional: torch's default init stays otherwise). */
export interface InitScheme {
  conv?: "kaimingNormalFanOut" | "kaimingNormalFanIn" | "kaimingUniformFanIn" | { normalStd: number };
  /** Zero conv biases after drawing the weights. */
  convBiasZero?: boolean;
  linear?: { normalStd: number } | "default";
  /** Zero linear biases. */
  linearBiasZero?: boolean;
  /** Batch norm weight 1, bias 0 (torch's default already; listed for clarity). */
  batchNorm?: boolean;
  /** Truncated normal N(0, std²) in [-2, 2] for conv and linear weights (torchvision's GoogLeNet). */
  truncNormalStd?: number;
}

/**
 * Re-initialises a model's Conv2d, Linear and BatchNorm2d layers the way the family's reference code does.
 * On the meta backend there are no values to draw, so nothing is done.
 */
export function initialize(model: Module, scheme: InitScheme): void {
  const first = model.parameters()[0];
  if (!first || first.backend.name === "meta") return;
  for (const m of model.modules()) {
    if (m instanceof Conv2d || m instanceof Linear) {
      if (scheme.truncNormalStd !== undefined) {
        init.truncNormal_(m.weight, 0, scheme.truncNormalStd, -2, 2);
        if (m.bias) init.zeros_(m.bias);
        continue;
      }
    }
    if (m instanceof Conv2d && scheme.conv) {
      const c = scheme.conv;
      if (c === "kaimingNormalFanOut")
        init.kaimingNormal_(m.weight, { mode: "fanOut", nonlinearity: "relu" });
      else if (c === "kaimingNormalFanIn")
        init.kaimingNormal_(m.weight, { mode: "fanIn", nonlinearity: "relu" });
      else if (c === "kaimingUniformFanIn")
        init.kaimingUniform_(m.weight, { mode: "fanIn", nonlinearity: "relu" });
      else init.normal_(m.weight, 0, c.normalStd);
      if (m.bias && scheme.convBiasZero) init.zeros_(m.bias);
    } else if (m instanceof Linear) {
      if (scheme.linear && scheme.linear !== "default") init.normal_(m.weight, 0, scheme.linear.normalStd);
      if (m.bias && scheme.linearBiasZero) init.zeros_(m.bias);
    } else if (m instanceof BatchNorm2d && scheme.batchNorm) {
      if (m.weight) init.ones_(m.weight);
      if (m.bias) init.zeros_(m.bias);
    }
  }
}
