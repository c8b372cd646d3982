// Activations beyond the fixtures: float64 gradient checks of every activation (inputs kept away from
// their kinks), forward values against the closed-form definitions, torch's derivative conventions at the
// kinks, and the validation errors.

import { test } from "node:test";
import assert from "node:assert/strict";
import * as F from "../../src/ops/index.js";
import { tensor, type Tensor } from "../../src/tensor/tensor.js";
import { distinctInput, gradcheckCases, randomInput } from "../helpers/gradcheck.js";

const wide =
  (avoid: number[] = [], low = -3, high = 3) =>
  () => [randomInput([4, 6], { seed: 9, low, high, avoid, margin: 0.05 })];

gradcheckCases("activations", [
  { name: "relu", inputs: wide([0]), f: F.relu },
  { name: "Tensor.relu method", inputs: wide([0]), f: (x) => x.relu() },
  { name: "relu6", inputs: wide([0, 6], -2, 8), f: F.relu6 },
  { name: "leakyRelu default slope", inputs: wide([0]), f: (x) => F.leakyRelu(x) },
  { name: "leakyRelu slope 0.2", inputs: wide([0]), f: (x) => F.leakyRelu(x, 0.2) },
  { name: "elu alpha 1", inputs: wide([0]), f: (x) => F.elu(x) },
  { name: "elu alpha 0.5", inputs: wide([0]), f: (x) => F.elu(x, 0.5) },
  { name: "gelu", inputs: wide(), f: (x) => F.gelu(x) },
  { name: "sigmoid", inputs: wide([], -6, 6), f: F.sigmoid },
  { name: "tanh", inputs: wide(), f: F.tanh },
  { name: "silu", inputs: wide(), f: F.silu },
  {
    name: "maxout 2 pieces on [N,C]",
    inputs: () => [distinctInput([3, 6], { seed: 4 })],
    f: (x) => F.maxout(x, 2),
  },
  {
    name: "maxout 3 pieces on NCHW",
    inputs: () => [distinctInput([2, 6, 2, 3], { seed: 4 })],
    f: (x) => F.maxout(x, 3),
  },
]);

const phi = (x: number) => Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);

const definitions: [string, (x: Tensor) => Tensor, (v: number) => number][] = [
  ["relu", F.relu, (v) => Math.max(v, 0)],
  ["relu6", F.relu6, (v) => Math.min(Math.max(v, 0), 6)],
  ["leakyRelu 0.1", (x) => F.leakyRelu(x, 0.1), (v) => (v > 0 ? v : 0.1 * v)],
  ["elu 0.7", (x) => F.elu(x, 0.7), (v) => (v > 0 ? v : 0.7 * (Math.exp(v) - 1))],
  ["sigmoid", F.sigmoid, (v) => 1 / (1 + Math.exp(-v))],
  ["tanh", F.tanh, Math.tanh],
  ["silu", F.silu, (v) => v / (1 + Math.exp(-v))],
];

test("activations match their closed-form definitions (float64)", () => {
  const x = randomInput([50], { seed: 3, low: -8, high: 8 });
  const xv = x.toArray();
  for (const [name, f, ref] of definitions) {
    const y = f(x).toArray();
    xv.forEach((v, i) =>
      assert.ok(Math.abs(y[i] - ref(v)) < 1e-12, `${name}(${v}) = ${y[i]}, want ${ref(v)}`),
    );
  }
});

test("gelu is exact x·Φ(x): known values and Φ' = φ", () => {
  // Φ(1) and Φ(-0.5) to 16 digits.
  const y = F.gelu(tensor([1, -0.5, 0], undefined, { dtype: "float64" })).toArray();
  assert.ok(Math.abs(y[0] - 0.8413447460685429) < 1e-14, `${y[0]}`);
  assert.ok(Math.abs(y[1] - -0.5 * 0.3085375387259869) < 1e-14, `${y[1]}`);
  assert.equal(y[2], 0);
  // d gelu/dx = Φ(x) + x φ(x) at x = 1.
  const x = tensor([1], undefined, { dtype: "float64", requiresGrad: true });
  F.gelu(x).sum().backward();
  assert.ok(Math.abs(x.grad!.item() - (0.8413447460685429 + phi(1))) < 1e-14);
});

test("sigmoid stays finite and exact at large magnitudes", () => {
  const y = F.sigmoid(tensor([-800, 800], undefined, { dtype: "float64" })).toArray();
  assert.deepEqual(Array.from(y), [0, 1]);
});

