// Activation layers: the layer checks for a representative few, values against the defining formulas
// for every layer, and the shape rule of Maxout (values against torch are in fixtures.test.ts).

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { F, nn, randn, Rng, tensor, type Tensor } from "../../src/index.js";
import { runLayerTest } from "../helpers/layer.js";

const rng = new Rng(17);
const input = (shape: number[]) => randn(shape, { rng, std: 3 });

for (const [title, make] of [
  ["ReLU", () => new nn.ReLU()],
  ["LeakyReLU(0.2)", () => new nn.LeakyReLU(0.2)],
  ["GELU", () => new nn.GELU()],
  ["Softmax(1)", () => new nn.Softmax()],
] as const) {
  runLayerTest(title, {
    make,
    inputs: () => [input([3, 5, 2, 2])],
    outputShape: [3, 5, 2, 2],
    params: [],
    paramCount: 0,
  });
}

runLayerTest("Maxout(3)", {
  make: () => new nn.Maxout(3),
  inputs: () => [input([4, 12])],
  outputShape: [4, 4],
  params: [],
  paramCount: 0,
});

function assertElementwise(layer: nn.Module, f: (v: number) => number, tol = 1e-6): void {
  const x = input([2, 3, 4]);
  const y = (layer as unknown as { forward(t: Tensor): Tensor }).forward(x);
  assert.deepEqual(y.shape, x.shape);
  const xs = x.toArray();
  const ys = y.toArray();
  for (let i = 0; i < xs.length; i++) {
    const expected = f(xs[i]);
    assert.ok(
      Math.abs(ys[i] - expected) <= tol * (1 + Math.abs(expected)),
      `${layer}: f(${xs[i]}) = ${ys[i]}, expected ${expected}`,
    );
  }
}

/**
 * Φ(x) = (1 + erf(x/√2)) / 2 with erf's Maclaurin series, accurate to ~1e-10 for |x| ≤ 5; beyond, Φ is
 * within 3e-7 of 0 or 1, far below the tolerance on x·Φ(x).
 */
function normalCdf(x: number): number {
  if (Math.abs(x) > 5) return x > 0 ? 1 : 0;
  const z = x / Math.SQRT2;
  let sum = z;
  let term = z;
  for (let n = 1; n < 200; n++) {
    term *= (-z * z) / n;
    sum += term / (2 * n + 1);
  }
  return 0.5 * (1 + (2 / Math.sqrt(Math.PI)) * sum);
}

describe("activation layers", () => {
  it("compute their defining formulas elementwise", () => {
    const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));
    assertElementwise(new nn.ReLU(), (v) => Math.max(v, 0));
    assertElementwise(new nn.ReLU6(), (v) => Math.min(Math.max(v, 0), 6));
    assertElementwise(new nn.LeakyReLU(), (v) => (v > 0 ? v : 0.01 * v));
    assertElementwise(new nn.LeakyReLU(0.3), (v) => (v > 0 ? v : 0.3 * v));
    assertElementwise(new nn.Sigmoid(), sigmoid);
    assertElementwise(new nn.Tanh(), Math.tanh);
    assertElementwise(new nn.ELU(), (v) => (v > 0 ? v : Math.expm1(v)));
    assertElementwise(new nn.ELU(0.5), (v) => (v > 0 ? v : 0.5 * Math.expm1(v)));
    assertElementwise(new nn.SiLU(), (v) => v * sigmoid(v));
    assertElementwise(new nn.GELU(), (v) => v * normalCdf(v), 1e-5);
  });

  it("keep torch's defaults in readonly fields", () => {
    assert.equal(new nn.LeakyReLU().negativeSlope, 0.01);
    assert.equal(new nn.ELU().alpha, 1);
    assert.equal(new nn.Softmax().dim, 1);
    assert.equal(new nn.LogSoftmax().dim, 1);
    assert.equal(String(new nn.LeakyReLU(0.2)), "LeakyReLU(negativeSlope=0.2)");
  });

  it("Softmax gives rows summing to 1 and LogSoftmax their logarithm, along the chosen dim", () => {
    const x = input([4, 6]);
    const p = new nn.Softmax().forward(x);
    for (const s of F.sum(p, 1).toArray()) assert.ok(Math.abs(s - 1) < 1e-6);
    const logp = new nn.LogSoftmax().forward(x).toArray();
    p.toArray().forEach((v, i) => assert.ok(Math.abs(Math.log(v) - logp[i]) < 1e-5));
    const columns = new nn.Softmax(0).forward(x);
    for (const s of F.sum(columns, 0).toArray()) assert.ok(Math.abs(s - 1) < 1e-6);
  });

  it("Maxout takes the maximum over groups of consecutive channels", () => {
    const x = tensor([[1, 5, 2, 3, 9, 4]]);
    assert.deepEqual([...new nn.Maxout(2).forward(x).toArray()], [5, 3, 9]);
    assert.deepEqual([...new nn.Maxout(3).forward(x).toArray()], [5, 9]);
    assert.throws(
      () => new nn.Maxout(4).forward(x),
      /maxout: pieces=4 must divide the 6 channels of input \[1,6\]/,
    );
    assert.throws(() => new nn.Maxout(0), /Maxout: pieces must be a positive integer/);
  });
});

