// Greedy layer-wise pre-training (Hinton, Osindero & Teh 2006; Bengio et al. 2007), as the notes present
// it: before deep nets trained well from random weights, each hidden layer was first trained alone as an
// autoencoder on the previous layer's output (unlabelled), then frozen while the next was trained, and
// finally the whole stack was fine-tuned with labels.

import { noGrad } from "../autograd/engine.js";
import { scope } from "../backend/registry.js";
import type { Module, TensorModule } from "../nn/module.js";
import { Linear } from "../nn/linear.js";
import { Adam } from "../optim/adam.js";
import { mseLoss } from "../ops/losses.js";
import type { Tensor } from "../tensor/tensor.js";
import { Rng } from "../tensor/rng.js";
import { tensor } from "../tensor/tensor.js";
import { formatShape } from "../tensor/shape.js";
import type { TypedArray } from "../tensor/dtype.js";

export interface LayerwiseOptions {
  /** Passes over the data per layer (default 5). */
  epochs?: number;
  /** Adam learning rate of each autoencoder (default 1e-3). */
  lr?: number;
  batchSize?: number;
  /** Seed of the batch order (default 0). */
  seed?: number;
}

export interface LayerwiseReport {
  /** Mean reconstruction loss (MSE) of each layer's autoencoder in its last epoch. */
  reconstructionLoss: number[];
}

function inputWidth(layer: Module, index: number): number {
  const linear = layer.modules().find((m): m is Linear => m instanceof Linear);
  if (!linear)
    throw new Error(
      `pretrainLayerwise: layer ${index} (${layer.constructor.name}) has no Linear to build a decoder for`,
    );
  return linear.inFeatures;
}

/**
 * Trains each of `layers` in turn as the encoder of an autoencoder whose decoder is a new Linear back to
 * the layer's input width, on the outputs of the layers before it (frozen: computed without gradients).
 * Labels are not used. Afterwards the layers keep their pretrained weights and are trainable again, ready
 * to be stacked under a classifier and fine-tuned.
 * @param layers encoders in order, e.g. `[Sequential(Linear(784, 256), Sigmoid()), Sequential(Linear(256, 128), Sigmoid())]`
 * @param inputs `[N, features]` unlabelled training data
 * @example
 * pretrainLayerwise([enc1, enc2], x, { epochs: 5 });
 * const net = new nn.Sequential(enc1, enc2, new nn.Linear(128, 10)); // then train with labels
 */
export function pretrainLayerwise(
  layers: readonly TensorModule[],
  inputs: Tensor,
  options: LayerwiseOptions = {},
): LayerwiseReport {
  const { epochs = 5, lr = 1e-3, batchSize = 64, seed = 0 } = options;
  if (inputs.ndim !== 2)
    throw new Error(`pretrainLayerwise: inputs must be [N, features], got ${formatShape(inputs.shape)}`);
  for (const [name, v] of [
    ["epochs", epochs],
    ["batchSize", batchSize],
  ] as const)
    if (!Number.isInteger(v) || v < 1)
      throw new Error(`pretrainLayerwise: ${name} must be a positive integer, got ${v}`);
  const rng = new Rng(seed);
  const reconstructionLoss: number[] = [];
  let current = inputs;
  layers.forEach((layer, index) => {
    const width = inputWidth(layer, index);
    if (current.shape[1] !== width)
      throw new Error(
        `pretrainLayerwise: layer ${index} takes ${width} features but the layers before it give ${current.shape[1]}`,
      );
    const sample = noGrad(() => layer.forward(current.slice(0, 0, 1)));
    const decoder = new Linear(sample.shape[1], width, { backend: inputs.backend.name });
    const optimizer = new Adam([...layer.parameters(), ...decoder.parameters()], { lr });
    layer.train();
    const data = current.toArray();
    let epochLoss = 0;
    for (let epoch = 0; epoch < epochs; epoch++) {
      epochLoss = 0;
      const order = rng.permutation(current.shape[0]);
      for (let i = 0; i < order.length; i += batchSize) {
        const rows = order.subarray(i, i + batchSize);
        epochLoss += scope(() => {
          const x = gatherRows(data, width, rows, current);
          const loss = mseLoss(decoder.forward(layer.forward(x)), x);
          optimizer.zeroGrad();
          loss.backward();
          optimizer.step();
          return loss.item() * rows.length;
        });
      }
      epochLoss /= order.length;
    }
    reconstructionLoss.push(epochLoss);
    // The next layer learns from this one's (now fixed) codes.
    layer.eval();
    current = noGrad(() => layer.forward(current)).keep();
    layer.train();
  });
  return { reconstructionLoss };
}

/** The given rows of row-major [N, width] values, as a [K, width] tensor where `like` lives. */
function gatherRows(source: TypedArray, width: number, rows: Int32Array, like: Tensor): Tensor {
  const out = new Float32Array(rows.length * width);
  rows.forEach((r, k) => out.set(source.subarray(r * width, (r + 1) * width), k * width));
  return tensor(out, [rows.length, width], { backend: like.backend.name });
}
