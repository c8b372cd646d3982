// Composite blocks: Concat and Residual (shapes, names, values, errors naming both shapes, finite
// differences), and the InceptionBlock and BasicResidualBlock examples: output shapes, parameter names and
// counts by formula, torchvision's state-dict keys, and a backward pass reaching every parameter.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { F, nn, randn, Rng, zeros } from "../../src/index.js";
import { gradCheck, runLayerTest } from "../helpers/layer.js";

const rng = new Rng(77);
const input = (shape: number[], dtype: "float32" | "float64" = "float32") => randn(shape, { rng, dtype });

type Entry = readonly [string, readonly number[]];
const bnEntries = (prefix: string, c: number): Entry[] => [
  [`${prefix}.weight`, [c]],
  [`${prefix}.bias`, [c]],
];
const bnBufferEntries = (prefix: string, c: number): Entry[] => [
  [`${prefix}.running_mean`, [c]],
  [`${prefix}.running_var`, [c]],
  [`${prefix}.num_batches_tracked`, []],
];
/** torchvision's BasicConv2d: conv (no bias) + batch norm. */
const basicConv = (prefix: string, cin: number, cout: number, k: number) => ({
  params: [[`${prefix}.conv.weight`, [cout, cin, k, k]], ...bnEntries(`${prefix}.bn`, cout)] as Entry[],
  buffers: bnBufferEntries(`${prefix}.bn`, cout),
  count: cin * cout * k * k + 2 * cout,
});

describe("Concat", () => {
  runLayerTest("Concat([1x1 conv, 3x3 conv, 3x3 max pool])", {
    make: () =>
      new nn.Concat([
        new nn.Conv2d(4, 3, 1),
        new nn.Conv2d(4, 2, 3, { padding: 1 }),
        new nn.MaxPool2d(3, { stride: 1, padding: 1 }),
      ]),
    inputs: () => [input([2, 4, 5, 5])],
    outputShape: [2, 3 + 2 + 4, 5, 5],
    params: [
      ["0.weight", [3, 4, 1, 1]],
      ["0.bias", [3]],
      ["1.weight", [2, 4, 3, 3]],
      ["1.bias", [2]],
    ],
    paramCount: 4 * 3 + 3 + 4 * 2 * 9 + 2,
  });

  it("places each branch's output in its own channel range", () => {
    const a = new nn.Conv2d(3, 2, 1);
    const b = new nn.ReLU();
    const x = input([1, 3, 4, 4]);
    const y = new nn.Concat({ a, b }).forward(x);
    assert.deepEqual(y.shape, [1, 5, 4, 4]);
    assert.deepEqual(F.slice(y, 1, 0, 2).toArray(), a.forward(x).toArray());
    assert.deepEqual(F.slice(y, 1, 2, 5).toArray(), b.forward(x).toArray());
    // Along another dim: two copies stacked along the width.
    assert.deepEqual(
      new nn.Concat([new nn.Identity(), new nn.Identity()], -1).forward(x).shape,
      [1, 3, 4, 8],
    );
  });

  it("names every branch and its output shape when they cannot be joined", () => {
    const block = new nn.Concat({ wide: new nn.Conv2d(4, 3, 1), narrow: new nn.Conv2d(4, 2, 3) });
    assert.throws(
      () => block.forward(input([2, 4, 5, 5])),
      /Concat: branch outputs differ outside dim 1: wide \[2,3,5,5\], narrow \[2,2,3,3\]; input \[2,4,5,5\]/,
    );
    assert.throws(() => new nn.Concat([]), /Concat: needs at least one branch/);
  });
});

describe("Residual", () => {
  runLayerTest("Residual(conv-relu) with identity shortcut", {
    make: () => new nn.Residual(new nn.Sequential(new nn.Conv2d(4, 4, 3, { padding: 1 }), new nn.ReLU())),
    inputs: () => [input([2, 4, 5, 5])],
    outputShape: [2, 4, 5, 5],
    params: [
      ["body.0.weight", [4, 4, 3, 3]],
      ["body.0.bias", [4]],
    ],
    paramCount: 4 * 4 * 9 + 4,
  });

  runLayerTest("Residual(strided conv, projection shortcut)", {
    make: () =>
      new nn.Residual(
        new nn.Conv2d(4, 8, 3, { stride: 2, padding: 1 }),
        new nn.Conv2d(4, 8, 1, { stride: 2 }),
      ),
    inputs: () => [input([2, 4, 6, 6])],
    outputShape: [2, 8, 3, 3],
    params: [
      ["body.weight", [8, 4, 3, 3]],
      ["body.bias", [8]],
      ["shortcut.weight", [8, 4, 1, 1]],
      ["shortcut.bias", [8]],
    ],
    paramCount: 8 * 4 * 9 + 8 + 8 * 4 + 8,
  });

  it("adds the body's output to the input", () => {
    const body = new nn.Conv2d(3, 3, 3, { padding: 1 });
    const x = input([1, 3, 4, 4]);
    const expected = F.add(body.forward(x), x).toArray();
    assert.deepEqual(new nn.Residual(body).forward(x).toArray(), expected);
  });

  it("matches finite differences (float64)", () => {
    const block = new nn.Residual(
      new nn.Sequential(new nn.Conv2d(2, 2, 3, { padding: 1, dtype: "float64" }), new nn.Tanh()),
      new nn.Conv2d(2, 2, 1, { dtype: "float64" }),
    );
    gradCheck(block, [input([1, 2, 3, 3], "float64")]);
  });

  it("names both shapes when body and shortcut disagree", () => {
    const block = new nn.Residual(new nn.Conv2d(4, 8, 3, { padding: 1 }));
    assert.throws(
      () => block.forward(input([2, 4, 5, 5])),
      /Residual: body output \[2,8,5,5\] and identity shortcut \[2,4,5,5\] differ for input \[2,4,5,5\]/,
    );
    const projected = new nn.Residual(
      new nn.Conv2d(4, 8, 3, { padding: 1 }),
      new nn.Conv2d(4, 8, 1, { stride: 2 }),
    );
    assert.throws(
      () => projected.forward(input([2, 4, 6, 6])),
      /body output \[2,8,6,6\] and shortcut output \[2,8,3,3\]/,
    );
  });
});

