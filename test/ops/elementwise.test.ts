// Elementwise ops beyond the fixtures: float64 gradient checks of every arithmetic and unary op (with
// broadcasting in both directions and scalar operands), torch's tie and boundary conventions for
// maximum/minimum/clamp, and the validation errors.

import { test } from "node:test";
import assert from "node:assert/strict";
import * as F from "../../src/ops/index.js";
import { tensor, type Tensor } from "../../src/tensor/tensor.js";
import { distinctInput, gradcheckCases, positiveInput, randomInput } from "../helpers/gradcheck.js";

const x34 = () => randomInput([3, 4], { seed: 1 });

/** Two tensors whose broadcast elements differ by at least 0.0025, so max/min never tie under a probe. */
function untied(aShape: number[], bShape: number[]): Tensor[] {
  const a = distinctInput(aShape, { seed: 3 });
  const b = distinctInput(bShape, { seed: 4 }).add(0.005);
  return [a, b];
}

gradcheckCases("elementwise", [
  { name: "add same shape", inputs: () => [x34(), randomInput([3, 4], { seed: 2 })], f: F.add },
  { name: "add [3,4] + [4]", inputs: () => [x34(), randomInput([4], { seed: 2 })], f: F.add },
  {
    name: "add [3,1] + [1,4]",
    inputs: () => [randomInput([3, 1]), randomInput([1, 4], { seed: 2 })],
    f: F.add,
  },
  {
    name: "add [2,1,4] + [3,1]",
    inputs: () => [randomInput([2, 1, 4]), randomInput([3, 1], { seed: 2 })],
    f: F.add,
  },
  { name: "add scalar tensor", inputs: () => [x34(), randomInput([], { seed: 2 })], f: F.add },
  { name: "add number", inputs: () => [x34()], f: (a) => F.add(a, 2.5) },
  { name: "sub [3,4] - [4]", inputs: () => [x34(), randomInput([4], { seed: 2 })], f: F.sub },
  { name: "sub [4] - [3,4]", inputs: () => [randomInput([4], { seed: 2 }), x34()], f: F.sub },
  { name: "sub number - tensor", inputs: () => [x34()], f: (a) => F.sub(1.5, a) },
  {
    name: "mul [2,3,4] * [3,1]",
    inputs: () => [randomInput([2, 3, 4]), randomInput([3, 1], { seed: 2 })],
    f: F.mul,
  },
  {
    name: "mul [1,4] * [3,1]",
    inputs: () => [randomInput([1, 4]), randomInput([3, 1], { seed: 2 })],
    f: F.mul,
  },
  { name: "mul number", inputs: () => [x34()], f: (a) => F.mul(a, -3) },
  { name: "div same shape", inputs: () => [x34(), positiveInput([3, 4], 2)], f: F.div },
  { name: "div [3,4] / [3,1]", inputs: () => [x34(), positiveInput([3, 1], 2)], f: F.div },
  { name: "div [4] / [3,4]", inputs: () => [randomInput([4]), positiveInput([3, 4], 2)], f: F.div },
  { name: "div number / tensor", inputs: () => [positiveInput([3, 4])], f: (a) => F.div(2, a) },
  { name: "maximum same shape", inputs: () => untied([3, 4], [3, 4]), f: F.maximum },
  { name: "maximum [3,4] vs [4]", inputs: () => untied([3, 4], [4]), f: F.maximum },
  { name: "maximum [3,1] vs [1,4]", inputs: () => untied([3, 1], [1, 4]), f: F.maximum },
  {
    name: "maximum with number",
    inputs: () => [randomInput([3, 4], { avoid: [0.2] })],
    f: (a) => F.maximum(a, 0.2),
  },
  { name: "minimum same shape", inputs: () => untied([3, 4], [3, 4]), f: F.minimum },
  { name: "minimum [2,3,4] vs [3,1]", inputs: () => untied([2, 3, 4], [3, 1]), f: F.minimum },
  { name: "neg", inputs: () => [x34()], f: F.neg },
  { name: "exp", inputs: () => [randomInput([3, 4], { low: -2, high: 2 })], f: F.exp },
  { name: "log", inputs: () => [positiveInput([3, 4], 1, 0.1, 3)], f: F.log },
  { name: "sqrt", inputs: () => [positiveInput([3, 4], 1, 0.1, 3)], f: F.sqrt },
  { name: "abs", inputs: () => [randomInput([3, 4], { avoid: [0] })], f: F.abs },
  { name: "square", inputs: () => [x34()], f: F.square },
  { name: "pow 3", inputs: () => [x34()], f: (a) => F.pow(a, 3) },
  { name: "pow -1.5", inputs: () => [positiveInput([3, 4])], f: (a) => F.pow(a, -1.5) },
  { name: "pow 0.5", inputs: () => [positiveInput([3, 4])], f: (a) => F.pow(a, 0.5) },
  { name: "pow 0", inputs: () => [x34()], f: (a) => F.pow(a, 0) },
  {
    name: "clamp [-0.5, 0.3]",
    inputs: () => [randomInput([4, 5], { avoid: [-0.5, 0.3] })],
    f: (a) => F.clamp(a, -0.5, 0.3),
  },
  {
    name: "tensor methods chained",
    inputs: () => [positiveInput([2, 3]), randomInput([3], { seed: 5 })],
    f: (a, b) => a.log().mul(b).add(a.sqrt()).div(a.add(1)).sub(b.exp()).neg().pow(2),
  },
]);

