// The batch-norm kernels (statistics, forward, fused backward) against the js reference backend computed in
// float64 on the same float32 inputs, on both builds: odd channel counts, S not a multiple of 4, S = 1
// (the four-channel column path and its tail), batch 1, strips longer than a summation block; 1 and 2
// threads give identical results; and the statistics of data with a large mean and a small spread.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { jsBackend } from "../../../src/backend/js/index.js";
import {
  batchNormBackward,
  batchNormForward,
  batchNormStats,
} from "../../../src/backend/wasm/normalization.js";
import type { BatchNormGeometry } from "../../../src/backend/backend.js";
import type { WasmRuntime } from "../../../src/backend/wasm/runtime.js";
import { VARIANTS, randomArray, rng, runtime, upload } from "./helpers.js";
import { assertClose } from "../../helpers/close.js";

interface Inputs {
  x: Float32Array;
  gy: Float32Array;
  /** invStd, weight and bias per channel (the statistics come from the kernel under test). */
  invStd: Float32Array;
  weight: Float32Array | null;
  bias: Float32Array | null;
}

interface Outputs {
  mean: Float32Array | Float64Array;
  variance: Float32Array | Float64Array;
  y: Float32Array | Float64Array;
  dx: Float32Array | Float64Array;
  dWeight: Float32Array | Float64Array;
  dBias: Float32Array | Float64Array;
}

/** x as [N, C, S], as the tests write it. */
interface BatchNormShape {
  N: number;
  C: number;
  S: number;
}

const size = (s: BatchNormShape) => s.N * s.C * s.S;
const geometry = (s: BatchNormShape): BatchNormGeometry => ({ batch: s.N, channels: s.C, spatial: s.S });

function makeInputs(s: BatchNormShape, seed: number, affine: boolean): Inputs {
  const rand = rng(seed);
  return {
    x: randomArray(size(s), rand, -2, 3),
    gy: randomArray(size(s), rand),
    invStd: randomArray(s.C, rand, 0.5, 2),
    weight: affine ? randomArray(s.C, rand, 0.5, 1.5) : null,
    bias: affine ? randomArray(s.C, rand) : null,
  };
}

/** The js backend in float64: the statistics of the float32 data, and forward/backward with `mean`. */
function reference(s: BatchNormShape, i: Inputs, mean: Float32Array, training: boolean): Outputs {
  const f64 = (a: Float32Array) => jsBackend.fromArray(Float64Array.from(a));
  const opt = (a: Float32Array | null) => (a ? f64(a) : null);
  const g = geometry(s);
  const stats = jsBackend.batchNormStats(f64(i.x), g);
  const y = jsBackend.batchNormForward(f64(i.x), f64(mean), f64(i.invStd), opt(i.weight), opt(i.bias), g);
  const grads = jsBackend.batchNormBackward(
    f64(i.gy),
    f64(i.x),
    f64(mean),
    f64(i.invStd),
    opt(i.weight),
    training,
    g,
  );
  const out = (st: Parameters<typeof jsBackend.toArray>[0]) => jsBackend.toArray(st) as Float64Array;
  return {
    mean: out(stats.mean),
    variance: out(stats.variance),
    y: out(y),
    dx: out(grads.dx),
    dWeight: out(grads.dWeight),
    dBias: out(grads.dBias),
  };
}

