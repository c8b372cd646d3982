// Pooling beyond the fixtures: float64 gradient checks of max pooling (padding, dilation, ceilMode,
// rectangular), average pooling (countIncludePad both ways, ceilMode, divisorOverride), adaptive average
// pooling with non-divisible sizes and global pooling; max pooling against a direct window scan; errors.

import { test } from "node:test";
import assert from "node:assert/strict";
import * as F from "../../src/ops/index.js";
import { tensor, type Tensor } from "../../src/tensor/tensor.js";
import type { AvgPool2dOptions, MaxPool2dOptions } from "../../src/ops/pool.js";
import { distinctInput, gradcheckCases, randomInput, type GradCase } from "../helpers/gradcheck.js";

type Size2 = number | [number, number];

const maxCases: { name: string; x: number[]; k: Size2; o: MaxPool2dOptions }[] = [
  { name: "2x2", x: [2, 2, 4, 4], k: 2, o: {} },
  { name: "3x3 stride 2", x: [1, 2, 7, 7], k: 3, o: { stride: 2 } },
  { name: "3x3 stride 1 (overlapping)", x: [1, 1, 5, 5], k: 3, o: { stride: 1 } },
  { name: "padding 1", x: [1, 2, 5, 5], k: 3, o: { stride: 2, padding: 1 } },
  { name: "dilation 2", x: [1, 1, 7, 7], k: 2, o: { stride: 1, dilation: 2 } },
  { name: "ceilMode", x: [1, 2, 5, 5], k: 2, o: { ceilMode: true } },
  { name: "ceilMode with padding", x: [1, 1, 6, 6], k: 3, o: { stride: 2, padding: 1, ceilMode: true } },
  { name: "rectangular", x: [1, 2, 5, 7], k: [2, 3], o: { stride: [1, 2], padding: [1, 1] } },
];

const avgCases: { name: string; x: number[]; k: Size2; o: AvgPool2dOptions }[] = [
  { name: "2x2", x: [2, 2, 4, 4], k: 2, o: {} },
  { name: "3x3 stride 2", x: [1, 2, 7, 7], k: 3, o: { stride: 2 } },
  { name: "padding, countIncludePad", x: [1, 2, 5, 5], k: 3, o: { stride: 2, padding: 1 } },
  {
    name: "padding, exclude pad",
    x: [1, 2, 5, 5],
    k: 3,
    o: { stride: 2, padding: 1, countIncludePad: false },
  },
  { name: "ceilMode", x: [1, 1, 5, 5], k: 2, o: { ceilMode: true } },
  {
    name: "ceilMode, padding, exclude pad",
    x: [1, 1, 6, 6],
    k: 3,
    o: { stride: 2, padding: 1, ceilMode: true, countIncludePad: false },
  },
  {
    name: "ceilMode, padding, include pad",
    x: [1, 1, 6, 6],
    k: 3,
    o: { stride: 2, padding: 1, ceilMode: true },
  },
  { name: "divisorOverride", x: [1, 2, 4, 4], k: 2, o: { divisorOverride: 3 } },
  { name: "rectangular", x: [1, 2, 5, 7], k: [2, 3], o: { stride: [1, 2], padding: [1, 0] } },
];

const adaptiveCases: { x: number[]; out: Size2 }[] = [
  { x: [1, 2, 5, 7], out: [3, 4] },
  { x: [2, 1, 6, 6], out: 4 },
  { x: [1, 2, 3, 3], out: [5, 2] },
  { x: [1, 1, 4, 4], out: 1 },
];

gradcheckCases("pool", [
  ...maxCases.map((c): GradCase => ({
    name: `maxPool2d ${c.name}`,
    inputs: () => [distinctInput(c.x, { seed: 2 })],
    f: (x) => F.maxPool2d(x, c.k, c.o),
  })),
  ...avgCases.map((c): GradCase => ({
    name: `avgPool2d ${c.name}`,
    inputs: () => [randomInput(c.x, { seed: 2 })],
    f: (x) => F.avgPool2d(x, c.k, c.o),
  })),
  ...adaptiveCases.map((c): GradCase => ({
    name: `adaptiveAvgPool2d [${c.x}] -> ${JSON.stringify(c.out)}`,
    inputs: () => [randomInput(c.x, { seed: 2 })],
    f: (x) => F.adaptiveAvgPool2d(x, c.out),
  })),
  { name: "globalAvgPool2d", inputs: () => [randomInput([2, 3, 3, 4])], f: F.globalAvgPool2d },
]);

const two = (v: Size2 | null | undefined, fallback: number): [number, number] =>
  v === undefined || v === null ? [fallback, fallback] : typeof v === "number" ? [v, v] : v;

