// Metrics against hand-computed values: accuracy (hard and soft targets), top-k with ties, confusion matrix.
import { test } from "node:test";
import assert from "node:assert/strict";
import { tensor } from "../../src/tensor/tensor.js";
import { ConfusionMatrix, accuracy, topKAccuracy } from "../../src/train/metrics.js";

const logits = tensor([
  [0.1, 0.7, 0.2],
  [0.5, 0.4, 0.1],
  [0.3, 0.3, 0.4],
  [0.2, 0.2, 0.6],
]);
const labels = tensor([1, 1, 0, 2], [4], { dtype: "int32" });

test("accuracy counts argmax matches; soft targets use their argmax", () => {
  assert.equal(accuracy(logits, labels), 2 / 4);
  const soft = tensor([
    [0.1, 0.8, 0.1],
    [0.2, 0.7, 0.1],
    [0.6, 0.2, 0.2],
    [0, 0.3, 0.7],
  ]);
  assert.equal(accuracy(logits, soft), 2 / 4);
});

test("top-k accuracy: the true class among the k largest, ties go to the lower index", () => {
  // Row 1: label 1 has 0.4, second largest -> in top 2. Row 2: label 0 ties 0.3 with class 1 but has the
  // lower index, beaten only by class 2 -> rank 2, in top 2.
  assert.equal(topKAccuracy(logits, labels, 1), 0.5);
  assert.equal(topKAccuracy(logits, labels, 2), 1);
  assert.equal(topKAccuracy(logits, labels, 3), 1);
});

test("confusion matrix rows are true classes, columns predictions", () => {
  const cm = new ConfusionMatrix(3);
  cm.update(logits, labels);
  assert.deepEqual(cm.matrix, [
    [0, 0, 1],
    [1, 1, 0],
    [0, 0, 1],
  ]);
  assert.equal(cm.total, 4);
  assert.equal(cm.accuracy(), 0.5);
  assert.deepEqual(cm.perClassRecall(), [0, 0.5, 1]);
  assert.throws(
    () => cm.update(tensor([[1, 2]]), tensor([0], [1], { dtype: "int32" })),
    /2 classes, expected 3/,
  );
});
