// The deep families train: a few SGD steps on a fixed 2x3x32x32 batch lower the loss (ResNet, ResNeXt,
// SE-ResNet, DenseNet, VGG with batch norm). Separate from training-small.test.ts so the two files run in
// parallel.

import { test } from "node:test";
import assert from "node:assert/strict";
import { getModel } from "../../src/models/index.js";
import { trainFixedBatch } from "./train-steps.js";

const CASES: [string, Record<string, unknown>][] = [
  ["resnet18", {}],
  ["resnext50_32x4d", {}],
  ["se_resnet50", {}],
  ["densenet121", {}],
  ["vgg11_bn", { hiddenFeatures: 64 }],
];

for (const [name, options] of CASES) {
  test(`${name}: SGD steps on a fixed 2x3x32x32 batch lower the loss`, () => {
    const model = getModel(name, { ...options, numClasses: 5 });
    // Batch 2 at 32x32 leaves 1x1 maps in the last stage, where batch norm sees two values: a small step.
    const { before, after, losses } = trainFixedBatch(model, [2, 3, 32, 32], 5, { lr: 0.002 });
    assert.ok(losses.every(Number.isFinite), `losses ${losses}`);
    assert.ok(after < before, `loss ${before} -> ${after}`);
  });
}
