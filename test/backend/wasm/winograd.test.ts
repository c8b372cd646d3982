// Winograd conv2d (kernels/winograd.ts) against the js backend in float64: the forward and the input
// gradient, F(2x2,3x3), F(4x4,3x3) and F(2x2,5x5), weights transformed up front or per unit, odd sizes (H, W
// not multiples of the tile, 1x1 images, padding 0/1/2 and asymmetric), batch 1 and 3, channel counts that
// are not multiples of 4/5/8, bias and the fused ReLU, 1 vs 2 threads; the F(2x2,5x5) transform matrices
// against a direct correlation in float64; the dispatch in conv.ts (which convs take it, and that they agree
// with im2col); and the cache of transformed weights between calls (winograd-cache.ts).
//
// Tolerance: |wasm - reference| <= tol * max|reference| (+ 1e-7 for all-zero outputs). Winograd's error
// grows with the transform's constants, not with the values, so it is measured against the output's scale:
// on ResNet-18's 3x3 layers with ResNet-like data (bench/winograd.ts --accuracy, worst of four runs) it was
// 7.6e-7 (F(2x2)) and 1.4e-5 (F(4x4)) of max|y| at 256-512 channels (im2col: 4e-7); the tolerances are about
// 3-4x those. F(2x2,5x5) (bench/winograd.ts --kernel 5 --accuracy [--backward], the CIFAR net's and LeNet's
// 5x5 layers and 64 ch at 28x28, worst of three runs): forward 1.4e-6 to 4.1e-6, input gradient 1.8e-6 to
// 3.7e-6 (im2col: 2e-7 to 4e-7), hence TOL5. A wrong tile element, lane or border is off by a sizeable
// fraction of max|y|.
import { describe, it, after } from "node:test";
import assert from "node:assert/strict";
import { F, memory, noGrad, optim, scope, tensor, type Tensor } from "../../../src/index.js";
import { initWasm, type WasmBackend } from "../../../src/backend/wasm/index.js";
import {
  conv2dBackwardInput,
  conv2dForward,
  winogradTile,
  winogradTileFor,
} from "../../../src/backend/wasm/conv.js";
import {
  winogradApplies,
  winogradBackwardGeometry,
  winogradConv2dBackwardInput,
  winogradConv2dForward,
  type WinogradOptions,
} from "../../../src/backend/wasm/winograd.js";
import type { WasmRuntime } from "../../../src/backend/wasm/runtime.js";
import { WasmStorage } from "../../../src/backend/wasm/storage.js";
import { winogradWeightCache } from "../../../src/backend/wasm/winograd-cache.js";
import { randomArray, rng, runtime, upload } from "./helpers.js";
import { assertClose, relativeToMax } from "../../helpers/close.js";
import { convGeometry, type ConvSpec } from "./reference.js";

const TOL = { 2: 3e-6, 4: 4e-5 } as const;
/** F(2x2, 5x5). */
const TOL5 = 1.5e-5;

interface Case {
  N: number;
  C: number;
  H: number;
  W: number;
  O: number;
  pad: number;
  /** Padding of the width when it differs from `pad` (the height's). */
  padW?: number;
  /** Kernel size (default 3). */
  k?: number;
}

/** Odd geometries: borders, partial tiles, tiles straddling rows and 8-tile panels, tiny images. */
const CASES: Case[] = [
  { N: 1, C: 3, H: 5, W: 7, O: 4, pad: 1 },
  { N: 3, C: 5, H: 6, W: 6, O: 7, pad: 0 },
  { N: 1, C: 8, H: 1, W: 1, O: 3, pad: 1 },
  { N: 3, C: 13, H: 9, W: 11, O: 11, pad: 1 },
  { N: 3, C: 7, H: 10, W: 3, O: 6, pad: 0 },
  { N: 1, C: 4, H: 3, W: 3, O: 2, pad: 0 },
  { N: 3, C: 9, H: 2, W: 17, O: 12, pad: 1 },
  { N: 1, C: 6, H: 4, W: 5, O: 9, pad: 2 },
  { N: 1, C: 33, H: 7, W: 7, O: 21, pad: 1 },
  { N: 3, C: 11, H: 14, W: 13, O: 17, pad: 1 },
  { N: 2, C: 10, H: 9, W: 12, O: 8, pad: 0, padW: 1 },
  { N: 1, C: 12, H: 6, W: 5, O: 7, pad: 2, padW: 0 },
];

/** Big enough to be split across 2 threads (by tile blocks, or by output channels for a single block). */
const THREADED: Case[] = [
  { N: 3, C: 37, H: 23, W: 21, O: 29, pad: 1 },
  { N: 1, C: 45, H: 13, W: 13, O: 53, pad: 1 },
  { N: 1, C: 19, H: 30, W: 31, O: 26, pad: 0 },
];

/** Odd geometries for 5x5 kernels (F(2x2, 5x5)); padding up to 4, as the input gradients of padding 0 run. */
const CASES5: Case[] = [
  { N: 1, C: 3, H: 7, W: 9, O: 4, pad: 2, k: 5 },
  { N: 3, C: 5, H: 6, W: 6, O: 7, pad: 0, k: 5 },
  { N: 1, C: 8, H: 1, W: 1, O: 3, pad: 2, k: 5 },
  { N: 3, C: 13, H: 9, W: 11, O: 11, pad: 2, k: 5 },
  { N: 3, C: 7, H: 10, W: 5, O: 6, pad: 1, k: 5 },
  { N: 1, C: 4, H: 5, W: 5, O: 2, pad: 0, k: 5 },
  { N: 3, C: 9, H: 2, W: 17, O: 12, pad: 2, k: 5 },
  { N: 1, C: 6, H: 4, W: 5, O: 9, pad: 4, k: 5 },
  { N: 1, C: 33, H: 7, W: 7, O: 21, pad: 2, k: 5 },
  { N: 3, C: 11, H: 15, W: 13, O: 17, pad: 2, k: 5 },
  { N: 2, C: 10, H: 9, W: 12, O: 8, pad: 0, padW: 1, k: 5 },
  { N: 1, C: 12, H: 6, W: 7, O: 7, pad: 2, padW: 0, k: 5 },
  { N: 3, C: 6, H: 14, W: 14, O: 16, pad: 0, k: 5 },
];

