// Batch norm and local response norm layers: torch's parameter/buffer names, shapes and initial values;
// the running statistics and num_batches_tracked after a training step against the PyTorch fixture;
// eval with running statistics; momentum null (cumulative average); trackRunningStats false; errors.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { F, full, nn, randn, Rng, type Tensor } from "../../src/index.js";
import { loadFixture, toTensor, type FixtureCase } from "../helpers/fixtures.js";
import { assertClose } from "../helpers/close.js";
import { gradCheck, runLayerTest } from "../helpers/layer.js";

const rng = new Rng(31);
const input = (shape: number[], dtype: "float32" | "float64" = "float32") =>
  randn(shape, { rng, dtype, mean: 1.5, std: 2 });

const bnParams = (c: number) =>
  [
    ["weight", [c]],
    ["bias", [c]],
  ] as const;
const bnBuffers = (c: number) =>
  [
    ["running_mean", [c]],
    ["running_var", [c]],
    ["num_batches_tracked", []],
  ] as const;

function fixtureCase(name: string): FixtureCase {
  const found = loadFixture("batch_norm").cases.find((c) => c.name === name);
  assert.ok(found, `fixture ${name} missing`);
  return found;
}

/** Loads a batch_norm fixture case into a fresh layer through its state dict (torch's names). */
function layerFor(c: FixtureCase, make: (affine: boolean) => nn.BatchNormBase): nn.BatchNormBase {
  const affine = c.attrs!.affine as boolean;
  const layer = make(affine);
  const state: Record<string, Tensor> = {
    running_mean: toTensor(c.inputs.running_mean),
    running_var: toTensor(c.inputs.running_var),
    num_batches_tracked: layer.getBuffer("num_batches_tracked"),
  };
  if (affine) Object.assign(state, { weight: toTensor(c.inputs.weight), bias: toTensor(c.inputs.bias) });
  layer.loadStateDict(state);
  return c.attrs!.training ? layer.train() : layer.eval();
}

