// Losses beyond the fixtures: float64 gradient checks of crossEntropy (hard labels, soft targets with
// gradients to logits and targets, label smoothing, every reduction, 4-D input), nllLoss, mseLoss, l1Loss
// and binaryCrossEntropyWithLogits; forward values against hand-written formulas; crossEntropy (a fused
// backend kernel) on extreme and masked logits and on js vs wasm; and the validation errors.

import { test } from "node:test";
import assert from "node:assert/strict";
import * as F from "../../src/ops/index.js";
import { tensor, type Tensor } from "../../src/tensor/tensor.js";
import type { Reduction } from "../../src/ops/losses.js";
import { gradcheckCases, randomInput, type GradCase } from "../helpers/gradcheck.js";
import { computingBackends } from "../helpers/backends.js";

const labels = (values: number[], shape = [values.length]) => tensor(new Int32Array(values), shape);
const logits = (shape: number[], seed = 1) => randomInput(shape, { seed, low: -2, high: 2 });

/** Rows that are probability distributions (positive, summing to 1 along dim 1). */
function probabilities(shape: number[], seed = 2): Tensor {
  return F.softmax(randomInput(shape, { seed, low: -1, high: 1 }), 1);
}

const reductions: Reduction[] = ["mean", "sum", "none"];

gradcheckCases("losses", [
  ...reductions.flatMap((reduction): GradCase[] => [
    {
      name: `crossEntropy hard labels ${reduction}`,
      inputs: () => [logits([4, 5]), labels([0, 4, 2, 2])],
      f: (x, t) => F.crossEntropy(x, t, { reduction }),
    },
    {
      name: `crossEntropy soft targets ${reduction} (logits and targets)`,
      inputs: () => [logits([3, 4]), probabilities([3, 4])],
      f: (x, t) => F.crossEntropy(x, t, { reduction }),
    },
    {
      name: `crossEntropy 4-D input, [N,H,W] targets ${reduction}`,
      inputs: () => [logits([2, 3, 2, 2]), labels([0, 1, 2, 1, 2, 2, 0, 0], [2, 2, 2])],
      f: (x, t) => F.crossEntropy(x, t, { reduction }),
    },
    {
      name: `crossEntropy label smoothing 0.2 ${reduction}`,
      inputs: () => [logits([4, 5]), labels([3, 0, 2, 2])],
      f: (x, t) => F.crossEntropy(x, t, { reduction, labelSmoothing: 0.2 }),
    },
    {
      name: `crossEntropy [N,C,H,W] soft targets ${reduction} (logits and targets)`,
      inputs: () => [logits([2, 3, 2, 2]), probabilities([2, 3, 2, 2], 3)],
      f: (x, t) => F.crossEntropy(x, t, { reduction }),
    },
    {
      name: `nllLoss ${reduction}`,
      inputs: () => [logits([4, 5]), labels([1, 0, 4, 3])],
      f: (x, t) => F.nllLoss(F.logSoftmax(x, 1), t, { reduction }),
    },
    {
      name: `mseLoss ${reduction}`,
      inputs: () => [logits([3, 4]), logits([3, 4], 2)],
      f: (x, t) => F.mseLoss(x, t, { reduction }),
    },
    {
      name: `l1Loss ${reduction}`,
      // Inputs and targets differ by at least 0.1 everywhere: |x - t| has a kink at x = t.
      inputs: () => [
        randomInput([3, 4], { avoid: [0], margin: 0.1 }).add(logits([3, 4], 2)),
        logits([3, 4], 2),
      ],
      f: (x, t) => F.l1Loss(x, t, { reduction }),
    },
    {
      name: `binaryCrossEntropyWithLogits ${reduction} (logits and targets)`,
      inputs: () => [
        randomInput([3, 4], { low: -3, high: 3, avoid: [0] }),
        randomInput([3, 4], { seed: 2, low: 0, high: 1 }),
      ],
      f: (x, t) => F.binaryCrossEntropyWithLogits(x, t, { reduction }),
    },
  ]),
  {
    name: "crossEntropy label smoothing 0.1",
    inputs: () => [logits([4, 5]), labels([0, 4, 2, 2])],
    f: (x, t) => F.crossEntropy(x, t, { labelSmoothing: 0.1 }),
  },
  {
    name: "crossEntropy label smoothing 0.3 with soft targets",
    inputs: () => [logits([3, 4]), probabilities([3, 4])],
    f: (x, t) => F.crossEntropy(x, t, { labelSmoothing: 0.3, reduction: "sum" }),
  },
  {
    name: "crossEntropy label smoothing on 4-D input",
    inputs: () => [logits([2, 3, 2, 2]), labels([0, 1, 2, 1, 2, 2, 0, 0], [2, 2, 2])],
    f: (x, t) => F.crossEntropy(x, t, { labelSmoothing: 0.2 }),
  },
  {
    name: "crossEntropy gradient to soft targets alone (logits constant)",
    inputs: () => [logits([3, 4]), probabilities([3, 4])],
    f: (x, t) => F.crossEntropy(x, t, { labelSmoothing: 0.1 }),
    options: { wrt: [1] },
  },
  {
    name: "crossEntropy with a single class (loss 0, gradient 0)",
    inputs: () => [logits([3, 1]), labels([0, 0, 0])],
    f: (x, t) => F.crossEntropy(x, t, { reduction: "sum" }),
  },
  {
    name: "crossEntropy 1000 classes",
    inputs: () => [logits([2, 1000]), labels([999, 3])],
    f: (x, t) => F.crossEntropy(x, t),
  },
  {
    name: "nllLoss 4-D input",
    inputs: () => [logits([2, 3, 2, 2]), labels([0, 1, 2, 1, 2, 2, 0, 0], [2, 2, 2])],
    f: (x, t) => F.nllLoss(F.logSoftmax(x, 1), t),
  },
]);

