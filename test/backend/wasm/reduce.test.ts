// Accuracy of the wasm sum/mean kernel on large reductions, against float64 sums of the same float32
// inputs: a million values with a large mean and a small spread (where summing in float32 loses the spread),
// and with mixed signs; inner == 1 and inner > 1, odd sizes, several passes (mean over N, H, W); 1 and 2
// threads agree; max/min stay exact and NaN/infinity behave as before.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { reduce, type ReduceOp } from "../../../src/backend/wasm/elementwise.js";
import type { WasmRuntime } from "../../../src/backend/wasm/runtime.js";
import { VARIANTS, randomArray, rng, runtime, upload } from "./helpers.js";

/**
 * Allowed error of a sum, relative to the sum of |x| (the scale of any summation error bound): 4 float32
 * epsilons. Summing these rows in f32 lanes (the kernel before block sums) missed it by up to 10x on data
 * with a large mean; block sums carried in float64 stay within about two roundings to f32 (≤ 1.2e-7).
 */
const TOL = 4 * 2 ** -23;

interface Case {
  shape: number[];
  axes: number[];
}

// ≥ 1e6 elements each: inner == 1 with outer 1 and 3; inner > 1 with outer 1 and 3; two passes (N and H,W).
const CASES: Case[] = [
  { shape: [1_000_003], axes: [0] },
  { shape: [3, 333_337], axes: [1] },
  { shape: [4099, 257], axes: [0] },
  { shape: [3, 2001, 175], axes: [1] },
  { shape: [150, 7001], axes: [0] }, // several column chunks, the last one partial
  { shape: [4, 8, 224, 224], axes: [0, 2, 3] },
];

const DATA: { name: string; make: (n: number, seed: number) => Float32Array }[] = [
  { name: "1000 ± 0.1", make: (n, seed) => randomArray(n, rng(seed), 999.9, 1000.1) },
  { name: "mixed signs", make: (n, seed) => randomArray(n, rng(seed), -1, 1) },
  { name: "mixed signs, mean 1", make: (n, seed) => randomArray(n, rng(seed), -1, 3) },
];

const product = (s: readonly number[]) => s.reduce((p, q) => p * q, 1);

/** Float64 sums of x over `axes` and of |x| (by an odometer over the input), per output element. */
function reference(x: Float32Array, shape: readonly number[], axes: readonly number[]) {
  const outStrides = new Array<number>(shape.length).fill(0);
  let size = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    if (axes.includes(d)) continue;
    outStrides[d] = size;
    size *= shape[d];
  }
  const sum = new Float64Array(size);
  const abs = new Float64Array(size);
  const index = new Array<number>(shape.length).fill(0);
  let o = 0;
  for (let i = 0; i < x.length; i++) {
    sum[o] += x[i];
    abs[o] += Math.abs(x[i]);
    for (let d = shape.length - 1; d >= 0; d--) {
      o += outStrides[d];
      if (++index[d] < shape[d]) break;
      o -= outStrides[d] * shape[d];
      index[d] = 0;
    }
  }
  return { sum, abs, count: x.length / size };
}

function run(rt: WasmRuntime, op: ReduceOp, x: Float32Array, c: Case): Float32Array {
  const n = product(c.shape.filter((_, i) => !c.axes.includes(i)));
  const px = upload(rt, x);
  const py = rt.mem.alloc(n * 4);
  try {
    reduce(rt, op, px, c.shape, c.axes, py);
    return rt.mem.readF32(py, n);
  } finally {
    rt.mem.free(px);
    rt.mem.free(py);
  }
}

/** The worst |got − exact| over the outputs, relative to the sum (or mean) of |x|. */
function worstError(got: Float32Array, exact: Float64Array, abs: Float64Array): number {
  let worst = 0;
  for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - exact[i]) / abs[i]);
  return worst;
}

