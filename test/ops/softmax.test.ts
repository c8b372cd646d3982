// softmax and logSoftmax beyond the fixtures: gradient checks on every dim of a 3-D input, the defining
// identities (rows sum to 1, logSoftmax = log∘softmax, shift invariance), stability at large logits, errors.

import { test } from "node:test";
import assert from "node:assert/strict";
import * as F from "../../src/ops/index.js";
import { tensor } from "../../src/tensor/tensor.js";
import { gradcheckCases, randomInput, type GradCase } from "../helpers/gradcheck.js";

const x = () => [randomInput([2, 3, 4], { seed: 6, low: -2, high: 2 })];

gradcheckCases("softmax", [
  ...[0, 1, 2, -1].flatMap((dim): GradCase[] => [
    { name: `softmax dim ${dim}`, inputs: x, f: (t) => F.softmax(t, dim) },
    { name: `logSoftmax dim ${dim}`, inputs: x, f: (t) => F.logSoftmax(t, dim) },
  ]),
  { name: "softmax of a vector", inputs: () => [randomInput([5])], f: (t) => t.softmax(0) },
  {
    name: "logSoftmax of large logits",
    inputs: () => [randomInput([3, 4], { low: 200, high: 203 })],
    f: (t) => t.logSoftmax(1),
  },
]);

test("softmax rows sum to 1 and logSoftmax equals log(softmax)", () => {
  const t = randomInput([3, 5], { seed: 2, low: -4, high: 4 });
  const s = F.softmax(t, 1);
  const sums = F.sum(s, 1).toArray();
  for (const v of sums) assert.ok(Math.abs(v - 1) < 1e-14);
  const a = F.logSoftmax(t, 1).toArray();
  const b = F.log(s).toArray();
  a.forEach((v, i) => assert.ok(Math.abs(v - b[i]) < 1e-12));
});

test("softmax is shift invariant and finite at huge logits", () => {
  const t = tensor([[1000, 1001, 1002]], undefined, { dtype: "float64" });
  const shifted = tensor([[0, 1, 2]], undefined, { dtype: "float64" });
  const a = F.softmax(t, 1).toArray();
  const b = F.softmax(shifted, 1).toArray();
  a.forEach((v, i) => assert.ok(Math.abs(v - b[i]) < 1e-15));
  const l = F.logSoftmax(tensor([[-1000, 0]], undefined, { dtype: "float64" }), 1).toArray();
  assert.deepEqual(Array.from(l), [-1000, 0]);
});

test("errors: softmax dims out of range and int32 input", () => {
  const t = tensor(new Float32Array(6), [2, 3]);
  assert.throws(() => F.softmax(t, 2), /softmax: dim 2 is out of range for a tensor of rank 2/);
  assert.throws(() => F.logSoftmax(t, -3), /logSoftmax: dim -3 is out of range for a tensor of rank 2/);
  const i = tensor(new Int32Array(2), [2]);
  assert.throws(() => F.softmax(i, 0), /softmax: input must be a float tensor, got int32 \[2\]/);
  assert.throws(() => F.logSoftmax(i, 0), /logSoftmax: input must be a float tensor, got int32 \[2\]/);
});
