// Class model visualisation against the PyTorch reference (explain.json `class_model`: class 1, 10 steps of
// I += 0.5 · d(S_1(I) - 0.01 ||I||²)/dI from zeros) and its input checks.

import { test } from "node:test";
import assert from "node:assert/strict";
import { classModelVisualization } from "../../src/explain/index.js";
import { toTensor } from "../helpers/fixtures.js";
import { loadExplainCase, plainNet, withinTolerance } from "./plain-net.js";

const c = loadExplainCase();

test("classModelVisualization matches PyTorch's class model", (t) => {
  const image = classModelVisualization(plainNet(c), {
    target: 1,
    steps: 10,
    lr: 0.5,
    l2: 0.01,
    shape: [1, 16, 16],
  });
  assert.deepEqual(image.shape, [1, 1, 16, 16]);
  const cmp = withinTolerance(image.toArray(), toTensor(c.references.class_model).toArray());
  t.diagnostic(`worst |a-b|: ${cmp.maxAbs.toExponential(2)}`);
  assert.ok(cmp.ok, `class model differs by ${cmp.maxAbs}`);
});

test("the class model raises its class's logit above the others", () => {
  const model = plainNet(c);
  const image = classModelVisualization(model, { target: 3, steps: 30, shape: [1, 16, 16] });
  const logits = Array.from((model.forward(image) as ReturnType<typeof toTensor>).toArray());
  assert.equal(logits.indexOf(Math.max(...logits)), 3);
});

test("classModelVisualization rejects bad input clearly", () => {
  const model = plainNet(c);
  assert.throws(() => classModelVisualization(model, { target: 5, shape: [1, 16, 16] }), {
    message: "classModelVisualization: class 5 at index 0 is out of range for a model with 5 classes",
  });
  assert.throws(
    () =>
      classModelVisualization(model, { target: 0, shape: [16, 16] as unknown as [number, number, number] }),
    /shape must be \[C, H, W\]/,
  );
  assert.throws(() => classModelVisualization(model, { target: 0, shape: [3, 16, 16] }), /3 channels/);
});
