// Shared SIMD helpers for all kernel files. They are tiny, so Binaryen -O3 inlines them (no @inline
// decorator: it would not parse as TypeScript for prettier), and ASC_FEATURE_RELAXED_SIMD folds at compile time.
// Memory layout: none of its own; every kernel works on raw byte addresses (usize) into the one
// linear memory that JavaScript allocates from. Floats are f32, indices i32, all little-endian.

/** a*b + c on four f32 lanes: a fused multiply-add in the relaxed-SIMD build, mul+add otherwise. */
export function fmadd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) {
    return f32x4.relaxed_madd(a, b, c);
  } else {
    return f32x4.add(f32x4.mul(a, b), c);
  }
}

/** Scalar a*b + c (kept unfused in both builds so that scalar tails match a reference loop closely). */
export function smadd(a: f32, b: f32, c: f32): f32 {
  return a * b + c;
}

/** Horizontal sum of four f32 lanes. */
export function hsum(v: v128): f32 {
  const s = f32x4.add(v, v128.shuffle<f32>(v, v, 2, 3, 0, 1));
  const t = f32x4.add(s, v128.shuffle<f32>(s, s, 1, 0, 3, 2));
  return f32x4.extract_lane(t, 0);
}

/** Horizontal sum of four f32 lanes in f64 (for block sums added into f64 totals). */
export function hsum64(v: v128): f64 {
  const lo = f64x2.promote_low_f32x4(v);
  const hi = f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1));
  const t = f64x2.add(lo, hi);
  return f64x2.extract_lane(t, 0) + f64x2.extract_lane(t, 1);
}

/** Horizontal max of four f32 lanes. */
export function hmax(v: v128): f32 {
  const s = f32x4.max(v, v128.shuffle<f32>(v, v, 2, 3, 0, 1));
  const t = f32x4.max(s, v128.shuffle<f32>(s, s, 1, 0, 3, 2));
  return f32x4.extract_lane(t, 0);
}

/** Horizontal min of four f32 lanes. */
export function hmin(v: v128): f32 {
  const s = f32x4.min(v, v128.shuffle<f32>(v, v, 2, 3, 0, 1));
  const t = f32x4.min(s, v128.shuffle<f32>(s, s, 1, 0, 3, 2));
  return f32x4.extract_lane(t, 0);
}