/** Runs the three kernels on `rt`; the forward and backward use the mean the statistics kernel returned. */
function runWasm(rt: WasmRuntime, s: BatchNormShape, i: Inputs, training: boolean): Outputs {
  const C = s.C;
  const x = upload(rt, i.x);
  const gy = upload(rt, i.gy);
  const invStd = upload(rt, i.invStd);
  const weight = i.weight ? upload(rt, i.weight) : 0;
  const bias = i.bias ? upload(rt, i.bias) : 0;
  const [mean, variance, dWeight, dBias] = [0, 0, 0, 0].map(() => rt.mem.alloc(Math.max(1, C) * 4));
  const y = rt.mem.alloc(Math.max(1, size(s)) * 4);
  const dx = rt.mem.alloc(Math.max(1, size(s)) * 4);
  batchNormStats(rt, geometry(s), x, mean, variance);
  batchNormForward(rt, geometry(s), x, mean, invStd, weight, bias, y);
  batchNormBackward(rt, geometry(s), gy, x, mean, invStd, weight, training, { dx, dWeight, dBias });
  const out = {
    mean: rt.mem.readF32(mean, C),
    variance: rt.mem.readF32(variance, C),
    y: rt.mem.readF32(y, size(s)),
    dx: rt.mem.readF32(dx, size(s)),
    dWeight: rt.mem.readF32(dWeight, C),
    dBias: rt.mem.readF32(dBias, C),
  };
  for (const p of [x, gy, invStd, weight, bias, mean, variance, dWeight, dBias, y, dx]) {
    if (p !== 0) rt.mem.free(p);
  }
  return out;
}

const SHAPES: BatchNormShape[] = [
  { N: 4, C: 3, S: 1 }, // [N, C] with fewer channels than one column group
  { N: 9, C: 13, S: 1 }, // column groups plus a tail of one channel
  { N: 150, C: 8, S: 1 }, // more rows than a column summation block
  { N: 2, C: 5, S: 7 },
  { N: 1, C: 3, S: 10 }, // batch 1 with S > 1
  { N: 3, C: 7, S: 12 },
  { N: 2, C: 3, S: 1100 }, // strips longer than a summation block, and a tail
  { N: 5, C: 1, S: 3 },
];

const describeShape = (s: BatchNormShape) => `N${s.N} C${s.C} S${s.S}`;

describe("wasm batch-norm kernels against the js reference", () => {
  for (const v of VARIANTS) {
    it(`${v.name}: statistics, forward and backward (training and eval, affine or not)`, async () => {
      const rt = await runtime(v.relaxed);
      let seed = 1;
      for (const s of SHAPES) {
        for (const affine of [true, false]) {
          for (const training of [true, false]) {
            const what = `${v.name} ${describeShape(s)} ${affine ? "affine" : "plain"} ${training ? "train" : "eval"}`;
            const inputs = makeInputs(s, seed++, affine);
            const got = runWasm(rt, s, inputs, training);
            const want = reference(s, inputs, got.mean as Float32Array, training);
            assertClose(got.mean, want.mean, 1e-6, `${what}: mean`);
            assertClose(got.variance, want.variance, 1e-6, `${what}: variance`);
            assertClose(got.y, want.y, 1e-6, `${what}: y`);
            assertClose(got.dx, want.dx, 1e-5, `${what}: dx`);
            // Sums over up to 6600 values whose terms are O(1).
            assertClose(got.dWeight, want.dWeight, 1e-5, `${what}: dWeight`);
            assertClose(got.dBias, want.dBias, 1e-5, `${what}: dBias`);
          }
        }
      }
    });
  }

  it("eval backward does not read x: dx = gy·w·invStd even where x is infinite", async () => {
    const rt = await runtime(true);
    for (const s of [
      { N: 3, C: 8, S: 1 },
      { N: 2, C: 3, S: 9 },
    ]) {
      const inputs = makeInputs(s, 99, true);
      inputs.x[0] = Infinity;
      const got = runWasm(rt, s, inputs, false);
      for (let i = 0; i < size(s); i++) {
        const c = Math.floor(i / s.S) % s.C;
        const want = inputs.gy[i] * inputs.weight![c] * inputs.invStd[c];
        assert.ok(Math.abs(got.dx[i] - want) <= 1e-6 * (1 + Math.abs(want)), `${describeShape(s)} dx[${i}]`);
      }
    }
  });
});

