// Conv2d and ConvTranspose2d layers: shapes and parameter counts by formula, gradients reaching every
// parameter, state-dict round trips, torch's default initialisation (bounds and spread), padding "same"
// against a direct loop implementation, outputSize for transposed convolutions, and layer-named errors.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { F, manualSeed, nn, randn, Rng, type Tensor } from "../../src/index.js";
import { gradCheck, runLayerTest } from "../helpers/layer.js";

const rng = new Rng(2024);
const input = (shape: number[], dtype: "float32" | "float64" = "float32") => randn(shape, { rng, dtype });

describe("Conv2d", () => {
  // outH = floor((9 + 2·1 - 3) / 2) + 1 = 5; parameters Cout·Cin·k² + Cout.
  runLayerTest("Conv2d(3, 8, 3, stride 2, padding 1)", {
    make: () => new nn.Conv2d(3, 8, 3, { stride: 2, padding: 1 }),
    inputs: () => [input([2, 3, 9, 9])],
    outputShape: [2, 8, 5, 5],
    params: [
      ["weight", [8, 3, 3, 3]],
      ["bias", [8]],
    ],
    paramCount: 8 * 3 * 3 * 3 + 8,
  });

  // Grouped, rectangular and dilated: outH = 7 + 2·2 - 2·(3-1) - 1 + 1 = 7, outW = 6 - (2-1) - 1 + 1 = 5.
  runLayerTest("Conv2d(4, 6, [3,2], groups 2, dilation [2,1], padding [2,0], no bias)", {
    make: () => new nn.Conv2d(4, 6, [3, 2], { groups: 2, dilation: [2, 1], padding: [2, 0], bias: false }),
    inputs: () => [input([2, 4, 7, 6])],
    outputShape: [2, 6, 7, 5],
    params: [["weight", [6, 2, 3, 2]]],
    paramCount: 6 * (4 / 2) * 3 * 2,
  });

  runLayerTest('Conv2d(2, 3, 4, padding "same")', {
    make: () => new nn.Conv2d(2, 3, 4, { padding: "same" }),
    inputs: () => [input([1, 2, 6, 7])],
    outputShape: [1, 3, 6, 7],
    params: [
      ["weight", [3, 2, 4, 4]],
      ["bias", [3]],
    ],
    paramCount: 3 * 2 * 16 + 3,
  });

  it("keeps its configuration in readonly pairs", () => {
    const conv = new nn.Conv2d(6, 12, [5, 3], { stride: 2, padding: [2, 1], dilation: 1, groups: 3 });
    assert.equal(conv.inChannels, 6);
    assert.equal(conv.outChannels, 12);
    assert.deepEqual(conv.kernelSize, [5, 3]);
    assert.deepEqual(conv.stride, [2, 2]);
    assert.deepEqual(conv.padding, [2, 1]);
    assert.deepEqual(conv.dilation, [1, 1]);
    assert.equal(conv.groups, 3);
    assert.match(String(conv), /^Conv2d\(6, 12, kernelSize=\[5,3\], stride=2, padding=\[2,1\], groups=3\)$/);
  });

  it("initialises like torch: W, b ~ U(±1/sqrt(fan_in)) with fan_in = Cin/groups·kH·kW", () => {
    manualSeed(11);
    const conv = new nn.Conv2d(64, 128, 3);
    const bound = 1 / Math.sqrt(64 * 9); // 1/24
    const w = conv.weight.toArray();
    let sum = 0;
    let sumSq = 0;
    for (const v of w) {
      assert.ok(Math.abs(v) <= bound, `weight ${v} outside ±${bound}`);
      sum += v;
      sumSq += v * v;
    }
    const mean = sum / w.length;
    const std = Math.sqrt(sumSq / w.length - mean * mean);
    // Uniform(-b, b) has std b/√3; with 73,728 samples the sample std is within ~0.4% of it.
    assert.ok(Math.abs(std / (bound / Math.sqrt(3)) - 1) < 0.02, `weight std ${std}`);
    assert.ok(Math.abs(mean) < (4 * bound) / Math.sqrt(3 * w.length), `weight mean ${mean}`);
    const b = [...conv.bias!.toArray()].map(Math.abs);
    assert.ok(Math.max(...b) <= bound && Math.max(...b) > 0.9 * bound, `bias spread ${Math.max(...b)}`);
    // Groups shrink fan_in: Conv2d(64, 64, 3, groups 64) (depthwise) has fan_in 9.
    const depthwise = new nn.Conv2d(64, 64, 3, { groups: 64 });
    const dwBias = Math.max(...[...depthwise.bias!.toArray()].map(Math.abs));
    assert.ok(dwBias <= 1 / 3 && dwBias > 0.9 / 3, `depthwise bias spread ${dwBias}`);
  });

  it("pads 'same' like torch: the extra row and column of an even kernel go bottom/right", () => {
    for (const [kernel, dilation] of [
      [4, 1],
      [3, 2],
      [2, 3],
    ]) {
      const conv = new nn.Conv2d(2, 3, kernel, { padding: "same", dilation });
      const x = input([2, 2, 5, 6]);
      const y = conv.forward(x);
      const expected = directConvSame(x, conv.weight, conv.bias!, kernel, dilation);
      const actual = y.toArray();
      assert.deepEqual(y.shape, [2, 3, 5, 6]);
      for (let i = 0; i < expected.length; i++) {
        assert.ok(Math.abs(actual[i] - expected[i]) < 1e-5, `k${kernel} d${dilation} [${i}]`);
      }
    }
  });

  it("matches finite differences through the asymmetric 'same' padding (float64)", () => {
    const conv = new nn.Conv2d(2, 2, [2, 3], { padding: "same", dtype: "float64" });
    gradCheck(conv, [input([1, 2, 4, 5], "float64")]);
  });

  it("names the layer and the shapes when the input has the wrong channel count", () => {
    const conv = new nn.Conv2d(3, 16, 5);
    assert.throws(
      () => conv.forward(input([8, 1, 28, 28])),
      (e: Error) =>
        e.message.includes("Conv2d(3, 16, kernelSize=5)") &&
        e.message.includes("input has 1 channels, expected 3") &&
        e.message.includes("[8,1,28,28]"),
    );
    assert.throws(
      () => conv.forward(input([3, 28, 28])),
      /Conv2d\(3, 16, kernelSize=5\): input must be 4-D.*\[3,28,28\]/,
    );
  });

  it("rejects bad configurations with the layer named", () => {
    assert.throws(
      () => new nn.Conv2d(3, 16, 3, { groups: 2 }),
      /Conv2d\(3, 16, kernelSize=3\): groups=2 .*\(3\).*\(16\)/,
    );
    assert.throws(
      () => new nn.Conv2d(3, 16, 3, { padding: "same", stride: 2 }),
      /padding "same" needs stride 1/,
    );
    assert.throws(() => new nn.Conv2d(3, 16, 0), /kernelSize must be >= 1/);
    assert.throws(() => new nn.Conv2d(0, 16, 3), /inChannels must be a positive integer/);
  });
});

