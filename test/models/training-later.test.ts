// The later architectures train: a few SGD steps on a fixed 32x32 batch lower the loss, with their
// stochastic depth and dropout active (trainFixedBatch reseeds the RNG before every step and evaluation, so
// all see the same masks and the steps descend the loss that is measured).
// The models run with their small-input stem (stride 1, so the last stage still has 2x2 maps for batch norm),
// EfficientNet and MNASNet at half width (the same blocks, a quarter of the work; mobilenet_v3_large's
// blocks are mobilenet_v3_small's); ConvNeXt (28.6M parameters) runs as a two-stage, 16/32-channel ConvNeXt
// built from the same blocks. The 224x224 shapes are checked on the meta
// backend in torchvision.test.ts, the computation in torchvision-forward.test.ts.

import { test } from "node:test";
import assert from "node:assert/strict";
import { getModel, ConvNeXt } from "../../src/models/index.js";
import type { Module } from "../../src/nn/index.js";
import { manualSeed } from "../../src/index.js";
import { trainFixedBatch } from "./train-steps.js";

const CASES: [string, () => Module, number[]][] = [
  [
    "mobilenet_v3_small",
    () => getModel("mobilenet_v3_small", { numClasses: 5, smallInput: true }),
    [2, 3, 32, 32],
  ],
  [
    "efficientnet_b0 (half width)",
    () => getModel("efficientnet_b0", { numClasses: 5, smallInput: true, widthMultiplier: 0.5 }),
    [2, 3, 32, 32],
  ],
  // Batch 4: with two images, batch norm over MNASNet's 2x2 maps made the loss too steep for a fixed step.
  [
    "mnasnet1_0 (half width)",
    () => getModel("mnasnet1_0", { numClasses: 5, smallInput: true, widthMultiplier: 0.5 }),
    [4, 3, 32, 32],
  ],
  ["regnet_y_400mf", () => getModel("regnet_y_400mf", { numClasses: 5, smallInput: true }), [2, 3, 32, 32]],
  [
    "ConvNeXt (2 stages, 16/32 channels)",
    () =>
      new ConvNeXt({ numClasses: 5, stochasticDepthProb: 0.1, layerScale: 0.5 }, [
        { channels: 16, outChannels: 32, layers: 2 },
        { channels: 32, outChannels: null, layers: 2 },
      ]),
    [2, 3, 32, 32],
  ],
];

for (const [name, build, shape] of CASES) {
  test(`${name}: SGD steps on a fixed ${shape.join("x")} batch lower the loss`, () => {
    manualSeed(11); // the initial weights do not depend on which tests ran before
    const { before, after, losses } = trainFixedBatch(build(), shape, 5, { lr: 0.002, fixedMasks: true });
    assert.ok(losses.every(Number.isFinite), `losses ${losses}`);
    assert.ok(after < before, `loss ${before} -> ${after}`);
  });
}
