// Reductions along one (merged) axis: x viewed as [outer][r][inner], y as [outer][inner].
//
// Memory layout: x[o*r*inner + k*inner + i] -> y[o*inner + i]. The wrapper merges adjacent axes and runs
// several passes when the reduced axes are not adjacent (e.g. N and H*W of NCHW). With inner == 1 a row
// is reduced with f32x4 lanes then a horizontal step; with inner > 1 whole rows are combined with f32x4.
// Units: outer indices [u0, u1).

import { hmax, hsum } from "./simd";

const R_SUM = 0;
const R_MAX = 1;

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
      let acc = f32x4.splat(op == R_SUM ? 0 : -Infinity);
      let k = 0;
      for (; k + 4 <= r; k += 4) {
        const v = v128.load(xo + <usize>(k * 4));
        acc = op == R_SUM ? f32x4.add(acc, v) : f32x4.max(acc, v);
      }
      let s: f32 = op == R_SUM ? hsum(acc) : hmax(acc);
      for (; k < r; k++) {
        const v = load<f32>(xo + <usize>(k * 4));
        s = op == R_SUM ? s + v : v > s || v != v ? v : s;
      }
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
        const v = v128.load(xr + <usize>(i * 4));
        v128.store(d, op == R_SUM ? f32x4.add(v128.load(d), v) : f32x4.max(v128.load(d), v));
      }
      for (; i < inner; i++) {
        const d = yo + <usize>(i * 4);
        const v = load<f32>(xr + <usize>(i * 4));
        const c = load<f32>(d);
        store<f32>(d, op == R_SUM ? c + v : v > c || v != v ? v : c);
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
