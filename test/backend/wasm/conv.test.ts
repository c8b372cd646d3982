// conv2d kernels (im2col packed straight into GEMM panels) against direct nested loops: forward with
// bias, input and weight gradients; strides, padding, dilation, groups, odd sizes, both the
// gather packers (padded copy or in place) and the bounds-checked fallback.
import { describe, it, after } from "node:test";
import assert from "node:assert/strict";
import {
  conv2dBackwardInput,
  conv2dBackwardWeight,
  conv2dForward,
  conv2dWeightGradTransposed,
} from "../../../src/backend/wasm/conv.js";
import type { WasmRuntime } from "../../../src/backend/wasm/runtime.js";
import { decode, loadFixtures } from "./fixtures.js";
import { convDims, convGeometry, forEachTap, type ConvSpec } from "./reference.js";
import { VARIANTS, randomArray, rng, runtime, upload } from "./helpers.js";
import { assertClose } from "../../helpers/close.js";

function check(rt: WasmRuntime, s: ConvSpec, seed: number): void {
  const g = convDims(s);
  const rand = rng(seed);
  const xLen = g.N * g.C * g.H * g.W;
  const wLen = g.O * g.Cg * g.KH * g.KW;
  const yLen = g.N * g.O * g.OH * g.OW;
  const x = randomArray(xLen, rand);
  const w = randomArray(wLen, rand);
  const bias = randomArray(g.O, rand);
  const dy = randomArray(yLen, rand);
  const K = g.Cg * g.KH * g.KW;
  const tol = 1e-4 * Math.sqrt(Math.max(K, g.N * g.OH * g.OW, g.Og * g.KH * g.KW));
  const name = JSON.stringify(s);

  // forward (+ bias)
  const yRef = new Float64Array(yLen);
  forEachTap(s, (xi, wi, yi) => (yRef[yi] += x[xi] * w[wi]));
  const P = g.OH * g.OW;
  const yBias = yRef.map((v, i) => v + bias[Math.floor(i / P) % g.O]);
  const px = upload(rt, x);
  const pw = upload(rt, w);
  const pb = upload(rt, bias);
  const py = upload(rt, new Float32Array(yLen).fill(NaN));
  conv2dForward(rt, convGeometry(s), px, pw, 0, py);
  assertClose(rt.mem.readF32(py, yLen), yRef, tol, `conv2d forward ${name}`);
  conv2dForward(rt, convGeometry(s), px, pw, pb, py);
  assertClose(rt.mem.readF32(py, yLen), yBias, tol, `conv2d forward bias ${name}`);

  // input gradient
  const dxRef = new Float64Array(xLen);
  forEachTap(s, (xi, wi, yi) => (dxRef[xi] += w[wi] * dy[yi]));
  const pdy = upload(rt, dy);
  const pdx = upload(rt, new Float32Array(xLen).fill(NaN));
  conv2dBackwardInput(rt, convGeometry(s), pdy, pw, pdx);
  assertClose(rt.mem.readF32(pdx, xLen), dxRef, tol, `conv2d input grad ${name}`);
  conv2dBackwardInput(rt, convGeometry(s), pdy, pw, pdx, true);
  assertClose(
    rt.mem.readF32(pdx, xLen),
    dxRef.map((v) => 2 * v),
    tol,
    `conv2d input grad accumulate ${name}`,
  );

  // weight gradient (beta = 0 ignores garbage, beta = 1 accumulates)
  const dwRef = new Float64Array(wLen);
  forEachTap(s, (xi, wi, yi) => (dwRef[wi] += x[xi] * dy[yi]));
  const pdw = upload(rt, new Float32Array(wLen).fill(NaN));
  conv2dBackwardWeight(rt, convGeometry(s), px, pdy, pdw);
  assertClose(rt.mem.readF32(pdw, wLen), dwRef, tol, `conv2d weight grad ${name}`);
  conv2dBackwardWeight(rt, convGeometry(s), px, pdy, pdw, 1);
  assertClose(
    rt.mem.readF32(pdw, wLen),
    dwRef.map((v) => 2 * v),
    tol,
    `conv2d weight grad accumulate ${name}`,
  );

  for (const p of [px, pw, pb, py, pdy, pdx, pdw]) rt.mem.free(p);
}

