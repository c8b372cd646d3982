// The zoo's later models compute what torchvision's compute: with the same weights (rebuilt from their
// state_dict keys by deterministic-weights.ts, batch-norm statistics from the fixture) and the same input
// (2x3x48x48; ConvNeXt 1x3x32x32), eval-mode logits match torchvision's (models_forward.json, made by
// scripts/fixtures/torchvision_models.py) within float32 rounding. The shapes alone (torchvision.test.ts)
// would not catch a wrong activation, epsilon, squeeze width or residual placement; this does.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { decode, fixtureDir, type FixtureTensor } from "../helpers/fixtures.js";
import { getModel } from "../../src/models/index.js";
import { noGrad, tensor, type Tensor } from "../../src/index.js";
import { loadDeterministicWeights, uniform01 } from "./deterministic-weights.js";
import "../helpers/backends.js";

// The wasm backend (checked against the js reference by the op suites): convnext_tiny's 0.7 GMACs take
// ~35 s on js.
const backend = "wasm";

interface ForwardCase {
  name: string;
  input: { key: string; shape: number[] };
  buffers: Record<string, FixtureTensor>;
  output: FixtureTensor;
  meta: { torch_f32_max_abs_diff: number; output_max_abs: number; between_images_std: number };
}

const cases = (
  JSON.parse(readFileSync(join(fixtureDir, "models_forward.json"), "utf8")) as { cases: ForwardCase[] }
).cases;

test("the forward fixture covers the later models that are not ResNet/DenseNet variants", () => {
  assert.deepEqual(cases.map((c) => c.name).sort(), [
    "convnext_tiny",
    "efficientnet_b0",
    "mnasnet1_0",
    "mobilenet_v3_large",
    "mobilenet_v3_small",
    "regnet_y_400mf",
  ]);
});

for (const c of cases) {
  test(`${c.name}: eval-mode logits match torchvision's with the same weights`, () => {
    const model = getModel(c.name, { backend });
    const buffers = new Map(
      Object.entries(c.buffers).map(([key, t]): [string, Tensor] => [
        key,
        tensor(decode(t), t.shape, { backend }),
      ]),
    );
    loadDeterministicWeights(model, buffers);
    model.eval();
    const count = c.input.shape.reduce((a, b) => a * b, 1);
    const x = tensor(
      Float32Array.from(uniform01(c.input.key, count), (u) => u * 2 - 1),
      c.input.shape,
      { backend },
    );
    const y = noGrad(() => model.forward(x) as Tensor);
    const expected = decode(c.output);
    assert.deepEqual(y.shape, c.output.shape);
    const actual = y.toArray() as unknown as ArrayLike<number>;
    // torch's own float32 forward is within torch_f32_max_abs_diff of the float64 reference; allow a few
    // times that, and float32 rounding of the largest logit.
    const tolerance = 4 * c.meta.torch_f32_max_abs_diff + 1e-5 * c.meta.output_max_abs;
    let worst = 0;
    for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
    assert.ok(worst <= tolerance, `max |striate - torchvision| = ${worst} > ${tolerance}`);
    // The logits depend on the input: the two images' logits differ by far more than the tolerance.
    assert.ok(c.meta.between_images_std > 100 * tolerance);
  });
}