const f64 = (values: number[][]) => tensor(values, undefined, { dtype: "float64" });

/** -log softmax(x)[label], computed row by row with plain arithmetic. */
function naiveCrossEntropy(x: number[][], t: number[], eps = 0): number[] {
  return x.map((row, i) => {
    const m = Math.max(...row);
    const lse = m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
    const logp = row.map((v) => v - lse);
    const c = row.length;
    return -((1 - eps) * logp[t[i]] + (eps / c) * logp.reduce((s, v) => s + v, 0));
  });
}

test("crossEntropy equals -log softmax at the label, with and without smoothing", () => {
  const x = [
    [1, 2, 0.5],
    [-1, 0, 3],
  ];
  const t = [1, 0];
  for (const eps of [0, 0.25]) {
    const ref = naiveCrossEntropy(x, t, eps);
    const none = F.crossEntropy(f64(x), labels(t), { reduction: "none", labelSmoothing: eps }).toArray();
    ref.forEach((v, i) => assert.ok(Math.abs(none[i] - v) < 1e-12, `eps ${eps} row ${i}`));
    const mean = F.crossEntropy(f64(x), labels(t), { labelSmoothing: eps }).item();
    assert.ok(Math.abs(mean - (ref[0] + ref[1]) / 2) < 1e-12);
    const total = F.crossEntropy(f64(x), labels(t), { reduction: "sum", labelSmoothing: eps }).item();
    assert.ok(Math.abs(total - (ref[0] + ref[1])) < 1e-12);
  }
});

test("crossEntropy with one-hot soft targets equals crossEntropy with the labels", () => {
  const x = logits([3, 4]);
  const t = [2, 0, 3];
  const oneHot = f64(t.map((l) => [0, 1, 2, 3].map((c) => (c === l ? 1 : 0))));
  const a = F.crossEntropy(x, labels(t)).item();
  const b = F.crossEntropy(x, oneHot).item();
  assert.ok(Math.abs(a - b) < 1e-14);
});

