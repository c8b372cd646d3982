// Tensor creation and read-out: shapes and dtypes of every creation function, seeded random tensors
// (reproducibility and the moments of large samples), arange, nested arrays, toArray/toList/item, assign,
// dtype casts and the errors on malformed input.

import { test } from "node:test";
import assert from "node:assert/strict";
import {
  Tensor,
  arange,
  full,
  ones,
  onesLike,
  rand,
  randint,
  randn,
  scalar,
  tensor,
  zeros,
  zerosLike,
} from "../../src/tensor/tensor.js";
import { Rng, manualSeed } from "../../src/tensor/rng.js";
import { getBackend } from "../../src/backend/registry.js";
import * as F from "../../src/ops/index.js";

function moments(values: ArrayLike<number>): { mean: number; std: number } {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i];
  const mean = s / values.length;
  let ss = 0;
  for (let i = 0; i < values.length; i++) ss += (values[i] - mean) ** 2;
  return { mean, std: Math.sqrt(ss / (values.length - 1)) };
}

test("zeros, ones and full give the requested shape, dtype and value", () => {
  const z = zeros([2, 3]);
  assert.deepEqual(z.shape, [2, 3]);
  assert.equal(z.dtype, "float32");
  assert.ok(z.toArray() instanceof Float32Array);
  assert.deepEqual(Array.from(z.toArray()), [0, 0, 0, 0, 0, 0]);
  const o = ones([4], { dtype: "float64" });
  assert.ok(o.toArray() instanceof Float64Array);
  assert.deepEqual(Array.from(o.toArray()), [1, 1, 1, 1]);
  const f = full([2, 1, 2], 7, { dtype: "int32" });
  assert.ok(f.toArray() instanceof Int32Array);
  assert.deepEqual(f.toList(), [[[7, 7]], [[7, 7]]]);
  assert.equal(zeros([0, 3]).size, 0);
  const s = scalar(2.5);
  assert.deepEqual(s.shape, []);
  assert.equal(s.ndim, 0);
  assert.equal(s.item(), 2.5);
  const like = zerosLike(o);
  assert.equal(like.dtype, "float64");
  assert.deepEqual(like.shape, [4]);
  assert.deepEqual(Array.from(onesLike(f).toArray()), [1, 1, 1, 1]);
  assert.equal(ones([2], { requiresGrad: true }).requiresGrad, true);
});

test("tensor infers shapes from nested arrays and keeps typed-array dtypes", () => {
  const t = tensor([
    [1, 2, 3],
    [4, 5, 6],
  ]);
  assert.deepEqual(t.shape, [2, 3]);
  assert.equal(t.dtype, "float32");
  assert.deepEqual(tensor(7).shape, []);
  assert.deepEqual(tensor([[[1], [2]]]).shape, [1, 2, 1]);
  assert.deepEqual(tensor([]).shape, [0]);
  assert.equal(tensor(new Int32Array([1, 2])).dtype, "int32");
  assert.equal(tensor(new Float64Array([1, 2])).dtype, "float64");
  assert.equal(tensor([1, 2], undefined, { dtype: "float64" }).dtype, "float64");
  const reshaped = tensor([1, 2, 3, 4, 5, 6], [3, 2]);
  assert.deepEqual(reshaped.toList(), [
    [1, 2],
    [3, 4],
    [5, 6],
  ]);
  // The tensor owns a copy: later writes to the source array do not leak in.
  const source = new Float32Array([1, 2]);
  const copy = tensor(source);
  source[0] = 99;
  assert.equal(copy.toArray()[0], 1);
});