const CASES: ConvSpec[] = [
  { N: 1, C: 1, H: 5, W: 5, O: 1, KH: 3, KW: 3 },
  { N: 2, C: 3, H: 9, W: 11, O: 7, KH: 3, KW: 3, padH: 1, padW: 1 },
  { N: 3, C: 4, H: 13, W: 10, O: 6, KH: 5, KW: 3, strideH: 2, strideW: 1, padH: 2, padW: 0 },
  { N: 2, C: 6, H: 12, W: 12, O: 9, KH: 3, KW: 3, strideH: 2, strideW: 2, padH: 1, padW: 1, groups: 3 },
  { N: 1, C: 5, H: 17, W: 19, O: 11, KH: 3, KW: 2, dilationH: 2, dilationW: 3, padH: 2, padW: 1 },
  { N: 2, C: 8, H: 7, W: 7, O: 16, KH: 1, KW: 1 },
  { N: 2, C: 3, H: 32, W: 32, O: 8, KH: 5, KW: 5, padH: 2, padW: 2 },
  { N: 1, C: 16, H: 20, W: 20, O: 24, KH: 3, KW: 3, padH: 1, padW: 1, groups: 4 },
  { N: 2, C: 20, H: 15, W: 15, O: 13, KH: 3, KW: 3, strideH: 3, strideW: 2 },
  { N: 1, C: 300, H: 4, W: 4, O: 5, KH: 1, KW: 1 },
  // LeNet conv1 (one input channel, padded copy), 8 contiguous taps per panel (KW = 9), an explicit
  // output smaller than the input allows (conv-transpose passes one: rows no window reaches), and an
  // image whose padded copy exceeds the workspace's pad area (the bounds-checked packers).
  { N: 2, C: 1, H: 28, W: 28, O: 6, KH: 5, KW: 5, padH: 2, padW: 2 },
  { N: 2, C: 2, H: 6, W: 21, O: 3, KH: 2, KW: 9, padH: 1 },
  { N: 1, C: 2, H: 9, W: 9, O: 3, KH: 3, KW: 3, padH: 1, padW: 1, OH: 7, OW: 8 },
  { N: 1, C: 2, H: 9, W: 10, O: 3, KH: 3, KW: 3, OH: 5, OW: 6 },
  { N: 1, C: 2, H: 514, W: 514, O: 2, KH: 3, KW: 3, padH: 1, padW: 1 },
];

for (const v of VARIANTS) {
  describe(`conv2d (${v.name})`, () => {
    it("forward, input/weight/bias gradients match direct loops", async () => {
      const rt = await runtime(v.relaxed);
      CASES.forEach((s, i) => check(rt, s, 1000 + i));
    });

    it("matches the PyTorch fixtures (forward and all gradients)", async () => {
      const rt = await runtime(v.relaxed);
      let checked = 0;
      for (const c of loadFixtures("conv2d")) {
        const [N, C, H, W] = c.inputs.x.shape;
        const [O, , KH, KW] = c.inputs.weight.shape;
        const a = c.attrs as Record<string, number[] | number>;
        const [sh, sw] = a.stride as number[];
        const [ph, pw] = a.padding as number[];
        const [dh, dw] = a.dilation as number[];
        const s: ConvSpec = {
          ...{ N, C, H, W, O, KH, KW, strideH: sh, strideW: sw, padH: ph, padW: pw },
          ...{ dilationH: dh, dilationW: dw, groups: a.groups as number },
        };
        const x = upload(rt, decode(c.inputs.x));
        const w = upload(rt, decode(c.inputs.weight));
        const b = c.inputs.bias ? upload(rt, decode(c.inputs.bias)) : 0;
        const yRef = decode(c.outputs.y);
        const dy = upload(rt, decode(c.upstream!.y));
        const y = rt.mem.alloc(yRef.length * 4);
        const xLen = N * C * H * W;
        const dx = rt.mem.alloc(xLen * 4);
        const wLen = decode(c.inputs.weight).length;
        const dW = rt.mem.alloc(wLen * 4);
        conv2dForward(rt, convGeometry(s), x, w, b, y);
        conv2dBackwardInput(rt, convGeometry(s), dy, w, dx);
        conv2dBackwardWeight(rt, convGeometry(s), x, dy, dW);
        assertClose(rt.mem.readF32(y, yRef.length), yRef, 1e-5, `${c.name} y`);
        assertClose(rt.mem.readF32(dx, xLen), decode(c.grads!.x), 1e-5, `${c.name} dx`);
        assertClose(rt.mem.readF32(dW, wLen), decode(c.grads!.weight), 1e-5, `${c.name} dweight`);
        for (const p of [x, w, dy, y, dx, dW]) rt.mem.free(p);
        if (b) rt.mem.free(b);
        checked++;
      }
      assert.equal(checked, 20);
    });
  });
}