test("reduction 'none' keeps torch's [N, d…] shape for 4-D input", () => {
  const x = logits([2, 3, 2, 4]);
  const t = labels(new Array(16).fill(1), [2, 2, 4]);
  assert.deepEqual(F.crossEntropy(x, t, { reduction: "none" }).shape, [2, 2, 4]);
  assert.deepEqual(F.nllLoss(F.logSoftmax(x, 1), t, { reduction: "none" }).shape, [2, 2, 4]);
  assert.deepEqual(F.crossEntropy(logits([5, 3]), labels([0, 1, 2, 0, 1]), { reduction: "none" }).shape, [5]);
  // The 4-D loss at (n, h, w) is the 2-D loss of the logits at that pixel.
  const pixel = F.reshape(F.slice(F.slice(F.slice(x, 0, 1, 2), 2, 1, 2), 3, 3, 4), [1, 3]);
  const want = F.crossEntropy(pixel, labels([1])).item();
  const got = F.crossEntropy(x, t, { reduction: "none" }).toArray()[1 * 8 + 1 * 4 + 3];
  assert.ok(Math.abs(got - want) < 1e-14);
});

test("mseLoss, l1Loss and binaryCrossEntropyWithLogits match their formulas", () => {
  const x = [0.5, -2, 3, 0];
  const t = [1, 0.25, 0, 0.5];
  const xt = tensor(x, undefined, { dtype: "float64" });
  const tt = tensor(t, undefined, { dtype: "float64" });
  const mean = (v: number[]) => v.reduce((s, a) => s + a, 0) / v.length;
  assert.ok(Math.abs(F.mseLoss(xt, tt).item() - mean(x.map((v, i) => (v - t[i]) ** 2))) < 1e-14);
  assert.ok(
    Math.abs(
      F.l1Loss(xt, tt, { reduction: "sum" }).item() - x.reduce((s, v, i) => s + Math.abs(v - t[i]), 0),
    ) < 1e-14,
  );
  const sig = (v: number) => 1 / (1 + Math.exp(-v));
  const bce = x.map((v, i) => -(t[i] * Math.log(sig(v)) + (1 - t[i]) * Math.log(1 - sig(v))));
  const got = F.binaryCrossEntropyWithLogits(xt, tt, { reduction: "none" }).toArray();
  bce.forEach((v, i) => assert.ok(Math.abs(got[i] - v) < 1e-14, `bce ${i}`));
  // Stable where the naive formula overflows.
  const big = F.binaryCrossEntropyWithLogits(tensor([800, -800]), tensor([0, 1])).item();
  assert.ok(Math.abs(big - 800) < 1e-3);
});

test("binaryCrossEntropyWithLogits has gradient sigmoid(x) - t, also exactly at x = 0", () => {
  const x = tensor([0, 0, 1.5, -2], undefined, { dtype: "float64", requiresGrad: true });
  const t = tensor([0, 1, 0.3, 0.8], undefined, { dtype: "float64" });
  F.binaryCrossEntropyWithLogits(x, t, { reduction: "sum" }).backward();
  const g = x.grad!.toArray();
  [0, 0, 1.5, -2].forEach((v, i) => {
    const want = 1 / (1 + Math.exp(-v)) - t.toArray()[i];
    assert.ok(Math.abs(g[i] - want) < 1e-14, `x=${v}: ${g[i]} vs ${want}`);
  });
});

test("crossEntropy gradient is (softmax - onehot) / N", () => {
  const x = tensor([[1, 2, 3]], undefined, { dtype: "float64", requiresGrad: true });
  F.crossEntropy(x, labels([2])).backward();
  const p = F.softmax(x.detach(), 1).toArray();
  const g = x.grad!.toArray();
  [p[0], p[1], p[2] - 1].forEach((v, i) => assert.ok(Math.abs(g[i] - v) < 1e-15));
});

const f32 = (shape: number[]) => tensor(new Float32Array(shape.reduce((p, d) => p * d, 1)), shape);

