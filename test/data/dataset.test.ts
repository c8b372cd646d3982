// Datasets: TensorDataset over tensors or arrays (views, not copies), shape and length checks, subset and
// seeded randomSplit (disjoint, covering, reproducible, counts or fractions as in PyTorch).

import { test } from "node:test";
import assert from "node:assert/strict";
import { tensor, arange } from "../../src/index.js";
import { TensorDataset, subset, randomSplit, Subset, selectClasses } from "../../src/data/index.js";

function toyDataset(n: number): TensorDataset {
  const images = Float32Array.from({ length: n * 2 * 3 * 3 }, (_, i) => i);
  const labels = Int32Array.from({ length: n }, (_, i) => i % 4);
  return new TensorDataset(images, labels, { shape: [2, 3, 3], classes: ["a", "b", "c", "d"] });
}

test("TensorDataset from tensors and from arrays returns the right sample views", () => {
  const x = arange(0, 2 * 1 * 2 * 2).reshape([2, 1, 2, 2]);
  const y = tensor([1, 0], undefined, { dtype: "int32" });
  const ds = new TensorDataset(x, y);
  assert.equal(ds.length, 2);
  assert.deepEqual(ds.shape, [1, 2, 2]);
  assert.deepEqual([...ds.get(1).x], [4, 5, 6, 7]);
  assert.equal(ds.get(1).y, 0);
  assert.deepEqual(ds.classes, ["0", "1"]);

  const toy = toyDataset(5);
  const sample = toy.get(3);
  assert.equal(sample.x.length, 18);
  assert.equal(sample.x[0], 3 * 18);
  assert.equal(sample.x.buffer, toy.images.buffer, "get() returns a view of the stored images");
  assert.equal(sample.y, 3);
});

test("TensorDataset rejects inconsistent inputs and out-of-range indices", () => {
  assert.throws(() => new TensorDataset(new Float32Array(10), new Int32Array(2)), /need options\.shape/);
  assert.throws(
    () => new TensorDataset(new Float32Array(10), new Int32Array(2), { shape: [1, 2, 2] }),
    /2 labels need 2×1×2×2 = 8 image values, got 10/,
  );
  assert.throws(
    () => new TensorDataset(arange(0, 4), new Int32Array(1)),
    /x must be a float32 tensor \[N, C, H, W\], got float32 \[4\]/,
  );
  assert.throws(() => toyDataset(3).get(3), /index 3 is out of range for a dataset of length 3/);
});

test("subset keeps the order of its indices and the image metadata", () => {
  const ds = toyDataset(6);
  const sub = subset(ds, [5, 0, 2]);
  assert.equal(sub.length, 3);
  assert.deepEqual(
    [0, 1, 2].map((i) => sub.get(i).y),
    [1, 0, 2],
  );
  assert.deepEqual(sub.get(0).x, ds.get(5).x);
  assert.deepEqual(sub.shape, [2, 3, 3]);
  assert.deepEqual(sub.classes, ["a", "b", "c", "d"]);
  assert.throws(() => subset(ds, [6]), /subset: index 6 is out of range/);
});

test("randomSplit: disjoint parts covering the dataset, reproducible from the seed", () => {
  const ds = toyDataset(103);
  const [train, val] = randomSplit(ds, [0.9, 0.1], 7);
  // PyTorch: floor(0.9·103) = 92, floor(0.1·103) = 10, the remaining 1 goes to the first part.
  assert.equal(train.length, 93);
  assert.equal(val.length, 10);
  const all = [...train.indices, ...val.indices].sort((a, b) => a - b);
  assert.deepEqual(
    all,
    Array.from({ length: 103 }, (_, i) => i),
  );
  const again = randomSplit(ds, [0.9, 0.1], 7);
  assert.deepEqual(again[1].indices, val.indices);
  const other = randomSplit(ds, [0.9, 0.1], 8);
  assert.notDeepEqual(other[1].indices, val.indices);
  const counts = randomSplit(ds, [100, 3], 7);
  assert.deepEqual(
    counts.map((p) => p.length),
    [100, 3],
  );
  assert.ok(counts[0] instanceof Subset);
  assert.throws(
    () => randomSplit(ds, [50, 50], 1),
    /must be counts summing to the dataset length 103 or fractions summing to 1/,
  );
});

test("selectClasses keeps the listed classes, relabels them in that order and caps each", () => {
  const images = Float32Array.from({ length: 8 * 2 }, (_, i) => i);
  const labels = Int32Array.from([3, 1, 3, 2, 1, 3, 0, 2]);
  const ds = new TensorDataset(images, labels, { shape: [1, 1, 2], classes: ["a", "b", "c", "d"] });
  const picked = selectClasses(ds, [3, 1], { perClass: 2 });
  assert.deepEqual([...picked.labels], [0, 1, 0, 1]);
  assert.deepEqual([...picked.images], [0, 1, 2, 3, 4, 5, 8, 9]);
  assert.deepEqual(picked.classes, ["d", "b"]);
  assert.equal(selectClasses(ds, [2]).labels.length, 2);
});
