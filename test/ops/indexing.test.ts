// where, gather and topk beyond the fixtures: float64 gradient checks, values against direct loops, the
// gradient of repeated indices, NaN in the unselected branch of where, and the validation errors.

import { test } from "node:test";
import assert from "node:assert/strict";
import * as F from "../../src/ops/index.js";
import { tensor } from "../../src/tensor/tensor.js";
import { distinctInput, gradcheckCases, randomInput } from "../helpers/gradcheck.js";

const int32 = (values: number[], shape: number[]) => tensor(new Int32Array(values), shape);

gradcheckCases("indexing", [
  {
    name: "where with broadcasting (a and b)",
    inputs: () => [randomInput([2, 3, 4], { seed: 1 }), randomInput([1, 4], { seed: 2 })],
    f: (a, b) => F.where(F.compare("gt", randomInput([2, 1, 4], { seed: 3 }), 0), a, b),
  },
  {
    name: "gather dim 1 with repeated indices",
    inputs: () => [randomInput([3, 5], { seed: 4 })],
    f: (x) => F.gather(x, 1, int32([0, 4, 4, 1, 2, 2, 0, 3, 1, 0, 4, 4], [3, 4])),
  },
  {
    name: "gather dim 0 with a smaller index",
    inputs: () => [randomInput([2, 4, 3], { seed: 5 })],
    f: (x) => F.gather(x, 0, int32([1, 0, 1, 1, 0, 0, 1, 0, 1, 1, 0, 1], [3, 2, 2])),
  },
  {
    name: "topk values along dim 1, smallest",
    inputs: () => [distinctInput([2, 5, 3], { seed: 6 })],
    f: (x) => F.topk(x, 2, { dim: 1, largest: false }).values,
  },
]);

test("gather and topk agree with direct loops", () => {
  const x = tensor([
    [5, 1, 4],
    [2, 8, 3],
  ]);
  assert.deepEqual(F.gather(x, 1, int32([2, 2, 0, 1, 0, 1], [2, 3])).toList(), [
    [4, 4, 5],
    [8, 2, 8],
  ]);
  assert.deepEqual(F.gather(x, 0, int32([1, 0, 1], [1, 3])).toList(), [[2, 1, 3]]);
  const { values, indices } = F.topk(x, 2);
  assert.deepEqual(values.toList(), [
    [5, 4],
    [8, 3],
  ]);
  assert.deepEqual(indices.toList(), [
    [0, 2],
    [1, 2],
  ]);
  assert.equal(indices.dtype, "int32");
  const low = F.topk(x, 1, { dim: 0, largest: false });
  assert.deepEqual(low.values.toList(), [[2, 1, 3]]);
  assert.deepEqual(low.indices.toList(), [[1, 0, 1]]);
});

test("where: the unselected branch's inf and NaN reach neither the output nor the gradient", () => {
  const a = tensor([1, Infinity, NaN], undefined, { dtype: "float64", requiresGrad: true });
  const b = tensor([5, 6, 7], undefined, { dtype: "float64", requiresGrad: true });
  const y = F.where(tensor([1, 0, 0], undefined, { dtype: "float64" }), a, b);
  assert.deepEqual(Array.from(y.toArray()), [1, 6, 7]);
  y.sum().backward();
  assert.deepEqual(Array.from(a.grad!.toArray()), [1, 0, 0]);
  assert.deepEqual(Array.from(b.grad!.toArray()), [0, 1, 1]);
  assert.deepEqual(F.where(int32([0, 1], [2]), tensor([1, 2]), 9).toList(), [9, 2]);
});

test("errors: where, gather and topk name the op and the shapes", () => {
  const x = tensor(new Float32Array(6), [2, 3]);
  assert.throws(() => F.where(x, 1, 2), /where: at least one of a and b must be a tensor/);
  assert.throws(
    () => F.where(tensor(new Float32Array(4), [4]), x, 0),
    /where: shapes \[4\] \(condition\), \[2,3\] and \[\] do not broadcast/,
  );
  assert.throws(
    () => F.gather(x, 1, int32([0, 3], [2, 1])),
    /gather: index 3 at position 1 is out of range for dim 1 of input \[2,3\] of size 3/,
  );
  assert.throws(
    () => F.gather(x, 1, int32([0, 1, 2], [3, 1])),
    /gather: index \[3,1\] must have the rank of input \[2,3\] and no larger size outside dim 1/,
  );
  assert.throws(() => F.gather(x, 2, int32([0], [1, 1])), /gather: dim 2 is out of range/);
  assert.throws(() => F.topk(x, 4), /topk: k=4 must be an integer in \[0, 3\] \(dim -1 of \[2,3\]\)/);
  assert.throws(() => F.topk(int32([1, 2], [2]), 1), /topk: input must be a float tensor/);
});