/** 5x5 cases big enough to be split across 2 threads. */
const THREADED5: Case[] = [
  { N: 3, C: 17, H: 19, W: 21, O: 23, pad: 2, k: 5 },
  { N: 1, C: 45, H: 11, W: 13, O: 53, pad: 2, k: 5 },
  { N: 1, C: 19, H: 30, W: 31, O: 26, pad: 0, k: 5 },
];

function shape(c: Case): ConvSpec {
  const k = c.k ?? 3;
  return { N: c.N, C: c.C, H: c.H, W: c.W, O: c.O, KH: k, KW: k, padH: c.pad, padW: c.padW ?? c.pad };
}

/** Output height and width of a case. */
function outSize(c: Case): [number, number] {
  const k = c.k ?? 3;
  return [c.H + 2 * c.pad - k + 1, c.W + 2 * (c.padW ?? c.pad) - k + 1];
}

interface Data {
  x: Float32Array;
  w: Float32Array;
  b: Float32Array;
  /** float64 reference of conv + bias on the js backend. */
  y: number[];
  scale: number;
}

function data(c: Case, seed: number): Data {
  const k = c.k ?? 3;
  const rand = rng(seed);
  const x = randomArray(c.N * c.C * c.H * c.W, rand);
  const w = randomArray(c.O * c.C * k * k, rand);
  const b = randomArray(c.O, rand);
  const js = (a: Float32Array, s: number[]) =>
    tensor(Float64Array.from(a), s, { backend: "js", dtype: "float64" });
  const ref = F.conv2d(js(x, [c.N, c.C, c.H, c.W]), js(w, [c.O, c.C, k, k]), js(b, [c.O]), {
    padding: [c.pad, c.padW ?? c.pad],
  }).toArray();
  const y = Array.from(ref);
  const scale = y.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  return { x, w, b, y, scale };
}

/** Runs the Winograd forward into a NaN-filled output and returns it. */
function run(rt: WasmRuntime, c: Case, d: Data, options: WinogradOptions, withBias: boolean) {
  const n = d.y.length;
  const px = upload(rt, d.x);
  const pw = upload(rt, d.w);
  const pb = withBias ? upload(rt, d.b) : 0;
  const py = upload(rt, new Float32Array(n).fill(NaN));
  try {
    winogradConv2dForward(rt, convGeometry(shape(c)), px, pw, pb, py, options);
    return rt.mem.readF32(py, n);
  } finally {
    for (const p of [px, pw, pb, py]) if (p !== 0) rt.mem.free(p);
  }
}

interface BackwardData {
  dy: Float32Array;
  w: Float32Array;
  /** float64 reference of the input gradient: conv_transpose2d(dy, w) on the js backend. */
  dx: number[];
}

function backwardData(c: Case, seed: number): BackwardData {
  const k = c.k ?? 3;
  const rand = rng(seed);
  const [OH, OW] = outSize(c);
  const dy = randomArray(c.N * c.O * OH * OW, rand);
  const w = randomArray(c.O * c.C * k * k, rand);
  const js = (a: Float32Array, s: number[]) =>
    tensor(Float64Array.from(a), s, { backend: "js", dtype: "float64" });
  const dx = F.convTranspose2d(js(dy, [c.N, c.O, OH, OW]), js(w, [c.O, c.C, k, k]), null, {
    padding: [c.pad, c.padW ?? c.pad],
  });
  assert.deepEqual(dx.shape, [c.N, c.C, c.H, c.W]);
  return { dy, w, dx: Array.from(dx.toArray()) };
}

/** Runs the input gradient (Winograd with options, or conv.ts's dispatch) into a NaN-filled dx. */
function runBackward(
  rt: WasmRuntime,
  c: Case,
  d: BackwardData,
  how: WinogradOptions | "auto" | "im2col" | "winograd",
) {
  const n = d.dx.length;
  const pdy = upload(rt, d.dy);
  const pw = upload(rt, d.w);
  const pdx = upload(rt, new Float32Array(n).fill(NaN));
  try {
    if (typeof how === "string") conv2dBackwardInput(rt, convGeometry(shape(c)), pdy, pw, pdx, false, how);
    else winogradConv2dBackwardInput(rt, convGeometry(shape(c)), pdy, pw, pdx, how);
    return rt.mem.readF32(pdx, n);
  } finally {
    for (const p of [pdy, pw, pdx]) rt.mem.free(p);
  }
}

const name = (c: Case) =>
  `${c.k ?? 3}x${c.k ?? 3} N${c.N} C${c.C} ${c.H}x${c.W} O${c.O} pad ${c.pad},${c.padW ?? c.pad}`;

// The runtimes are cached by helpers.ts and shared by every describe below: stop their pools at the end.
after(async () => {
  for (const threads of [1, 2]) (await runtime(true, threads)).dispose();
});