/** The weight gradient in a forced orientation (dy·colsᵀ or the transposed cols·dyᵀ) against direct loops. */
function checkWeightGrad(rt: WasmRuntime, s: ConvSpec, seed: number): void {
  const g = convDims(s);
  const rand = rng(seed);
  const xLen = g.N * g.C * g.H * g.W;
  const wLen = g.O * g.Cg * g.KH * g.KW;
  const x = randomArray(xLen, rand);
  const dy = randomArray(g.N * g.O * g.OH * g.OW, rand);
  const dwRef = new Float64Array(wLen);
  forEachTap(s, (xi, wi, yi) => (dwRef[wi] += x[xi] * dy[yi]));
  const tol = 1e-4 * Math.sqrt(g.N * g.OH * g.OW);
  const px = upload(rt, x);
  const pdy = upload(rt, dy);
  const pdw = rt.mem.alloc(wLen * 4);
  for (const orientation of ["normal", "transposed"] as const) {
    const name = `conv2d weight grad (${orientation}) ${JSON.stringify(s)}`;
    rt.mem.writeF32(pdw, new Float32Array(wLen).fill(NaN));
    conv2dBackwardWeight(rt, convGeometry(s), px, pdy, pdw, 0, orientation);
    assertClose(rt.mem.readF32(pdw, wLen), dwRef, tol, name);
    conv2dBackwardWeight(rt, convGeometry(s), px, pdy, pdw, 0.5, orientation);
    assertClose(
      rt.mem.readF32(pdw, wLen),
      dwRef.map((v) => 1.5 * v),
      tol,
      `${name}, beta 0.5`,
    );
  }
  for (const p of [px, pdy, pdw]) rt.mem.free(p);
}

const WEIGHT_GRAD_CASES: ConvSpec[] = [
  // LeNet conv1 / conv2 and the CIFAR net's conv2 / conv3: few output channels, many taps.
  { N: 3, C: 1, H: 28, W: 28, O: 6, KH: 5, KW: 5, padH: 2, padW: 2 },
  { N: 2, C: 6, H: 14, W: 14, O: 16, KH: 5, KW: 5 },
  { N: 2, C: 16, H: 16, W: 16, O: 20, KH: 5, KW: 5, padH: 2, padW: 2 },
  // Groups, stride, dilation, tap counts that are not a multiple of 5, Og not a multiple of 8.
  { N: 2, C: 6, H: 13, W: 12, O: 15, KH: 3, KW: 3, strideH: 2, strideW: 2, padH: 1, padW: 1, groups: 3 },
  { N: 2, C: 4, H: 17, W: 19, O: 7, KH: 3, KW: 2, dilationH: 2, dilationW: 3, padH: 2, padW: 1 },
  { N: 1, C: 13, H: 9, W: 9, O: 12, KH: 1, KW: 1, strideH: 2 },
  // Many output channels (the normal orientation by default) and an explicit smaller output.
  { N: 2, C: 3, H: 10, W: 10, O: 40, KH: 3, KW: 3, padH: 1, padW: 1 },
  { N: 1, C: 2, H: 9, W: 10, O: 3, KH: 3, KW: 3, OH: 5, OW: 6 },
  // Padded copy larger than the pad area: the bounds-checked packers.
  { N: 1, C: 2, H: 514, W: 514, O: 5, KH: 3, KW: 3, padH: 1, padW: 1 },
];

describe("conv2d weight gradient orientations", () => {
  it("picks the transposed form only where it pads fewer output channels", () => {
    const picks = WEIGHT_GRAD_CASES.map((s) => {
      const g = convDims(s);
      return conv2dWeightGradTransposed(g.Og, g.Cg * g.KH * g.KW);
    });
    assert.deepEqual(picks, [true, true, false, false, true, false, false, false, false]);
  });

  for (const v of VARIANTS) {
    it(`both orientations match direct loops (${v.name})`, async () => {
      const rt = await runtime(v.relaxed);
      WEIGHT_GRAD_CASES.forEach((s, i) => checkWeightGrad(rt, s, 3000 + i));
    });
  }

  it("both orientations match direct loops with 2 threads (row ranges of dWᵀ)", async () => {
    const rt = await runtime(true, 2);
    checkWeightGrad(rt, { N: 4, C: 6, H: 14, W: 14, O: 16, KH: 5, KW: 5 }, 3100);
    checkWeightGrad(rt, { N: 2, C: 8, H: 20, W: 20, O: 12, KH: 3, KW: 3, padH: 1, padW: 1 }, 3101);
  });
});

describe("conv2d with 2 threads", () => {
  it("splits samples / pixels / weight columns and matches direct loops", async () => {
    const rt = await runtime(true, 2);
    check(rt, { N: 3, C: 16, H: 24, W: 24, O: 32, KH: 3, KW: 3, padH: 1, padW: 1 }, 2001);
    check(rt, { N: 1, C: 32, H: 30, W: 30, O: 64, KH: 3, KW: 3, padH: 1, padW: 1 }, 2002);
  });
  after(async () => (await runtime(true, 2)).dispose());
});
