// Direct depthwise conv2d kernels against tap-by-tap reference loops (multipliers, strides, padding,
// dilation, odd widths for the SIMD tails) and against the PyTorch depthwise fixtures.
import { describe, it, after } from "node:test";
import assert from "node:assert/strict";
import {
  depthwiseConv2dBackwardInput,
  depthwiseConv2dBackwardWeight,
  depthwiseConv2dForward,
} from "../../../src/backend/wasm/depthwise.js";
import type { WasmRuntime } from "../../../src/backend/wasm/runtime.js";
import { decode, loadFixtures } from "./fixtures.js";
import { VARIANTS, randomArray, rng, runtime, upload } from "./helpers.js";
import { assertClose } from "../../helpers/close.js";
import { convDims, convGeometry, forEachTap, type ConvSpec } from "./reference.js";

function check(rt: WasmRuntime, s: ConvSpec, seed: number): void {
  const g = convDims(s);
  const rand = rng(seed);
  const xLen = g.N * g.C * g.H * g.W;
  const wLen = g.O * g.KH * g.KW;
  const P = g.OH * g.OW;
  const yLen = g.N * g.O * P;
  const x = randomArray(xLen, rand);
  const w = randomArray(wLen, rand);
  const bias = randomArray(g.O, rand);
  const dy = randomArray(yLen, rand);
  const name = JSON.stringify(s);
  const tol = 1e-4 * Math.sqrt(Math.max(g.KH * g.KW * g.O, g.N * P));

  const yRef = new Float64Array(yLen).map((_, i) => bias[Math.floor(i / P) % g.O]);
  forEachTap(s, (xi, wi, yi) => (yRef[yi] += x[xi] * w[wi]));
  const dxRef = new Float64Array(xLen);
  forEachTap(s, (xi, wi, yi) => (dxRef[xi] += w[wi] * dy[yi]));
  const dwRef = new Float64Array(wLen);
  forEachTap(s, (xi, wi, yi) => (dwRef[wi] += x[xi] * dy[yi]));
  const dbRef = new Float64Array(g.O);
  for (let i = 0; i < yLen; i++) dbRef[Math.floor(i / P) % g.O] += dy[i];

  const px = upload(rt, x);
  const pw = upload(rt, w);
  const pb = upload(rt, bias);
  const pdy = upload(rt, dy);
  const py = upload(rt, new Float32Array(yLen).fill(NaN));
  const pdx = upload(rt, new Float32Array(xLen).fill(NaN));
  const pdw = upload(rt, new Float32Array(wLen).fill(NaN));
  const pdb = upload(rt, new Float32Array(g.O).fill(NaN));
  depthwiseConv2dForward(rt, convGeometry(s), px, pw, pb, py);
  assertClose(rt.mem.readF32(py, yLen), yRef, tol, `depthwise forward ${name}`);
  depthwiseConv2dBackwardInput(rt, convGeometry(s), pdy, pw, pdx);
  assertClose(rt.mem.readF32(pdx, xLen), dxRef, tol, `depthwise input grad ${name}`);
  depthwiseConv2dBackwardWeight(rt, convGeometry(s), px, pdy, pdw, pdb);
  assertClose(rt.mem.readF32(pdw, wLen), dwRef, tol, `depthwise weight grad ${name}`);
  assertClose(rt.mem.readF32(pdb, g.O), dbRef, tol, `depthwise bias grad ${name}`);
  depthwiseConv2dBackwardWeight(rt, convGeometry(s), px, pdy, pdw, pdb, 1);
  assertClose(
    rt.mem.readF32(pdw, wLen),
    dwRef.map((v) => 2 * v),
    tol,
    `depthwise weight grad accumulate ${name}`,
  );
  for (const p of [px, pw, pb, pdy, py, pdx, pdw, pdb]) rt.mem.free(p);
}