test("errors: labels out of range, wrong target shape and bad options in crossEntropy/nllLoss", () => {
  const x = f32([3, 4]);
  for (const [name, loss] of [
    ["crossEntropy", F.crossEntropy],
    ["nllLoss", F.nllLoss],
  ] as const) {
    assert.throws(
      () => loss(x, labels([0, 4, 1])),
      new RegExp(`${name}: label 4 at position 1 is out of range for 4 classes \\(input \\[3,4\\]\\)`),
    );
    assert.throws(
      () => loss(x, labels([0, -1, 1])),
      new RegExp(`${name}: label -1 at position 1 is out of range for 4 classes`),
    );
    assert.throws(
      () => loss(x, tensor([0, 1.5, 1])),
      new RegExp(`${name}: label 1.5 at position 1 is out of range for 4 classes`),
    );
    assert.throws(
      () => loss(x, labels([0, 1])),
      new RegExp(`${name}: target \\[2\\] does not match input \\[3,4\\]; expected \\[3\\]`),
    );
    assert.throws(
      () => loss(f32([2, 3, 4, 4]), labels(new Array(16).fill(0), [2, 8])),
      new RegExp(`${name}: target \\[2,8\\] does not match input \\[2,3,4,4\\]; expected \\[2,4,4\\]`),
    );
    assert.throws(
      () => loss(f32([4]), labels([0])),
      new RegExp(`${name}: input must be .*\\[N, C, …\\], got \\[4\\]`),
    );
    assert.throws(
      () => loss(tensor(new Int32Array(4), [2, 2]), labels([0, 1])),
      new RegExp(`${name}: input must be a float tensor, got int32 \\[2,2\\]`),
    );
    assert.throws(
      () => loss(x, labels([0, 1, 2]), { reduction: "avg" as Reduction }),
      new RegExp(`${name}: reduction must be 'mean', 'sum' or 'none', got 'avg'`),
    );
  }
  assert.throws(
    () => F.crossEntropy(x, labels([0, 1, 2]), { labelSmoothing: 1.5 }),
    /crossEntropy: labelSmoothing must be in \[0, 1\], got 1.5/,
  );
  assert.throws(
    () => F.crossEntropy(x, labels([0, 1, 2]), { labelSmoothing: NaN }),
    /crossEntropy: labelSmoothing must be in \[0, 1\], got NaN/,
  );
  assert.throws(
    () => F.crossEntropy(x, f32([3, 4]).to("float64")),
    /crossEntropy: dtypes differ \(float32 \[3,4\] and float64 \[3,4\]\)/,
  );
});

test("errors: elementwise losses need float inputs and targets of the same shape", () => {
  for (const [name, loss] of [
    ["mseLoss", F.mseLoss],
    ["l1Loss", F.l1Loss],
    ["binaryCrossEntropyWithLogits", F.binaryCrossEntropyWithLogits],
  ] as const) {
    assert.throws(
      () => loss(f32([3, 4]), f32([4])),
      new RegExp(`${name}: input \\[3,4\\] and target \\[4\\] must have the same shape`),
    );
    assert.throws(
      () => loss(f32([3]), f32([3]).to("float64")),
      new RegExp(`${name}: dtypes differ \\(float32 \\[3\\] and float64 \\[3\\]\\)`),
    );
    assert.throws(
      () => loss(tensor(new Int32Array(3), [3]), tensor(new Int32Array(3), [3])),
      new RegExp(`${name}: input must be a float tensor, got int32 \\[3\\]`),
    );
  }
});

test("errors: labels on another backend than the logits", () => {
  const metaLogits = tensor(new Float32Array(6), [2, 3], { backend: "meta" });
  assert.throws(
    () => F.crossEntropy(metaLogits, labels([0, 1])),
    /crossEntropy: labels live on backend js but input on meta/,
  );
  assert.throws(
    () => F.nllLoss(metaLogits, labels([0, 1])),
    /nllLoss: labels live on backend js but input on meta/,
  );
});