function gradOf(f: (x: Tensor) => Tensor, values: number[]): number[] {
  const x = tensor(values, undefined, { dtype: "float64", requiresGrad: true });
  f(x).sum().backward();
  return Array.from(x.grad!.toArray());
}

test("maximum and minimum split the gradient in half on ties, like torch", () => {
  const a = tensor([1, 2, 3], undefined, { dtype: "float64", requiresGrad: true });
  const b = tensor([1, 5, 0], undefined, { dtype: "float64", requiresGrad: true });
  F.maximum(a, b).sum().backward();
  assert.deepEqual(Array.from(a.grad!.toArray()), [0.5, 0, 1]);
  assert.deepEqual(Array.from(b.grad!.toArray()), [0.5, 1, 0]);
  a.grad = null;
  b.grad = null;
  F.minimum(a, b).sum().backward();
  assert.deepEqual(Array.from(a.grad!.toArray()), [0.5, 1, 0]);
  assert.deepEqual(Array.from(b.grad!.toArray()), [0.5, 0, 1]);
});

test("maximum(x, 0) at x = 0 has derivative 1/2 (torch's convention)", () => {
  assert.deepEqual(
    gradOf((x) => F.maximum(x, 0), [-1, 0, 2]),
    [0, 0.5, 1],
  );
});

test("clamp passes the gradient at its bounds and blocks it outside, like torch", () => {
  assert.deepEqual(
    gradOf((x) => F.clamp(x, -1, 1), [-2, -1, 0, 1, 2]),
    [0, 1, 1, 1, 0],
  );
});

test("abs has derivative 0 at 0 and pow(x, 0) has derivative 0 everywhere", () => {
  assert.deepEqual(gradOf(F.abs, [-2, 0, 3]), [-1, 0, 1]);
  assert.deepEqual(
    gradOf((x) => F.pow(x, 0), [0, 2]),
    [0, 0],
  );
});

test("forward values follow the formulas with broadcasting", () => {
  const a = tensor([
    [1, 2, 3],
    [4, 5, 6],
  ]);
  const b = tensor([[10], [20]]);
  assert.deepEqual(F.add(a, b).toList(), [
    [11, 12, 13],
    [24, 25, 26],
  ]);
  assert.deepEqual(F.sub(b, a).toList(), [
    [9, 8, 7],
    [16, 15, 14],
  ]);
  assert.deepEqual(F.maximum(a, tensor([3, 0, 7])).toList(), [
    [3, 2, 7],
    [4, 5, 7],
  ]);
  assert.deepEqual(F.clamp(a, 2, 5).toList(), [
    [2, 2, 3],
    [4, 5, 5],
  ]);
});

test("errors: shapes that do not broadcast name the op and both shapes", () => {
  const a = tensor(new Float32Array(12), [3, 4]);
  const b = tensor(new Float32Array(6), [2, 3]);
  for (const [name, f] of [
    ["add", F.add],
    ["sub", F.sub],
    ["mul", F.mul],
    ["div", F.div],
    ["maximum", F.maximum],
    ["minimum", F.minimum],
  ] as const) {
    assert.throws(
      () => f(a, b),
      new RegExp(`^Error: ${name}: shapes \\[3,4\\] and \\[2,3\\] do not broadcast`),
    );
  }
  assert.throws(() => F.compare("eq", a, b), /eq: shapes \[3,4\] and \[2,3\] do not broadcast/);
});

test("errors: mixing float32 with float64 names both dtypes and shapes", () => {
  const a = tensor(new Float32Array(4), [2, 2]);
  const b = tensor(new Float64Array(2), [2]);
  assert.throws(() => F.mul(a, b), /mul: dtypes differ \(float32 \[2,2\] and float64 \[2\]\)/);
});

