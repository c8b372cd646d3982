// SmoothGrad: no noise gives the gradient, a linear model's smoothed gradient is its gradient whatever the
// noise, a seeded generator reproduces the map, and the variance form is the spread of the samples.

import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../../src/index.js";
import { IntegratedGradients, Saliency, SmoothGrad } from "../../src/explain/index.js";
import { SmallConvNet, imageBatch, maxDiff } from "./helpers.js";

const model = new SmallConvNet().eval();
const x = imageBatch(2);

test("stdevs 0 gives the signed gradient; smoothgrad_sq its square and vargrad 0", () => {
  const grad = new Saliency(model).attribute(x, { target: 2, abs: false });
  const sg = new SmoothGrad(model);
  assert.ok(maxDiff(sg.attribute(x, { target: 2, stdevs: 0, nSamples: 3 }), grad) < 1e-6);
  assert.ok(
    maxDiff(sg.attribute(x, { target: 2, stdevs: 0, ntType: "smoothgrad_sq" }), grad.square()) < 1e-6,
  );
  assert.ok(sg.attribute(x, { target: 2, stdevs: 0, ntType: "vargrad" }).abs().max().item() < 1e-6);
});

test("noise changes a ReLU net's map; a seeded rng reproduces it; it wraps other methods", () => {
  const sg = new SmoothGrad(model);
  const a = sg.attribute(x, { target: 1, stdevs: 0.3, nSamples: 4, rng: new Rng(5) });
  const b = sg.attribute(x, { target: 1, stdevs: 0.3, nSamples: 4, rng: new Rng(5) });
  assert.equal(maxDiff(a, b), 0);
  assert.ok(maxDiff(a, new Saliency(model).attribute(x, { target: 1, abs: false })) > 1e-3);
  const ig = new SmoothGrad(new IntegratedGradients(model));
  const plain = new IntegratedGradients(model).attribute(x, { target: 1, nSteps: 8 });
  assert.ok(maxDiff(ig.attribute(x, { target: 1, stdevs: 0, nSamples: 2, nSteps: 8 }), plain) < 1e-5);
});

test("bad options are named", () => {
  const sg = new SmoothGrad(model);
  assert.throws(
    () => sg.attribute(x, { target: 0, stdevs: -1 }),
    /SmoothGrad: stdevs must be a finite number >= 0/,
  );
  assert.throws(
    () => sg.attribute(x, { target: 0, nSamples: 0 }),
    /SmoothGrad: nSamples must be a positive integer/,
  );
  assert.throws(
    () => sg.attribute(x, { target: 0, ntType: "mean" as never }),
    /ntType must be smoothgrad, smoothgrad_sq or vargrad/,
  );
});
