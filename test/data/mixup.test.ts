// Mixup and its samplers: Gamma and Beta draws match their means and variances, mixed targets are
// probability rows with λ on the sample's class and 1 − λ on its partner's, the mixed image is exactly
// λ·a + (1 − λ)·b for that partner, and the soft targets train through F.crossEntropy.

import { test } from "node:test";
import assert from "node:assert/strict";
import { F, Rng, tensor } from "../../src/index.js";
import { mixup, sampleBeta, sampleGamma } from "../../src/data/index.js";
import { makeBatch, sampleOf } from "./batch-helpers.js";

function moments(draw: () => number, n: number): { mean: number; variance: number } {
  let sum = 0;
  let sumSq = 0;
  for (let i = 0; i < n; i++) {
    const v = draw();
    assert.ok(Number.isFinite(v));
    sum += v;
    sumSq += v * v;
  }
  const mean = sum / n;
  return { mean, variance: sumSq / n - mean * mean };
}

test("Gamma(k) has mean k and variance k; Beta(a, b) has mean a/(a+b) and variance ab/((a+b)²(a+b+1))", () => {
  const rng = new Rng(17);
  for (const k of [0.3, 1, 4.5]) {
    const { mean, variance } = moments(() => sampleGamma(rng, k), 40000);
    assert.ok(Math.abs(mean - k) < 0.04 * Math.max(1, k), `Gamma(${k}) mean ${mean}`);
    assert.ok(Math.abs(variance - k) < 0.08 * Math.max(1, k), `Gamma(${k}) variance ${variance}`);
  }
  for (const [a, b] of [
    [0.2, 0.2],
    [2, 5],
    [0.05, 0.05],
  ]) {
    const { mean, variance } = moments(() => sampleBeta(rng, a, b), 40000);
    const s = a + b;
    assert.ok(Math.abs(mean - a / s) < 0.01, `Beta(${a},${b}) mean ${mean}`);
    assert.ok(
      Math.abs(variance - (a * b) / (s * s * (s + 1))) < 0.006,
      `Beta(${a},${b}) variance ${variance}`,
    );
  }
  assert.throws(() => sampleGamma(rng, 0), /shape must be positive, got 0/);
});

test("mixup: rows sum to 1, the image is λ·a + (1 − λ)·b for the partner the targets name", () => {
  const n = 6;
  // Sample i has class i and a distinct image, so each target row identifies λ and the partner.
  const make = () => {
    const b = makeBatch([n, 2, 3, 3], (s, ch, y, x) => Math.cos(s * 1.3 + ch + 0.4 * y + 0.9 * x), n);
    b.y = Int32Array.from({ length: n }, (_, i) => i);
    return b;
  };
  const original = make();
  let partnersSeen = 0;
  for (let seed = 0; seed < 5; seed++) {
    const mixed = mixup(0.4)(make(), new Rng(seed));
    const targets = mixed.targets!;
    assert.equal(targets.length, n * n);
    let lam: number | null = null;
    for (let i = 0; i < n; i++) {
      const row = targets.subarray(i * n, (i + 1) * n);
      assert.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-6);
      const own = row[i];
      const others = [...row.keys()].filter((j) => j !== i && row[j] > 0);
      assert.ok(others.length <= 1);
      if (others.length === 0) {
        assert.ok(Math.abs(own - 1) < 1e-6);
        assert.deepEqual(sampleOf(mixed, i), sampleOf(original, i), "paired with itself: unchanged");
        continue;
      }
      partnersSeen++;
      const j = others[0];
      lam ??= own;
      assert.ok(Math.abs(own - lam) < 1e-6, "one λ per batch");
      const a = sampleOf(original, i);
      const b = sampleOf(original, j);
      sampleOf(mixed, i).forEach((v, p) => assert.ok(Math.abs(v - (lam! * a[p] + (1 - lam!) * b[p])) < 1e-6));
    }
  }
  assert.ok(partnersSeen > 10);
});

test("mixup with α = 0 gives one-hot soft targets, and soft targets feed F.crossEntropy", () => {
  const batch = mixup(0)(
    makeBatch([4, 1, 2, 2], (s) => s, 3),
    new Rng(0),
  );
  assert.deepEqual([...batch.targets!], [1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 0, 0]);
  assert.deepEqual([...batch.x], [...makeBatch([4, 1, 2, 2], (s) => s, 3).x]);
  // With one-hot soft targets, cross-entropy equals the class-index form.
  const logits = tensor([
    [1, 2, 0.5],
    [0.1, -1, 3],
    [2, 2, 2],
    [0, 1, 0],
  ]);
  const soft = F.crossEntropy(logits, tensor(batch.targets!, [4, 3])).item();
  const hard = F.crossEntropy(logits, tensor(batch.y, [4], { dtype: "int32" })).item();
  assert.ok(Math.abs(soft - hard) < 1e-6);
  assert.throws(
    () =>
      mixup(0.2)(
        makeBatch([2, 1, 1, 1], () => 0, 0),
        new Rng(0),
      ),
    /number of classes must be positive/,
  );
  assert.throws(() => mixup(-1), /alpha must be ≥ 0/);
});
