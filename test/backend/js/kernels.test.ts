// The js reference kernels, called directly where the op tests would not expose a fault: reductions over
// non-contiguous axis sets, gather/scatterInto with arbitrary strides and offsets, concat along every axis,
// gemm with a batch stride of 0 and transposes, broadcasting binary maps, casts, one-hot and select.
// Every kernel is compared with a naive index-by-index loop.

import { test } from "node:test";
import assert from "node:assert/strict";
import { jsBackend as js } from "../../../src/backend/js/index.js";
import type { Storage } from "../../../src/backend/backend.js";
import { Rng } from "../../../src/tensor/rng.js";
import { broadcastShapes, sizeOf, stridesOf } from "../../../src/tensor/shape.js";

function randomStorage(n: number, seed: number): Storage {
  const rng = new Rng(seed);
  return js.fromArray(Float64Array.from({ length: n }, () => rng.uniform() * 2 - 1));
}

const values = (s: Storage) => Array.from(js.toArray(s));

function unravel(flat: number, shape: readonly number[]): number[] {
  const index = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    index[d] = flat % shape[d];
    flat = Math.floor(flat / shape[d]);
  }
  return index;
}

function ravel(index: readonly number[], shape: readonly number[]): number {
  return index.reduce((f, i, d) => f * shape[d] + i, 0);
}

/** Every non-empty subset of 0..rank-1, in increasing order. */
function axisSets(rank: number): number[][] {
  const sets: number[][] = [];
  for (let mask = 1; mask < 1 << rank; mask++)
    sets.push([...Array(rank).keys()].filter((a) => mask & (1 << a)));
  return sets;
}

test("reduce matches a naive loop for every axis subset of a 4-D tensor (incl. non-contiguous sets)", () => {
  const shape = [2, 3, 4, 5];
  const x = randomStorage(sizeOf(shape), 1);
  const xv = values(x);
  for (const axes of axisSets(4)) {
    const outShape = shape.filter((_, i) => !axes.includes(i));
    for (const kind of ["sum", "max", "min"] as const) {
      const want = new Array<number>(sizeOf(outShape)).fill(
        kind === "sum" ? 0 : kind === "max" ? -Infinity : Infinity,
      );
      xv.forEach((v, flat) => {
        const o = ravel(
          unravel(flat, shape).filter((_, i) => !axes.includes(i)),
          outShape,
        );
        want[o] = kind === "sum" ? want[o] + v : kind === "max" ? Math.max(want[o], v) : Math.min(want[o], v);
      });
      const got = values(js.reduce(kind, x, shape, axes));
      assert.equal(got.length, want.length);
      got.forEach((v, i) => assert.ok(Math.abs(v - want[i]) < 1e-12, `${kind} over [${axes}] at ${i}`));
    }
  }
});

test("reduce propagates NaN through max/min and handles size-1 and empty axes", () => {
  const x = js.fromArray(new Float32Array([1, NaN, 3, 4]));
  assert.ok(Number.isNaN(values(js.reduce("max", x, [2, 2], [1]))[0]));
  assert.equal(values(js.reduce("max", x, [2, 2], [1]))[1], 4);
  assert.ok(Number.isNaN(values(js.reduce("min", x, [4], [0]))[0]));
  const y = js.fromArray(new Float32Array([1, 2, 3]));
  assert.deepEqual(values(js.reduce("sum", y, [1, 3, 1], [0, 2])), [1, 2, 3]);
  assert.deepEqual(values(js.reduce("sum", js.fromArray(new Float32Array(0)), [2, 0], [1])), [0, 0]);
});