test("errors: float maths on int32 tensors is rejected instead of truncating", () => {
  const labels = tensor(new Int32Array([1, 2, 3]), [3]);
  for (const [name, f] of [
    ["exp", F.exp],
    ["log", F.log],
    ["sqrt", F.sqrt],
    ["pow", (x: Tensor) => F.pow(x, 0.5)],
  ] as const) {
    assert.throws(() => f(labels), new RegExp(`${name}: input must be a float tensor, got int32 \\[3\\]`));
  }
  assert.throws(() => F.div(labels, labels), /div: input must be a float tensor, got int32 \[3\]/);
  assert.throws(() => F.add(labels, 0.5), /add: .*0\.5.*int32/);
  // Integer arithmetic that stays exact is allowed.
  assert.deepEqual(Array.from(F.add(labels, 1).toArray()), [2, 3, 4]);
  assert.deepEqual(Array.from(F.mul(labels, labels).toArray()), [1, 4, 9]);
});

test("errors: clamp with min > max", () => {
  assert.throws(() => F.clamp(tensor([1]), 2, 1), /clamp: min 2 is greater than max 1/);
});

test("errors: operands on different backends name both backends", () => {
  const a = tensor(new Float32Array(4), [2, 2]);
  const b = tensor(new Float32Array(4), [2, 2], { backend: "meta" });
  assert.throws(() => F.add(a, b), /add: tensors live on different backends \(js and meta\)/);
  assert.throws(() => F.matmul(a, b), /matmul: tensors live on different backends \(js and meta\)/);
  assert.throws(
    () =>
      F.conv2d(
        tensor(new Float32Array(16), [1, 1, 4, 4]),
        tensor(new Float32Array(4), [1, 1, 2, 2], { backend: "meta" }),
      ),
    /conv2d: tensors live on different backends \(js and meta\)/,
  );
});

// Issue 15: erf, and clamp with one bound or tensor bounds.
gradcheckCases("elementwise (issue 15)", [
  { name: "erf", inputs: () => [randomInput([3, 4], { seed: 2, low: -2.5, high: 2.5 })], f: F.erf },
  {
    name: "clamp min only",
    inputs: () => [randomInput([3, 4], { seed: 3, avoid: [0.1] })],
    f: (x) => F.clamp(x, { min: 0.1 }),
  },
  {
    name: "clamp max only (null min)",
    inputs: () => [randomInput([3, 4], { seed: 4, avoid: [-0.2] })],
    f: (x) => F.clamp(x, null, -0.2),
  },
  {
    name: "clamp tensor bounds (x, low, high)",
    inputs: () => [
      distinctInput([2, 3, 4], { seed: 5, gap: 0.05 }),
      randomInput([3, 1], { seed: 6, low: -1.3, high: -0.2 }),
      randomInput([4], { seed: 7, low: 0.2, high: 1.3 }),
    ],
    f: (x, lo, hi) => F.clamp(x, lo, hi),
  },
]);

test("erf matches known values; clamp with one bound leaves the other side alone", () => {
  const e = F.erf(tensor([0, 0.5, -1, 3], undefined, { dtype: "float64" })).toArray();
  const want = [0, 0.5204998778130465, -0.8427007929497149, 0.9999779095030014];
  want.forEach((w, i) => assert.ok(Math.abs(e[i] - w) < 1e-13, `erf: ${e[i]} vs ${w}`));
  assert.deepEqual(F.clamp(tensor([-5, 0, 5]), { min: -1 }).toList(), [-1, 0, 5]);
  assert.deepEqual(F.clamp(tensor([-5, 0, 5]), undefined, 1).toList(), [-5, 0, 1]);
  assert.deepEqual(F.clamp(tensor([-5, 0, 5]), tensor([-1, 1, 2])).toList(), [-1, 1, 5]);
});

test("errors: erf and clamp validate their arguments", () => {
  assert.throws(() => F.erf(tensor(new Int32Array([1]), [1])), /erf: input must be a float tensor/);
  const x = tensor([1, 2]);
  assert.throws(() => F.clamp(x), /clamp: at least one of min and max must be given/);
  assert.throws(() => F.clamp(x, { max: null }), /clamp: at least one of min and max must be given/);
  assert.throws(() => F.clamp(x, NaN, 1), /clamp: min is NaN/);
  assert.throws(() => F.clamp(x, 2, 1), /clamp: min 2 is greater than max 1/);
  assert.throws(() => F.clamp(x, tensor([1, 2, 3])), /maximum: shapes \[2\] and \[3\] do not broadcast/);
});