describe("ConvTranspose2d", () => {
  // outH = (5-1)·2 - 2·1 + 1·(3-1) + 1 + 1 = 10
  runLayerTest("ConvTranspose2d(4, 6, 3, stride 2, padding 1, outputPadding 1)", {
    make: () => new nn.ConvTranspose2d(4, 6, 3, { stride: 2, padding: 1, outputPadding: 1 }),
    inputs: () => [input([2, 4, 5, 5])],
    outputShape: [2, 6, 10, 10],
    params: [
      ["weight", [4, 6, 3, 3]],
      ["bias", [6]],
    ],
    paramCount: 4 * 6 * 9 + 6,
  });

  runLayerTest("ConvTranspose2d(4, 6, 2, groups 2, no bias)", {
    make: () => new nn.ConvTranspose2d(4, 6, 2, { groups: 2, bias: false }),
    inputs: () => [input([1, 4, 3, 4])],
    outputShape: [1, 6, 4, 5],
    params: [["weight", [4, 3, 2, 2]]],
    paramCount: 4 * (6 / 2) * 2 * 2,
  });

  it("initialises like torch, with fan_in from weight dim 1 (outChannels/groups·kH·kW)", () => {
    manualSeed(12);
    const up = new nn.ConvTranspose2d(8, 64, 3);
    const bound = 1 / Math.sqrt(64 * 9); // not 1/sqrt(8·9): torch reads fan_in from dim 1
    const w = [...up.weight.toArray()].map(Math.abs);
    assert.ok(Math.max(...w) <= bound && Math.max(...w) > 0.99 * bound, `weight spread ${Math.max(...w)}`);
    const b = [...up.bias!.toArray()].map(Math.abs);
    assert.ok(Math.max(...b) <= bound && Math.max(...b) > 0.9 * bound, `bias spread ${Math.max(...b)}`);
  });

  it("chooses the output padding from a requested outputSize", () => {
    const up = new nn.ConvTranspose2d(3, 2, 3, { stride: 2, padding: 1 });
    const padded = new nn.ConvTranspose2d(3, 2, 3, { stride: 2, padding: 1, outputPadding: 1 });
    padded.loadStateDict(up.stateDict());
    const x = input([1, 3, 4, 4]);
    assert.deepEqual(up.forward(x).shape, [1, 2, 7, 7]);
    const y = up.forward(x, [8, 8]);
    assert.deepEqual(y.shape, [1, 2, 8, 8]);
    assert.deepEqual(y.toArray(), padded.forward(x).toArray());
    assert.throws(
      () => up.forward(x, [9, 8]),
      /ConvTranspose2d\(3, 2, kernelSize=3\): requested outputSize \[9,8\].*\[7, 8\]/,
    );
  });

  it("is the adjoint of Conv2d with the same weight: <conv(x), y> = <x, convT(y)>", () => {
    const conv = new nn.Conv2d(3, 5, 3, { stride: 2, padding: 1, bias: false, dtype: "float64" });
    const convT = new nn.ConvTranspose2d(5, 3, 3, { stride: 2, padding: 1, bias: false, dtype: "float64" });
    convT.loadStateDict(conv.stateDict());
    const x = input([2, 3, 7, 7], "float64");
    const y = input([2, 5, 4, 4], "float64");
    const lhs = F.sum(F.mul(conv.forward(x), y)).item();
    const rhs = F.sum(F.mul(x, convT.forward(y))).item();
    assert.ok(Math.abs(lhs - rhs) < 1e-9 * (1 + Math.abs(lhs)), `${lhs} vs ${rhs}`);
  });

  it("names the layer and the shapes when the input has the wrong channel count", () => {
    const up = new nn.ConvTranspose2d(16, 8, 2, { stride: 2 });
    assert.throws(
      () => up.forward(input([1, 8, 7, 7])),
      /ConvTranspose2d\(16, 8, kernelSize=2\): input has 8 channels, expected 16; input \[1,8,7,7\]/,
    );
    assert.throws(() => new nn.ConvTranspose2d(4, 4, 3, { stride: 2, outputPadding: 2 }), /outputPadding/);
  });
});

