// Saliency and InputXGradient: equal to the hand-computed gradient of a linear model, batched results
// equal per-sample results, and the user's parameter gradients are left alone.

import { test } from "node:test";
import assert from "node:assert/strict";
import { F, nn, tensor, type Tensor } from "../../src/index.js";
import { InputXGradient, Saliency } from "../../src/explain/index.js";
import { SmallConvNet, imageBatch, maxDiff, values } from "./helpers.js";

/** logits = W·flatten(x) + b on [N, 2, 2, 2] inputs, 3 classes: dS_k/dx = W[k]. */
function linearModel(): { model: nn.Module; w: number[][] } {
  const w = [
    [1, -2, 3, -4, 0.5, -0.5, 2, 0],
    [-1, 1, -1, 1, -1, 1, -1, 1],
    [0, 0.25, -3, 0.75, 5, -6, 0, 1],
  ];
  const linear = new nn.Linear(8, 3);
  linear.loadStateDict({ weight: tensor(w), bias: tensor([0.1, 0.2, 0.3]) });
  class Flat extends nn.Module {
    fc = linear;
    forward(x: Tensor): Tensor {
      return this.fc.forward(F.flatten(x, 1));
    }
  }
  return { model: new Flat(), w };
}

test("saliency is |dS/dx| of the target, and its channel max with reduce: 'max'", () => {
  const { model, w } = linearModel();
  const x = tensor(
    [...Array(16).keys()].map((i) => i / 16),
    [2, 2, 2, 2],
  );
  const targets = [0, 2];
  const expected = targets.flatMap((k) => w[k].map(Math.abs));
  assert.deepEqual(values(new Saliency(model).attribute(x, { target: targets })), expected);
  const signed = targets.flatMap((k) => w[k]);
  assert.deepEqual(values(new Saliency(model).attribute(x, { target: targets, abs: false })), signed);
  // Channel c of image i is w[k][4c .. 4c+3]; the max over the 2 channels per pixel:
  const maxed = targets.flatMap((k) =>
    [0, 1, 2, 3].map((p) => Math.max(Math.abs(w[k][p]), Math.abs(w[k][4 + p]))),
  );
  const reduced = new Saliency(model).attribute(x, { target: targets, reduce: "max" });
  assert.deepEqual([...reduced.shape], [2, 2, 2]);
  assert.deepEqual(values(reduced), maxed);
});

test("input x gradient is x · W[target]", () => {
  const { model, w } = linearModel();
  const x = tensor(
    [...Array(16).keys()].map((i) => i - 8),
    [2, 2, 2, 2],
  );
  const expected = [1, 1].flatMap((k, i) => w[k].map((wk, e) => wk * (i * 8 + e - 8)));
  assert.deepEqual(values(new InputXGradient(model).attribute(x, { target: 1 })), expected);
});

test("batched saliency and input x gradient equal per-image results, parameters' grads untouched", () => {
  const model = new SmallConvNet().eval();
  const x = imageBatch(3);
  const targets = [0, 3, 1];
  for (const method of [new Saliency(model), new InputXGradient(model)]) {
    const batched = method.attribute(x, { target: targets });
    targets.forEach((t, i) => {
      const single = method.attribute(x.slice(0, i, i + 1), { target: t });
      assert.ok(maxDiff(batched.slice(0, i, i + 1), single) < 1e-6, `${method.constructor.name} image ${i}`);
    });
  }
  assert.ok(model.parameters().every((p) => p.grad === null && p.requiresGrad));
  assert.equal(x.grad, null);
});

test("a target given as an int tensor [N], a number array or one number picks the same classes", () => {
  const model = new SmallConvNet().eval();
  const x = imageBatch(2);
  const saliency = new Saliency(model);
  const fromArray = saliency.attribute(x, { target: [2, 2] });
  assert.equal(
    maxDiff(saliency.attribute(x, { target: tensor([2, 2], [2], { dtype: "int32" }) }), fromArray),
    0,
  );
  assert.equal(maxDiff(saliency.attribute(x, { target: 2 }), fromArray), 0);
  assert.ok(maxDiff(saliency.attribute(x, { target: [2, 1] }), fromArray) > 0);
});
