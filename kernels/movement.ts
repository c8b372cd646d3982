// Strided copies: the gather behind permute, slice, expand and pad, and its inverse scatter.
//
// Memory layout: the dense side is a 4-D box [d0][d1][d2][d3] of 4-byte values (f32 or i32 alike); the
// strided side is read (gather) or written (scatter) at element offsets i0*s0 + i1*s1 + i2*s2 + i3*s3 from
// its base address (the wrapper adds the view's offset and merges axes so d3 is the longest run, and
// loops any further leading axes). Rows (d0*d1*d2 of them) are the units [u0, u1). A row with s3 == 1 is a
// memory.copy, with s3 == 0 (a broadcast, gather only) a fill; other strides are copied element by element.

export function stridedCopy(
  strided: usize,
  dense: usize,
  d1: i32,
  d2: i32,
  d3: i32,
  s0: i32,
  s1: i32,
  s2: i32,
  s3: i32,
  scatter: i32,
  _ws: usize,
  u0: i32,
  u1: i32,
): void {
  const rowBytes = <usize>(d3 * 4);
  for (let r = u0; r < u1; r++) {
    const i2 = r % d2;
    const t = r / d2;
    const i1 = t % d1;
    const i0 = t / d1;
    const s = strided + <usize>((i0 * s0 + i1 * s1 + i2 * s2) * 4);
    const d = dense + <usize>r * rowBytes;
    if (s3 == 1) {
      if (scatter != 0) memory.copy(s, d, rowBytes);
      else memory.copy(d, s, rowBytes);
    } else if (scatter == 0 && s3 == 0) {
      const v = v128.load32_splat(s);
      let j = 0;
      for (; j + 4 <= d3; j += 4) v128.store(d + <usize>(j * 4), v);
      const one = load<u32>(s);
      for (; j < d3; j++) store<u32>(d + <usize>(j * 4), one);
    } else if (scatter != 0) {
      for (let j = 0; j < d3; j++) store<u32>(s + <usize>(j * s3 * 4), load<u32>(d + <usize>(j * 4)));
    } else {
      for (let j = 0; j < d3; j++) store<u32>(d + <usize>(j * 4), load<u32>(s + <usize>(j * s3 * 4)));
    }
  }
}
