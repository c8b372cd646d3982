// The issue-15 layer types of the JSON spec format: adaptive and global max pooling and the new
// shape-preserving activations build the right layers and shapes.

import { test } from "node:test";
import assert from "node:assert/strict";
import { nn, randn, Rng } from "../../src/index.js";
import { buildFromSpec } from "../../src/spec/index.js";

test("spec: adaptivemaxpool2d, globalmaxpool2d and the issue-15 activations", () => {
  const { model, shapes } = buildFromSpec({
    input: [2, 9, 9],
    layers: [
      { type: "conv2d", outChannels: 4, kernelSize: 3 },
      { type: "hardswish" },
      { type: "adaptivemaxpool2d", outputSize: [3, 2] },
      { type: "mish" },
      { type: "softplus", beta: 2 },
      { type: "hardsigmoid" },
      { type: "globalmaxpool2d" },
      { type: "linear", outFeatures: 3 },
    ],
  });
  assert.deepEqual(shapes.slice(2), [[4, 3, 2], [4, 3, 2], [4, 3, 2], [4, 3, 2], [4], [3]]);
  const kinds = model
    .modules()
    .slice(1)
    .map((m) => m.constructor);
  assert.deepEqual(kinds.slice(1, 7), [
    nn.Hardswish,
    nn.AdaptiveMaxPool2d,
    nn.Mish,
    nn.Softplus,
    nn.Hardsigmoid,
    nn.GlobalMaxPool2d,
  ]);
  assert.deepEqual(model.forward(randn([5, 2, 9, 9], { rng: new Rng(1) })).shape, [5, 3]);
  assert.throws(
    () => buildFromSpec({ input: [1, 4, 4], layers: [{ type: "flatten" }, { type: "globalmaxpool2d" }] }),
    /layer 1 \(globalmaxpool2d\)/,
  );
});