test("errors: ragged nested arrays, value counts and bad shapes", () => {
  assert.throws(() => tensor([[1, 2], [3]]), /tensor: ragged nested array; expected shape \[2,2\]/);
  assert.throws(() => tensor([[1, 2], 3]), /tensor: ragged nested array; expected shape \[2,2\]/);
  assert.throws(() => tensor([1, [2]]), /tensor: ragged nested array; expected shape \[2\]/);
  assert.throws(() => tensor([1, 2, 3], [2, 2]), /tensor: 3 values do not fill shape \[2,2\] \(4 elements\)/);
  assert.throws(() => zeros([2, -1]), /full: shape \[2,-1\] must hold non-negative integers/);
  assert.throws(() => ones([1.5]), /full: shape \[1.5\] must hold non-negative integers/);
  assert.throws(() => rand([-2]), /rand: shape \[-2\] must hold non-negative integers/);
  const backend = getBackend();
  assert.throws(
    () => new Tensor(backend.fromArray(new Float32Array(3)), [2, 2], backend),
    /Tensor: storage holds 3 elements but shape \[2,2\] needs 4/,
  );
});

test("toArray returns a copy, toList nests by shape, item reads one element", () => {
  const t = tensor([
    [1, 2],
    [3, 4],
  ]);
  const a = t.toArray();
  a[0] = 100;
  assert.equal(t.toArray()[0], 1);
  assert.deepEqual(t.toList(), [
    [1, 2],
    [3, 4],
  ]);
  assert.equal(scalar(3).toList(), 3);
  assert.equal(tensor([[5]]).item(), 5);
  assert.throws(() => t.item(), /item: tensor of shape \[2,2\] has 4 elements, not 1/);
  assert.equal(String(t), "Tensor(shape=[2,2], dtype=float32)");
});

test("rand and randn are reproducible under manualSeed and with an explicit generator", () => {
  manualSeed(2024);
  const a = rand([50]).toArray();
  const b = randn([50]).toArray();
  manualSeed(2024);
  assert.deepEqual(rand([50]).toArray(), a);
  assert.deepEqual(randn([50]).toArray(), b);
  assert.notDeepEqual(rand([50]).toArray(), a);
  const g1 = rand([20], { rng: new Rng(5) }).toArray();
  const g2 = rand([20], { rng: new Rng(5) }).toArray();
  assert.deepEqual(g1, g2);
  assert.notDeepEqual(rand([20], { rng: new Rng(6) }).toArray(), g1);
});

test("rand is uniform on [low, high): mean, std and range of 100k samples", () => {
  const n = 100_000;
  const u = rand([n], { rng: new Rng(1), dtype: "float64" }).toArray();
  const { mean, std } = moments(u);
  // Standard error of the mean is 0.289/sqrt(n) ≈ 9e-4; allow 5 of them.
  assert.ok(Math.abs(mean - 0.5) < 5e-3, `mean ${mean}`);
  assert.ok(Math.abs(std - Math.sqrt(1 / 12)) < 5e-3, `std ${std}`);
  assert.ok(u.every((v) => v >= 0 && v < 1));
  const r = rand([n], { rng: new Rng(2), low: -3, high: 5 }).toArray();
  assert.ok(r.every((v) => v >= -3 && v < 5));
  assert.ok(Math.abs(moments(r).mean - 1) < 0.05);
});

test("randn is normal: mean, std and tail mass of 100k samples", () => {
  const n = 100_000;
  const z = randn([n], { rng: new Rng(3), dtype: "float64" }).toArray();
  const { mean, std } = moments(z);
  assert.ok(Math.abs(mean) < 0.02, `mean ${mean}`);
  assert.ok(Math.abs(std - 1) < 0.02, `std ${std}`);
  // P(|z| > 1.96) = 0.05; binomial sd ≈ 6.9e-4.
  const tail = z.filter((v) => Math.abs(v) > 1.96).length / n;
  assert.ok(Math.abs(tail - 0.05) < 0.004, `tail ${tail}`);
  const shifted = moments(randn([n], { rng: new Rng(4), mean: 3, std: 0.5 }).toArray());
  assert.ok(Math.abs(shifted.mean - 3) < 0.02 && Math.abs(shifted.std - 0.5) < 0.01);
});

