// Reductions along one (merged) axis: x viewed as [outer][r][inner], y as [outer][inner].
//
// Memory layout: x[o*r*inner + k*inner + i] -> y[o*inner + i]. The wrapper merges adjacent axes and runs
// several passes when the reduced axes are not adjacent (e.g. N and H*W of NCHW). With inner == 1 a row
// is reduced with f32x4 lanes then a horizontal step; with inner > 1 whole rows are combined with f32x4.
// Units: outer indices [u0, u1). Max and min propagate NaN (the last NaN seen), like the js reference.
// argmax: x viewed as [outer][len][inner], y as i32 [outer][inner]; the first maximum wins.

import { hmax, hmin, hsum } from "./simd";

const R_SUM = 0;
const R_MAX = 1;
const R_MIN = 2;

function combine(op: i32, a: v128, b: v128): v128 {
  if (op == R_SUM) return f32x4.add(a, b);
  if (op == R_MAX) return f32x4.max(a, b);
  return f32x4.min(a, b);
}

function combineScalar(op: i32, acc: f32, v: f32): f32 {
  if (op == R_SUM) return acc + v;
  if (op == R_MAX) return v > acc || v != v ? v : acc;
  return v < acc || v != v ? v : acc;
}

export function reduce(
  op: i32,
  x: usize,
  y: usize,
  r: i32,
  inner: i32,
  scale: f32,
  _ws: usize,
  u0: i32,
  u1: i32,
): void {
  for (let o = u0; o < u1; o++) {
    const xo = x + <usize>(o * r * inner * 4);
    const yo = y + <usize>(o * inner * 4);
    if (inner == 1) {
      let acc = f32x4.splat(op == R_SUM ? 0 : op == R_MAX ? -Infinity : Infinity);
      let k = 0;
      for (; k + 4 <= r; k += 4) acc = combine(op, acc, v128.load(xo + <usize>(k * 4)));
      let s: f32 = op == R_SUM ? hsum(acc) : op == R_MAX ? hmax(acc) : hmin(acc);
      for (; k < r; k++) s = combineScalar(op, s, load<f32>(xo + <usize>(k * 4)));
      store<f32>(yo, op == R_SUM ? s * scale : s);
      continue;
    }
    // inner > 1: y row = combine of r rows.
    memory.copy(yo, xo, <usize>(inner * 4));
    for (let k = 1; k < r; k++) {
      const xr = xo + <usize>(k * inner * 4);
      let i = 0;
      for (; i + 4 <= inner; i += 4) {
        const d = yo + <usize>(i * 4);
        v128.store(d, combine(op, v128.load(d), v128.load(xr + <usize>(i * 4))));
      }
      for (; i < inner; i++) {
        const d = yo + <usize>(i * 4);
        store<f32>(d, combineScalar(op, load<f32>(d), load<f32>(xr + <usize>(i * 4))));
      }
    }
    if (op == R_SUM && scale != 1) {
      const vs = f32x4.splat(scale);
      let i = 0;
      for (; i + 4 <= inner; i += 4) {
        const d = yo + <usize>(i * 4);
        v128.store(d, f32x4.mul(v128.load(d), vs));
      }
      for (; i < inner; i++) {
        const d = yo + <usize>(i * 4);
        store<f32>(d, load<f32>(d) * scale);
      }
    }
  }
}

/** y[o][i] = index of the first maximum of x[o][:][i] (NaN never wins after the first element). */
export function argmax(x: usize, y: usize, len: i32, inner: i32, _ws: usize, u0: i32, u1: i32): void {
  for (let o = u0; o < u1; o++) {
    const xo = x + <usize>(o * len * inner * 4);
    const yo = y + <usize>(o * inner * 4);
    for (let i = 0; i < inner; i++) {
      let best: f32 = load<f32>(xo + <usize>(i * 4));
      let at = 0;
      for (let j = 1; j < len; j++) {
        const v = load<f32>(xo + <usize>((j * inner + i) * 4));
        if (v > best) {
          best = v;
          at = j;
        }
      }
      store<i32>(yo + <usize>(i * 4), at);
    }
  }
}
