// normalize and computeMeanStd: statistics against a direct float64 computation, and normalizing a dataset
// with its own statistics gives every channel zero mean and unit standard deviation.

import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../../src/index.js";
import { DataLoader, TensorDataset, computeMeanStd, normalize, subset } from "../../src/data/index.js";
import { makeBatch } from "./batch-helpers.js";

function randomDataset(n: number): TensorDataset {
  const rng = new Rng(21);
  const [c, h, w] = [3, 5, 4];
  const images = new Float32Array(n * c * h * w);
  // Channel ch has values around 0.2·(ch + 1) with a channel-specific spread.
  for (let i = 0; i < images.length; i++) {
    const ch = Math.floor(i / (h * w)) % c;
    images[i] = 0.2 * (ch + 1) + (0.05 + 0.1 * ch) * rng.normal();
  }
  return new TensorDataset(images, new Int32Array(n), { shape: [c, h, w], classes: ["only"] });
}

test("computeMeanStd matches a direct two-pass computation per channel", () => {
  const ds = randomDataset(40);
  const { mean, std } = computeMeanStd(ds);
  for (let ch = 0; ch < 3; ch++) {
    const values: number[] = [];
    for (let i = 0; i < ds.length; i++) values.push(...ds.get(i).x.subarray(ch * 20, (ch + 1) * 20));
    const m = values.reduce((a, b) => a + b, 0) / values.length;
    const s = Math.sqrt(values.reduce((a, v) => a + (v - m) ** 2, 0) / values.length);
    assert.ok(Math.abs(mean[ch] - m) < 1e-9);
    assert.ok(Math.abs(std[ch] - s) < 1e-9);
  }
  // The generic path (any dataset with get) agrees with the array path.
  const viaSubset = computeMeanStd(
    subset(
      ds,
      Array.from({ length: 40 }, (_, i) => i),
    ),
  );
  viaSubset.mean.forEach((m, ch) => assert.ok(Math.abs(m - mean[ch]) < 1e-9));
});

test("normalizing with the computed statistics gives zero mean and unit std per channel", async () => {
  const ds = randomDataset(40);
  const { mean, std } = computeMeanStd(ds);
  const loader = new DataLoader(ds, { batchSize: 40, transform: normalize(mean, std) });
  const normalized = new TensorDataset(
    (await loader[Symbol.asyncIterator]().next()).value!.x,
    new Int32Array(40),
  );
  const after = computeMeanStd(normalized);
  after.mean.forEach((m) => assert.ok(Math.abs(m) < 1e-5, `mean ${m}`));
  after.std.forEach((s) => assert.ok(Math.abs(s - 1) < 1e-5, `std ${s}`));
});

test("normalize checks its arguments against the batch", () => {
  const one = normalize([0.5], [0.25])(
    makeBatch([1, 2, 1, 2], () => 1),
    new Rng(0),
  );
  assert.deepEqual([...one.x], [2, 2, 2, 2]);
  assert.throws(
    () =>
      normalize([0, 0], [1, 1])(
        makeBatch([1, 3, 1, 1], () => 0),
        new Rng(0),
      ),
    /2 means given for a batch with 3 channels/,
  );
  assert.throws(() => normalize([0], [0]), /std must be positive/);
  assert.throws(() => normalize([0, 1], [1]), /must have the same length/);
});