describe("winograd conv2d forward vs the js reference (float64)", () => {
  for (const m of [2, 4] as const) {
    for (const weights of ["fused", "transformed"] as const) {
      it(`F(${m}x${m},3x3), weights ${weights}: odd sizes, bias`, async () => {
        const rt = await runtime(true);
        CASES.forEach((c, i) => {
          const d = data(c, 100 + i);
          const what = `${name(c)} F(${m}) ${weights}`;
          assertClose(
            run(rt, c, d, { tile: m, weights }, true),
            d.y,
            relativeToMax(d.y, TOL[m]),
            `${what} bias`,
          );
        });
      });
    }

    it(`F(${m}x${m},3x3) without bias`, async () => {
      const rt = await runtime(true);
      const c = CASES[3];
      const d = data(c, 7);
      const P = (c.H + 2 * c.pad - 2) * (c.W + 2 * (c.padW ?? c.pad) - 2);
      const y = d.y.map((v, j) => v - d.b[Math.floor(j / P) % c.O]);
      assertClose(
        run(rt, c, d, { tile: m }, false),
        y,
        relativeToMax(y, TOL[m]),
        `${name(c)} F(${m}) no bias`,
      );
    });

    it(`F(${m}x${m},3x3) in the plain-SIMD build`, async () => {
      const rt = await runtime(false);
      CASES.slice(0, 4).forEach((c, i) => {
        const d = data(c, 200 + i);
        assertClose(
          run(rt, c, d, { tile: m }, true),
          d.y,
          relativeToMax(d.y, TOL[m]),
          `${name(c)} F(${m}) simd`,
        );
      });
    });

    it(`F(${m}x${m},3x3): 2 threads give the 1-thread result exactly`, async () => {
      const rt1 = await runtime(true, 1);
      const rt2 = await runtime(true, 2);
      THREADED.forEach((c, i) => {
        const d = data(c, 300 + i);
        for (const weights of ["auto", "transformed"] as const) {
          const before = rt2.threadStats().splitCalls;
          const y2 = run(rt2, c, d, { tile: m, weights }, true);
          assert.ok(rt2.threadStats().splitCalls > before, `${name(c)} ${weights}: not split across threads`);
          const y1 = run(rt1, c, d, { tile: m, weights }, true);
          assertClose(y1, d.y, relativeToMax(d.y, TOL[m]), `${name(c)} F(${m}) ${weights} 1 thread`);
          assert.deepEqual(y2, y1, `${name(c)} F(${m}) ${weights}: 2 threads differ from 1`);
        }
      });
    });
  }

  it("small blocks: many tile blocks per call", async () => {
    const rt = await runtime(true);
    const c = CASES[9];
    const d = data(c, 11);
    for (const m of [2, 4] as const) {
      const y = run(rt, c, d, { tile: m, weights: "transformed", blockBytes: 1 }, true);
      assertClose(y, d.y, relativeToMax(d.y, TOL[m]), `${name(c)} F(${m}) 8-tile blocks`);
    }
  });

  it("rejects what it cannot compute", async () => {
    const rt = await runtime(true);
    const s = shape(CASES[0]);
    const bads = [{ strideH: 2 }, { dilationW: 2 }, { KH: 5 }, { KH: 7, KW: 7 }, { groups: 2, O: 4, C: 4 }];
    for (const bad of bads) {
      const t = { ...s, ...bad };
      assert.equal(winogradApplies(convGeometry(t)), false, JSON.stringify(bad));
      assert.throws(
        () => winogradConv2dForward(rt, convGeometry(t), 0, 0, 0, 0),
        /winogradConv2d: needs a 3x3 or 5x5 kernel/,
      );
    }
  });
});

describe("winograd conv2d input gradient vs the js reference (float64)", () => {
  for (const m of [2, 4] as const) {
    it(`F(${m}x${m},3x3): odd sizes, padding 0, 1 and 2, both weight modes`, async () => {
      const rt = await runtime(true);
      CASES.forEach((c, i) => {
        const d = backwardData(c, 400 + i);
        for (const weights of ["fused", "transformed"] as const) {
          assertClose(
            runBackward(rt, c, d, { tile: m, weights }),
            d.dx,
            relativeToMax(d.dx, TOL[m]),
            `${name(c)} F(${m}) ${weights} dx`,
          );
        }
      });
    });

    it(`F(${m}x${m},3x3): 2 threads give the 1-thread input gradient exactly`, async () => {
      const rt1 = await runtime(true, 1);
      const rt2 = await runtime(true, 2);
      THREADED.forEach((c, i) => {
        const d = backwardData(c, 500 + i);
        const before = rt2.threadStats().splitCalls;
        const dx2 = runBackward(rt2, c, d, { tile: m });
        assert.ok(rt2.threadStats().splitCalls > before, `${name(c)}: not split across threads`);
        const dx1 = runBackward(rt1, c, d, { tile: m });
        assertClose(dx1, d.dx, relativeToMax(d.dx, TOL[m]), `${name(c)} F(${m}) dx 1 thread`);
        assert.deepEqual(dx2, dx1, `${name(c)} F(${m}): 2 threads differ from 1`);
      });
    });
  }

  it("is the forward conv with O and C swapped and padding 2 - p; refuses padding above 2", () => {
    const s = shape({ N: 2, C: 5, H: 9, W: 8, O: 7, pad: 1 });
    assert.deepEqual(
      winogradBackwardGeometry(convGeometry(s)),
      convGeometry({ N: 2, C: 7, H: 9, W: 8, O: 5, KH: 3, KW: 3, padH: 1, padW: 1 }),
    );
    assert.equal(winogradBackwardGeometry(convGeometry({ ...s, padH: 3, padW: 3 })), null);
    assert.equal(winogradBackwardGeometry(convGeometry({ ...s, strideW: 2 })), null);
  });

  it("conv2dBackwardInput takes it where the forward rule would, and agrees with im2col", async () => {
    const rt = await runtime(true);
    const c: Case = { N: 2, C: 12, H: 16, W: 11, O: 20, pad: 1 };
    const back = winogradBackwardGeometry(convGeometry(shape(c)))!;
    assert.notEqual(winogradTileFor(back), 0);
    const d = backwardData(c, 13);
    const [auto, im2col, winograd] = (["auto", "im2col", "winograd"] as const).map((how) =>
      runBackward(rt, c, d, how),
    );
    assert.deepEqual(auto, winograd, "auto takes the Winograd path");
    assertClose(im2col, d.dx, relativeToMax(d.dx, 1e-6), "im2col dx");
    assertClose(
      auto,
      Array.from(im2col),
      relativeToMax(Array.from(im2col), TOL[winogradTile(back)]),
      "auto vs im2col dx",
    );
    // Accumulating into dx stays on im2col (the Winograd kernel overwrites).
    const n = d.dx.length;
    const pdy = upload(rt, d.dy);
    const pw = upload(rt, d.w);
    const pdx = upload(rt, new Float32Array(n).fill(1));
    conv2dBackwardInput(rt, convGeometry(shape(c)), pdy, pw, pdx, true);
    const acc = rt.mem.readF32(pdx, n);
    for (const p of [pdy, pw, pdx]) rt.mem.free(p);
    assertClose(
      acc,
      d.dx.map((v) => v + 1),
      relativeToMax(
        d.dx.map((v) => v + 1),
        1e-6,
      ),
      "accumulated dx",
    );
  });
});