/** 'same' convolution by direct loops: pad before = floor(d·(k-1)/2), the remainder after. */
function directConvSame(x: Tensor, w: Tensor, b: Tensor, k: number, d: number): Float64Array {
  const [n, cin, h, wd] = x.shape;
  const cout = w.shape[0];
  const before = Math.floor((d * (k - 1)) / 2);
  const xv = x.toArray();
  const wv = w.toArray();
  const bv = b.toArray();
  const out = new Float64Array(n * cout * h * wd);
  for (let ni = 0; ni < n; ni++)
    for (let o = 0; o < cout; o++)
      for (let i = 0; i < h; i++)
        for (let j = 0; j < wd; j++) {
          let s = bv[o];
          for (let c = 0; c < cin; c++)
            for (let ki = 0; ki < k; ki++)
              for (let kj = 0; kj < k; kj++) {
                const ii = i - before + ki * d;
                const jj = j - before + kj * d;
                if (ii < 0 || ii >= h || jj < 0 || jj >= wd) continue;
                s += xv[((ni * cin + c) * h + ii) * wd + jj] * wv[((o * cin + c) * k + ki) * k + kj];
              }
          out[((ni * cout + o) * h + i) * wd + j] = s;
        }
  return out;
}

// Issue 15: paddingMode.
describe("Conv2d paddingMode (issue 15)", () => {
  runLayerTest('Conv2d(2, 3, 3, padding 1, paddingMode "reflect")', {
    make: () => new nn.Conv2d(2, 3, 3, { padding: 1, paddingMode: "reflect" }),
    inputs: () => [input([2, 2, 5, 6])],
    outputShape: [2, 3, 5, 6],
    params: [
      ["weight", [3, 2, 3, 3]],
      ["bias", [3]],
    ],
    paramCount: 3 * 2 * 9 + 3,
  });

  it("pads with F.pad's mode before an unpadded convolution (also with 'same')", () => {
    const x = input([1, 2, 5, 6]);
    for (const mode of ["reflect", "replicate", "circular"] as const) {
      const conv = new nn.Conv2d(2, 3, [3, 4], { padding: "same", paddingMode: mode });
      const expected = F.conv2d(F.pad(x, [1, 2, 1, 1], mode), conv.weight, conv.bias);
      assert.deepEqual(conv.forward(x).toArray(), expected.toArray(), mode);
    }
  });

  it("matches finite differences with circular padding (float64)", () => {
    const conv = new nn.Conv2d(2, 2, 3, { padding: [1, 2], paddingMode: "circular", dtype: "float64" });
    gradCheck(conv, [input([1, 2, 4, 5], "float64")]);
  });

  it("errors: an unknown paddingMode names the layer", () => {
    assert.throws(
      () => new nn.Conv2d(2, 3, 3, { paddingMode: "mirror" as nn.PaddingMode }),
      /Conv2d\(2, 3, kernelSize=3\): paddingMode must be one of zeros, reflect, replicate, circular, got "mirror"/,
    );
  });
});