describe("BatchNorm2d", () => {
  runLayerTest("BatchNorm2d(3)", {
    make: () => new nn.BatchNorm2d(3),
    inputs: () => [input([4, 3, 5, 5])],
    outputShape: [4, 3, 5, 5],
    params: bnParams(3),
    paramCount: 2 * 3,
    buffers: bnBuffers(3),
    modeDependent: true,
  });

  it("registers torch's parameters and buffers with torch's initial values, in torch's order", () => {
    const bn = new nn.BatchNorm2d(4);
    assert.deepEqual(
      [...bn.stateDict().keys()],
      ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"],
    );
    assert.deepEqual([...bn.weight!.toArray()], [1, 1, 1, 1]);
    assert.deepEqual([...bn.bias!.toArray()], [0, 0, 0, 0]);
    assert.deepEqual([...bn.getBuffer("running_mean").toArray()], [0, 0, 0, 0]);
    assert.deepEqual([...bn.getBuffer("running_var").toArray()], [1, 1, 1, 1]);
    const count = bn.getBuffer("num_batches_tracked");
    assert.equal(count.dtype, "int32");
    assert.deepEqual(count.shape, []);
    assert.equal(count.item(), 0);
    assert.deepEqual(
      [bn.numFeatures, bn.eps, bn.momentum, bn.affine, bn.trackRunningStats],
      [4, 1e-5, 0.1, true, true],
    );
  });

  it("matches torch's training step (batch_norm2d_train): output, gradients, running stats, counter", () => {
    const c = fixtureCase("batch_norm2d_train");
    const bn = layerFor(c, () => new nn.BatchNorm2d(3));
    const x = toTensor(c.inputs.x, { requiresGrad: true });
    const y = bn.forward(x);
    assertClose(y, toTensor(c.outputs.y), {}, "y");
    assertClose(bn.getBuffer("running_mean"), toTensor(c.outputs.running_mean), {}, "running_mean");
    assertClose(bn.getBuffer("running_var"), toTensor(c.outputs.running_var), {}, "running_var");
    assert.equal(bn.getBuffer("num_batches_tracked").item(), 1);
    y.backward(toTensor(c.upstream!.y));
    assertClose(x.grad!, toTensor(c.grads!.x), {}, "grad x");
    assertClose(bn.weight!.grad!, toTensor(c.grads!.weight), {}, "grad weight");
    assertClose(bn.bias!.grad!, toTensor(c.grads!.bias), {}, "grad bias");
    // The buffers carry no autograd history and the counter keeps counting.
    assert.equal(bn.getBuffer("running_mean").requiresGrad, false);
    bn.forward(x);
    bn.forward(x);
    assert.equal(bn.getBuffer("num_batches_tracked").item(), 3);
  });

  it("matches torch without affine parameters (batch_norm2d_train_no_affine)", () => {
    const c = fixtureCase("batch_norm2d_train_no_affine");
    const bn = layerFor(c, (affine) => new nn.BatchNorm2d(3, { affine }));
    assert.equal(bn.weight, null);
    assert.equal(bn.parameters().length, 0);
    assertClose(bn.forward(toTensor(c.inputs.x)), toTensor(c.outputs.y), {}, "y");
    assertClose(bn.getBuffer("running_mean"), toTensor(c.outputs.running_mean), {}, "running_mean");
    assertClose(bn.getBuffer("running_var"), toTensor(c.outputs.running_var), {}, "running_var");
  });

  it("normalises with the running statistics in eval (batch_norm2d_eval) and leaves them alone", () => {
    const c = fixtureCase("batch_norm2d_eval");
    const bn = layerFor(c, () => new nn.BatchNorm2d(3));
    const x = toTensor(c.inputs.x, { requiresGrad: true });
    const y = bn.forward(x);
    assertClose(y, toTensor(c.outputs.y), {}, "y");
    y.backward(toTensor(c.upstream!.y));
    assertClose(x.grad!, toTensor(c.grads!.x), {}, "grad x");
    assertClose(bn.weight!.grad!, toTensor(c.grads!.weight), {}, "grad weight");
    assertClose(bn.getBuffer("running_mean"), toTensor(c.inputs.running_mean), {}, "running_mean");
    assert.equal(bn.getBuffer("num_batches_tracked").item(), 0);
  });

  it("averages over all batches with momentum null (cumulative moving average)", () => {
    const bn = new nn.BatchNorm2d(2, { momentum: null });
    const batches = [input([3, 2, 4, 4]), input([3, 2, 4, 4]), input([3, 2, 4, 4])];
    for (const x of batches) bn.forward(x);
    // Equal-size batches: the running mean is the mean of the batch means.
    const expected = F.mean(F.stack(batches.map((x) => F.mean(x, [0, 2, 3]))), 0);
    assertClose(bn.getBuffer("running_mean"), expected, {}, "running_mean");
    const unbiased = batches.map((x) => F.variance(x, [0, 2, 3]));
    assertClose(bn.getBuffer("running_var"), F.mean(F.stack(unbiased), 0), {}, "running_var");
    assert.equal(bn.getBuffer("num_batches_tracked").item(), 3);
  });

  it("uses batch statistics in both modes and keeps no buffers with trackRunningStats false", () => {
    const bn = new nn.BatchNorm2d(3, { trackRunningStats: false });
    assert.deepEqual([...bn.stateDict().keys()], ["weight", "bias"]);
    const x = input([4, 3, 5, 5]);
    const train = bn.forward(x).toArray();
    const evalOut = bn.eval().forward(x).toArray();
    assert.deepEqual(evalOut, train);
    // Batch statistics: every channel of the output has mean 0 and biased variance 1 (up to eps).
    const y = bn.forward(x);
    for (const v of F.mean(y, [0, 2, 3]).toArray()) assert.ok(Math.abs(v) < 1e-5);
    for (const v of F.mean(F.square(y), [0, 2, 3]).toArray()) assert.ok(Math.abs(v - 1) < 1e-3);
  });

  it("matches finite differences in training mode (float64)", () => {
    const bn = new nn.BatchNorm2d(2, { dtype: "float64" });
    bn.weight!.assign(randn([2], { rng, dtype: "float64" }));
    gradCheck(bn, [input([3, 2, 2, 3], "float64")]);
  });

  it("names the layer and the shapes on a wrong channel count or rank", () => {
    const bn = new nn.BatchNorm2d(16);
    assert.throws(
      () => bn.forward(input([4, 8, 5, 5])),
      (e: Error) =>
        e.message.includes("BatchNorm2d(16)") &&
        e.message.includes("input has 8 channels, expected 16") &&
        e.message.includes("[4,8,5,5]"),
    );
    assert.throws(
      () => bn.forward(input([4, 16])),
      /BatchNorm2d\(16\): input must be 4-D \[N, C, H, W\], got \[4,16\]/,
    );
    assert.throws(
      () => new nn.BatchNorm2d(2).forward(input([1, 2, 1, 1])),
      /BatchNorm2d\(2\): expected more than 1 value per channel when training; input \[1,2,1,1\]/,
    );
  });
});

