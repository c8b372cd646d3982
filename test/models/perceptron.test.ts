// The notes' first models: the perceptron rule converges on linearly separable data within Novikoff's
// bound and never on XOR; the slides' XOR network gives the truth table; an MLP learns XOR by backprop.

import { test } from "node:test";
import assert from "node:assert/strict";
import { F, manualSeed, nn, optim, tensor, Rng } from "../../src/index.js";
import { Perceptron, trainPerceptron, xorNetwork } from "../../src/models/perceptron.js";

const corners = tensor([
  [0, 0],
  [0, 1],
  [1, 0],
  [1, 1],
]);

test("the perceptron rule learns AND and OR and stops when an epoch has no mistake", () => {
  for (const [name, truth] of [
    ["AND", [0, 0, 0, 1]],
    ["OR", [0, 1, 1, 1]],
  ] as const) {
    const p = new Perceptron(2);
    const result = trainPerceptron(p, corners, tensor([...truth]), { lr: 1 });
    assert.equal(result.converged, true, `${name}: ${JSON.stringify(result)}`);
    assert.equal(result.mistakes.at(-1), 0);
    assert.deepEqual([...p.forward(corners).toArray()], [...truth], name);
  }
});

test("on separable data the number of updates stays within Novikoff's bound (R/γ)²", () => {
  // Points at margin >= γ from the line x₁ + 2x₂ = 0.3 (with a bias input, R includes the 1).
  const rng = new Rng(5);
  const gamma = 0.1;
  const points: number[][] = [];
  const labels: number[] = [];
  while (points.length < 200) {
    const p = [rng.uniform() * 2 - 1, rng.uniform() * 2 - 1];
    const distance = (p[0] + 2 * p[1] - 0.3) / Math.sqrt(5);
    if (Math.abs(distance) < gamma) continue;
    points.push(p);
    labels.push(distance > 0 ? 1 : 0);
  }
  const model = new Perceptron(2);
  const result = trainPerceptron(model, tensor(points), tensor(labels), { shuffleSeed: 1, maxEpochs: 1000 });
  assert.equal(result.converged, true);
  const updates = result.mistakes.reduce((a, b) => a + b, 0);
  // The separator through the bias dimension has norm sqrt(1 + 4 + 0.09) before normalising.
  const r = Math.sqrt(2 + 1);
  const margin = (gamma * Math.sqrt(5)) / Math.sqrt(5 + 0.09);
  assert.ok(updates <= (r / margin) ** 2, `${updates} updates > bound ${((r / margin) ** 2).toFixed(0)}`);
  assert.deepEqual([...model.forward(tensor(points)).toArray()], labels);
});

test("the perceptron never converges on XOR: every epoch still has mistakes", () => {
  const result = trainPerceptron(new Perceptron(2), corners, tensor([0, 1, 1, 0]), { maxEpochs: 200 });
  assert.equal(result.converged, false);
  assert.equal(result.epochs, 200);
  assert.ok(result.mistakes.every((m) => m >= 1));
});

test("trainPerceptron rejects bad targets and options clearly", () => {
  const p = new Perceptron(2);
  assert.throws(() => trainPerceptron(p, corners, tensor([0, 1, 2, 0])), /targets must be 0 or 1/);
  assert.throws(() => trainPerceptron(p, corners, tensor([0, 1])), /targets must be \[4\]/);
  assert.throws(
    () => trainPerceptron(p, tensor([[1, 2, 3]]), tensor([1])),
    /input must be \[N, 2\], got \[1,3\]/,
  );
  assert.throws(
    () => trainPerceptron(p, corners, tensor([0, 1, 1, 0]), { lr: NaN }),
    /lr must be a positive/,
  );
  assert.throws(() => new Perceptron(0), /inFeatures must be a positive integer/);
});

test("the slides' XOR network gives the truth table", () => {
  const out = xorNetwork().forward(corners).toArray();
  const truth = [0, 1, 1, 0];
  out.forEach((v, i) => assert.ok(Math.abs(v - truth[i]) < 5e-5, `XOR(${i >> 1}, ${i & 1}) = ${v}`));
});

test("a 2-4-1 MLP learns XOR by backpropagation (a single perceptron cannot)", () => {
  manualSeed(3);
  const mlp = new nn.Sequential(new nn.Linear(2, 4), new nn.Tanh(), new nn.Linear(4, 1));
  const opt = new optim.Adam(mlp.parameters(), { lr: 0.05 });
  const targets = tensor([[0], [1], [1], [0]]);
  for (let step = 0; step < 400; step++) {
    const loss = F.binaryCrossEntropyWithLogits(mlp.forward(corners), targets);
    opt.zeroGrad();
    loss.backward();
    opt.step();
  }
  const predicted = [...F.sigmoid(mlp.forward(corners)).toArray()].map((p) => (p > 0.5 ? 1 : 0));
  assert.deepEqual(predicted, [0, 1, 1, 0]);
});