test("randint draws int32 values in [low, high) covering every value", () => {
  const r = randint(-2, 3, [4000], { rng: new Rng(9) });
  assert.equal(r.dtype, "int32");
  const counts = new Map<number, number>();
  for (const v of r.toArray()) counts.set(v, (counts.get(v) ?? 0) + 1);
  assert.deepEqual(
    [...counts.keys()].sort((a, b) => a - b),
    [-2, -1, 0, 1, 2],
  );
  for (const c of counts.values()) assert.ok(Math.abs(c - 800) < 120, `count ${c}`);
  assert.throws(() => randint(3, 3, [2]), /randint: need integers low < high, got low 3 and high 3/);
  assert.throws(() => randint(0, 2.5, [2]), /randint: need integers low < high/);
});

test("errors: random float tensors with an int dtype or non-finite parameters", () => {
  assert.throws(() => rand([2], { dtype: "int32" }), /rand: dtype must be float32 or float64, got int32/);
  assert.throws(() => randn([2], { dtype: "int32" }), /randn: dtype must be float32 or float64, got int32/);
  assert.throws(() => rand([2], { low: NaN }), /rand: low NaN and high 1 must be finite/);
  assert.throws(() => randn([2], { std: Infinity }), /randn: mean 0 and std Infinity must be finite/);
});

test("arange counts from start below end by step", () => {
  assert.deepEqual(Array.from(arange(5).toArray()), [0, 1, 2, 3, 4]);
  assert.deepEqual(Array.from(arange(2, 5).toArray()), [2, 3, 4]);
  assert.deepEqual(Array.from(arange(0, 1, 0.25, { dtype: "float64" }).toArray()), [0, 0.25, 0.5, 0.75]);
  assert.deepEqual(Array.from(arange(5, 0, -2).toArray()), [5, 3, 1]);
  assert.deepEqual(arange(3, 1).shape, [0]);
  assert.equal(arange(4, undefined, 1, { dtype: "int32" }).dtype, "int32");
  assert.throws(() => arange(0, 3, 0), /arange: step must not be 0/);
  assert.throws(() => arange(0, Infinity), /arange: start 0, end Infinity and step 1 must be finite/);
});

test("to() casts between dtypes (truncating toward zero into int32)", () => {
  const t = tensor([1.7, -1.7, 2]);
  assert.deepEqual(Array.from(t.to("int32").toArray()), [1, -1, 2]);
  const d = t.to("float64");
  assert.equal(d.dtype, "float64");
  assert.ok(Math.abs(d.toArray()[0] - 1.7) < 1e-6);
  assert.equal(t.to("float32"), t);
});

test("assign replaces a leaf's values in place and validates shape and leafness", () => {
  const p = tensor([1, 2, 3], undefined, { requiresGrad: true });
  p.assign(tensor([4, 5, 6], undefined, { dtype: "float64" }));
  assert.equal(p.dtype, "float32");
  assert.deepEqual(Array.from(p.toArray()), [4, 5, 6]);
  assert.equal(p.requiresGrad, true);
  assert.throws(
    () => p.assign(tensor([1, 2])),
    /assign: value shape \[2\] does not match tensor shape \[3\]/,
  );
  const y = F.mul(p, 2);
  assert.throws(() => y.assign(tensor([1, 2, 3])), /assign: only leaf tensors can be assigned/);
});

test("Rng state round-trips through JSON mid Box–Muller pair", () => {
  const a = new Rng(42);
  a.normal(); // leaves the pair's second value cached
  const saved = JSON.parse(JSON.stringify(a.getState())) as (number | null)[];
  const expected = [a.normal(), a.normal(), a.uniform()];
  const b = new Rng(7);
  b.setState(saved);
  assert.deepEqual([b.normal(), b.normal(), b.uniform()], expected);
  assert.throws(() => b.setState([1, 2]), /expected 4 state words/);
});