test("derivatives at the kinks follow torch: relu'(0) = 0, relu6'(6) = 0, leakyRelu'(0) = slope", () => {
  const grad = (f: (x: Tensor) => Tensor, values: number[]) => {
    const x = tensor(values, undefined, { dtype: "float64", requiresGrad: true });
    f(x).sum().backward();
    return Array.from(x.grad!.toArray());
  };
  assert.deepEqual(grad(F.relu, [-1, 0, 1]), [0, 0, 1]);
  assert.deepEqual(grad(F.relu6, [0, 3, 6, 7]), [0, 1, 0, 0]);
  assert.deepEqual(
    grad((x) => F.leakyRelu(x, 0.25), [-1, 0, 1]),
    [0.25, 0.25, 1],
  );
  assert.deepEqual(
    grad((x) => F.elu(x, 2), [0, 1]),
    [2, 1],
  );
});

test("maxout takes the max over groups of consecutive channels", () => {
  const x = tensor([[1, 5, 3, 2, 9, 0]]);
  assert.deepEqual(F.maxout(x, 2).toList(), [[5, 3, 9]]);
  assert.deepEqual(F.maxout(x, 3).toList(), [[5, 9]]);
});

test("errors: activations reject int32 input and maxout bad piece counts", () => {
  const labels = tensor(new Int32Array([1, 2]), [2]);
  for (const [name, f] of [
    ["relu", F.relu],
    ["relu6", F.relu6],
    ["leakyRelu", F.leakyRelu],
    ["elu", F.elu],
    ["gelu", F.gelu],
    ["sigmoid", F.sigmoid],
    ["tanh", F.tanh],
    ["silu", F.silu],
  ] as const) {
    assert.throws(() => f(labels), new RegExp(`${name}: input must be a float tensor, got int32 \\[2\\]`));
  }
  const x = tensor(new Float32Array(12), [2, 6]);
  assert.throws(() => F.maxout(x, 4), /maxout: pieces=4 must divide the 6 channels of input \[2,6\]/);
  assert.throws(() => F.maxout(x, 0), /maxout: pieces=0 must divide/);
  assert.throws(
    () => F.maxout(tensor([1, 2]), 2),
    /maxout: input must have a channel dim \(N, C, …\), got \[2\]/,
  );
});

// Issue 15: PReLU, Hardswish, Hardsigmoid, Softplus, Mish, GELU's tanh form, sign and step.
gradcheckCases("activations (issue 15)", [
  {
    name: "prelu per channel (x and weight)",
    inputs: () => [randomInput([2, 3, 2, 2], { seed: 3, avoid: [0] }), randomInput([3], { seed: 4 })],
    f: (x, w) => F.prelu(x, w),
  },
  {
    name: "prelu shared slope on [N, C]",
    inputs: () => [randomInput([4, 5], { seed: 5, avoid: [0] }), randomInput([1], { seed: 6 })],
    f: (x, w) => F.prelu(x, w),
  },
  { name: "hardswish", inputs: wide([-3, 3], -5, 5), f: F.hardswish },
  { name: "hardsigmoid", inputs: wide([-3, 3], -5, 5), f: F.hardsigmoid },
  { name: "softplus default", inputs: wide([], -8, 8), f: (x) => F.softplus(x) },
  {
    name: "softplus beta 2 threshold 5 (both regions)",
    inputs: wide([2.5], -5, 5),
    f: (x) => F.softplus(x, { beta: 2, threshold: 5 }),
  },
  { name: "mish", inputs: wide([], -5, 5), f: F.mish },
  { name: "gelu tanh", inputs: wide(), f: (x) => F.gelu(x, { approximate: "tanh" }) },
]);

test("softplus and mish: closed forms, torch's derivative at 0, no overflow far out", () => {
  const x = tensor([-30, -1, 0, 0.5, 3, 30], undefined, { dtype: "float64", requiresGrad: true });
  const y = F.softplus(x).toArray();
  [-30, -1, 0, 0.5, 3, 30].forEach((v, i) => {
    const ref = v > 20 ? v : Math.log1p(Math.exp(v));
    assert.ok(Math.abs(y[i] - ref) < 1e-12, `softplus(${v}) = ${y[i]}, want ${ref}`);
  });
  F.softplus(x).sum().backward();
  assert.equal(x.grad!.toArray()[2], 0.5, "softplus'(0) = sigmoid(0)");
  const big = F.softplus(tensor([1000, -1000]), { beta: 1, threshold: 2000 }).toArray();
  assert.deepEqual(Array.from(big), [1000, 0]);
  const m = F.mish(tensor([1], undefined, { dtype: "float64" })).item();
  assert.ok(Math.abs(m - Math.tanh(Math.log1p(Math.E))) < 1e-14);
});