// Issue 15: Conv1d.
describe("Conv1d (issue 15)", () => {
  runLayerTest("Conv1d(3, 4, 5, padding 2, stride 2)", {
    make: () => new nn.Conv1d(3, 4, 5, { padding: 2, stride: 2 }),
    inputs: () => [input([2, 3, 11])],
    outputShape: [2, 4, 6],
    params: [
      ["weight", [4, 3, 5]],
      ["bias", [4]],
    ],
    paramCount: 4 * 3 * 5 + 4,
  });

  it("draws weights from U(±1/sqrt(fan_in)) and matches finite differences with reflect padding", () => {
    manualSeed(5);
    const conv = new nn.Conv1d(4, 8, 3, { groups: 2 });
    const bound = 1 / Math.sqrt(2 * 3);
    assert.ok(Array.from(conv.weight.toArray()).every((v) => Math.abs(v) <= bound));
    const reflect = new nn.Conv1d(2, 2, 3, { padding: "same", paddingMode: "reflect", dtype: "float64" });
    assert.deepEqual(reflect.forward(input([1, 2, 6], "float64")).shape, [1, 2, 6]);
    gradCheck(reflect, [input([1, 2, 6], "float64")]);
  });

  it("errors: bad configurations and inputs name the layer", () => {
    assert.throws(
      () => new nn.Conv1d(3, 4, 0),
      /Conv1d\(3, 4, kernelSize=0\): kernelSize must be an integer >= 1, got 0/,
    );
    assert.throws(
      () => new nn.Conv1d(3, 4, 3, { padding: "same", stride: 2 }),
      /Conv1d\(3, 4, kernelSize=3\): padding "same" needs stride 1, got stride 2/,
    );
    assert.throws(
      () => new nn.Conv1d(3, 4, 3, { groups: 2 }),
      /Conv1d\(3, 4, kernelSize=3\): groups=2 must be a positive integer dividing/,
    );
    assert.throws(
      () => new nn.Conv1d(3, 4, 3).forward(input([2, 2, 9])),
      /Conv1d\(3, 4, kernelSize=3\): input has 2 channels, expected 3; input \[2,2,9\]/,
    );
    assert.throws(
      () => new nn.Conv1d(3, 4, 3).forward(input([2, 3, 3, 3])),
      /Conv1d\(3, 4, kernelSize=3\): input must be 3-D/,
    );
  });
});