describe("F(2x2,5x5)", () => {
  // The matrices of kernels/winograd.ts (g65, BT.apply, at62row0/1) in float64. F(2x2,5x5) shares the points
  // (0, 1, -1, 2, -2, infinity) and so B^T with F(4x4,3x3); G and A^T are its own.
  const G = [
    [1 / 4, 0, 0, 0, 0],
    [-1 / 6, -1 / 6, -1 / 6, -1 / 6, -1 / 6],
    [-1 / 6, 1 / 6, -1 / 6, 1 / 6, -1 / 6],
    [1 / 24, 1 / 12, 1 / 6, 1 / 3, 2 / 3],
    [1 / 24, -1 / 12, 1 / 6, -1 / 3, 2 / 3],
    [0, 0, 0, 0, 1],
  ];
  const BT = [
    [4, 0, -5, 0, 1, 0],
    [0, -4, -4, 1, 1, 0],
    [0, 4, -4, -1, 1, 0],
    [0, -2, -1, 2, 1, 0],
    [0, 2, -1, -2, 1, 0],
    [0, 4, 0, -5, 0, 1],
  ];
  const AT = [
    [1, 1, 1, 1, 1, 0],
    [0, 1, -1, 2, -2, 1],
  ];
  const matVec = (a: number[][], v: number[]) => a.map((row) => row.reduce((s, x, j) => s + x * v[j], 0));
  const matMul = (a: number[][], b: number[][]) =>
    a.map((row) => b[0].map((_, j) => row.reduce((s, x, k) => s + x * b[k][j], 0)));
  const transpose = (a: number[][]) => a[0].map((_, j) => a.map((row) => row[j]));

  it("the transforms compute a 1-D and a 2-D correlation exactly (float64)", () => {
    const rand = rng(5);
    for (let trial = 0; trial < 20; trial++) {
      const d = Array.from({ length: 6 }, () => rand());
      const g = Array.from({ length: 5 }, () => rand());
      const m = matVec(G, g);
      const v = matVec(BT, d);
      const y = matVec(
        AT,
        m.map((x, i) => x * v[i]),
      );
      for (let k = 0; k < 2; k++) {
        const direct = g.reduce((s, gj, j) => s + gj * d[k + j], 0);
        assert.ok(Math.abs(y[k] - direct) < 1e-13, `1-D y[${k}] ${y[k]} vs ${direct}`);
      }
      // 2-D: Y = A^T [(G g G^T) .* (B^T d B)] A.
      const d2 = Array.from({ length: 6 }, () => Array.from({ length: 6 }, () => rand()));
      const g2 = Array.from({ length: 5 }, () => Array.from({ length: 5 }, () => rand()));
      const U = matMul(matMul(G, g2), transpose(G));
      const V = matMul(matMul(BT, d2), transpose(BT));
      const Y = matMul(
        matMul(
          AT,
          U.map((row, i) => row.map((u, j) => u * V[i][j])),
        ),
        transpose(AT),
      );
      for (let a = 0; a < 2; a++) {
        for (let b = 0; b < 2; b++) {
          let direct = 0;
          for (let i = 0; i < 5; i++) for (let j = 0; j < 5; j++) direct += g2[i][j] * d2[a + i][b + j];
          assert.ok(Math.abs(Y[a][b] - direct) < 1e-12, `2-D y[${a}][${b}] ${Y[a][b]} vs ${direct}`);
        }
      }
    }
  });

  for (const weights of ["fused", "transformed"] as const) {
    it(`forward, weights ${weights}: odd sizes, padding 0-4 and asymmetric, bias`, async () => {
      const rt = await runtime(true);
      CASES5.forEach((c, i) => {
        const d = data(c, 600 + i);
        const what = `${name(c)} ${weights}`;
        assertClose(run(rt, c, d, { tile: 2, weights }, true), d.y, relativeToMax(d.y, TOL5), `${what} bias`);
      });
    });
  }

  it("forward without bias, in the plain-SIMD build, and in 8-tile blocks", async () => {
    const c = CASES5[3];
    const d = data(c, 17);
    const [OH, OW] = outSize(c);
    const y = d.y.map((v, j) => v - d.b[Math.floor(j / (OH * OW)) % c.O]);
    const rt = await runtime(true);
    assertClose(run(rt, c, d, { tile: 2 }, false), y, relativeToMax(y, TOL5), `${name(c)} no bias`);
    const blocks = run(rt, c, d, { tile: 2, weights: "transformed", blockBytes: 1 }, true);
    assertClose(blocks, d.y, relativeToMax(d.y, TOL5), `${name(c)} 8-tile blocks`);
    const simd = await runtime(false);
    CASES5.slice(0, 4).forEach((cs, i) => {
      const ds = data(cs, 700 + i);
      assertClose(run(simd, cs, ds, { tile: 2 }, true), ds.y, relativeToMax(ds.y, TOL5), `${name(cs)} simd`);
    });
  });

  it("input gradient: odd sizes, padding 0-4 and asymmetric, both weight modes", async () => {
    const rt = await runtime(true);
    CASES5.forEach((c, i) => {
      const d = backwardData(c, 800 + i);
      for (const weights of ["fused", "transformed"] as const) {
        const dx = runBackward(rt, c, d, { tile: 2, weights });
        assertClose(dx, d.dx, relativeToMax(d.dx, TOL5), `${name(c)} ${weights} dx`);
      }
    });
  });

  it("2 threads give the 1-thread forward and input gradient exactly", async () => {
    const rt1 = await runtime(true, 1);
    const rt2 = await runtime(true, 2);
    THREADED5.forEach((c, i) => {
      const d = data(c, 900 + i);
      for (const weights of ["auto", "transformed"] as const) {
        const before = rt2.threadStats().splitCalls;
        const y2 = run(rt2, c, d, { tile: 2, weights }, true);
        assert.ok(rt2.threadStats().splitCalls > before, `${name(c)} ${weights}: not split across threads`);
        const y1 = run(rt1, c, d, { tile: 2, weights }, true);
        assertClose(y1, d.y, relativeToMax(d.y, TOL5), `${name(c)} ${weights} 1 thread`);
        assert.deepEqual(y2, y1, `${name(c)} ${weights}: 2 threads differ from 1`);
      }
      const b = backwardData(c, 950 + i);
      const before = rt2.threadStats().splitCalls;
      const dx2 = runBackward(rt2, c, b, { tile: 2 });
      assert.ok(rt2.threadStats().splitCalls > before, `${name(c)} dx: not split across threads`);
      const dx1 = runBackward(rt1, c, b, { tile: 2 });
      assertClose(dx1, b.dx, relativeToMax(b.dx, TOL5), `${name(c)} dx 1 thread`);
      assert.deepEqual(dx2, dx1, `${name(c)} dx: 2 threads differ from 1`);
    });
  });

  it("the input gradient is the forward conv with O and C swapped and padding 4 - p", () => {
    const s = shape({ N: 2, C: 5, H: 9, W: 8, O: 7, pad: 0, padW: 3, k: 5 });
    assert.deepEqual(
      winogradBackwardGeometry(convGeometry(s)),
      convGeometry({ N: 2, C: 7, H: 5, W: 10, O: 5, KH: 5, KW: 5, padH: 4, padW: 1 }),
    );
    assert.equal(winogradBackwardGeometry(convGeometry({ ...s, padH: 5 })), null);
    assert.equal(
      winogradBackwardGeometry(convGeometry({ ...s, H: 3, W: 3, padH: 0, padW: 0 })),
      null,
      "empty output",
    );
  });

  it("has no F(4x4,5x5): tile 4 is refused", async () => {
    const rt = await runtime(true);
    const s = shape(CASES5[0]);
    assert.throws(
      () => winogradConv2dForward(rt, convGeometry(s), 0, 0, 0, 0, { tile: 4 }),
      /no F\(4x4, 5x5\)/,
    );
  });
});