test("hardswish, hardsigmoid and prelu follow their definitions (float64)", () => {
  const values = [-4, -3, -1.5, 0, 1, 3, 4];
  const x = tensor(values, undefined, { dtype: "float64" });
  const relu6 = (v: number) => Math.min(Math.max(v, 0), 6);
  assert.deepEqual(
    Array.from(F.hardswish(x).toArray()),
    values.map((v) => (v * relu6(v + 3)) / 6),
  );
  assert.deepEqual(
    Array.from(F.hardsigmoid(x).toArray()),
    values.map((v) => relu6(v + 3) / 6),
  );
  const p = F.prelu(
    tensor([
      [-2, 3],
      [4, -1],
    ]),
    tensor([0.5, 0.25]),
  );
  assert.deepEqual(p.toList(), [
    [-1, 3],
    [4, -0.25],
  ]);
  // torch's prelu gradient at 0 is the slope.
  const z = tensor([0], undefined, { dtype: "float64", requiresGrad: true });
  F.prelu(z, tensor([0.3], undefined, { dtype: "float64" }))
    .sum()
    .backward();
  assert.equal(z.grad!.item(), 0.3);
});

test("sign and step: values, zero gradient by default, straight-through on request", () => {
  const values = [-2, 0, 0.5];
  for (const [name, f, expected] of [
    ["sign", F.sign, [-1, 0, 1]],
    ["step", F.step, [0, 0, 1]],
  ] as const) {
    const x = tensor(values, undefined, { dtype: "float64", requiresGrad: true });
    const y = f(x);
    assert.deepEqual(Array.from(y.toArray()), expected, name);
    y.mul(tensor([1, 2, 3], undefined, { dtype: "float64" }))
      .sum()
      .backward();
    assert.deepEqual(Array.from(x.grad!.toArray()), [0, 0, 0], `${name}: zero gradient`);
    const s = tensor(values, undefined, { dtype: "float64", requiresGrad: true });
    f(s, { straightThrough: true })
      .mul(tensor([1, 2, 3], undefined, { dtype: "float64" }))
      .sum()
      .backward();
    assert.deepEqual(Array.from(s.grad!.toArray()), [1, 2, 3], `${name}: straight-through`);
  }
});

test("errors: the issue-15 activations name themselves and the bad option", () => {
  const labels = tensor(new Int32Array([1, 2]), [2]);
  for (const [name, f] of [
    ["hardswish", F.hardswish],
    ["hardsigmoid", F.hardsigmoid],
    ["softplus", (x: Tensor) => F.softplus(x)],
    ["mish", F.mish],
    ["sign", (x: Tensor) => F.sign(x)],
    ["step", (x: Tensor) => F.step(x)],
  ] as const) {
    assert.throws(() => f(labels), new RegExp(`${name}: input must be a float tensor, got int32 \\[2\\]`));
  }
  const x = tensor(new Float32Array(12), [2, 3, 2]);
  assert.throws(() => F.softplus(x, { beta: 0 }), /softplus: beta must be a positive number, got 0/);
  assert.throws(() => F.softplus(x, { threshold: NaN }), /softplus: threshold must be a number, got NaN/);
  assert.throws(
    () => F.gelu(x, { approximate: "erf" as "tanh" }),
    /gelu: approximate must be 'none' or 'tanh', got "erf"/,
  );
  assert.throws(
    () => F.prelu(x, tensor([0.1, 0.2])),
    /prelu: weight \[2\] must have 1 or 3 elements \(the channels of input \[2,3,2\]\)/,
  );
  assert.throws(() => F.prelu(x, tensor([[0.1]])), /prelu: weight must be 1-D \[C\] or \[1\], got \[1,1\]/);
});

test("hardswish's derivative at the kinks is torch's: 0 below -3, x/3 + 1/2 on [-3, 3], 1 above", () => {
  const x = tensor([-4, -3, 0, 3, 4], undefined, { dtype: "float64", requiresGrad: true });
  F.hardswish(x).sum().backward();
  assert.deepEqual(Array.from(x.grad!.toArray()), [0, -0.5, 0.5, 1.5, 1]);
});