describe("InceptionBlock", () => {
  // InceptionBlock(in 8; 1x1: 4; 3x3: 4 -> 6; "5x5": 2 -> 3; pool proj 3)
  const parts = [
    basicConv("branch1", 8, 4, 1),
    basicConv("branch2.0", 8, 4, 1),
    basicConv("branch2.1", 4, 6, 3),
    basicConv("branch3.0", 8, 2, 1),
    basicConv("branch3.1", 2, 3, 3),
    basicConv("branch4.1", 8, 3, 1),
  ];
  runLayerTest("InceptionBlock(8, 4, 4, 6, 2, 3, 3)", {
    make: () => new nn.InceptionBlock(8, 4, 4, 6, 2, 3, 3),
    inputs: () => [input([2, 8, 6, 6])],
    outputShape: [2, 4 + 6 + 3 + 3, 6, 6],
    params: parts.flatMap((p) => p.params),
    paramCount: parts.reduce((s, p) => s + p.count, 0),
    buffers: parts.flatMap((p) => p.buffers),
    modeDependent: true,
  });

  it("has inception3a's parameter count and output channels, and a 5x5 third branch on request", () => {
    const block = new nn.InceptionBlock(192, 64, 96, 128, 16, 32, 32);
    assert.equal(block.outChannels, 256);
    const bc = (cin: number, cout: number, k: number) => cin * cout * k * k + 2 * cout;
    const expected =
      bc(192, 64, 1) + bc(192, 96, 1) + bc(96, 128, 3) + bc(192, 16, 1) + bc(16, 32, 3) + bc(192, 32, 1);
    assert.equal(block.numParameters(), expected);
    const paper = new nn.InceptionBlock(8, 4, 4, 6, 2, 3, 3, { branch3KernelSize: 5 });
    const weights = new Map(paper.namedParameters());
    assert.deepEqual(weights.get("branch3.1.conv.weight")!.shape, [3, 2, 5, 5]);
    assert.deepEqual(paper.forward(input([1, 8, 7, 7])).shape, [1, 16, 7, 7]);
  });
});

describe("BasicResidualBlock", () => {
  const c = 8;
  const params: Entry[] = [
    ["conv1.weight", [c, 4, 3, 3]],
    ...bnEntries("bn1", c),
    ["conv2.weight", [c, c, 3, 3]],
    ...bnEntries("bn2", c),
    ["downsample.0.weight", [c, 4, 1, 1]],
    ...bnEntries("downsample.1", c),
  ];
  runLayerTest("BasicResidualBlock(4, 8, stride 2)", {
    make: () => new nn.BasicResidualBlock(4, 8, { stride: 2 }),
    inputs: () => [input([2, 4, 6, 6])],
    outputShape: [2, 8, 3, 3],
    params,
    paramCount: c * 4 * 9 + 2 * c + c * c * 9 + 2 * c + c * 4 + 2 * c,
    buffers: [
      ...bnBufferEntries("bn1", c),
      ...bnBufferEntries("bn2", c),
      ...bnBufferEntries("downsample.1", c),
    ],
    modeDependent: true,
  });

  it("uses torchvision's state-dict keys in torchvision's order", () => {
    const keys = [...new nn.BasicResidualBlock(4, 8, { stride: 2 }).stateDict().keys()];
    const bn = (p: string) => [
      `${p}.weight`,
      `${p}.bias`,
      `${p}.running_mean`,
      `${p}.running_var`,
      `${p}.num_batches_tracked`,
    ];
    assert.deepEqual(keys, [
      "conv1.weight",
      ...bn("bn1"),
      "conv2.weight",
      ...bn("bn2"),
      "downsample.0.weight",
      ...bn("downsample.1"),
    ]);
  });

  it("has an identity shortcut when shape is kept: relu(residual + x)", () => {
    const block = new nn.BasicResidualBlock(4, 4);
    assert.equal(block.downsample, null);
    assert.equal(block.numParameters(), 2 * (4 * 4 * 9 + 2 * 4));
    // With conv2 zeroed and fresh running stats, the residual branch is 0 in eval: y = relu(x).
    block.conv2.weight.assign(zeros([4, 4, 3, 3]));
    const x = input([1, 4, 5, 5]);
    assert.deepEqual(block.eval().forward(x).toArray(), F.relu(x).toArray());
  });

  it("reports the layer and the shape on a wrong channel count", () => {
    assert.throws(
      () => new nn.BasicResidualBlock(4, 8).forward(input([1, 3, 6, 6])),
      /Conv2d\(4, 8, kernelSize=3\): input has 3 channels, expected 4; input \[1,3,6,6\]/,
    );
  });
});
