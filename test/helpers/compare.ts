// The element comparison behind every tolerance check (close.ts): browser-safe (no Node modules), so the
// webgpu page harness (test/browser/webgpu-page.ts) compares with exactly the rule the Node tests use.

export interface Comparison {
  maxAbs: number;
  /** Largest |a-b| / (atol + rtol·|b|); <= 1 passes. */
  worstRatio: number;
  index: number;
}

export function compareArrays(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  atol = 1e-5,
  rtol = 1e-4,
  equalNan = false,
): Comparison {
  if (actual.length !== expected.length)
    throw new Error(`length ${actual.length} != expected ${expected.length}`);
  let maxAbs = 0;
  let worstRatio = 0;
  let index = -1;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (a === e || (equalNan && Number.isNaN(a) && Number.isNaN(e))) continue;
    const diff = Math.abs(a - e);
    const ratio = Number.isNaN(diff) ? Infinity : diff / (atol + rtol * Math.abs(e));
    if (diff > maxAbs || Number.isNaN(diff)) maxAbs = Number.isNaN(diff) ? Infinity : diff;
    if (ratio > worstRatio) {
      worstRatio = ratio;
      index = i;
    }
  }
  return { maxAbs, worstRatio, index };
}
