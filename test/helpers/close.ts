// The one tolerance rule of the tests: an element passes when |actual − expected| <= atol + rtol·|expected|
// (torch.testing.assert_close's rule), equal values (infinities included) always pass, and NaN passes only
// where NaN is expected. Every numeric comparison of the suite goes through compareArrays / assertClose.
import assert from "node:assert/strict";
import { Tensor } from "../../src/tensor/tensor.js";
import { compareArrays } from "./compare.js";

export { compareArrays, type Comparison } from "./compare.js";

export interface Tolerance {
  /** Absolute tolerance (default 1e-5, the PyTorch fixtures' tolerance). */
  atol?: number;
  /** Relative tolerance on |expected| (default 1e-4). */
  rtol?: number;
  /** Whether a NaN where NaN is expected passes (default true for assertClose, false for compareArrays). */
  equalNan?: boolean;
}

/**
 * Asserts that actual is close to expected element-wise; a number `tol` means atol = rtol = tol. Tensors
 * must also have the same shape. The message names `what`, the worst element and both values.
 */
export function assertClose(
  actual: ArrayLike<number> | Tensor,
  expected: ArrayLike<number> | Tensor,
  tol: number | Tolerance,
  what: string,
): void {
  if (actual instanceof Tensor || expected instanceof Tensor) {
    assert.ok(
      actual instanceof Tensor && expected instanceof Tensor,
      `${what}: compare a tensor with a tensor`,
    );
    assert.deepEqual(actual.shape, expected.shape, `${what}: shape`);
    return assertClose(actual.toArray(), expected.toArray(), tol, what);
  }
  assert.equal(actual.length, expected.length, `${what}: length`);
  const t: Tolerance = typeof tol === "number" ? { atol: tol, rtol: tol } : tol;
  const { atol = 1e-5, rtol = 1e-4, equalNan = true } = t;
  const c = compareArrays(actual, expected, atol, rtol, equalNan);
  assert.ok(
    c.worstRatio <= 1,
    `${what}: [${c.index}] = ${actual[c.index]}, expected ${expected[c.index]} ` +
      `(max |diff| ${c.maxAbs}, atol ${atol}, rtol ${rtol})`,
  );
}

/** A tolerance relative to the largest |expected| (for sums whose rounding scales with the output). */
export function relativeToMax(expected: ArrayLike<number>, tol: number, floor = 1e-7): Tolerance {
  let scale = 0;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]));
  return { atol: tol * scale + floor, rtol: 0, equalNan: false };
}