/** Exact (float64) sums of x over `axes`, of |x|, and the max and min, per output element. */
function exactReduction(x: Float32Array, shape: readonly number[], axes: readonly number[]) {
  const outStrides = new Array<number>(shape.length).fill(0);
  let size = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    if (axes.includes(d)) continue;
    outStrides[d] = size;
    size *= shape[d];
  }
  const sum = new Float64Array(size);
  const abs = new Float64Array(size);
  const max = new Float64Array(size).fill(-Infinity);
  const min = new Float64Array(size).fill(Infinity);
  const index = new Array<number>(shape.length).fill(0);
  let o = 0;
  for (let i = 0; i < x.length; i++) {
    sum[o] += x[i];
    abs[o] += Math.abs(x[i]);
    max[o] = Math.max(max[o], x[i]);
    min[o] = Math.min(min[o], x[i]);
    for (let d = shape.length - 1; d >= 0; d--) {
      o += outStrides[d];
      if (++index[d] < shape[d]) break;
      o -= outStrides[d] * shape[d];
      index[d] = 0;
    }
  }
  return { sum, abs, max, min };
}

test("float32 sums of a million values stay within 2^-23 of the exact sum; max and min stay exact", () => {
  // Adding each value into the float32 output (the kernel before) missed by up to 9e-3 on 1000 ± 0.1: the
  // mean of 819,200 such values came out as 1005.6. Float64 accumulation leaves the one final rounding.
  const tol = 2 ** -23;
  const rng = new Rng(5);
  const cases: [number[], number[]][] = [
    [[1_000_003], [0]],
    [[4099, 257], [0]],
    [[3, 2001, 175], [1]],
    [
      [4, 8, 224, 224],
      [0, 2, 3],
    ],
  ];
  for (const [shape, axes] of cases) {
    for (const [lo, hi] of [
      [999.9, 1000.1],
      [-1, 1],
      [-1, 3],
    ]) {
      const x = Float32Array.from({ length: sizeOf(shape) }, () => lo + (hi - lo) * rng.uniform());
      const xs = js.fromArray(x);
      const exact = exactReduction(x, shape, axes);
      const sum = js.toArray(js.reduce("sum", xs, shape, axes));
      assert.ok(sum instanceof Float32Array);
      sum.forEach((v, i) => {
        const err = Math.abs(v - exact.sum[i]) / exact.abs[i];
        assert.ok(err <= tol, `sum of U(${lo}, ${hi}) over [${shape}] axes [${axes}] at ${i}: error ${err}`);
      });
      assert.deepEqual(Array.from(js.toArray(js.reduce("max", xs, shape, axes))), Array.from(exact.max));
      assert.deepEqual(Array.from(js.toArray(js.reduce("min", xs, shape, axes))), Array.from(exact.min));
    }
  }
});

test("reduce keeps NaN and infinities in float32 sums, and int32 sums wrap as before", () => {
  const x = js.fromArray(new Float32Array([1, NaN, 3, Infinity, 5, Infinity, -Infinity, 2]));
  assert.deepEqual(values(js.reduce("sum", x, [4, 2], [1])), [NaN, Infinity, Infinity, -Infinity]);
  assert.deepEqual(values(js.reduce("sum", x, [4, 2], [0])), [-Infinity, NaN]);
  assert.deepEqual(values(js.reduce("sum", x, [2, 4], [1])), [NaN, NaN]);
  // 2^31 - 1 + 1 + 5 - 7 in int32 arithmetic: wrapped at every step or once at the end, the same value
  const big = js.fromArray(new Int32Array([2 ** 31 - 1, 1, 5, -7]));
  assert.deepEqual(values(js.reduce("sum", big, [4], [0])), [2 ** 31 - 2]);
});

test("argmax returns the first maximum along any axis", () => {
  const shape = [3, 4, 2];
  const x = randomStorage(24, 2);
  const xv = values(x);
  for (let axis = 0; axis < 3; axis++) {
    const got = values(js.argmax(x, shape, axis));
    const outShape = shape.filter((_, i) => i !== axis);
    got.forEach((g, o) => {
      const idx = unravel(o, outShape);
      let best = 0;
      for (let j = 1; j < shape[axis]; j++) {
        const at = (k: number) => xv[ravel([...idx.slice(0, axis), k, ...idx.slice(axis)], shape)];
        if (at(j) > at(best)) best = j;
      }
      assert.equal(g, best, `axis ${axis} at ${o}`);
    });
  }
  assert.deepEqual(values(js.argmax(js.fromArray(new Float32Array([5, 5, 1])), [3], 0)), [0]);
});

