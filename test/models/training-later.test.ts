// The later architectures train: a few SGD steps on a fixed 2x3x32x32 batch lower the loss, with their
// stochastic depth and dropout active (trainFixedBatch reseeds the RNG, so before/after see the same masks).
// The models run with their small-input stem (stride 1, so the last stage still has 2x2 maps for batch norm),
// EfficientNet and MNASNet at half width (the same blocks, a quarter of the work; mobilenet_v3_large's
// blocks are mobilenet_v3_small's); ConvNeXt (28.6M parameters) runs as a two-stage, 16/32-channel ConvNeXt
// built from the same blocks. The 224x224 shapes are checked on the meta
// backend in torchvision.test.ts, the computation in torchvision-forward.test.ts.

import { test } from "node:test";
import assert from "node:assert/strict";
import { getModel, ConvNeXt } from "../../src/models/index.js";
import type { Module } from "../../src/nn/index.js";
import { trainFixedBatch } from "./train-steps.js";

const CASES: [string, () => Module][] = [
  ["mobilenet_v3_small", () => getModel("mobilenet_v3_small", { numClasses: 5, smallInput: true })],
  [
    "efficientnet_b0 (half width)",
    () => getModel("efficientnet_b0", { numClasses: 5, smallInput: true, widthMultiplier: 0.5 }),
  ],
  [
    "mnasnet1_0 (half width)",
    () => getModel("mnasnet1_0", { numClasses: 5, smallInput: true, widthMultiplier: 0.5 }),
  ],
  ["regnet_y_400mf", () => getModel("regnet_y_400mf", { numClasses: 5, smallInput: true })],
  [
    "ConvNeXt (2 stages, 16/32 channels)",
    () =>
      new ConvNeXt({ numClasses: 5, stochasticDepthProb: 0.1, layerScale: 0.5 }, [
        { channels: 16, outChannels: 32, layers: 2 },
        { channels: 32, outChannels: null, layers: 2 },
      ]),
  ],
];

for (const [name, build] of CASES) {
  test(`${name}: SGD steps on a fixed 2x3x32x32 batch lower the loss`, () => {
    const { before, after, losses } = trainFixedBatch(build(), [2, 3, 32, 32], 5, { lr: 0.002 });
    assert.ok(losses.every(Number.isFinite), `losses ${losses}`);
    assert.ok(after < before, `loss ${before} -> ${after}`);
  });
}
