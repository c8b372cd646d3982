// Max/avg pooling kernels against direct loops (odd sizes, padding, dilation, ceil mode) and against the
// PyTorch golden fixtures (values, argmax indices, gradients).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  avgPool2dBackward,
  avgPool2dForward,
  maxPool2dBackward,
  maxPool2dForward,
} from "../../../src/backend/wasm/pool.js";
import type { WasmRuntime } from "../../../src/backend/wasm/runtime.js";
import { decode, loadFixtures } from "./fixtures.js";
import { VARIANTS, randomArray, rng, runtime, upload } from "./helpers.js";
import { assertClose } from "../../helpers/close.js";
import { pool2dOutputSize, poolGeometry, type PoolSpec } from "./reference.js";

interface Ref {
  y: Float64Array;
  idx: Int32Array;
  dx: Float64Array;
}

function refPool(
  s: PoolSpec,
  x: Float32Array,
  dy: Float32Array,
  kind: "max" | "avg",
  countIncludePad: boolean,
): Ref {
  const { OH, OW } = pool2dOutputSize(s);
  const sh = s.strideH ?? s.KH;
  const sw = s.strideW ?? s.KW;
  const ph = s.padH ?? 0;
  const pw = s.padW ?? 0;
  const dh = s.dilationH ?? 1;
  const dw = s.dilationW ?? 1;
  const y = new Float64Array(s.planes * OH * OW);
  const idx = new Int32Array(y.length);
  const dx = new Float64Array(s.planes * s.H * s.W);
  for (let p = 0; p < s.planes; p++)
    for (let oh = 0; oh < OH; oh++)
      for (let ow = 0; ow < OW; ow++) {
        const o = (p * OH + oh) * OW + ow;
        let best = -Infinity;
        let bestAt = -1;
        let sum = 0;
        let inside = 0;
        let padded = 0;
        for (let kh = 0; kh < s.KH; kh++)
          for (let kw = 0; kw < s.KW; kw++) {
            const ih = oh * sh - ph + kh * dh;
            const iw = ow * sw - pw + kw * dw;
            if (ih < s.H + ph && iw < s.W + pw) padded++;
            if (ih < 0 || ih >= s.H || iw < 0 || iw >= s.W) continue;
            const v = x[(p * s.H + ih) * s.W + iw];
            if (bestAt < 0) bestAt = ih * s.W + iw;
            if (v > best) {
              best = v;
              bestAt = ih * s.W + iw;
            }
            sum += v;
            inside++;
          }
        if (kind === "max") {
          y[o] = best;
          idx[o] = bestAt;
          dx[p * s.H * s.W + bestAt] += dy[o];
        } else {
          const div = countIncludePad ? padded : inside;
          y[o] = sum / div;
          for (let kh = 0; kh < s.KH; kh++)
            for (let kw = 0; kw < s.KW; kw++) {
              const ih = oh * sh - ph + kh;
              const iw = ow * sw - pw + kw;
              if (ih >= 0 && ih < s.H && iw >= 0 && iw < s.W) dx[(p * s.H + ih) * s.W + iw] += dy[o] / div;
            }
        }
      }
  return { y, idx, dx };
}

function runMax(rt: WasmRuntime, s: PoolSpec, x: Float32Array, dy: Float32Array) {
  const { OH, OW } = pool2dOutputSize(s);
  const n = s.planes * OH * OW;
  const px = upload(rt, x);
  const py = upload(rt, new Float32Array(n));
  const pi = rt.mem.alloc(n * 4);
  const pdy = upload(rt, dy);
  const pdx = upload(rt, new Float32Array(x.length).fill(NaN));
  maxPool2dForward(rt, poolGeometry(s), px, py, pi);
  maxPool2dBackward(rt, poolGeometry(s), pdy, pi, pdx);
  const out = { y: rt.mem.readF32(py, n), idx: rt.mem.readI32(pi, n), dx: rt.mem.readF32(pdx, x.length) };
  for (const p of [px, py, pi, pdy, pdx]) rt.mem.free(p);
  return out;
}

function runAvg(rt: WasmRuntime, s: PoolSpec, x: Float32Array, dy: Float32Array, countIncludePad: boolean) {
  const { OH, OW } = pool2dOutputSize(s);
  const n = s.planes * OH * OW;
  const px = upload(rt, x);
  const py = upload(rt, new Float32Array(n));
  const pdy = upload(rt, dy);
  const pdx = upload(rt, new Float32Array(x.length).fill(NaN));
  avgPool2dForward(rt, poolGeometry(s, { countIncludePad }), px, py);
  avgPool2dBackward(rt, poolGeometry(s, { countIncludePad }), pdy, pdx);
  const out = { y: rt.mem.readF32(py, n), dx: rt.mem.readF32(pdx, x.length) };
  for (const p of [px, py, pdy, pdx]) rt.mem.free(p);
  return out;
}