test("gather reads through arbitrary strides and offsets (permute, step slice, broadcast)", () => {
  const x = js.fromArray(Float64Array.from({ length: 24 }, (_, i) => i));
  // A view [3, 2, 2] with strides [4, 1, 12] starting at offset 1: element (i,j,k) is 1 + 4i + j + 12k.
  const shape = [3, 2, 2];
  const strides = [4, 1, 12];
  const got = values(js.gather(x, shape, strides, 1));
  got.forEach((v, flat) => {
    const [i, j, k] = unravel(flat, shape);
    assert.equal(v, 1 + 4 * i + j + 12 * k);
  });
  // Zero strides broadcast: a [2,3] view of element 5.
  assert.deepEqual(values(js.gather(x, [2, 3], [0, 0], 5)), [5, 5, 5, 5, 5, 5]);
  // Zero-size views read nothing.
  assert.deepEqual(values(js.gather(x, [0, 3], [3, 1], 0)), []);
});

test("scatterInto writes through strides into a copy and leaves the destination untouched", () => {
  const dst = js.fromArray(new Float64Array(20).fill(-1));
  const src = js.fromArray(Float64Array.from({ length: 6 }, (_, i) => i + 1));
  // Writes a [2,3] block with strides [10, 2] at offset 3: positions 3,5,7 and 13,15,17.
  const out = values(js.scatterInto(dst, src, [2, 3], [10, 2], 3));
  const want = new Array<number>(20).fill(-1);
  [3, 5, 7, 13, 15, 17].forEach((p, i) => (want[p] = i + 1));
  assert.deepEqual(out, want);
  assert.deepEqual(values(dst), new Array<number>(20).fill(-1));
  // gather is scatterInto's inverse on the same view.
  assert.deepEqual(
    values(js.gather(js.fromArray(Float64Array.from(out)), [2, 3], [10, 2], 3)),
    [1, 2, 3, 4, 5, 6],
  );
});

test("concat along every axis matches a naive placement", () => {
  for (let axis = 0; axis < 3; axis++) {
    const shapeA = [2, 2, 3].map((d, i) => (i === axis ? 1 : d));
    const shapeB = [2, 2, 3].map((d, i) => (i === axis ? 2 : d));
    const a = randomStorage(sizeOf(shapeA), 3);
    const b = randomStorage(sizeOf(shapeB), 4);
    const outShape = shapeA.map((d, i) => (i === axis ? 3 : d));
    const got = values(js.concat([a, b], [shapeA, shapeB], axis));
    const av = values(a);
    const bv = values(b);
    got.forEach((v, flat) => {
      const idx = unravel(flat, outShape);
      const want =
        idx[axis] < 1
          ? av[ravel(idx, shapeA)]
          : bv[
              ravel(
                idx.map((k, i) => (i === axis ? k - 1 : k)),
                shapeB,
              )
            ];
      assert.equal(v, want, `axis ${axis} at ${flat}`);
    });
  }
});

function naiveGemm(
  a: number[],
  b: number[],
  { batch, m, n, k, transA, transB, batchStrideA, batchStrideB }: Parameters<typeof js.gemm>[2],
): number[] {
  const out: number[] = [];
  for (let t = 0; t < batch; t++)
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) {
          const av = a[t * batchStrideA + (transA ? p * m + i : i * k + p)];
          const bv = b[t * batchStrideB + (transB ? j * k + p : p * n + j)];
          s += av * bv;
        }
        out.push(s);
      }
  return out;
}