describe("BatchNorm1d", () => {
  runLayerTest("BatchNorm1d(5) on [N, C]", {
    make: () => new nn.BatchNorm1d(5),
    inputs: () => [input([8, 5])],
    outputShape: [8, 5],
    params: bnParams(5),
    paramCount: 2 * 5,
    buffers: bnBuffers(5),
    modeDependent: true,
  });

  runLayerTest("BatchNorm1d(4) on [N, C, L]", {
    make: () => new nn.BatchNorm1d(4),
    inputs: () => [input([3, 4, 6])],
    outputShape: [3, 4, 6],
    params: bnParams(4),
    paramCount: 2 * 4,
    buffers: bnBuffers(4),
    modeDependent: true,
  });

  it("matches torch in training (batch_norm1d_train) and eval (batch_norm1d_eval)", () => {
    const train = fixtureCase("batch_norm1d_train");
    const bn = layerFor(train, () => new nn.BatchNorm1d(5));
    assertClose(bn.forward(toTensor(train.inputs.x)), toTensor(train.outputs.y), {}, "train y");
    assertClose(bn.getBuffer("running_mean"), toTensor(train.outputs.running_mean), {}, "running_mean");
    assertClose(bn.getBuffer("running_var"), toTensor(train.outputs.running_var), {}, "running_var");
    assert.equal(bn.getBuffer("num_batches_tracked").item(), 1);
    const evalCase = fixtureCase("batch_norm1d_eval");
    const bnEval = layerFor(evalCase, () => new nn.BatchNorm1d(5));
    assertClose(bnEval.forward(toTensor(evalCase.inputs.x)), toTensor(evalCase.outputs.y), {}, "eval y");
  });

  it("names the layer and the shapes on a wrong channel count or rank", () => {
    const bn = new nn.BatchNorm1d(120);
    assert.throws(
      () => bn.forward(input([8, 84])),
      /BatchNorm1d\(120\): input has 84 channels, expected 120; input \[8,84\]/,
    );
    assert.throws(
      () => bn.forward(input([2, 120, 3, 3])),
      /BatchNorm1d\(120\): input must be 2-D \[N, C\] or 3-D \[N, C, L\], got \[2,120,3,3\]/,
    );
  });
});

describe("LocalResponseNorm", () => {
  runLayerTest("LocalResponseNorm(5, k 2)", {
    make: () => new nn.LocalResponseNorm(5, { k: 2 }),
    inputs: () => [input([2, 7, 3, 3])],
    outputShape: [2, 7, 3, 3],
    params: [],
    paramCount: 0,
  });

  it("keeps torch's defaults and matches the definition on one channel window", () => {
    const lrn = new nn.LocalResponseNorm(3);
    assert.deepEqual([lrn.size, lrn.alpha, lrn.beta, lrn.k], [3, 1e-4, 0.75, 1]);
    const strong = new nn.LocalResponseNorm(3, { alpha: 3, beta: 0.5, k: 1 });
    const y = strong.forward(full([1, 3, 1, 1], 2));
    // y_c = x_c / (k + alpha/size · Σ x²)^beta with x = 2: the centre channel's window holds 3 channels,
    // 2 / sqrt(1 + 1·12); each edge window holds 2 (zero padding), 2 / sqrt(1 + 1·8).
    assert.deepEqual(
      [...y.toArray()].map((v) => +v.toFixed(6)),
      [2 / Math.sqrt(9), 2 / Math.sqrt(13), 2 / Math.sqrt(9)].map((v) => +v.toFixed(6)),
    );
  });
});