for (const v of VARIANTS) {
  describe(`reduce accuracy (${v.name})`, () => {
    for (const c of CASES) {
      it(`sum and mean over [${c.shape}] axes [${c.axes}] stay within ${TOL.toExponential(1)} of float64`, async () => {
        const rt = await runtime(v.relaxed);
        for (const [k, data] of DATA.entries()) {
          const x = data.make(product(c.shape), 11 + k);
          const ref = reference(x, c.shape, c.axes);
          const sumError = worstError(run(rt, "sum", x, c), ref.sum, ref.abs);
          const mean = ref.sum.map((s) => s / ref.count);
          const meanAbs = ref.abs.map((s) => s / ref.count);
          const meanError = worstError(run(rt, "mean", x, c), mean, meanAbs);
          for (const [what, err] of [
            ["sum", sumError],
            ["mean", meanError],
          ] as const) {
            assert.ok(err <= TOL, `${what} of ${data.name}: relative error ${err.toExponential(2)} > ${TOL}`);
          }
        }
      });
    }

    it("1 and 2 threads give the same sums", async () => {
      const one = await runtime(v.relaxed, 1);
      const two = await runtime(v.relaxed, 2);
      if (two.numThreads < 2) return; // no shared memory: nothing to compare
      const split: Case[] = [
        { shape: [3, 333_337], axes: [1] },
        { shape: [3, 2001, 175], axes: [1] },
        { shape: [4, 8, 224, 224], axes: [0, 2, 3] },
        { shape: [5, 40001], axes: [1] },
      ];
      for (const c of split) {
        const x = DATA[0].make(product(c.shape), 5);
        for (const op of ["sum", "mean"] as const) {
          const before = two.threadStats().splitCalls;
          const a = run(one, op, x, c);
          const b = run(two, op, x, c);
          assert.ok(two.threadStats().splitCalls > before, `[${c.shape}] was not split across threads`);
          assert.deepEqual(b, a, `${op} [${c.shape}] axes [${c.axes}]`);
        }
      }
    });

    it("max and min stay exact; NaN and infinities propagate as before", async () => {
      const rt = await runtime(v.relaxed);
      for (const c of [
        { shape: [1_000_003], axes: [0] },
        { shape: [4099, 257], axes: [0] },
        { shape: [3, 4001, 7], axes: [1] },
      ]) {
        const x = randomArray(product(c.shape), rng(3), -1e3, 1e3);
        const ref = reference(x, c.shape, c.axes);
        const n = ref.sum.length;
        // exact maxima and minima, by a loop over the output positions of each input
        const max = new Float32Array(n).fill(-Infinity);
        const min = new Float32Array(n).fill(Infinity);
        const outer = c.shape.slice(0, c.axes[0]).reduce((p, q) => p * q, 1);
        const r = c.shape[c.axes[0]];
        const inner = n / outer;
        for (let i = 0; i < x.length; i++) {
          const o = Math.floor(i / (r * inner)) * inner + (i % inner);
          max[o] = Math.max(max[o], x[i]);
          min[o] = Math.min(min[o], x[i]);
        }
        assert.deepEqual(run(rt, "max", x, c), max, `max [${c.shape}]`);
        assert.deepEqual(run(rt, "min", x, c), min, `min [${c.shape}]`);

        // NaN in output 0 (last element of its reduction), +inf in output 1, both infinities in output 2
        const y = x.slice();
        y[(r - 1) * inner] = NaN;
        y[inner === 1 ? r : 1] = Infinity;
        if (n > 2) {
          y[inner === 1 ? 2 * r + 5 : 2] = Infinity;
          y[inner === 1 ? 2 * r + 9 : 2 + 9 * inner] = -Infinity;
        }
        const sum = run(rt, "sum", y, c);
        const mx = run(rt, "max", y, c);
        const mn = run(rt, "min", y, c);
        assert.ok(Number.isNaN(sum[0]) && Number.isNaN(mx[0]) && Number.isNaN(mn[0]), `NaN [${c.shape}]`);
        if (n > 1) {
          assert.equal(sum[1], Infinity);
          assert.equal(mx[1], Infinity);
          assert.equal(mn[1], min[1]);
        }
        if (n > 2) {
          assert.ok(Number.isNaN(sum[2]), `inf - inf [${c.shape}]`);
          assert.equal(mx[2], Infinity);
          assert.equal(mn[2], -Infinity);
        }
      }
    });
  });
}