for (const backend of computingBackends()) {
  test(`crossEntropy on logits of ±1e4 and masked (−inf) logits: finite loss and gradient [${backend}]`, () => {
    const x = tensor(
      [
        [1e4, -1e4, 0],
        [-1e4, 1e4, 1e4],
        [2, -Infinity, 1],
      ],
      undefined,
      { backend, requiresGrad: true },
    );
    const t = tensor(new Int32Array([0, 0, 2]), [3], { backend });
    const loss = F.crossEntropy(x, t, { reduction: "none" });
    loss.sum().backward();
    const l = loss.toArray();
    const want = [0, 2e4 + Math.LN2, 1 + Math.log(1 + Math.exp(-1))];
    want.forEach((v, i) => assert.ok(Math.abs(l[i] - v) <= 1e-6 * (1 + v), `loss[${i}] ${l[i]} vs ${v}`));
    const g = x.grad!.toArray();
    assert.ok(g.every(Number.isFinite), `gradient ${Array.from(g)}`);
    // softmax − one-hot: row 1 puts half its mass on each of the two 1e4 logits; −inf gets none.
    const p = 1 / (1 + Math.exp(-1));
    const wantGrad = [0, 0, 0, -1, 0.5, 0.5, p, 0, 1 - p - 1];
    wantGrad.forEach((v, i) => assert.ok(Math.abs(g[i] - v) < 1e-6, `grad[${i}] ${g[i]} vs ${v}`));
  });
}

test("crossEntropy: wasm matches js forward and backward (soft targets needing grad, smoothing, 4-D)", () => {
  const rngInput = (shape: number[], seed: number) =>
    randomInput(shape, { seed, low: -3, high: 3 }).toArray();
  const cases: { shape: number[]; soft: boolean; eps: number; reduction: Reduction }[] = [
    { shape: [5, 1], soft: false, eps: 0, reduction: "mean" },
    { shape: [7, 3], soft: true, eps: 0.1, reduction: "sum" },
    { shape: [9, 10], soft: false, eps: 0.2, reduction: "none" },
    { shape: [3, 1000], soft: true, eps: 0, reduction: "mean" },
    { shape: [2, 5, 3, 3], soft: true, eps: 0.05, reduction: "none" },
    { shape: [2, 5, 3, 3], soft: false, eps: 0, reduction: "mean" },
  ];
  for (const c of cases) {
    const [n, classes] = c.shape;
    const spatial = c.shape.slice(2);
    const size = c.shape.reduce((p, d) => p * d, 1);
    const xData = Float32Array.from(rngInput(c.shape, size));
    const targetShape = c.soft ? c.shape : [n, ...spatial];
    const tData = c.soft
      ? F.softmax(tensor(Float32Array.from(rngInput(c.shape, size + 1)), c.shape), 1).toArray()
      : Int32Array.from({ length: targetShape.reduce((p, d) => p * d, 1) }, (_, i) => (i * 7) % classes);
    const results = ["js", "wasm"].map((backend) => {
      const x = tensor(xData, c.shape, { backend, requiresGrad: true });
      const t = tensor(tData, targetShape, { backend, requiresGrad: c.soft });
      const loss = F.crossEntropy(x, t, { reduction: c.reduction, labelSmoothing: c.eps });
      const upstream = tensor(
        Float32Array.from({ length: loss.size }, (_, i) => 1 - i / (loss.size + 1)),
        loss.shape,
        { backend },
      );
      F.sum(F.mul(loss, upstream)).backward();
      return [loss.toArray(), x.grad!.toArray(), c.soft ? t.grad!.toArray() : new Float32Array()];
    });
    const [js, wasm] = results;
    ["loss", "logits grad", "target grad"].forEach((what, k) => {
      assert.equal(wasm[k].length, js[k].length, `${JSON.stringify(c)} ${what}: length`);
      js[k].forEach((v, i) =>
        assert.ok(
          Math.abs(wasm[k][i] - v) <= 1e-5 + 1e-5 * Math.abs(v),
          `${JSON.stringify(c)} ${what}[${i}]: ${wasm[k][i]} vs ${v}`,
        ),
      );
    });
  }
});