test("gemm with batch stride 0 on either side and every transpose combination", () => {
  const [m, n, k, batch] = [3, 4, 5, 3];
  for (const transA of [false, true])
    for (const transB of [false, true])
      for (const [shareA, shareB] of [
        [false, false],
        [true, false],
        [false, true],
        [true, true],
      ]) {
        const g = {
          batch,
          m,
          n,
          k,
          transA,
          transB,
          batchStrideA: shareA ? 0 : m * k,
          batchStrideB: shareB ? 0 : k * n,
        };
        const a = randomStorage((shareA ? 1 : batch) * m * k, 5);
        const b = randomStorage((shareB ? 1 : batch) * k * n, 6);
        const got = values(js.gemm(a, b, g));
        const want = naiveGemm(values(a), values(b), g);
        assert.equal(got.length, batch * m * n);
        got.forEach((v, i) => assert.ok(Math.abs(v - want[i]) < 1e-12, `${JSON.stringify(g)} at ${i}`));
      }
});

test("binary broadcasting matches a naive loop when both operands broadcast", () => {
  const cases: [number[], number[]][] = [
    [
      [2, 1, 4],
      [3, 1],
    ],
    [
      [1, 3, 1],
      [2, 1, 5],
    ],
    [[4], [3, 1, 4]],
    [[], [2, 3]],
    [[2, 3], [1]],
  ];
  for (const [aShape, bShape] of cases) {
    const outShape = broadcastShapes(aShape, bShape)!;
    const a = randomStorage(sizeOf(aShape), 7);
    const b = randomStorage(sizeOf(bShape), 8);
    const av = values(a);
    const bv = values(b);
    const got = values(js.binary("sub", a, aShape, b, bShape, outShape));
    const read = (v: number[], shape: number[], idx: number[]) => {
      const lead = idx.length - shape.length;
      return v[
        ravel(
          shape.map((d, i) => (d === 1 ? 0 : idx[i + lead])),
          shape,
        )
      ];
    };
    got.forEach((v, flat) => {
      const idx = unravel(flat, outShape);
      assert.equal(v, read(av, aShape, idx) - read(bv, bShape, idx), `[${aShape}] - [${bShape}] at ${flat}`);
    });
  }
});

test("cast truncates toward zero, oneHot places ones, where selects", () => {
  const x = js.fromArray(new Float32Array([2.9, -2.9, 0.5]));
  const i = js.cast(x, "int32");
  assert.equal(i.dtype, "int32");
  assert.deepEqual(values(i), [2, -2, 0]);
  assert.deepEqual(values(js.cast(i, "float64")), [2, -2, 0]);
  const hot = js.oneHot(js.fromArray(new Int32Array([2, 0])), 3, "float64");
  assert.equal(hot.dtype, "float64");
  assert.deepEqual(values(hot), [0, 0, 1, 1, 0, 0]);
  const cond = js.fromArray(new Float32Array([1, 0, 1]));
  const a = js.fromArray(new Float32Array([10, 20, 30]));
  const b = js.fromArray(new Float32Array([-1, -2, -3]));
  assert.deepEqual(values(js.where(cond, a, b)), [10, -2, 30]);
  assert.deepEqual(values(js.full("int32", 3, 4)), [4, 4, 4]);
  assert.deepEqual(stridesOf([2, 3, 4]), [12, 4, 1]);
});

test("kernels allocate new storage and never modify their inputs", () => {
  const x = js.fromArray(new Float64Array([1, -2, 3, -4]));
  const before = values(x);
  js.unary("relu", x, {});
  js.binary("mul", x, [4], x, [4], [4]);
  js.reduce("sum", x, [2, 2], [0]);
  js.gather(x, [2, 2], [1, 2], 0);
  js.gemm(x, x, {
    batch: 1,
    m: 2,
    n: 2,
    k: 2,
    transA: false,
    transB: false,
    batchStrideA: 0,
    batchStrideB: 0,
  });
  assert.deepEqual(values(x), before);
});
