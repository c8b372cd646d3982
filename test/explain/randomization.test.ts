// Adebayo et al. 2018 ("Sanity Checks for Saliency Maps"), model-parameter randomization: a LeNet-style net
// trained on 1,024 MNIST digits (2 epochs, wasm, about 2 s) is explained before and after its top layers
// (fc2, fc1, conv2) are re-initialized. A method that explains the model must change: Grad-CAM's and
// saliency's maps lose their rank correlation (< 0.5). Guided backprop is documented as insensitive (it
// reconstructs the image more than the decision): its maps stay more correlated than saliency's.

import { test } from "node:test";
import assert from "node:assert/strict";
import { getBackend, manualSeed, setBackend, tensor, type Tensor } from "../../src/index.js";
import { Adam } from "../../src/optim/index.js";
import { evaluate, fit } from "../../src/train/fit.js";
import { buildFromSpec } from "../../src/spec/spec.js";
import type { Module } from "../../src/nn/module.js";
import { GradCam, GuidedBackprop, Saliency } from "../../src/explain/index.js";
import { mnistLoader, mnistSubset } from "../train/helpers.js";
import "../helpers/backends.js"; // loads the wasm backend

/** Average ranks (ties share the mean rank). */
function ranks(values: ArrayLike<number>): number[] {
  const order = Array.from(values, (_, i) => i).sort((a, b) => values[a] - values[b]);
  const out = new Array<number>(values.length);
  for (let i = 0; i < order.length;) {
    let j = i;
    while (j + 1 < order.length && values[order[j + 1]] === values[order[i]]) j++;
    for (let k = i; k <= j; k++) out[order[k]] = (i + j) / 2;
    i = j + 1;
  }
  return out;
}

/** Spearman's rank correlation; 0 when a map is constant (e.g. a Grad-CAM map that is all zeros). */
function spearman(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const [ra, rb] = [ranks(a), ranks(b)];
  const mean = (r: number[]) => r.reduce((s, v) => s + v, 0) / r.length;
  const [ma, mb] = [mean(ra), mean(rb)];
  let [num, da, db] = [0, 0, 0];
  ra.forEach((_, i) => {
    num += (ra[i] - ma) * (rb[i] - mb);
    da += (ra[i] - ma) ** 2;
    db += (rb[i] - mb) ** 2;
  });
  return da === 0 || db === 0 ? 0 : num / Math.sqrt(da * db);
}

/** The mean over images of the rank correlation between two batches of maps. */
function meanRankCorrelation(before: Tensor, after: Tensor): number {
  const n = before.shape[0];
  const per = before.size / n;
  const [a, b] = [before.toArray(), after.toArray()];
  let sum = 0;
  for (let i = 0; i < n; i++)
    sum += spearman(a.slice(i * per, (i + 1) * per), b.slice(i * per, (i + 1) * per));
  return sum / n;
}

function lenet(): Module {
  return buildFromSpec({
    input: [1, 28, 28],
    layers: [
      { type: "conv2d", outChannels: 6, kernelSize: 5, padding: 2 },
      { type: "relu" },
      { type: "maxpool2d", kernelSize: 2 },
      { type: "conv2d", outChannels: 16, kernelSize: 5 },
      { type: "relu" },
      { type: "maxpool2d", kernelSize: 2 },
      { type: "flatten" },
      { type: "linear", outFeatures: 64 },
      { type: "relu" },
      { type: "linear", outFeatures: 10 },
    ],
  }).model;
}

test("model randomization: Grad-CAM and saliency change with the top layers, guided backprop much less", async (t) => {
  const previous = getBackend().name;
  setBackend("wasm");
  try {
    manualSeed(1);
    const model = lenet();
    const train = await mnistLoader("train", 1024, { shuffle: true, seed: 1, batchSize: 32 });
    await fit(model, { train, epochs: 2, optimizer: new Adam(model.parameters(), { lr: 0.01 }) });
    const accuracy = (await evaluate(model, await mnistLoader("test", 500, { batchSize: 250 }))).accuracy;
    assert.ok(accuracy > 0.8, `the net must be trained first (accuracy ${accuracy})`);
    model.eval();

    const digits = await mnistSubset("test", 16);
    const pixels = new Float32Array(16 * 784);
    const labels: number[] = [];
    for (let i = 0; i < 16; i++) {
      const { x, y } = digits.get(i) as { x: Float32Array; y: number };
      pixels.set(x, i * 784);
      labels.push(y);
    }
    const x = tensor(pixels, [16, 1, 28, 28]);
    const explain = () => ({
      "Grad-CAM": new GradCam(model, { layer: "4" }).attribute(x, { target: labels, upsample: true }),
      saliency: new Saliency(model).attribute(x, { target: labels, reduce: "max" }),
      "guided backprop": new GuidedBackprop(model).attribute(x, { target: labels }).abs(),
    });
    const before = explain();
    manualSeed(2);
    for (const name of ["9", "7", "3"])
      (
        model.namedModules().find(([n]) => n === name)![1] as unknown as { resetParameters(): void }
      ).resetParameters();
    const after = explain();

    const correlation = Object.fromEntries(
      Object.keys(before).map((k) => [
        k,
        meanRankCorrelation(before[k as keyof typeof before], after[k as keyof typeof after]),
      ]),
    );
    t.diagnostic(`accuracy ${accuracy}; mean rank correlation before/after: ${JSON.stringify(correlation)}`);
    assert.ok(correlation["Grad-CAM"] < 0.5, `Grad-CAM ${correlation["Grad-CAM"]}`);
    assert.ok(correlation.saliency < 0.5, `saliency ${correlation.saliency}`);
    assert.ok(
      correlation["guided backprop"] > correlation.saliency + 0.1,
      "guided backprop is the insensitive one",
    );
  } finally {
    setBackend(previous);
  }
});