/** Direct max pooling: scan every window (padding is -inf) and keep the first maximum. */
function naiveMaxPool(x: Tensor, k: Size2, o: MaxPool2dOptions) {
  const [n, c, h, w] = x.shape;
  const [kh, kw] = two(k, 1);
  const [sh, sw] = two(o.stride as Size2 | undefined, 0).map((s, i) => s || [kh, kw][i]);
  const [ph, pw] = two(o.padding as Size2 | undefined, 0);
  const [dh, dw] = two(o.dilation as Size2 | undefined, 1);
  const size = (len: number, kk: number, s: number, p: number, d: number) => {
    const span = d * (kk - 1) + 1;
    let out = (o.ceilMode ? Math.ceil((len + 2 * p - span) / s) : Math.floor((len + 2 * p - span) / s)) + 1;
    if (o.ceilMode && (out - 1) * s >= len + p) out--;
    return out;
  };
  const oh = size(h, kh, sh, ph, dh);
  const ow = size(w, kw, sw, pw, dw);
  const xv = x.toArray();
  const values: number[] = [];
  const indices: number[] = [];
  for (let plane = 0; plane < n * c; plane++)
    for (let i = 0; i < oh; i++)
      for (let j = 0; j < ow; j++) {
        let best = -Infinity;
        let at = -1;
        for (let a = 0; a < kh; a++)
          for (let b = 0; b < kw; b++) {
            const ih = i * sh - ph + a * dh;
            const iw = j * sw - pw + b * dw;
            if (ih < 0 || ih >= h || iw < 0 || iw >= w) continue;
            const v = xv[plane * h * w + ih * w + iw];
            if (v > best) [best, at] = [v, ih * w + iw];
          }
        values.push(best);
        indices.push(at);
      }
  return { shape: [n, c, oh, ow], values, indices };
}

test("maxPool2d values and indices match a direct window scan for every option set", () => {
  for (const c of maxCases) {
    const x = distinctInput(c.x, { seed: 3 });
    const { output, indices } = F.maxPool2dWithIndices(x, c.k, c.o);
    const ref = naiveMaxPool(x, c.k, c.o);
    assert.deepEqual(output.shape, ref.shape, c.name);
    assert.deepEqual(Array.from(output.toArray()), ref.values, c.name);
    assert.deepEqual(Array.from(indices.toArray()), ref.indices, c.name);
    assert.equal(indices.dtype, "int32");
  }
});

test("avgPool2d divisors: countIncludePad, ceilMode overhang and divisorOverride", () => {
  const x = tensor(new Float64Array(9).fill(1), [1, 1, 3, 3]);
  // Corner window with padding 1 covers 4 real cells of 9: 4/9 when padding counts, 1 when it does not.
  const include = F.avgPool2d(x, 3, { stride: 2, padding: 1 }).toArray();
  const exclude = F.avgPool2d(x, 3, { stride: 2, padding: 1, countIncludePad: false }).toArray();
  assert.ok(Math.abs(include[0] - 4 / 9) < 1e-12);
  assert.ok(Math.abs(exclude[0] - 1) < 1e-12);
  // ceilMode: the last window hangs over the input edge and is divided by its clipped size, never padding.
  const ceil = F.avgPool2d(x, 2, { ceilMode: true });
  assert.deepEqual(ceil.shape, [1, 1, 2, 2]);
  assert.deepEqual(Array.from(ceil.toArray()), [1, 1, 1, 1]);
  assert.deepEqual(Array.from(F.avgPool2d(x, 2, { stride: 1, divisorOverride: 2 }).toArray()), [2, 2, 2, 2]);
});

test("adaptiveAvgPool2d cells cover [floor(i·H/out), ceil((i+1)·H/out))", () => {
  const x = tensor([0, 1, 2, 3, 4], [1, 1, 1, 5], { dtype: "float64" });
  // Out 3 over 5 columns: cells [0,2), [1,4), [3,5).
  const y = F.adaptiveAvgPool2d(x, [1, 3]).toArray();
  assert.deepEqual(Array.from(y), [0.5, 2, 3.5]);
  assert.deepEqual(F.globalAvgPool2d(randomInput([2, 3, 4, 5])).shape, [2, 3, 1, 1]);
});

const f32 = (shape: number[]) => tensor(new Float32Array(shape.reduce((p, d) => p * d, 1)), shape);

test("errors: pooling padding more than half the kernel, non-4-D and oversized kernels", () => {
  const x = f32([1, 1, 4, 4]);
  for (const [name, pool] of [
    ["maxPool2d", F.maxPool2d],
    ["avgPool2d", F.avgPool2d],
  ] as const) {
    assert.throws(
      () => pool(x, 3, { padding: 2 }),
      new RegExp(`${name}: padding \\[2,2\\] must be between 0 and half the kernel size 3x3`),
    );
    assert.throws(
      () => pool(f32([1, 4, 4]), 2),
      new RegExp(`${name}: input must be 4-D NCHW, got \\[1,4,4\\]`),
    );
    assert.throws(
      () => pool(x, 5),
      new RegExp(`${name}: kernel 5x5 with padding \\[0,0\\] is larger than the input \\[1,1,4,4\\]`),
    );
    assert.throws(
      () => pool(x, 2, { stride: 0 }),
      new RegExp(`${name}: kernelSize, stride and dilation must be positive`),
    );
    assert.throws(
      () => pool(x, 1.5),
      new RegExp(`${name}: kernelSize must be an integer or a pair of integers`),
    );
    assert.throws(
      () => pool(tensor(new Int32Array(16), [1, 1, 4, 4]), 2),
      new RegExp(`${name}: input must be a float tensor, got int32 \\[1,1,4,4\\]`),
    );
  }
  assert.throws(
    () => F.maxPool2d(x, 2, { dilation: 0 }),
    /maxPool2d: kernelSize, stride and dilation must be positive/,
  );
});

