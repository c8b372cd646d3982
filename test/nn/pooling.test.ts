// Pooling layers: output shapes by torch's formulas (floor and ceil modes), configuration fields, the
// stride-defaults-to-kernel rule, values against direct computations and layer-named errors.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { F, nn, randn, Rng, tensor } from "../../src/index.js";
import { runLayerTest } from "../helpers/layer.js";

const rng = new Rng(7);
const input = (shape: number[]) => randn(shape, { rng });

describe("pooling layers", () => {
  // floor((9 + 2·1 - 3) / 2) + 1 = 5
  runLayerTest("MaxPool2d(3, stride 2, padding 1)", {
    make: () => new nn.MaxPool2d(3, { stride: 2, padding: 1 }),
    inputs: () => [input([2, 3, 9, 9])],
    outputShape: [2, 3, 5, 5],
    params: [],
    paramCount: 0,
  });

  // ceil((7 - 2) / 2) + 1 = 4 with ceilMode, 3 without
  runLayerTest("MaxPool2d(2, ceilMode)", {
    make: () => new nn.MaxPool2d(2, { ceilMode: true }),
    inputs: () => [input([1, 2, 7, 7])],
    outputShape: [1, 2, 4, 4],
    params: [],
    paramCount: 0,
  });

  runLayerTest("AvgPool2d(3, stride 1, padding 1, countIncludePad false)", {
    make: () => new nn.AvgPool2d(3, { stride: 1, padding: 1, countIncludePad: false }),
    inputs: () => [input([2, 3, 6, 5])],
    outputShape: [2, 3, 6, 5],
    params: [],
    paramCount: 0,
  });

  runLayerTest("AdaptiveAvgPool2d([3, 2])", {
    make: () => new nn.AdaptiveAvgPool2d([3, 2]),
    inputs: () => [input([2, 4, 7, 5])],
    outputShape: [2, 4, 3, 2],
    params: [],
    paramCount: 0,
  });

  runLayerTest("GlobalAvgPool2d()", {
    make: () => new nn.GlobalAvgPool2d(),
    inputs: () => [input([2, 5, 3, 4])],
    outputShape: [2, 5, 1, 1],
    params: [],
    paramCount: 0,
  });

  it("normalises its configuration to pairs, with stride defaulting to the kernel", () => {
    const max = new nn.MaxPool2d([3, 2]);
    assert.deepEqual(
      [max.kernelSize, max.stride, max.padding, max.dilation, max.ceilMode],
      [[3, 2], [3, 2], [0, 0], [1, 1], false],
    );
    const avg = new nn.AvgPool2d(2, { stride: 1, divisorOverride: 3 });
    assert.deepEqual(
      [avg.kernelSize, avg.stride, avg.padding],
      [
        [2, 2],
        [1, 1],
        [0, 0],
      ],
    );
    assert.equal(avg.countIncludePad, true);
    assert.equal(avg.divisorOverride, 3);
    assert.deepEqual(new nn.AdaptiveAvgPool2d(1).outputSize, [1, 1]);
  });

  it("computes window maxima and means", () => {
    // 1..16 in a 4x4 plane: 2x2 windows have max = bottom-right and mean = centre value.
    const x = tensor(
      Array.from({ length: 16 }, (_, i) => i + 1),
      [1, 1, 4, 4],
    );
    assert.deepEqual([...new nn.MaxPool2d(2).forward(x).toArray()], [6, 8, 14, 16]);
    assert.deepEqual([...new nn.AvgPool2d(2).forward(x).toArray()], [3.5, 5.5, 11.5, 13.5]);
    assert.deepEqual([...new nn.AvgPool2d(2, { divisorOverride: 2 }).forward(x).toArray()], [7, 11, 23, 27]);
    // Global average of 1..16 is 8.5; flatten drops the 1x1 dims.
    const g = new nn.GlobalAvgPool2d({ flatten: true }).forward(x);
    assert.deepEqual(g.shape, [1, 1]);
    assert.equal(g.item(), 8.5);
    assert.deepEqual(new nn.AdaptiveAvgPool2d(1).forward(x).toArray(), F.globalAvgPool2d(x).toArray());
  });

  it("names the layer and the shape on bad input or configuration", () => {
    assert.throws(
      () => new nn.MaxPool2d(2).forward(input([3, 8, 8])),
      /MaxPool2d\(2\): input must be 4-D.*\[3,8,8\]/,
    );
    assert.throws(
      () => new nn.AvgPool2d(2).forward(input([8, 8])),
      /AvgPool2d\(2\): input must be 4-D.*\[8,8\]/,
    );
    assert.throws(
      () => new nn.MaxPool2d(2, { padding: 2 }),
      /MaxPool2d\(2\): padding \[2,2\] must be at most half/,
    );
    assert.throws(() => new nn.AvgPool2d(3, { divisorOverride: 0 }), /divisorOverride must be positive/);
    assert.throws(() => new nn.AdaptiveAvgPool2d(0), /AdaptiveAvgPool2d\(0\): outputSize must be >= 1/);
  });
});

