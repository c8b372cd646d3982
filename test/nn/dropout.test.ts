// Dropout layers: identity in eval, the zeroed fraction close to p in training with survivors scaled by
// 1/(1-p), whole channels for Dropout2d, reproducibility under manualSeed and a private generator.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { manualSeed, nn, ones, randn, Rng } from "../../src/index.js";
import { runLayerTest } from "../helpers/layer.js";

describe("Dropout", () => {
  runLayerTest("Dropout(0.5)", {
    make: () => new nn.Dropout(0.5),
    inputs: () => [randn([4, 32], { rng: new Rng(3) })],
    outputShape: [4, 32],
    params: [],
    paramCount: 0,
    modeDependent: true,
  });

  it("is the identity in eval mode", () => {
    const x = randn([8, 16]);
    const drop = new nn.Dropout(0.7).eval();
    assert.equal(drop.forward(x), x);
  });

  it("zeroes a fraction p in training and scales the survivors by 1/(1-p)", () => {
    manualSeed(5);
    for (const p of [0.1, 0.3, 0.5, 0.8]) {
      const n = 100_000;
      const y = new nn.Dropout(p).forward(ones([100, n / 100])).toArray();
      const scale = Math.fround(1 / (1 - p));
      let zeros = 0;
      for (const v of y) {
        if (v === 0) zeros++;
        else assert.equal(v, scale);
      }
      // The zero count is Binomial(n, p): its standard error is sqrt(p(1-p)/n) ≤ 0.0016; allow 5 of them.
      const se = Math.sqrt((p * (1 - p)) / n);
      assert.ok(Math.abs(zeros / n - p) < 5 * se, `p=${p}: zeroed ${zeros / n}`);
    }
  });

  it("draws the same mask after the same manualSeed, and a different one after another seed", () => {
    const x = randn([16, 64]);
    const drop = new nn.Dropout(0.5);
    manualSeed(42);
    const a = drop.forward(x).toArray();
    manualSeed(42);
    const b = drop.forward(x).toArray();
    manualSeed(43);
    const c = drop.forward(x).toArray();
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
    // A private generator is independent of the global one.
    const own = (seed: number) => new nn.Dropout(0.5, { rng: new Rng(seed) }).forward(x).toArray();
    manualSeed(1);
    const first = own(9);
    manualSeed(2);
    assert.deepEqual(own(9), first);
  });

  it("handles p = 0 and p = 1 and rejects p outside [0, 1]", () => {
    const x = randn([3, 5]);
    assert.deepEqual(new nn.Dropout(0).forward(x).toArray(), x.toArray());
    assert.ok([...new nn.Dropout(1).forward(x).toArray()].every((v) => v === 0));
    assert.throws(() => new nn.Dropout(1.5), /Dropout: probability p must be in \[0, 1\], got 1.5/);
    assert.throws(() => new nn.Dropout(-0.1), /Dropout: probability p must be in \[0, 1\]/);
  });
});

describe("Dropout2d", () => {
  runLayerTest("Dropout2d(0.5)", {
    make: () => new nn.Dropout2d(0.5),
    inputs: () => [randn([4, 8, 3, 3], { rng: new Rng(4) })],
    outputShape: [4, 8, 3, 3],
    params: [],
    paramCount: 0,
    modeDependent: true,
  });

  it("zeroes whole channels with probability p and scales the kept ones", () => {
    manualSeed(8);
    const p = 0.4;
    const [n, c, hw] = [32, 128, 4];
    const y = new nn.Dropout2d(p).forward(ones([n, c, 2, 2])).toArray();
    const scale = Math.fround(1 / (1 - p));
    let dropped = 0;
    for (let plane = 0; plane < n * c; plane++) {
      const values = new Set(y.slice(plane * hw, (plane + 1) * hw));
      assert.equal(values.size, 1, `plane ${plane} is partly dropped`);
      const [v] = values;
      assert.ok(v === 0 || v === scale);
      if (v === 0) dropped++;
    }
    const se = Math.sqrt((p * (1 - p)) / (n * c));
    assert.ok(Math.abs(dropped / (n * c) - p) < 5 * se, `dropped ${dropped / (n * c)}`);
  });

  it("is the identity in eval and names itself on a bad rank", () => {
    const x = randn([2, 3, 4, 4]);
    assert.equal(new nn.Dropout2d(0.3).eval().forward(x), x);
    assert.throws(
      () => new nn.Dropout2d(0.3).forward(randn([2, 3])),
      /Dropout2d: input must be \[N, C, H, W\] or \[C, H, W\], got \[2,3\]/,
    );
  });
});

describe("Dropout scaleAtTest (the mean network, issue 15)", () => {
  it("keeps survivors unscaled in training and multiplies by 1 - p in eval", () => {
    manualSeed(9);
    const drop = new nn.Dropout(0.2, { scaleAtTest: true });
    const y = drop.forward(ones([2000])).toArray();
    assert.ok(y.every((v) => v === 0 || v === 1));
    const evalOut = drop
      .eval()
      .forward(ones([3]))
      .toArray();
    assert.deepEqual(Array.from(evalOut), [0.8, 0.8, 0.8].map(Math.fround));
    assert.match(drop.toString(), /scaleAtTest=true/);
  });
});

runLayerTest("StochasticDepth(0.5)", {
  make: () => new nn.StochasticDepth(0.5, { rng: new Rng(3) }),
  inputs: () => [randn([16, 3, 2, 2], { rng: new Rng(4) })],
  outputShape: [16, 3, 2, 2],
  params: [],
  paramCount: 0,
  modeDependent: true,
});

describe("StochasticDepth (issue 15)", () => {
  it("errors: bad p and mode name the layer", () => {
    assert.throws(
      () => new nn.StochasticDepth(-0.1),
      /StochasticDepth: probability p must be in \[0, 1\], got -0.1/,
    );
    assert.throws(
      () => new nn.StochasticDepth(0.1, { mode: "x" as "row" }),
      /StochasticDepth: mode must be 'row' or 'batch', got "x"/,
    );
  });
});
