// Zoo models export to ONNX, run in ONNX Runtime like Striate's forward, and re-import to the same outputs.
// The suite takes the quick models (one per family that has one under 10 M parameters, DenseNet for the
// concat-graph regression); scripts/onnx-zoo.ts runs every model and writes docs/onnx.md's table.

import { test } from "node:test";
import assert from "node:assert/strict";
import { checkZooModel } from "./onnx-harness.js";

const QUICK = [
  "lenet5",
  "lenet5_classic",
  "resnet20_cifar",
  "mobilenet_v1",
  "mobilenet_v2",
  "shufflenet_v2_x1_0",
  "squeezenet1_1",
  "densenet121",
  "unet",
];

for (const name of QUICK) {
  test(`zoo ${name}: export -> ONNX Runtime and export -> importOnnx match Striate`, async () => {
    const r = await checkZooModel(name);
    assert.ok(
      r.outputScale > 1e-3,
      `${name}: outputs vanish (${r.outputScale}), the comparison would prove nothing`,
    );
    assert.ok(r.ortDiff <= 1e-4, `${name}: ONNX Runtime differs by ${r.ortDiff} (relative)`);
    assert.ok(
      r.roundTripDiff <= 1e-5,
      `${name}: the re-imported model differs by ${r.roundTripDiff} (relative)`,
    );
  });
}