// Issue 15: class weights and ignored targets in crossEntropy/nllLoss, multiMarginLoss, smoothL1Loss,
// huberLoss and klDiv.
const weights = () => tensor([0.5, 2, 1, 1.5], undefined, { dtype: "float64" });

gradcheckCases("losses (issue 15)", [
  {
    name: "crossEntropy weight + ignoreIndex + labelSmoothing, mean",
    inputs: () => [logits([5, 4], 71)],
    f: (x) => F.crossEntropy(x, labels([1, -100, 3, 0, 2]), { weight: weights(), labelSmoothing: 0.1 }),
  },
  {
    name: "crossEntropy ignoreIndex 2 on [N, C, d], sum",
    inputs: () => [logits([2, 4, 3], 72)],
    f: (x) => F.crossEntropy(x, labels([2, 1, 0, 3, 2, 2], [2, 3]), { ignoreIndex: 2, reduction: "sum" }),
  },
  {
    name: "nllLoss weight, mean",
    inputs: () => [logits([4, 4], 73)],
    f: (x) => F.nllLoss(F.logSoftmax(x, 1), labels([3, 1, 1, 0]), { weight: weights() }),
  },
  ...reductions.map((reduction) => ({
    name: `multiMarginLoss p=2 margin 0.7, ${reduction}`,
    inputs: () => [logits([4, 5], 74)],
    f: (x: Tensor) => F.multiMarginLoss(x, labels([0, 4, 2, 2]), { p: 2, margin: 0.7, reduction }),
  })),
  {
    name: "multiMarginLoss p=1 with weight",
    inputs: () => [logits([4, 4], 75)],
    f: (x) => F.multiMarginLoss(x, labels([0, 3, 2, 1]), { weight: weights() }),
  },
  {
    name: "smoothL1Loss beta 0.5 (input and target)",
    inputs: () => [logits([3, 4], 76), logits([3, 4], 77)],
    f: (x, t) => F.smoothL1Loss(x, t, { beta: 0.5 }),
  },
  {
    name: "huberLoss delta 0.8, none",
    inputs: () => [logits([3, 4], 78), logits([3, 4], 79)],
    f: (x, t) => F.huberLoss(x, t, { delta: 0.8, reduction: "none" }),
  },
  {
    name: "klDiv batchmean (input and target)",
    inputs: () => [F.logSoftmax(logits([3, 4], 80), 1), probabilities([3, 4], 81)],
    f: (x, t) => F.klDiv(x, t, { reduction: "batchmean" }),
  },
  {
    name: "klDiv logTarget, sum",
    inputs: () => [F.logSoftmax(logits([3, 4], 82), 1), F.logSoftmax(logits([3, 4], 83), 1)],
    f: (x, t) => F.klDiv(x, t, { reduction: "sum", logTarget: true }),
  },
]);

test("crossEntropy with class weights divides by the weights of the counted targets (torch's mean)", () => {
  const x = f64([
    [1, 2, 0.5, -1],
    [0.3, -0.2, 2, 1],
    [2, 1, 0, -1],
  ]);
  const w = weights();
  const perRow = naiveCrossEntropy(x.toList() as number[][], [1, 2, 0]);
  const wv = [2, 1, 0.5];
  const expected = (perRow[0] * wv[0] + perRow[2] * wv[2]) / (wv[0] + wv[2]);
  const loss = F.crossEntropy(x, labels([1, -100, 0]), { weight: w }).item();
  assert.ok(Math.abs(loss - expected) < 1e-12, `${loss} vs ${expected}`);
  const none = F.crossEntropy(x, labels([1, 7, 0]), { ignoreIndex: 7, reduction: "none" }).toArray();
  assert.equal(Math.abs(none[1]), 0);
  assert.ok(Math.abs(none[0] - perRow[0]) < 1e-12);
});