describe("conv2d dispatch to Winograd", () => {
  const resnet = (C: number, S: number, N = 1): ConvSpec => ({
    N,
    C,
    H: S,
    W: S,
    O: C,
    KH: 3,
    KW: 3,
    padH: 1,
    padW: 1,
  });

  it("takes ResNet-18's 3x3 stride-1 layers, F(4x4) except where 7x7 leaves F(4x4) panels half empty", () => {
    assert.equal(winogradTileFor(convGeometry(resnet(64, 56))), 4);
    assert.equal(winogradTileFor(convGeometry(resnet(128, 28))), 4);
    assert.equal(winogradTileFor(convGeometry(resnet(256, 14))), 4);
    assert.equal(winogradTileFor(convGeometry(resnet(512, 7))), 2);
    assert.equal(winogradTileFor(convGeometry(resnet(512, 7, 16))), 4);
    // The output size as the backend passes it.
    assert.equal(winogradTileFor(convGeometry({ ...resnet(64, 56), OH: 56, OW: 56 })), 4);
  });

  it("leaves other convs to im2col", () => {
    assert.equal(winogradTileFor(convGeometry({ ...resnet(64, 56), strideH: 2, strideW: 2 })), 0);
    assert.equal(winogradTileFor(convGeometry({ ...resnet(64, 56), groups: 2 })), 0);
    assert.equal(winogradTileFor(convGeometry({ ...resnet(64, 56), dilationH: 2 })), 0);
    assert.equal(winogradTileFor(convGeometry({ ...resnet(64, 56), KH: 7, KW: 7, padH: 3, padW: 3 })), 0);
    assert.equal(winogradTileFor(convGeometry({ ...resnet(64, 56), C: 3 })), 0, "3 input channels");
    assert.equal(winogradTileFor(convGeometry({ ...resnet(64, 4), O: 6 })), 0, "6 output channels");
    assert.equal(winogradTileFor(convGeometry(resnet(32, 4))), 0, "4x4 image, batch 1");
    assert.equal(winogradTileFor(convGeometry(resnet(32, 1, 16))), 0, "1x1 images");
    assert.equal(
      winogradTileFor(convGeometry({ ...resnet(64, 56), OH: 57, OW: 57 })),
      0,
      "conv-transpose output size",
    );
    assert.equal(winogradTile(convGeometry(resnet(64, 8))), 2);
  });

  const five = (N: number, C: number, O: number, S: number, pad: number): ConvSpec => ({
    N,
    C,
    H: S,
    W: S,
    O,
    KH: 5,
    KW: 5,
    padH: pad,
    padW: pad,
  });

  it("takes 5x5 stride-1 convs to F(2x2,5x5) where measured faster: C and O >= 8, enough tiles", () => {
    // The ConvNetJS CIFAR-10 net at batch 64: conv2 and conv3 forward and input gradient, not conv1.
    assert.equal(winogradTileFor(convGeometry(five(64, 3, 16, 32, 2))), 0, "conv1: 3 input channels");
    for (const s of [five(64, 16, 20, 16, 2), five(64, 20, 20, 8, 2)]) {
      assert.equal(winogradTileFor(convGeometry(s)), 2, JSON.stringify(s));
      assert.equal(
        winogradTileFor(winogradBackwardGeometry(convGeometry(s))!),
        2,
        `input gradient of ${JSON.stringify(s)}`,
      );
    }
    // LeNet-5's conv2 (6 input channels), neither forward nor input gradient (6 output channels).
    const lenet = five(64, 6, 16, 14, 0);
    assert.equal(winogradTileFor(convGeometry(lenet)), 0);
    assert.equal(winogradTileFor(winogradBackwardGeometry(convGeometry(lenet))!), 0);
    assert.equal(winogradTileFor(convGeometry(five(64, 8, 8, 16, 2))), 2, "8 channels");
    assert.equal(winogradTileFor(convGeometry(five(16, 64, 64, 28, 2))), 2);
    assert.equal(
      winogradTileFor(convGeometry({ ...five(16, 64, 64, 28, 2), OH: 28, OW: 28 })),
      2,
      "OH, OW passed",
    );
    // Batch 1: 6x6 outputs (9 tiles) pay, 4x4 (4 tiles, half a panel) and 2x2 do not.
    assert.equal(winogradTileFor(convGeometry(five(1, 64, 64, 6, 2))), 2);
    assert.equal(winogradTileFor(convGeometry(five(1, 64, 64, 4, 2))), 0);
    assert.equal(winogradTileFor(convGeometry(five(1, 256, 256, 2, 2))), 0);
    assert.equal(winogradTileFor(convGeometry({ ...five(16, 64, 64, 28, 2), strideH: 2, strideW: 2 })), 0);
    assert.equal(winogradTile(convGeometry(five(1, 64, 64, 56, 2))), 2, "5x5 has F(2x2) only");
  });

  it("5x5: conv2dForward and conv2dBackwardInput take F(2x2,5x5) on auto and agree with im2col", async () => {
    const rt = await runtime(true);
    const c: Case = { N: 2, C: 16, H: 11, W: 10, O: 20, pad: 2, k: 5 };
    const s = shape(c);
    assert.equal(winogradTileFor(convGeometry(s)), 2);
    assert.equal(winogradTileFor(winogradBackwardGeometry(convGeometry(s))!), 2);
    const d = data(c, 19);
    const n = d.y.length;
    const px = upload(rt, d.x);
    const pw = upload(rt, d.w);
    const pb = upload(rt, d.b);
    const [auto, im2col, winograd] = (["auto", "im2col", "winograd"] as const).map((algorithm) => {
      const py = upload(rt, new Float32Array(n).fill(NaN));
      conv2dForward(rt, convGeometry(s), px, pw, pb, py, algorithm);
      const y = rt.mem.readF32(py, n);
      rt.mem.free(py);
      return y;
    });
    for (const p of [px, pw, pb]) rt.mem.free(p);
    assert.deepEqual(auto, winograd, "forward: auto takes the Winograd path");
    assertClose(im2col, d.y, relativeToMax(d.y, 1e-6), "im2col");
    assertClose(auto, Array.from(im2col), relativeToMax(Array.from(im2col), TOL5), "auto vs im2col");
    const b = backwardData(c, 23);
    const [dxAuto, dxIm2col, dxWinograd] = (["auto", "im2col", "winograd"] as const).map((how) =>
      runBackward(rt, c, b, how),
    );
    assert.deepEqual(dxAuto, dxWinograd, "input gradient: auto takes the Winograd path");
    assertClose(dxIm2col, b.dx, relativeToMax(b.dx, 1e-6), "im2col dx");
    assertClose(dxAuto, Array.from(dxIm2col), relativeToMax(Array.from(dxIm2col), TOL5), "auto vs im2col dx");
  });

  it("5x5 through the wasm backend: forward and input gradient agree with the js backend", async () => {
    await initWasm({ setDefault: false });
    const c: Case = { N: 3, C: 8, H: 13, W: 12, O: 10, pad: 2, k: 5 };
    assert.equal(
      winogradTileFor(convGeometry({ ...shape(c), OH: 13, OW: 12 })),
      2,
      "the backend passes OH, OW",
    );
    const d = data(c, 29);
    const b = backwardData(c, 29);
    const x = tensor(d.x, [c.N, c.C, c.H, c.W], { backend: "wasm", requiresGrad: true });
    const y = F.conv2d(
      x,
      tensor(d.w, [c.O, c.C, 5, 5], { backend: "wasm" }),
      tensor(d.b, [c.O], { backend: "wasm" }),
      { padding: 2 },
    );
    assertClose(y.toArray() as Float32Array, d.y, relativeToMax(d.y, TOL5), "F.conv2d on wasm");
    // d(sum(y * dy))/dx with b's weights is b's input gradient.
    const y2 = F.conv2d(x, tensor(b.w, [c.O, c.C, 5, 5], { backend: "wasm" }), null, { padding: 2 });
    F.sum(F.mul(y2, tensor(b.dy, y2.shape, { backend: "wasm" }))).backward();
    assertClose(x.grad!.toArray() as Float32Array, b.dx, relativeToMax(b.dx, TOL5), "x.grad on wasm");
  });

  it("a conv that qualifies gives the im2col result (forced), with bias and ReLU", async () => {
    const rt = await runtime(true);
    const c: Case = { N: 2, C: 24, H: 15, W: 12, O: 20, pad: 1 };
    const s = shape(c);
    assert.notEqual(winogradTileFor(convGeometry(s)), 0);
    const d = data(c, 5);
    const n = d.y.length;
    const px = upload(rt, d.x);
    const pw = upload(rt, d.w);
    const pb = upload(rt, d.b);
    const outs = (["auto", "im2col", "winograd"] as const).map((algorithm) => {
      const py = upload(rt, new Float32Array(n).fill(NaN));
      conv2dForward(rt, convGeometry(s), px, pw, pb, py, algorithm);
      const y = rt.mem.readF32(py, n);
      rt.mem.free(py);
      return y;
    });
    for (const p of [px, pw, pb]) rt.mem.free(p);
    const [auto, im2col, winograd] = outs;
    assert.deepEqual(auto, winograd, "auto takes the Winograd path");
    assertClose(im2col, d.y, relativeToMax(d.y, 1e-6), "im2col");
    assertClose(
      auto,
      Array.from(im2col),
      relativeToMax(Array.from(im2col), TOL[winogradTile(convGeometry(s))]),
      "auto vs im2col",
    );
  });

  it("the wasm backend's conv2d (with its output size) agrees with the js backend", async () => {
    await initWasm({ setDefault: false });
    const c: Case = { N: 2, C: 16, H: 12, W: 10, O: 12, pad: 1 };
    assert.notEqual(
      winogradTileFor(convGeometry({ ...shape(c), OH: 12, OW: 10 })),
      0,
      "the backend passes OH, OW",
    );
    const d = data(c, 9);
    const y = F.conv2d(
      tensor(d.x, [c.N, c.C, c.H, c.W], { backend: "wasm" }),
      tensor(d.w, [c.O, c.C, 3, 3], { backend: "wasm" }),
      tensor(d.b, [c.O], { backend: "wasm" }),
      { padding: 1 },
    ).toArray() as Float32Array;
    assertClose(y, d.y, relativeToMax(d.y, TOL[winogradTile(convGeometry(shape(c)))]), "F.conv2d on wasm");
  });
});

