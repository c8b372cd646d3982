// Matrix products beyond the fixtures: gradient checks of matmul in every rank combination (2-D, batched
// 3-D, 2-D×3-D broadcast, vectors, 4-D), gemm with each transpose flag, and linear; forward values against a
// naive triple loop; and the validation errors.

import { test } from "node:test";
import assert from "node:assert/strict";
import * as F from "../../src/ops/index.js";
import { tensor, type Tensor } from "../../src/tensor/tensor.js";
import { gradcheckCases, randomInput, type GradCase } from "../helpers/gradcheck.js";
import { assertClose } from "../helpers/close.js";

const r =
  (shape: number[], seed = 1) =>
  () =>
    randomInput(shape, { seed });

function pair(
  name: string,
  aShape: number[],
  bShape: number[],
  f: (a: Tensor, b: Tensor) => Tensor,
): GradCase {
  return { name, inputs: () => [r(aShape, 1)(), r(bShape, 2)()], f };
}

const gemmCases: GradCase[] = [false, true].flatMap((transA) =>
  [false, true].flatMap((transB) => {
    const flags = `transA=${transA} transB=${transB}`;
    const a2 = transA ? [4, 3] : [3, 4];
    const b2 = transB ? [5, 4] : [4, 5];
    const gemm = (a: Tensor, b: Tensor) => F.gemm(a, b, transA, transB);
    return [
      pair(`gemm 2-D ${flags}`, a2, b2, gemm),
      pair(`gemm 3-D×3-D ${flags}`, [2, ...a2], [2, ...b2], gemm),
      pair(`gemm 2-D×3-D ${flags}`, a2, [2, ...b2], gemm),
      pair(`gemm 3-D×2-D ${flags}`, [2, ...a2], b2, gemm),
    ];
  }),
);

gradcheckCases("matmul", [
  pair("matmul 2-D", [3, 4], [4, 5], F.matmul),
  pair("matmul batched 3-D", [2, 3, 4], [2, 4, 5], F.matmul),
  pair("matmul 2-D × 3-D (broadcast a)", [3, 4], [2, 4, 5], F.matmul),
  pair("matmul 3-D × 2-D (broadcast b)", [2, 3, 4], [4, 5], F.matmul),
  pair("matmul batch 1 × batch 3 (broadcast)", [1, 3, 4], [3, 4, 2], F.matmul),
  pair("matmul vector · vector", [4], [4], F.matmul),
  pair("matmul vector · matrix", [4], [4, 3], F.matmul),
  pair("matmul matrix · vector", [3, 4], [4], F.matmul),
  pair("matmul vector · batched", [4], [2, 4, 3], F.matmul),
  pair("matmul batched · vector", [2, 3, 4], [4], F.matmul),
  pair("matmul 4-D × 2-D", [2, 2, 3, 4], [4, 2], F.matmul),
  pair("matmul 4-D × 4-D", [2, 2, 3, 4], [2, 2, 4, 2], F.matmul),
  pair("matmul 4-D × 3-D (broadcast)", [2, 2, 3, 4], [2, 4, 2], F.matmul),
  pair("matmul 2-D × 4-D", [3, 4], [2, 2, 4, 2], F.matmul),
  pair("matmul [2,1,3,4] × [3,4,2] (batch broadcast both ways)", [2, 1, 3, 4], [3, 4, 2], F.matmul),
  pair("Tensor.matmul method", [3, 4], [4, 2], (a, b) => a.matmul(b)),
  ...gemmCases,
  {
    name: "linear 2-D with bias",
    inputs: () => [r([3, 4])(), r([5, 4], 2)(), r([5], 3)()],
    f: (x, w, b) => F.linear(x, w, b),
  },
  { name: "linear no bias", inputs: () => [r([3, 4])(), r([5, 4], 2)()], f: (x, w) => F.linear(x, w) },
  {
    name: "linear 3-D input",
    inputs: () => [r([2, 3, 4])(), r([5, 4], 2)(), r([5], 3)()],
    f: (x, w, b) => F.linear(x, w, b),
  },
  {
    name: "linear 1-D input",
    inputs: () => [r([4])(), r([2, 4], 2)(), r([2], 3)()],
    f: (x, w, b) => F.linear(x, w, b),
  },
]);

/** Naive product of [..., m, k] and [k, n] read straight from the flat data. */
function naiveMatmul(a: Tensor, b: Tensor): number[] {
  const [m, k] = a.shape.slice(-2);
  const n = b.shape[1];
  const batches = a.size / (m * k);
  const av = a.toArray();
  const bv = b.toArray();
  const out: number[] = [];
  for (let t = 0; t < batches; t++)
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += av[t * m * k + i * k + p] * bv[p * n + j];
        out.push(s);
      }
  return out;
}

test("matmul matches a naive loop for 2-D, 3-D×2-D and 4-D×2-D", () => {
  const b = randomInput([4, 3], { seed: 9 });
  for (const shape of [
    [5, 4],
    [2, 5, 4],
    [2, 2, 5, 4],
  ]) {
    const a = randomInput(shape, { seed: 8 });
    const y = F.matmul(a, b);
    assert.deepEqual(y.shape, [...shape.slice(0, -1), 3]);
    assertClose(y.toArray(), naiveMatmul(a, b), { atol: 1e-12, rtol: 0 }, `[${shape}]`);
  }
});

test("gemm transpose flags equal an explicit transpose", () => {
  const a = randomInput([4, 3], { seed: 1 });
  const b = randomInput([5, 4], { seed: 2 });
  const want = F.matmul(F.transpose(a, 0, 1), F.transpose(b, 0, 1));
  assertClose(F.gemm(a, b, true, true).toArray(), want.toArray(), { atol: 1e-12, rtol: 0 }, "gemm(aᵀ, bᵀ)");
});

