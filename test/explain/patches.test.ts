// Receptive fields traced through a model and the top-k activating dataset patches per unit.

import { test } from "node:test";
import assert from "node:assert/strict";
import { manualSeed, rand, type Tensor } from "../../src/index.js";
import { getModel } from "../../src/models/index.js";
import {
  captureActivations,
  patchGrid,
  topActivatingPatches,
  traceReceptiveField,
} from "../../src/explain/index.js";
import { loadExplainCase, plainNet } from "./plain-net.js";

const c = loadExplainCase();

test("the traced receptive field of PlainNet's layers follows the conv/pool arithmetic", () => {
  const model = plainNet(c);
  const x = rand([1, 1, 16, 16]);
  assert.deepEqual(traceReceptiveField(model, x, "features.0").field, {
    size: [3, 3],
    jump: [1, 1],
    start: [-1, -1],
  });
  assert.deepEqual(traceReceptiveField(model, x, "features.2").field, {
    size: [4, 4],
    jump: [2, 2],
    start: [-1, -1],
  });
  assert.deepEqual(traceReceptiveField(model, x, "features.4").field, {
    size: [8, 8],
    jump: [2, 2],
    start: [-3, -3],
  });
  assert.deepEqual(traceReceptiveField(model, x, "classifier").field, {
    size: [16, 16],
    jump: [16, 16],
    start: [0, 0],
  });
});

test("every input pixel a unit's gradient reaches lies inside its receptive field", () => {
  const model = plainNet(c);
  const { field } = traceReceptiveField(model, rand([1, 1, 16, 16]), "features.4");
  for (const [y, x] of [
    [0, 0],
    [3, 5],
    [7, 7],
  ]) {
    const input = rand([1, 1, 16, 16]).requiresGrad_();
    const layers = new Map(model.namedModules());
    const feats = [0, 1, 2, 3, 4].reduce(
      (t, i) => (layers.get(`features.${i}`) as unknown as { forward(x: Tensor): Tensor }).forward(t),
      input as Tensor,
    );
    const [, , fh, fw] = feats.shape;
    feats
      .slice(1, 2, 3)
      .slice(2, y, y + 1)
      .slice(3, x, x + 1)
      .sum()
      .backward();
    const g = input.grad!.toArray();
    const [y0, x0] = [y * field.jump[0] + field.start[0], x * field.jump[1] + field.start[1]];
    for (let i = 0; i < 16; i++)
      for (let j = 0; j < 16; j++)
        if (g[i * 16 + j] !== 0)
          assert.ok(
            i >= y0 && i < y0 + field.size[0] && j >= x0 && j < x0 + field.size[1],
            `(${i},${j}) outside the field of (${y},${x}) in ${fh}x${fw}`,
          );
  }
});

test("ResNet-18's receptive fields are the published 43, 99, 211 and 435 pixels", () => {
  // The meta backend runs the forward pass for its shapes only: the trace needs nothing else.
  const model = getModel("resnet18", { numClasses: 10, backend: "meta" });
  model.eval();
  const x = rand([1, 3, 64, 64], { backend: "meta" });
  const sizes = ["layer1", "layer2", "layer3", "layer4"].map(
    (l) => traceReceptiveField(model, x, l).field.size[0],
  );
  assert.deepEqual(sizes, [43, 99, 211, 435]);
});

test("topActivatingPatches keeps each unit's k strongest images with their receptive-field crops", async () => {
  manualSeed(4);
  const model = plainNet(c);
  const images = rand([12, 1, 16, 16]);
  const top = await topActivatingPatches(model, images, { layer: "features.4", k: 3, units: [0, 5] });
  assert.equal(top.layer, "features.4");
  const acts = captureActivations(model, images, "features.4").get("features.4")!.toArray();
  for (const { unit, patches } of top.units) {
    const maxima = Array.from({ length: 12 }, (_, n) =>
      Math.max(...acts.subarray((n * 6 + unit) * 64, (n * 6 + unit + 1) * 64)),
    );
    const expected = [...maxima].sort((a, b) => b - a).slice(0, 3);
    assert.deepEqual(
      patches.map((p) => p.value),
      expected,
    );
    for (const p of patches) {
      assert.equal(maxima[p.index], p.value);
      const [y0, x0] = p.box;
      const crop = p.crop.toArray();
      const img = images.toArray().subarray(p.index * 256, (p.index + 1) * 256);
      for (let i = 0; i < 8; i++)
        for (let j = 0; j < 8; j++) {
          const [y, x] = [y0 + i, x0 + j];
          assert.equal(crop[i * 8 + j], y >= 0 && y < 16 && x >= 0 && x < 16 ? img[y * 16 + x] : 0);
        }
    }
  }
  assert.equal(patchGrid(top, { scale: 2 }).width > 0, true);
  await assert.rejects(
    topActivatingPatches(model, images, { layer: "features.4", units: [6] }),
    /unit 6 is out of range for layer 'features.4' with 6 channels/,
  );
  await assert.rejects(
    topActivatingPatches(model, images, { layer: "nope" }),
    /no layer named 'nope' in PlainNet; valid names/,
  );
});