const SHAPES: PoolSpec[] = [
  { planes: 3, H: 8, W: 8, KH: 2, KW: 2 },
  { planes: 2, H: 7, W: 9, KH: 3, KW: 3, strideH: 2, strideW: 2, padH: 1, padW: 1 },
  { planes: 5, H: 11, W: 6, KH: 3, KW: 2, strideH: 1, strideW: 2, padH: 1, padW: 1, ceilMode: true },
  { planes: 1, H: 7, W: 7, KH: 2, KW: 2, ceilMode: true },
  { planes: 4, H: 9, W: 10, KH: 3, KW: 3, strideH: 2, strideW: 3, ceilMode: true },
  { planes: 2, H: 13, W: 12, KH: 4, KW: 5, strideH: 3, strideW: 2, padH: 2, padW: 2 },
];

const DILATED: PoolSpec[] = [
  {
    planes: 2,
    H: 10,
    W: 11,
    KH: 3,
    KW: 2,
    strideH: 1,
    strideW: 2,
    padH: 1,
    padW: 1,
    dilationH: 2,
    dilationW: 3,
  },
];

for (const v of VARIANTS) {
  describe(`pooling (${v.name})`, () => {
    it("max pool forward/argmax/backward match direct loops", async () => {
      const rt = await runtime(v.relaxed);
      let seed = 10;
      for (const s of [...SHAPES, ...DILATED]) {
        const rand = rng(seed++);
        const x = randomArray(s.planes * s.H * s.W, rand);
        const { OH, OW } = pool2dOutputSize(s);
        const dy = randomArray(s.planes * OH * OW, rand);
        const ref = refPool(s, x, dy, "max", true);
        const got = runMax(rt, s, x, dy);
        assertClose(got.y, ref.y, 0, `maxpool y ${JSON.stringify(s)}`);
        assert.deepEqual(got.idx, ref.idx, `maxpool idx ${JSON.stringify(s)}`);
        assertClose(got.dx, ref.dx, 1e-6, `maxpool dx ${JSON.stringify(s)}`);
      }
    });

    it("max pool with column stride 2 on wide rows (the f32x4 paths): values, first-max ties, argmax", async () => {
      const rt = await runtime(v.relaxed);
      const shapes: PoolSpec[] = [
        { planes: 3, H: 23, W: 37, KH: 3, KW: 3, strideH: 2, strideW: 2, padH: 1, padW: 1 },
        { planes: 2, H: 17, W: 40, KH: 3, KW: 3, strideH: 2, strideW: 2 },
        { planes: 2, H: 15, W: 31, KH: 5, KW: 4, strideH: 1, strideW: 2, padH: 2, padW: 2, ceilMode: true },
        { planes: 1, H: 9, W: 29, KH: 1, KW: 1, strideH: 2, strideW: 2 },
        { planes: 2, H: 16, W: 33, KH: 3, KW: 3, strideH: 2, strideW: 2, padH: 1, padW: 1, dilationH: 2 },
        // 2x2 s2 rows whose last block of four overlaps the one before (14 and 5 outputs).
        { planes: 3, H: 28, W: 28, KH: 2, KW: 2 },
        { planes: 2, H: 10, W: 11, KH: 2, KW: 2 },
      ];
      let seed = 30;
      for (const s of shapes) {
        for (const ties of [false, true]) {
          const rand = rng(seed++);
          // Ties: values from {0, 1, 2} so most windows hold several maxima; the first in scan order wins.
          const x = ties
            ? Float32Array.from({ length: s.planes * s.H * s.W }, () => Math.floor(rand() * 3))
            : randomArray(s.planes * s.H * s.W, rand);
          const { OH, OW } = pool2dOutputSize(s);
          const dy = randomArray(s.planes * OH * OW, rand);
          const ref = refPool(s, x, dy, "max", true);
          const got = runMax(rt, s, x, dy);
          const what = `${JSON.stringify(s)} ties=${ties}`;
          assertClose(got.y, ref.y, 0, `maxpool y ${what}`);
          assert.deepEqual(got.idx, ref.idx, `maxpool idx ${what}`);
          assertClose(got.dx, ref.dx, 1e-6, `maxpool dx ${what}`);
        }
      }
    });

    it("avg pool forward/backward match direct loops (count_include_pad on and off)", async () => {
      const rt = await runtime(v.relaxed);
      let seed = 50;
      for (const s of SHAPES) {
        for (const cip of [true, false]) {
          const rand = rng(seed++);
          const x = randomArray(s.planes * s.H * s.W, rand);
          const { OH, OW } = pool2dOutputSize(s);
          const dy = randomArray(s.planes * OH * OW, rand);
          const ref = refPool(s, x, dy, "avg", cip);
          const got = runAvg(rt, s, x, dy, cip);
          assertClose(got.y, ref.y, 1e-6, `avgpool y ${JSON.stringify(s)} cip=${cip}`);
          assertClose(got.dx, ref.dx, 1e-6, `avgpool dx ${JSON.stringify(s)} cip=${cip}`);
        }
      }
    });

    it("matches the PyTorch fixtures", async () => {
      const rt = await runtime(v.relaxed);
      const cases = [...loadFixtures("max_pool2d"), ...loadFixtures("avg_pool2d")];
      let checked = 0;
      for (const c of cases) {
        if (c.op !== "max_pool2d" && c.op !== "avg_pool2d") continue;
        const [N, C, H, W] = c.inputs.x.shape;
        const a = c.attrs as Record<string, number[] | boolean | null>;
        const k = a.kernel_size as number[];
        const st = a.stride as number[];
        const pd = a.padding as number[];
        const dl = (a.dilation as number[] | undefined) ?? [1, 1];
        const s: PoolSpec = {
          planes: N * C,
          H,
          W,
          KH: k[0],
          KW: k[1],
          strideH: st[0],
          strideW: st[1],
          padH: pd[0],
          padW: pd[1],
          dilationH: dl[0],
          dilationW: dl[1],
          ceilMode: a.ceil_mode as boolean,
        };
        const x = decode(c.inputs.x) as Float32Array;
        const dy = decode(c.upstream!.y) as Float32Array;
        const y = decode(c.outputs.y);
        const dx = decode(c.grads!.x);
        assert.equal(
          pool2dOutputSize(s).OH * pool2dOutputSize(s).OW * N * C,
          y.length,
          `${c.name} output size`,
        );
        if (c.op === "max_pool2d") {
          const got = runMax(rt, s, x, dy);
          assertClose(got.y, y, 1e-6, `${c.name} y`);
          assert.deepEqual(got.idx, decode(c.outputs.indices), `${c.name} indices`);
          assertClose(got.dx, dx, 1e-5, `${c.name} dx`);
        } else {
          const got = runAvg(rt, s, x, dy, a.count_include_pad as boolean);
          assertClose(got.y, y, 1e-5, `${c.name} y`);
          assertClose(got.dx, dx, 1e-5, `${c.name} dx`);
        }
        checked++;
      }
      assert.ok(checked >= 13, `checked ${checked} fixture cases`);
    });
  });
}