// Issue 15 layers.
// Successive layers start from different slopes, so that the state-dict round trip can tell them apart.
let preluCount = 0;
runLayerTest("PReLU({ numParameters: 5 })", {
  make: () => new nn.PReLU({ numParameters: 5, init: 0.1 * (1 + (preluCount++ % 5)) }),
  inputs: () => [input([3, 5, 2, 2])],
  outputShape: [3, 5, 2, 2],
  params: [["weight", [5]]],
  paramCount: 5,
});

for (const [title, make] of [
  ["Hardswish", () => new nn.Hardswish()],
  ["Softplus({ beta: 2 })", () => new nn.Softplus({ beta: 2 })],
  ["Mish", () => new nn.Mish()],
  ['GELU({ approximate: "tanh" })', () => new nn.GELU({ approximate: "tanh" })],
] as const) {
  runLayerTest(title, {
    make,
    inputs: () => [input([3, 4, 2])],
    outputShape: [3, 4, 2],
    params: [],
    paramCount: 0,
  });
}

describe("issue-15 activation layers", () => {
  it("PReLU starts at init and matches F.prelu; the other layers match their functions", () => {
    const prelu = new nn.PReLU({ numParameters: 3, init: 0.1 });
    assert.deepEqual(Array.from(prelu.weight.toArray()), [0.1, 0.1, 0.1].map(Math.fround));
    const x = input([2, 3, 4]);
    assert.deepEqual(prelu.forward(x).toArray(), F.prelu(x, prelu.weight).toArray());
    for (const [layer, f] of [
      [new nn.Hardswish(), F.hardswish],
      [new nn.Hardsigmoid(), F.hardsigmoid],
      [new nn.Mish(), F.mish],
      [new nn.Softplus({ beta: 3, threshold: 4 }), (t: Tensor) => F.softplus(t, { beta: 3, threshold: 4 })],
      [new nn.Sign(), (t: Tensor) => F.sign(t)],
      [new nn.Step(), (t: Tensor) => F.step(t)],
    ] as const) {
      assert.deepEqual(layer.forward(x).toArray(), f(x).toArray(), layer.constructor.name);
    }
  });

  it("Step with straightThrough trains the layer below it (a perceptron's weights get a gradient)", () => {
    const linear = new nn.Linear(2, 1);
    const model = new nn.Sequential(linear, new nn.Step({ straightThrough: true }));
    model
      .forward(tensor([[1, -2]]))
      .sum()
      .backward();
    assert.deepEqual(Array.from(linear.weight.grad!.toArray()), [1, -2]);
    const frozenLinear = new nn.Linear(2, 1);
    new nn.Sequential(frozenLinear, new nn.Step())
      .forward(tensor([[1, -2]]))
      .sum()
      .backward();
    assert.deepEqual(Array.from(frozenLinear.weight.grad!.toArray()), [0, 0]);
  });

  it("errors: bad options name the layer", () => {
    assert.throws(
      () => new nn.PReLU({ numParameters: 0 }),
      /PReLU: numParameters must be a positive integer, got 0/,
    );
    assert.throws(() => new nn.PReLU({ init: NaN }), /PReLU: init must be a finite number, got NaN/);
    assert.throws(() => new nn.Softplus({ beta: -1 }), /Softplus: beta must be a positive number, got -1/);
    assert.throws(
      () => new nn.GELU({ approximate: "fast" as "tanh" }),
      /GELU: approximate must be 'none' or 'tanh', got "fast"/,
    );
    assert.throws(
      () => new nn.PReLU({ numParameters: 4 }).forward(input([2, 3, 2])),
      /prelu: weight \[4\] must have 1 or 3 elements/,
    );
  });
});
