// interpolate beyond the fixtures: float64 gradient checks of every mode, nearest upsampling as repetition,
// align-corners keeping the corners, linear mode on [N, C, L], and the validation errors.

import { test } from "node:test";
import assert from "node:assert/strict";
import * as F from "../../src/ops/index.js";
import { tensor } from "../../src/tensor/tensor.js";
import { gradcheckCases, randomInput } from "../helpers/gradcheck.js";

gradcheckCases("interpolate", [
  {
    name: "nearest size 5x7 from 3x4",
    inputs: () => [randomInput([1, 2, 3, 4], { seed: 1 })],
    f: (x) => F.interpolate(x, { size: [5, 7] }),
  },
  {
    name: "bilinear scale 2",
    inputs: () => [randomInput([2, 1, 3, 3], { seed: 2 })],
    f: (x) => F.interpolate(x, { scaleFactor: 2, mode: "bilinear" }),
  },
  {
    name: "bilinear align corners, downsampling 5x6 -> 3x4",
    inputs: () => [randomInput([1, 2, 5, 6], { seed: 3 })],
    f: (x) => F.interpolate(x, { size: [3, 4], mode: "bilinear", alignCorners: true }),
  },
  {
    name: "linear on [N, C, L]",
    inputs: () => [randomInput([2, 2, 5], { seed: 4 })],
    f: (x) => F.interpolate(x, { scaleFactor: 1.5, mode: "linear" }),
  },
]);

test("nearest by an integer factor repeats pixels; align corners keeps the corner values", () => {
  const x = tensor([
    [
      [
        [1, 2],
        [3, 4],
      ],
    ],
  ]);
  assert.deepEqual(F.interpolate(x, { scaleFactor: 2 }).toList(), [
    [
      [
        [1, 1, 2, 2],
        [1, 1, 2, 2],
        [3, 3, 4, 4],
        [3, 3, 4, 4],
      ],
    ],
  ]);
  const y = F.interpolate(x, { size: [3, 3], mode: "bilinear", alignCorners: true }).toList();
  assert.deepEqual(y, [
    [
      [
        [1, 1.5, 2],
        [2, 2.5, 3],
        [3, 3.5, 4],
      ],
    ],
  ]);
  // Same size, scale 1: the identity (no matmul).
  assert.equal(F.interpolate(x, { scaleFactor: 1, mode: "bilinear" }), x);
});

test("errors: interpolate checks mode, rank, size and scale", () => {
  const x = tensor(new Float32Array(16), [1, 1, 4, 4]);
  assert.throws(() => F.interpolate(x, {}), /interpolate: give exactly one of size and scaleFactor/);
  assert.throws(
    () => F.interpolate(x, { size: 2, scaleFactor: 2 }),
    /give exactly one of size and scaleFactor/,
  );
  assert.throws(
    () => F.interpolate(x, { size: 2, mode: "bicubic" as F.InterpolateMode }),
    /interpolate: mode must be 'nearest', 'linear' or 'bilinear', got "bicubic"/,
  );
  assert.throws(
    () => F.interpolate(x, { size: 2, mode: "linear" }),
    /interpolate: mode 'linear' needs 3-D \[N, C, L\] input, got \[1,1,4,4\]/,
  );
  assert.throws(
    () => F.interpolate(x, { size: 2, alignCorners: true }),
    /interpolate: alignCorners can only be set with the linear modes, not 'nearest'/,
  );
  assert.throws(
    () => F.interpolate(x, { size: [2, 0] }),
    /interpolate: size \[2,0\] must be positive integers/,
  );
  assert.throws(
    () => F.interpolate(x, { size: [2, 2, 2] }),
    /size \[2,2,2\] must give one value per spatial dim \(2\)/,
  );
  assert.throws(() => F.interpolate(x, { scaleFactor: -1 }), /scaleFactor -1 must be positive numbers/);
  assert.throws(
    () => F.interpolate(x, { scaleFactor: 0.1 }),
    /scaleFactor 0.1 gives an empty output from \[1,1,4,4\]/,
  );
});