describe("transformed weights cached between calls", () => {
  /** The Winograd forward (or input gradient) of `c` with w, its storage passed as the cache key. */
  function cachedRun(
    rt: WasmRuntime,
    c: Case,
    x: Float32Array,
    w: number,
    backward: boolean,
    weights = "auto",
  ) {
    const s = shape(c);
    const [OH, OW] = outSize(c);
    const n = backward ? c.N * c.C * c.H * c.W : c.N * c.O * OH * OW;
    const px = upload(rt, x);
    const py = upload(rt, new Float32Array(n).fill(NaN));
    const k = c.k ?? 3;
    const options: WinogradOptions = {
      tile: k === 5 ? 2 : 4,
      weights: weights as WinogradOptions["weights"],
      weightStorage: new WasmStorage("float32", c.O * c.C * k * k, w),
    };
    if (weights === "none") options.weightStorage = undefined;
    try {
      if (backward) winogradConv2dBackwardInput(rt, convGeometry(s), px, w, py, options);
      else winogradConv2dForward(rt, convGeometry(s), px, w, 0, py, options);
      return rt.mem.readF32(py, n);
    } finally {
      rt.mem.free(px);
      rt.mem.free(py);
    }
  }

  it("gives exactly the uncached results (same kernels), forward and input gradient, 1 and 2 threads", async () => {
    for (const threads of [1, 2]) {
      const rt = await runtime(true, threads);
      const cache = winogradWeightCache(rt);
      const cases: Case[] = [CASES[8], THREADED[1], { N: 2, C: 16, H: 9, W: 9, O: 40, pad: 1 }];
      cases.push(CASES5[8], THREADED5[1], { N: 2, C: 16, H: 9, W: 9, O: 40, pad: 2, k: 5 });
      for (const c of cases) {
        const k = c.k ?? 3;
        for (const backward of [false, true]) {
          const rand = rng(c.C * 7 + c.O);
          const [OH, OW] = outSize(c);
          const x = randomArray(backward ? c.N * c.O * OH * OW : c.N * c.C * c.H * c.W, rand);
          const pw = upload(rt, randomArray(c.O * c.C * k * k, rand));
          const storage = new WasmStorage("float32", c.O * c.C * k * k, pw);
          const what = `${name(c)} ${backward ? "dx" : "y"} ${threads} threads`;
          const uncached = ["auto", "transformed", "fused"].map((weights) =>
            cachedRun(rt, c, x, pw, backward, weights === "auto" ? "none" : weights),
          );
          assert.deepEqual(uncached[1], uncached[0], `${what}: transformed vs auto`);
          assert.deepEqual(uncached[2], uncached[0], `${what}: fused vs auto`);
          const before = cache.stats();
          const calls = [0, 1, 2].map(() => {
            const options: WinogradOptions = { tile: k === 5 ? 2 : 4, weightStorage: storage };
            const n = uncached[0].length;
            const px = upload(rt, x);
            const py = upload(rt, new Float32Array(n).fill(NaN));
            if (backward) winogradConv2dBackwardInput(rt, convGeometry(shape(c)), px, pw, py, options);
            else winogradConv2dForward(rt, convGeometry(shape(c)), px, pw, 0, py, options);
            const y = rt.mem.readF32(py, n);
            rt.mem.free(px);
            rt.mem.free(py);
            return y;
          });
          const after = cache.stats();
          assert.equal(after.fills - before.fills, 1, `${what}: filled on the second call`);
          assert.equal(after.hits - before.hits, 1, `${what}: served on the third call`);
          calls.forEach((y, i) => assert.deepEqual(y, uncached[0], `${what}: call ${i + 1}`));
          rt.mem.free(pw);
          cache.clear();
        }
      }
    }
  });

  it("keys on the kernel size: one storage read as 3x3 and as 5x5 weights gets each its own entry", async () => {
    const rt = await runtime(true);
    const cache = winogradWeightCache(rt);
    cache.clear();
    const c3: Case = { N: 1, C: 6, H: 9, W: 9, O: 10, pad: 1 };
    const c5: Case = { ...c3, pad: 2, k: 5 };
    const rand = rng(41);
    const x = randomArray(c3.N * c3.C * c3.H * c3.W, rand);
    // 5x5 weights; the 3x3 conv reads the first O*C*9 floats of the same storage.
    const pw = upload(rt, randomArray(c3.O * c3.C * 25, rand));
    const storage = new WasmStorage("float32", c3.O * c3.C * 25, pw);
    const call = (c: Case, cached: boolean) => {
      const n = c.N * c.O * c.H * c.W;
      const px = upload(rt, x);
      const py = upload(rt, new Float32Array(n).fill(NaN));
      const options: WinogradOptions = { tile: 2, weightStorage: cached ? storage : undefined };
      winogradConv2dForward(rt, convGeometry(shape(c)), px, pw, 0, py, options);
      const y = rt.mem.readF32(py, n);
      rt.mem.free(px);
      rt.mem.free(py);
      return y;
    };
    const ref3 = call(c3, false);
    const ref5 = call(c5, false);
    const fills = cache.stats().fills;
    for (let i = 0; i < 3; i++) {
      assert.deepEqual(call(c3, true), ref3, `3x3 call ${i + 1}`);
      assert.deepEqual(call(c5, true), ref5, `5x5 call ${i + 1}`);
    }
    assert.equal(cache.stats().fills, fills + 2, "one entry per kernel size");
    rt.mem.free(pw);
    cache.clear();
  });

  let wasm: WasmBackend;
  const W = { backend: "wasm" } as const;
  const cacheOf = () => winogradWeightCache(wasm.runtime);
  const c: Case = { N: 2, C: 16, H: 12, W: 10, O: 24, pad: 1 };
  const conv = (x: Tensor, w: Tensor) => F.conv2d(x, w, null, { padding: 1 }).toArray() as Float32Array;

  it("a new weight storage (assign, or a new one at a freed one's address) is never served a stale entry", async () => {
    wasm = await initWasm({ setDefault: false });
    const d1 = data(c, 21);
    const d2 = data({ ...c }, 22);
    const x = tensor(d1.x, [c.N, c.C, c.H, c.W], W);
    const w = tensor(d1.w, [c.O, c.C, 3, 3], W);
    const fillsBefore = cacheOf().stats().fills;
    const y1 = [0, 1, 2].map(() => conv(x, w));
    assert.equal(cacheOf().stats().fills, fillsBefore + 1, "the first weights are cached");
    // Reference for the second weights: a fresh tensor's first (uncached) call.
    const ref2 = conv(x, tensor(d2.w, [c.O, c.C, 3, 3], W));
    w.assign(tensor(d2.w, [c.O, c.C, 3, 3], W));
    for (let i = 0; i < 3; i++) assert.deepEqual(conv(x, w), ref2, `after assign, call ${i + 1}`);
    assert.notDeepEqual(ref2, y1[0]);
    // A weight freed by a scope, and a new weight at the same address.
    let address = -1;
    const ref1 = scope(() => {
      const w1 = tensor(d1.w, [c.O, c.C, 3, 3], W);
      address = (w1.storage as WasmStorage).ptr;
      return [0, 1, 2].map(() => conv(x, w1))[2];
    });
    assert.deepEqual(ref1, y1[0]);
    const w2 = tensor(d2.w, [c.O, c.C, 3, 3], W);
    assert.equal(
      (w2.storage as WasmStorage).ptr,
      address,
      "the freed block is reused (else this test is moot)",
    );
    for (let i = 0; i < 3; i++)
      assert.deepEqual(conv(x, w2), ref2, `new storage at a reused address, call ${i + 1}`);
  });

  it("a weight freed by a scope releases its entry: heap bytes return", () => {
    const d = data(c, 23);
    const x = tensor(d.x, [c.N, c.C, c.H, c.W], W);
    cacheOf().clear();
    const heap = () => memory("wasm").heapBytes!;
    const before = heap();
    let during = 0;
    scope(() => {
      const w = tensor(d.w, [c.O, c.C, 3, 3], W);
      for (let i = 0; i < 3; i++) conv(x, w);
      during = heap();
      assert.equal(cacheOf().stats().entries, 1);
    });
    assert.ok(during > before + cacheOf().stats().bytes, "the entry was allocated");
    // The next Winograd call (here with other weights, inside a scope that frees its output) drops it.
    scope(() => conv(x, tensor(d.w, [c.O, c.C, 3, 3], W)));
    assert.equal(cacheOf().stats().entries, 0);
    assert.equal(heap(), before);
  });

  it("training steps (new or overwritten weights every step) do not fill the cache; evaluation does", () => {
    cacheOf().clear();
    const rand = rng(31);
    const x = tensor(randomArray(4 * 8 * 8 * 8, rand), [4, 8, 8, 8], W);
    const w1 = tensor(randomArray(16 * 8 * 9, rand, -0.3, 0.3), [16, 8, 3, 3], { ...W, requiresGrad: true });
    const w2 = tensor(randomArray(16 * 16 * 9, rand, -0.2, 0.2), [16, 16, 3, 3], {
      ...W,
      requiresGrad: true,
    });
    assert.notEqual(
      winogradTileFor(convGeometry({ N: 4, C: 16, H: 8, W: 8, O: 16, KH: 3, KW: 3, padH: 1, padW: 1 })),
      0,
    );
    const net = (a = w1, b = w2) =>
      F.conv2d(F.relu(F.conv2d(x, a, null, { padding: 1 })), b, null, { padding: 1 });
    const opt = new optim.SGD([w1, w2], { lr: 0.01, momentum: 0.9 });
    const train = (steps: number) => {
      for (let step = 0; step < steps; step++) {
        scope(() => {
          opt.zeroGrad();
          F.mean(F.square(net())).backward();
          opt.step();
        });
      }
    };
    const evaluate = () => noGrad(() => scope(() => net().toArray()));
    /** The same values in fresh tensors: their first, uncached call. */
    const fresh = () =>
      noGrad(() =>
        scope(() => net(tensor(w1.toArray(), w1.shape, W), tensor(w2.toArray(), w2.shape, W)).toArray()),
      );
    const before = cacheOf().stats();
    train(4);
    const trained = cacheOf().stats();
    assert.equal(trained.fills, before.fills, "no fills while training");
    assert.equal(trained.entries, 0);
    for (let i = 0; i < 3; i++) assert.deepEqual(evaluate(), fresh());
    const evaluated = cacheOf().stats();
    assert.equal(evaluated.fills, before.fills + 2, "both convs cached from the second evaluation");
    assert.equal(evaluated.hits, before.hits + 2);
    // From its second step on, the optimizer overwrites the parameters' storages in place.
    const storage = w1.storage;
    train(2);
    assert.equal(w1.storage, storage, "updated in place (else this test is moot)");
    assert.equal(cacheOf().stats().fills, evaluated.fills, "no fills while training");
    assert.deepEqual(evaluate(), fresh(), "evaluation after in-place updates");
    assert.equal(cacheOf().stats().entries, 0, "the stale entries are dropped");
  });

  it("the byte budget evicts the least recently used entries", () => {
    const cache = cacheOf();
    cache.clear();
    const d = data(c, 24);
    const x = tensor(d.x, [c.N, c.C, c.H, c.W], W);
    const ws = [25, 26, 27].map((seed) => tensor(data(c, seed).w, [c.O, c.C, 3, 3], W));
    const refs = ws.map((w) => conv(x, w));
    conv(x, ws[0]);
    const one = cache.stats().bytes;
    assert.ok(one > 0);
    const saved = cache.budgetBytes;
    try {
      cache.budgetBytes = 2 * one;
      const evictions = cache.stats().evictions;
      conv(x, ws[1]);
      assert.equal(cache.stats().entries, 2);
      conv(x, ws[0]); // now most recently used: ws[1] goes first
      conv(x, ws[2]);
      const s = cache.stats();
      assert.equal(s.entries, 2);
      assert.equal(s.bytes, 2 * one);
      assert.equal(s.evictions, evictions + 1);
      const hits = s.hits;
      assert.deepEqual(conv(x, ws[0]), refs[0]);
      assert.equal(cache.stats().hits, hits + 1, "ws[0] stayed");
      assert.deepEqual(conv(x, ws[1]), refs[1], "an evicted weight is transformed again");
      assert.equal(cache.stats().hits, hits + 1, "ws[1] was evicted");
      cache.budgetBytes = one / 2;
      assert.equal(cache.stats().entries, 0, "a smaller budget evicts at once");
      assert.deepEqual(conv(x, ws[2]), refs[2]);
      assert.equal(cache.stats().entries, 0, "entries above the budget are never cached");
    } finally {
      cache.budgetBytes = saved;
    }
  });
});
