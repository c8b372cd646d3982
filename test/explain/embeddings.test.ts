// Penultimate-layer features and their UMAP projection: separable classes stay apart in 2-D.

import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../../src/tensor/rng.js";
import { tensor } from "../../src/index.js";
import { sceneToSvg } from "../../src/viz/plots.js";
import { datasetFeatures, projectUmap, scatterScene } from "../../src/explain/index.js";
import { loadExplainCase, plainNet } from "./plain-net.js";

const c = loadExplainCase();

test("datasetFeatures keeps the input of the last Linear, or a named layer's output", async () => {
  const model = plainNet(c);
  const rng = new Rng(1);
  const batches = [0, 1].map((b) => ({
    x: tensor(
      Float32Array.from({ length: 4 * 256 }, () => rng.uniform()),
      [4, 1, 16, 16],
    ),
    y: tensor(new Int32Array([b, b, 1 - b, 1 - b]), [4], { dtype: "int32" }),
  }));
  const { features, labels, source } = await datasetFeatures(model, batches, { limit: 6 });
  assert.equal(source, "head input");
  assert.equal(features.length, 6);
  assert.equal(features[0].length, 96);
  assert.deepEqual([...labels], [0, 0, 1, 1, 1, 1]);
  const conv = await datasetFeatures(model, batches, { layer: "features.3" });
  assert.equal(conv.features[0].length, 6 * 8 * 8);
  await assert.rejects(
    datasetFeatures(model, batches, { layer: "fc9" }),
    /datasetFeatures: no layer named 'fc9' in PlainNet/,
  );
});

test("projectUmap keeps two well-separated clusters apart, and the scatter plot draws every point", async () => {
  const rng = new Rng(2);
  const vectors = Array.from({ length: 40 }, (_, i) =>
    Array.from({ length: 8 }, () => (i < 20 ? 0 : 10) + rng.normal()),
  );
  const points = await projectUmap(vectors, { seed: 3, nNeighbors: 8 });
  assert.equal(points.length, 40);
  const centre = (from: number) =>
    [0, 1].map((a) => points.slice(from, from + 20).reduce((s, p) => s + p[a], 0) / 20);
  const [a, b] = [centre(0), centre(20)];
  const spread = Math.max(...points.slice(0, 20).map((p) => Math.hypot(p[0] - a[0], p[1] - a[1])));
  assert.ok(
    Math.hypot(a[0] - b[0], a[1] - b[1]) > spread,
    "clusters are farther apart than their own spread",
  );
  const labels = Array.from({ length: 40 }, (_, i) => (i < 20 ? 0 : 1));
  const scene = scatterScene(points, labels, { classes: ["zero", "one"] });
  assert.equal(scene.shapes.filter((s) => s.kind === "circle").length, 40 + 2);
  assert.match(sceneToSvg(scene), /<text[^>]*>zero<\/text>/);
  assert.equal(scene.width, 640);
  await assert.rejects(projectUmap([[1], [2]]), /needs at least 3 vectors/);
  assert.throws(() => scatterScene(points, [0]), /1 labels for 40 points/);
});