test("broadcast batch matmul equals a matmul per batch entry", () => {
  const a = randomInput([1, 3, 4], { seed: 1 });
  const b = randomInput([2, 4, 2], { seed: 2 });
  const y = F.matmul(a, b);
  assert.deepEqual(y.shape, [2, 3, 2]);
  for (let i = 0; i < 2; i++) {
    const want = F.matmul(F.reshape(a, [3, 4]), F.reshape(F.slice(b, 0, i, i + 1), [4, 2]));
    assertClose(F.slice(y, 0, i, i + 1).toArray(), want.toArray(), { atol: 1e-12, rtol: 0 }, `batch ${i}`);
  }
  assert.deepEqual(F.matmul(randomInput([4]), randomInput([4])).shape, []);
});

test("linear computes x·Wᵀ + b", () => {
  const x = tensor([[1, 2]]);
  const w = tensor([
    [1, 0],
    [0, 1],
    [1, 1],
  ]);
  assert.deepEqual(F.linear(x, w, tensor([10, 20, 30])).toList(), [[11, 22, 33]]);
});

test("errors: matmul inner and batch mismatches show the caller's shapes", () => {
  const f32 = (shape: number[]) => tensor(new Float32Array(shape.reduce((p, d) => p * d, 1)), shape);
  assert.throws(
    () => F.matmul(f32([2, 3]), f32([4, 5])),
    /matmul: inner dimensions differ \(3 vs 4\) for \[2,3\] and \[4,5\]/,
  );
  assert.throws(
    () => F.matmul(f32([3]), f32([4])),
    /matmul: inner dimensions differ \(3 vs 4\) for \[3\] and \[4\]/,
  );
  assert.throws(
    () => F.matmul(f32([2, 2, 3, 4]), f32([2, 2, 5, 2])),
    /matmul: inner dimensions differ \(4 vs 5\) for \[2,2,3,4\] and \[2,2,5,2\]/,
  );
  assert.throws(
    () => F.matmul(f32([2, 3, 4]), f32([3, 4, 5])),
    /matmul: batch dims \[2\] and \[3\] do not broadcast for \[2,3,4\] and \[3,4,5\]/,
  );
  assert.throws(
    () => F.matmul(f32([2, 3, 3, 4]), f32([3, 2, 4, 5])),
    /matmul: batch dims \[2,3\] and \[3,2\] do not broadcast/,
  );
  assert.throws(
    () => F.matmul(f32([]), f32([2])),
    /matmul: operands must be at least 1-D, got \[\] and \[2\]/,
  );
  assert.throws(
    () => F.gemm(f32([2, 3]), f32([2, 3]), false, false),
    /matmul: inner dimensions differ \(3 vs 2\) for \[2,3\] and \[2,3\]/,
  );
  assert.throws(
    () => F.gemm(f32([2, 3]), f32([2, 3]), true, true),
    /matmul: inner dimensions differ \(2 vs 3\) for \[2,3\]ᵀ and \[2,3\]ᵀ/,
  );
  assert.throws(() => F.gemm(f32([2, 2, 3]), f32([3, 3, 2])), /matmul: batch sizes differ \(2 vs 3\)/);
  assert.throws(
    () => F.gemm(f32([3]), f32([3, 2])),
    /matmul: operands must be 2-D or 3-D, got \[3\] and \[3,2\]/,
  );
});

test("errors: matmul of int32 or of mixed float dtypes", () => {
  const i = tensor(new Int32Array(4), [2, 2]);
  assert.throws(() => F.matmul(i, i), /matmul: input must be a float tensor, got int32 \[2,2\]/);
  const a = tensor(new Float32Array(4), [2, 2]);
  assert.throws(
    () => F.matmul(a, a.to("float64")),
    /matmul: dtypes differ \(float32 \[2,2\] and float64 \[2,2\]\)/,
  );
});

test("errors: linear weight, feature and bias mismatches", () => {
  const x = tensor(new Float32Array(6), [2, 3]);
  const w = tensor(new Float32Array(12), [4, 3]);
  assert.throws(
    () => F.linear(x, tensor(new Float32Array(12), [3, 4])),
    /linear: input \[2,3\] has 3 features but weight \[3,4\] expects 4/,
  );
  assert.throws(
    () => F.linear(x, tensor(new Float32Array(3), [3])),
    /linear: weight must be 2-D \[out, in\], got \[3\]/,
  );
  assert.throws(
    () => F.linear(x, w, tensor(new Float32Array(3), [3])),
    /linear: bias \[3\] does not match weight \[4,3\] \(expected \[4\]\)/,
  );
});

test("matmul broadcasts leading batch dims like torch: [2,1,3,4] · [5,4,6] -> [2,5,3,6]", () => {
  const a = randomInput([2, 1, 3, 4], { seed: 1 });
  const b = randomInput([5, 4, 6], { seed: 2 });
  const y = F.matmul(a, b);
  assert.deepEqual(y.shape, [2, 5, 3, 6]);
  const at = (t: Tensor, i: number, dim: number) =>
    F.reshape(F.slice(t, dim, i, i + 1), [...t.shape.slice(dim + 1)]);
  for (let i = 0; i < 2; i++)
    for (let j = 0; j < 5; j++) {
      const want = F.matmul(at(at(a, i, 0), 0, 0), at(b, j, 0));
      assertClose(
        at(at(y, i, 0), j, 0).toArray(),
        want.toArray(),
        { atol: 1e-12, rtol: 0 },
        `batch (${i}, ${j})`,
      );
    }
});
