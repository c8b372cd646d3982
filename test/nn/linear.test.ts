// Linear (and Flatten): the layer checks, torch's default initialisation and a layer-named error for a
// wrong number of input features.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { manualSeed, nn, randn, Rng } from "../../src/index.js";
import { runLayerTest } from "../helpers/layer.js";

const rng = new Rng(5);

runLayerTest("Linear(12, 7)", {
  make: () => new nn.Linear(12, 7),
  inputs: () => [randn([4, 12], { rng })],
  outputShape: [4, 7],
  params: [
    ["weight", [7, 12]],
    ["bias", [7]],
  ],
  paramCount: 12 * 7 + 7,
});

runLayerTest("Linear(6, 3) on [N, L, 6]", {
  make: () => new nn.Linear(6, 3, { bias: false }),
  inputs: () => [randn([2, 5, 6], { rng })],
  outputShape: [2, 5, 3],
  params: [["weight", [3, 6]]],
  paramCount: 18,
});

runLayerTest("Flatten()", {
  make: () => new nn.Flatten(),
  inputs: () => [randn([2, 3, 4, 5], { rng })],
  outputShape: [2, 60],
  params: [],
  paramCount: 0,
});

describe("Linear", () => {
  it("initialises like torch: W, b ~ U(±1/sqrt(inFeatures))", () => {
    manualSeed(3);
    const fc = new nn.Linear(400, 120);
    const bound = 1 / Math.sqrt(400);
    const w = fc.weight.toArray();
    let sumSq = 0;
    for (const v of w) {
      assert.ok(Math.abs(v) <= bound);
      sumSq += v * v;
    }
    // 48,000 samples of U(-b, b): the sample std is within ~0.5% of b/√3.
    assert.ok(Math.abs(Math.sqrt(sumSq / w.length) / (bound / Math.sqrt(3)) - 1) < 0.02);
    const b = [...fc.bias!.toArray()].map(Math.abs);
    assert.ok(Math.max(...b) <= bound && Math.max(...b) > 0.9 * bound);
  });

  it("names the layer and the shapes when the input has the wrong number of features", () => {
    const fc = new nn.Linear(400, 120);
    assert.throws(
      () => fc.forward(randn([8, 256])),
      (e: Error) =>
        e.message.includes("Linear(400, 120)") &&
        e.message.includes("input has 256 features, expected 400") &&
        e.message.includes("[8,256]"),
    );
  });
});