// Issue 15: LayerNorm, GroupNorm, LayerNorm2d.
runLayerTest("LayerNorm([4, 5])", {
  make: () => {
    const ln = new nn.LayerNorm([4, 5]);
    // Non-default affine parameters, so that the state-dict round trip can tell layers apart.
    ln.weight!.assign(randn([4, 5], { rng }));
    return ln;
  },
  inputs: () => [input([2, 3, 4, 5])],
  outputShape: [2, 3, 4, 5],
  params: [
    ["weight", [4, 5]],
    ["bias", [4, 5]],
  ],
  paramCount: 40,
});

runLayerTest("GroupNorm(2, 6)", {
  make: () => {
    const gn = new nn.GroupNorm(2, 6);
    gn.bias!.assign(randn([6], { rng }));
    return gn;
  },
  inputs: () => [input([2, 6, 3, 3])],
  outputShape: [2, 6, 3, 3],
  params: [
    ["weight", [6]],
    ["bias", [6]],
  ],
  paramCount: 12,
});

runLayerTest("LayerNorm2d(4, { eps: 1e-6 })", {
  make: () => {
    const ln = new nn.LayerNorm2d(4, { eps: 1e-6 });
    ln.weight!.assign(randn([4], { rng }));
    return ln;
  },
  inputs: () => [input([2, 4, 3, 5])],
  outputShape: [2, 4, 3, 5],
  params: [
    ["weight", [4]],
    ["bias", [4]],
  ],
  paramCount: 8,
});

describe("LayerNorm, GroupNorm, LayerNorm2d (issue 15)", () => {
  it("start as the plain normalisation (weight 1, bias 0) and match finite differences (float64)", () => {
    const x = input([2, 6, 2, 2], "float64");
    const gn = new nn.GroupNorm(3, 6, { dtype: "float64" });
    assert.deepEqual(gn.forward(x).toArray(), F.groupNorm(x, 3).toArray());
    gradCheck(gn, [input([2, 6, 2, 2], "float64")]);
    gradCheck(new nn.LayerNorm(4, { dtype: "float64" }), [input([3, 4], "float64")]);
    gradCheck(new nn.LayerNorm2d(3, { dtype: "float64" }), [input([2, 3, 2, 2], "float64")]);
  });

  it("without affine have no parameters", () => {
    assert.equal(new nn.LayerNorm(5, { elementwiseAffine: false }).numParameters(), 0);
    assert.equal(new nn.GroupNorm(1, 4, { affine: false }).numParameters(), 0);
  });

  it("errors: bad configurations and inputs name the layer", () => {
    assert.throws(
      () => new nn.LayerNorm([4, 0]),
      /LayerNorm\(\[4,0\]\): normalizedShape must be positive integers/,
    );
    assert.throws(
      () => new nn.LayerNorm(4, { eps: -1 }),
      /LayerNorm\(4\): eps must be a non-negative number, got -1/,
    );
    assert.throws(
      () => new nn.GroupNorm(4, 6),
      /GroupNorm\(4, 6\): numGroups must be a positive integer dividing numChannels \(6\)/,
    );
    assert.throws(
      () => new nn.GroupNorm(2, 0),
      /GroupNorm\(2, 0\): numChannels must be a positive integer, got 0/,
    );
    assert.throws(
      () => new nn.GroupNorm(2, 6).forward(input([2, 4, 3])),
      /GroupNorm\(2, 6\): input must be \[N, 6, …\], got \[2,4,3\]/,
    );
    assert.throws(
      () => new nn.LayerNorm2d(4).forward(input([2, 4, 3])),
      /LayerNorm2d\(4\): input must be \[N, 4, H, W\], got \[2,4,3\]/,
    );
    assert.throws(
      () => new nn.LayerNorm(5).forward(input([2, 4])),
      /layerNorm: normalizedShape \[5\] must be the trailing dims of input \[2,4\]/,
    );
  });
});