/** 2x2 / stride 2 max pool by PyTorch's rule: scan order, strictly greater or NaN replaces the best. */
function refMax2x2(planes: number, H: number, W: number, OH: number, OW: number, x: Float32Array) {
  const y = new Float32Array(planes * OH * OW);
  const idx = new Int32Array(y.length);
  for (let p = 0; p < planes; p++)
    for (let oh = 0; oh < OH; oh++)
      for (let ow = 0; ow < OW; ow++) {
        let best = -Infinity;
        let at = 2 * oh * W + 2 * ow;
        for (let ih = 2 * oh; ih < Math.min(2 * oh + 2, H); ih++)
          for (let iw = 2 * ow; iw < Math.min(2 * ow + 2, W); iw++) {
            const v = x[p * H * W + ih * W + iw];
            if (v > best || Number.isNaN(v)) {
              best = v;
              at = ih * W + iw;
            }
          }
        y[(p * OH + oh) * OW + ow] = best;
        idx[(p * OH + oh) * OW + ow] = at;
      }
  return { y, idx };
}

describe("max pool 2x2 / stride 2 (f32x4 path)", () => {
  it("matches the scan-order rule on ties, NaN and -inf, with scalar tails and ceil mode", async () => {
    for (const v of VARIANTS) {
      const rt = await runtime(v.relaxed);
      const rand = rng(77);
      const shapes: PoolSpec[] = [
        { planes: 3, H: 9, W: 21, KH: 2, KW: 2 },
        { planes: 2, H: 7, W: 13, KH: 2, KW: 2, ceilMode: true },
        { planes: 2, H: 28, W: 28, KH: 2, KW: 2, strideH: 2, strideW: 2 },
        { planes: 1, H: 4, W: 8, KH: 2, KW: 2 },
      ];
      for (const s of shapes) {
        const x = new Float32Array(s.planes * s.H * s.W);
        // Few distinct values make ties common; a few NaN and -inf test the replacement rule.
        for (let i = 0; i < x.length; i++) {
          const r = rand(0, 1);
          x[i] = r < 0.05 ? NaN : r < 0.1 ? -Infinity : Math.floor(rand(0, 3));
        }
        const { OH, OW } = pool2dOutputSize(s);
        const dy = randomArray(s.planes * OH * OW, rand);
        const ref = refMax2x2(s.planes, s.H, s.W, OH, OW, x);
        const got = runMax(rt, s, x, dy);
        const name = `${v.name} ${JSON.stringify(s)}`;
        assert.deepEqual(got.idx, ref.idx, `maxpool 2x2 idx ${name}`);
        assert.deepEqual(Array.from(got.y), Array.from(ref.y), `maxpool 2x2 y ${name}`);
      }
    }
  });
});