// Issue 15: adaptive and global max pooling, upsampling.
runLayerTest("AdaptiveMaxPool2d([2, 3])", {
  make: () => new nn.AdaptiveMaxPool2d([2, 3]),
  inputs: () => [input([2, 3, 5, 7])],
  outputShape: [2, 3, 2, 3],
  params: [],
  paramCount: 0,
});

runLayerTest("GlobalMaxPool2d({ flatten: true })", {
  make: () => new nn.GlobalMaxPool2d({ flatten: true }),
  inputs: () => [input([2, 3, 4, 4])],
  outputShape: [2, 3],
  params: [],
  paramCount: 0,
});

runLayerTest('Upsample({ scaleFactor: 2, mode: "bilinear" })', {
  make: () => new nn.Upsample({ scaleFactor: 2, mode: "bilinear" }),
  inputs: () => [input([2, 3, 3, 4])],
  outputShape: [2, 3, 6, 8],
  params: [],
  paramCount: 0,
});

describe("max pooling and upsampling layers (issue 15)", () => {
  it("match the functional ops", () => {
    const x = input([2, 3, 5, 6]);
    assert.deepEqual(new nn.AdaptiveMaxPool2d(2).forward(x).toArray(), F.adaptiveMaxPool2d(x, 2).toArray());
    assert.deepEqual(new nn.GlobalMaxPool2d().forward(x).toArray(), F.adaptiveMaxPool2d(x, 1).toArray());
    assert.deepEqual(
      new nn.Upsample({ size: [7, 9], mode: "bilinear", alignCorners: true }).forward(x).toArray(),
      F.interpolate(x, { size: [7, 9], mode: "bilinear", alignCorners: true }).toArray(),
    );
  });

  it("errors: bad configurations and inputs name the layer", () => {
    assert.throws(
      () => new nn.AdaptiveMaxPool2d(0),
      /AdaptiveMaxPool2d\(0\): outputSize must be >= 1, got 0/,
    );
    assert.throws(
      () => new nn.AdaptiveMaxPool2d(2).forward(input([3, 4, 4])),
      /AdaptiveMaxPool2d\(2\): input must be 4-D \[N, C, H, W\], got \[3,4,4\]/,
    );
    assert.throws(
      () => new nn.GlobalMaxPool2d().forward(input([3, 4])),
      /GlobalMaxPool2d: input must be 4-D/,
    );
    assert.throws(() => new nn.Upsample({}), /Upsample: give exactly one of size and scaleFactor/);
    assert.throws(
      () => new nn.Upsample({ size: 4, mode: "area" as "nearest" }),
      /Upsample: mode must be 'nearest', 'linear' or 'bilinear', got "area"/,
    );
    assert.throws(
      () => new nn.Upsample({ size: 4, alignCorners: false }),
      /Upsample: alignCorners can only be set with the linear modes/,
    );
  });
});
