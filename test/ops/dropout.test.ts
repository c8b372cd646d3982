// Dropout: gradient check with a fixed mask (the same seeded generator for every evaluation), the inverted
// scaling and keep rate on a large sample, the identity cases, reproducibility and errors.

import { test } from "node:test";
import assert from "node:assert/strict";
import * as F from "../../src/ops/index.js";
import { Rng, manualSeed } from "../../src/tensor/rng.js";
import { tensor } from "../../src/tensor/tensor.js";
import { gradcheckCases, randomInput } from "../helpers/gradcheck.js";

gradcheckCases("dropout", [
  {
    name: "dropout p=0.3 with a seeded mask",
    inputs: () => [randomInput([4, 5])],
    f: (x) => F.dropout(x, 0.3, { rng: new Rng(42) }),
  },
  {
    name: "dropout p=0.5 on 4-D input",
    inputs: () => [randomInput([2, 2, 3, 3])],
    f: (x) => F.dropout(x, 0.5, { rng: new Rng(7) }),
  },
]);

test("dropout zeroes a fraction p and scales survivors by 1/(1-p)", () => {
  const n = 20000;
  const p = 0.3;
  const y = F.dropout(tensor(new Float64Array(n).fill(1)), p, { rng: new Rng(1) }).toArray();
  let zeros = 0;
  for (const v of y) {
    if (v === 0) zeros++;
    else assert.ok(Math.abs(v - 1 / (1 - p)) < 1e-12);
  }
  // Binomial standard deviation is sqrt(n·p·(1-p)) ≈ 65 elements; allow 5 of them.
  assert.ok(Math.abs(zeros - n * p) < 5 * Math.sqrt(n * p * (1 - p)), `${zeros} zeros`);
});

test("dropout gradient is the same mask times the scale", () => {
  const x = tensor(new Float64Array(50).fill(2), [50], { requiresGrad: true });
  const y = F.dropout(x, 0.4, { rng: new Rng(3) });
  y.sum().backward();
  const yv = y.toArray();
  const g = x.grad!.toArray();
  yv.forEach((v, i) => assert.equal(g[i], v / 2));
});

test("dropout is the identity in eval mode and for p = 0, and zero for p = 1", () => {
  const x = randomInput([3, 3]);
  assert.equal(F.dropout(x, 0.5, { training: false }), x);
  assert.equal(F.dropout(x, 0), x);
  assert.ok(
    F.dropout(x, 1)
      .toArray()
      .every((v) => v === 0),
  );
});

test("dropout with the global generator is reproducible after manualSeed", () => {
  const x = randomInput([100]);
  manualSeed(123);
  const a = F.dropout(x, 0.5).toArray();
  manualSeed(123);
  const b = F.dropout(x, 0.5).toArray();
  assert.deepEqual(a, b);
  const c = F.dropout(x, 0.5).toArray();
  assert.notDeepEqual(a, c);
});

test("errors: dropout probability out of range and int32 input", () => {
  const x = randomInput([2]);
  assert.throws(() => F.dropout(x, 1.5), /dropout: probability p must be in \[0, 1\], got 1.5/);
  assert.throws(() => F.dropout(x, -0.1), /dropout: probability p must be in \[0, 1\], got -0.1/);
  assert.throws(() => F.dropout(x, NaN), /dropout: probability p must be in \[0, 1\], got NaN/);
  assert.throws(
    () => F.dropout(tensor(new Int32Array(2), [2]), 0.5),
    /dropout: input must be a float tensor, got int32 \[2\]/,
  );
});

test("dropout scaleAtTest (the mean network): unscaled survivors in training, x·(1-p) in evaluation", () => {
  const x = tensor(new Float32Array(10000).fill(2), [10000]);
  const y = F.dropout(x, 0.25, { rng: new Rng(3), scaleAtTest: true }).toArray();
  const kept = y.filter((v) => v !== 0);
  assert.ok(
    kept.every((v) => v === 2),
    "survivors keep their value",
  );
  assert.ok(Math.abs(kept.length / 10000 - 0.75) < 0.02, `keep rate ${kept.length / 10000}`);
  assert.deepEqual(
    Array.from(F.dropout(tensor([2, 4]), 0.25, { training: false, scaleAtTest: true }).toArray()),
    [1.5, 3],
  );
  const plain = tensor([2, 4]);
  assert.equal(
    F.dropout(plain, 0.25, { training: false }),
    plain,
    "inverted dropout is the identity in eval",
  );
});

test("stochasticDepth: row mode keeps or drops whole samples, scaled by 1/(1-p); batch mode all at once", () => {
  const x = tensor(new Float32Array(400 * 6).fill(1), [400, 2, 3]);
  const y = F.stochasticDepth(x, 0.25, { rng: new Rng(5) }).toArray();
  let kept = 0;
  for (let n = 0; n < 400; n++) {
    const sample = Array.from(y.slice(n * 6, (n + 1) * 6));
    assert.ok(
      sample.every((v) => v === sample[0]),
      `sample ${n} is kept or dropped as a whole`,
    );
    assert.ok(sample[0] === 0 || Math.abs(sample[0] - 1 / 0.75) < 1e-6);
    if (sample[0] !== 0) kept++;
  }
  assert.ok(Math.abs(kept / 400 - 0.75) < 0.07, `survival ${kept / 400}`);
  const batch = Array.from(F.stochasticDepth(x, 0.5, { mode: "batch", rng: new Rng(1) }).toArray());
  assert.ok(batch.every((v) => v === batch[0]));
  assert.equal(F.stochasticDepth(x, 0.5, { training: false }), x);
  assert.deepEqual(Array.from(F.stochasticDepth(tensor([1, 2]), 1).toArray()), [0, 0]);
});

test("errors: stochasticDepth probability and mode", () => {
  const x = tensor([1, 2]);
  assert.throws(
    () => F.stochasticDepth(x, 1.5),
    /stochasticDepth: drop probability p must be in \[0, 1\], got 1.5/,
  );
  assert.throws(
    () => F.stochasticDepth(x, 0.1, { mode: "col" as "row" }),
    /stochasticDepth: mode must be 'row' or 'batch', got "col"/,
  );
});