test("errors: avgPool2d divisorOverride, adaptive output size and global pooling rank", () => {
  const x = f32([1, 1, 4, 4]);
  assert.throws(
    () => F.avgPool2d(x, 2, { divisorOverride: 0 }),
    /avgPool2d: divisorOverride must be positive, got 0/,
  );
  assert.throws(
    () => F.adaptiveAvgPool2d(x, [0, 2]),
    /adaptiveAvgPool2d: outputSize must be positive, got \[0,2\]/,
  );
  assert.throws(
    () => F.adaptiveAvgPool2d(f32([4, 4]), 2),
    /adaptiveAvgPool2d: input must be 4-D NCHW, got \[4,4\]/,
  );
  assert.throws(() => F.globalAvgPool2d(f32([2, 3])), /globalAvgPool2d: input must be 4-D NCHW, got \[2,3\]/);
  const ints = tensor(new Int32Array(16), [1, 1, 4, 4]);
  assert.throws(
    () => F.adaptiveAvgPool2d(ints, 2),
    /adaptiveAvgPool2d: input must be a float tensor, got int32 \[1,1,4,4\]/,
  );
  assert.throws(
    () => F.globalAvgPool2d(ints),
    /globalAvgPool2d: input must be a float tensor, got int32 \[1,1,4,4\]/,
  );
});

test("errors: non-integer adaptive output size", () => {
  assert.throws(
    () => F.adaptiveAvgPool2d(f32([1, 1, 4, 4]), [1.5, 2] as unknown as [number, number]),
    /adaptiveAvgPool2d: outputSize must be an integer or a pair of integers, got \[1.5,2\]/,
  );
});

test("errors: adaptive pooling of an empty plane instead of 0/0", () => {
  assert.throws(
    () => F.adaptiveAvgPool2d(tensor(new Float32Array(0), [1, 1, 0, 4]), 2),
    /adaptiveAvgPool2d: input \[1,1,0,4\] has an empty spatial dim/,
  );
});

// Issue 15: adaptive and global max pooling.
gradcheckCases("adaptive max pooling (issue 15)", [
  {
    name: "7x5 -> 3x2 (overlapping windows)",
    inputs: () => [distinctInput([1, 2, 7, 5], { seed: 21 })],
    f: (x) => F.adaptiveMaxPool2d(x, [3, 2]),
  },
  {
    name: "6x4 -> 3x2 (divisible: max pooling)",
    inputs: () => [distinctInput([2, 1, 6, 4], { seed: 22 })],
    f: (x) => F.adaptiveMaxPool2d(x, [3, 2]),
  },
  {
    name: "global max",
    inputs: () => [distinctInput([2, 3, 3, 4], { seed: 23 })],
    f: F.globalMaxPool2d,
  },
]);

test("adaptive max pooling to 1x1 is the global max; windows follow torch's rule", () => {
  const x = tensor([
    [
      [
        [1, 9, 2],
        [4, 3, 8],
      ],
    ],
  ]);
  assert.deepEqual(F.adaptiveMaxPool2d(x, 1).toList(), [[[[9]]]]);
  assert.deepEqual(F.globalMaxPool2d(x).toList(), [[[[9]]]]);
  // Columns 0-1 and 1-2 (overlapping at 1) for two outputs from three.
  assert.deepEqual(F.adaptiveMaxPool2d(x, [1, 2]).toList(), [[[[9, 9]]]]);
  assert.deepEqual(F.adaptiveMaxPool2d(x, [2, 2]).toList(), [
    [
      [
        [9, 9],
        [4, 8],
      ],
    ],
  ]);
});

test("errors: adaptive and global max pooling check rank and output size", () => {
  const x3 = tensor(new Float32Array(12), [3, 2, 2]);
  assert.throws(() => F.adaptiveMaxPool2d(x3, 1), /adaptiveMaxPool2d: input must be 4-D NCHW, got \[3,2,2\]/);
  assert.throws(() => F.globalMaxPool2d(x3), /globalMaxPool2d: input must be 4-D NCHW, got \[3,2,2\]/);
  const x = tensor(new Float32Array(12), [1, 3, 2, 2]);
  assert.throws(
    () => F.adaptiveMaxPool2d(x, [0, 2]),
    /adaptiveMaxPool2d: outputSize must be positive, got \[0,2\]/,
  );
  assert.throws(
    () => F.adaptiveMaxPool2d(tensor(new Float32Array(0), [1, 3, 0, 2]), 1),
    /adaptiveMaxPool2d: input \[1,3,0,2\] has an empty spatial dim/,
  );
});