const CASES: ConvSpec[] = [
  { N: 2, C: 3, H: 7, W: 7, O: 3, KH: 3, KW: 3, padH: 1, padW: 1, groups: 3 },
  { N: 1, C: 4, H: 13, W: 19, O: 8, KH: 3, KW: 3, padH: 1, padW: 1, groups: 4 },
  { N: 2, C: 5, H: 12, W: 11, O: 5, KH: 3, KW: 3, strideH: 2, strideW: 2, padH: 1, padW: 1, groups: 5 },
  { N: 1, C: 2, H: 17, W: 23, O: 6, KH: 5, KW: 5, padH: 2, padW: 2, groups: 2 },
  { N: 2, C: 3, H: 10, W: 14, O: 3, KH: 3, KW: 5, dilationH: 2, dilationW: 2, padH: 2, padW: 3, groups: 3 },
  { N: 1, C: 2, H: 9, W: 10, O: 2, KH: 3, KW: 3, strideH: 3, strideW: 1, padH: 0, padW: 2, groups: 2 },
  { N: 1, C: 3, H: 4, W: 3, O: 3, KH: 3, KW: 3, padH: 3, padW: 3, groups: 3 },
];

for (const v of VARIANTS) {
  describe(`depthwise conv2d (${v.name})`, () => {
    it("forward and gradients match direct loops", async () => {
      const rt = await runtime(v.relaxed);
      CASES.forEach((s, i) => check(rt, s, 3000 + i));
    });

    it("matches the PyTorch depthwise fixtures", async () => {
      const rt = await runtime(v.relaxed);
      let checked = 0;
      for (const c of loadFixtures("conv2d")) {
        if (!c.name.includes("depthwise")) continue;
        const [N, C, H, W] = c.inputs.x.shape;
        const [O, , KH, KW] = c.inputs.weight.shape;
        const a = c.attrs as Record<string, number[]>;
        const s: ConvSpec = {
          ...{ N, C, H, W, O, KH, KW, strideH: a.stride[0], strideW: a.stride[1], padH: a.padding[0] },
          ...{ padW: a.padding[1], dilationH: a.dilation[0], dilationW: a.dilation[1], groups: C },
        };
        const yRef = decode(c.outputs.y);
        const xLen = N * C * H * W;
        const wLen = O * KH * KW;
        const x = upload(rt, decode(c.inputs.x));
        const w = upload(rt, decode(c.inputs.weight));
        const b = c.inputs.bias ? upload(rt, decode(c.inputs.bias)) : 0;
        const dy = upload(rt, decode(c.upstream!.y));
        const y = rt.mem.alloc(yRef.length * 4);
        const dx = rt.mem.alloc(xLen * 4);
        const dw = rt.mem.alloc(wLen * 4);
        const db = rt.mem.alloc(O * 4);
        depthwiseConv2dForward(rt, convGeometry(s), x, w, b, y);
        depthwiseConv2dBackwardInput(rt, convGeometry(s), dy, w, dx);
        depthwiseConv2dBackwardWeight(rt, convGeometry(s), x, dy, dw, db);
        assertClose(rt.mem.readF32(y, yRef.length), yRef, 1e-5, `${c.name} y`);
        assertClose(rt.mem.readF32(dx, xLen), decode(c.grads!.x), 1e-5, `${c.name} dx`);
        assertClose(rt.mem.readF32(dw, wLen), decode(c.grads!.weight), 1e-5, `${c.name} dweight`);
        if (c.grads!.bias) assertClose(rt.mem.readF32(db, O), decode(c.grads!.bias), 1e-5, `${c.name} dbias`);
        for (const p of [x, w, dy, y, dx, dw, db]) rt.mem.free(p);
        if (b) rt.mem.free(b);
        checked++;
      }
      assert.equal(checked, 2);
    });
  });
}

describe("depthwise conv2d with 2 threads", () => {
  it("matches direct loops", async () => {
    const rt = await runtime(true, 2);
    check(rt, { N: 4, C: 32, H: 28, W: 28, O: 32, KH: 3, KW: 3, padH: 1, padW: 1, groups: 32 }, 3100);
  });
  after(async () => (await runtime(true, 2)).dispose());
});