describe("wasm batch-norm kernels: 1 and 2 threads agree", () => {
  // Big enough that every kernel is split (work above PARALLEL_THRESHOLD), with uneven channel ranges.
  const shapes: BatchNormShape[] = [
    { N: 8, C: 13, S: 1601 },
    { N: 1203, C: 131, S: 1 },
  ];
  for (const v of VARIANTS) {
    it(`${v.name}: identical outputs`, async () => {
      const one = await runtime(v.relaxed, 1);
      const two = await runtime(v.relaxed, 2);
      assert.equal(two.numThreads, 2, "the 2-thread runtime needs shared memory");
      assert.ok(two.threadsFor(size(shapes[0]) * 16, shapes[0].C) === 2, "the forward must be split");
      for (const s of shapes) {
        const inputs = makeInputs(s, 7, true);
        const a = runWasm(one, s, inputs, true);
        const b = runWasm(two, s, inputs, true);
        for (const key of Object.keys(a) as (keyof Outputs)[]) {
          assert.deepEqual(b[key], a[key], `${v.name} ${describeShape(s)}: ${key}`);
        }
      }
    });
  }
});

describe("wasm batch-norm statistics: large mean, small spread, many values", () => {
  /** Exact (float64, two-pass) mean and biased variance per channel of the float32 data. */
  function exactStats(x: Float32Array, s: BatchNormShape): { mean: number[]; variance: number[] } {
    const mean: number[] = [];
    const variance: number[] = [];
    for (let c = 0; c < s.C; c++) {
      let total = 0;
      for (let n = 0; n < s.N; n++) for (let k = 0; k < s.S; k++) total += x[(n * s.C + c) * s.S + k];
      const m = total / (s.N * s.S);
      let sq = 0;
      for (let n = 0; n < s.N; n++) for (let k = 0; k < s.S; k++) sq += (x[(n * s.C + c) * s.S + k] - m) ** 2;
      mean.push(m);
      variance.push(sq / (s.N * s.S));
    }
    return { mean, variance };
  }

  // 819,200 values per channel (ResNet's first layer at 112x112 has 802,816 at batch 64), and the
  // [N, C] column path; values 1000 + uniform noise of spread 0.2 (variance ≈ 0.0033).
  const shapes: BatchNormShape[] = [
    { N: 64, C: 2, S: 12800 },
    { N: 40000, C: 5, S: 1 },
  ];
  for (const v of VARIANTS) {
    it(`${v.name}: mean and variance to float32 precision`, async () => {
      const rt = await runtime(v.relaxed);
      for (const s of shapes) {
        const rand = rng(5);
        const x = new Float32Array(size(s));
        for (let i = 0; i < x.length; i++) x[i] = 1000 + rand(-0.1, 0.1) + (i % s.C) * 0.01;
        const exact = exactStats(x, s);
        const p = upload(rt, x);
        const mean = rt.mem.alloc(s.C * 4);
        const variance = rt.mem.alloc(s.C * 4);
        batchNormStats(rt, geometry(s), p, mean, variance);
        const gotMean = rt.mem.readF32(mean, s.C);
        const gotVar = rt.mem.readF32(variance, s.C);
        for (let c = 0; c < s.C; c++) {
          const what = `${v.name} ${describeShape(s)} channel ${c}`;
          // Within half a float32 ulp of 1000 (6.1e-5): the exact mean, rounded. The composite of
          // reduce ops this replaced was 12 ulps off here, and 1.8e-4 off in the variance.
          assert.ok(
            Math.abs(gotMean[c] - exact.mean[c]) <= 3.1e-5,
            `${what}: mean ${gotMean[c]} vs ${exact.mean[c]}`,
          );
          const rel = Math.abs(gotVar[c] - exact.variance[c]) / exact.variance[c];
          assert.ok(rel < 1e-5, `${what}: variance ${gotVar[c]} vs ${exact.variance[c]} (relative ${rel})`);
        }
        for (const q of [p, mean, variance]) rt.mem.free(q);
      }
    });
  }
});
