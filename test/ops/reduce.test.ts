// Reductions beyond the fixtures: gradient checks of sum/mean/max/min over many dim sets with and without
// keepdim, variance both ways, forward values against naive loops, tie handling and validation errors.

import { test } from "node:test";
import assert from "node:assert/strict";
import * as F from "../../src/ops/index.js";
import { tensor, type Tensor } from "../../src/tensor/tensor.js";
import { distinctInput, gradcheckCases, randomInput, type GradCase } from "../helpers/gradcheck.js";

const dimSets: { dim?: number | number[]; label: string }[] = [
  { label: "all" },
  { dim: 0, label: "0" },
  { dim: 1, label: "1" },
  { dim: -1, label: "-1" },
  { dim: [0, 2], label: "[0,2]" },
  { dim: [1, 2], label: "[1,2]" },
  { dim: [0, 1, 2], label: "[0,1,2]" },
];

function reductionCases(
  name: string,
  f: (x: Tensor, dim: number | number[] | undefined, keepdim: boolean) => Tensor,
  input: () => Tensor,
): GradCase[] {
  return dimSets.flatMap(({ dim, label }) =>
    [false, true].map((keepdim) => ({
      name: `${name} dim ${label}${keepdim ? " keepdim" : ""}`,
      inputs: () => [input()],
      f: (x: Tensor) => f(x, dim, keepdim),
    })),
  );
}

const x234 = () => randomInput([2, 3, 4], { seed: 7 });
const distinct234 = () => distinctInput([2, 3, 4], { seed: 7 });

gradcheckCases("reduce", [
  ...reductionCases("sum", F.sum, x234),
  ...reductionCases("mean", F.mean, x234),
  ...reductionCases("max", F.max, distinct234),
  ...reductionCases("min", F.min, distinct234),
  { name: "variance unbiased dim 1", inputs: () => [x234()], f: (x) => F.variance(x, 1) },
  {
    name: "variance biased dims [0,2] keepdim",
    inputs: () => [x234()],
    f: (x) => F.variance(x, [0, 2], { unbiased: false, keepdim: true }),
  },
  { name: "variance of all elements", inputs: () => [x234()], f: (x) => F.variance(x) },
  { name: "Tensor.sum/mean methods", inputs: () => [x234()], f: (x) => x.sum(1).mul(x.mean([0, 1])) },
]);

/** Naive reference: reduce a [2,3,4] array over `axes` by visiting every element. */
function naiveReduce(values: ArrayLike<number>, shape: number[], axes: number[], op: "sum" | "max" | "min") {
  const outShape = shape.filter((_, i) => !axes.includes(i));
  const out = new Map<string, number>();
  const index = shape.map(() => 0);
  for (let flat = 0; flat < values.length; flat++) {
    let rest = flat;
    for (let d = shape.length - 1; d >= 0; d--) {
      index[d] = rest % shape[d];
      rest = Math.floor(rest / shape[d]);
    }
    const key = index.filter((_, i) => !axes.includes(i)).join(",");
    const v = values[flat];
    const prev = out.get(key);
    out.set(
      key,
      prev === undefined ? v : op === "sum" ? prev + v : op === "max" ? Math.max(prev, v) : Math.min(prev, v),
    );
  }
  return { outShape, values: [...out.values()] };
}

test("sum, max and min match a naive loop over every dim set (float64)", () => {
  const x = randomInput([2, 3, 4], { seed: 11 });
  const values = x.toArray();
  for (const axes of [[0], [1], [2], [0, 1], [0, 2], [1, 2], [0, 1, 2]]) {
    for (const op of ["sum", "max", "min"] as const) {
      const y = F[op](x, axes);
      const ref = naiveReduce(values, [2, 3, 4], axes, op);
      assert.deepEqual(y.shape, ref.outShape, `${op} over [${axes}]`);
      const got = y.toArray();
      ref.values.forEach((v, i) => assert.ok(Math.abs(got[i] - v) < 1e-12, `${op} over [${axes}] at ${i}`));
    }
  }
});

test("mean divides by the reduced count and keepdim keeps size-1 dims", () => {
  const x = tensor([
    [1, 2, 3],
    [4, 5, 6],
  ]);
  assert.deepEqual(F.mean(x, 1, true).toList(), [[2], [5]]);
  assert.deepEqual(F.mean(x, 0).toList(), [2.5, 3.5, 4.5]);
  assert.equal(F.mean(x).item(), 3.5);
  assert.deepEqual(F.sum(x, [0, 1], true).shape, [1, 1]);
});

test("variance follows torch: unbiased by default, biased on request", () => {
  const x = tensor([1, 2, 3, 4], undefined, { dtype: "float64" });
  assert.ok(Math.abs(F.variance(x).item() - 5 / 3) < 1e-12);
  assert.ok(Math.abs(F.variance(x, 0, { unbiased: false }).item() - 1.25) < 1e-12);
});

test("max over all elements shares the gradient evenly among ties (torch.amax)", () => {
  const x = tensor([3, 1, 3, 2], undefined, { dtype: "float64", requiresGrad: true });
  F.max(x).backward();
  assert.deepEqual(Array.from(x.grad!.toArray()), [0.5, 0, 0.5, 0]);
});

test("argmax returns the first maximum along a dim, as int32", () => {
  const x = tensor([
    [1, 7, 7],
    [9, 2, 3],
  ]);
  const idx = F.argmax(x, 1);
  assert.equal(idx.dtype, "int32");
  assert.deepEqual(Array.from(idx.toArray()), [1, 0]);
  assert.deepEqual(Array.from(F.argmax(x, 0).toArray()), [1, 0, 0]);
  assert.deepEqual(F.argmax(x, -1, true).shape, [2, 1]);
});

test("errors: dims out of range or repeated name the op and the rank", () => {
  const x = tensor(new Float32Array(6), [2, 3]);
  assert.throws(() => F.sum(x, 2), /sum: dim 2 is out of range for a tensor of rank 2/);
  assert.throws(() => F.mean(x, -3), /mean: dim -3 is out of range for a tensor of rank 2/);
  assert.throws(() => F.max(x, [1, -1]), /max: dims \[1,-1\] repeat an axis/);
  assert.throws(() => F.argmax(x, 5), /argmax: dim 5 is out of range/);
});

test("errors: max/min/argmax over an empty dim", () => {
  const x = tensor(new Float32Array(0), [2, 0]);
  assert.throws(() => F.max(x, 1), /max: cannot reduce an empty dimension of shape \[2,0\]/);
  assert.throws(() => F.min(x), /min: cannot reduce an empty dimension of shape \[2,0\]/);
  assert.throws(() => F.argmax(x, 1), /argmax: dim 1 of shape \[2,0\] is empty/);
  assert.deepEqual(Array.from(F.sum(x, 1).toArray()), [0, 0]);
});

test("errors: mean of an int32 tensor is rejected (torch cannot infer its dtype either)", () => {
  assert.throws(
    () => F.mean(tensor(new Int32Array([1, 2]), [2])),
    /mean: input must be a float tensor, got int32 \[2\]/,
  );
});