test("multiMarginLoss is ConvNetJS's SVM loss: Σ_{j≠y} max(0, 1 - x_y + x_j) / C", () => {
  const x = f64([[3, 2.5, -1, 4]]);
  const expected = (Math.max(0, 1 - 3 + 2.5) + 0 + Math.max(0, 1 - 3 + 4)) / 4;
  assert.ok(Math.abs(F.multiMarginLoss(x, labels([0])).item() - expected) < 1e-12);
});

test("smoothL1Loss, huberLoss and klDiv follow their definitions; 0·log 0 counts as 0", () => {
  const a = tensor([0, 0.3, 2, -3], undefined, { dtype: "float64" });
  const b = tensor([0, 0, 0, 0], undefined, { dtype: "float64" });
  assert.deepEqual(Array.from(F.smoothL1Loss(a, b, { reduction: "none" }).toArray()), [0, 0.045, 1.5, 2.5]);
  assert.deepEqual(
    Array.from(F.smoothL1Loss(a, b, { beta: 0, reduction: "none" }).toArray()),
    [0, 0.3, 2, 3],
  );
  assert.deepEqual(
    Array.from(F.huberLoss(a, b, { delta: 2, reduction: "none" }).toArray()),
    [0, 0.045, 2, 4],
  );
  const t = tensor([[0, 1]], undefined, { dtype: "float64", requiresGrad: true });
  const kl = F.klDiv(tensor([[Math.log(0.5), Math.log(0.5)]], undefined, { dtype: "float64" }), t, {
    reduction: "sum",
  });
  assert.ok(Math.abs(kl.item() - Math.log(2)) < 1e-12);
  kl.backward();
  assert.ok(t.grad!.toArray().every(Number.isFinite), "no NaN from 0·log 0 in the target's gradient");
});

test("errors: the issue-15 losses name the op and the bad argument", () => {
  const x = f32([3, 4]);
  assert.throws(
    () => F.crossEntropy(x, labels([0, 1, 2]), { weight: f32([3]) }),
    /crossEntropy: weight \[3\] must have one value per class, \[4\], for input \[3,4\]/,
  );
  assert.throws(
    () => F.crossEntropy(x, labels([0, -100, 9])),
    /crossEntropy: label 9 at position 2 is out of range for 4 classes \(input \[3,4\]\)/,
  );
  assert.throws(
    () => F.crossEntropy(x, labels([0, 1, 2]), { ignoreIndex: 0.5 }),
    /crossEntropy: ignoreIndex must be an integer, got 0.5/,
  );
  assert.throws(
    () => F.nllLoss(x, labels([0, 1, 2]), { weight: f32([2]) }),
    /nllLoss: weight \[2\] must have one value per class/,
  );
  assert.throws(
    () => F.multiMarginLoss(x, labels([0, 1, 2]), { p: 3 as 1 }),
    /multiMarginLoss: p must be 1 or 2, got 3/,
  );
  assert.throws(
    () => F.multiMarginLoss(f32([3, 4, 2]), labels([0, 1, 2])),
    /multiMarginLoss: input must be \[N, C\], got \[3,4,2\]/,
  );
  assert.throws(
    () => F.multiMarginLoss(x, labels([0, 1, 5])),
    /multiMarginLoss: label 5 at position 2 is out of range/,
  );
  assert.throws(
    () => F.smoothL1Loss(x, x, { beta: -1 }),
    /smoothL1Loss: beta must be a non-negative number, got -1/,
  );
  assert.throws(() => F.huberLoss(x, x, { delta: 0 }), /huberLoss: delta must be a positive number, got 0/);
  assert.throws(
    () => F.huberLoss(x, f32([4])),
    /huberLoss: input \[3,4\] and target \[4\] must have the same shape/,
  );
  assert.throws(
    () => F.klDiv(x, x, { reduction: "avg" as "mean" }),
    /klDiv: reduction must be 'mean', 'batchmean', 'sum' or 'none', got 'avg'/,
  );
});
