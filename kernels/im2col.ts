// im2col straight into GEMM B panels, and the col2im scatter used as a GEMM C sink.
//
// Memory layout
// - The image is one group of one NCHW sample: x[c*H*W + h*W + w] for c < C/groups, set by setConvGeom.
// - The virtual im2col matrix has rows k = (c*KH + kh)*KW + kw and columns p = oh*OW + ow:
//   cols[k][p] = x[c][oh*sh - ph + kh*dh][ow*sw - pw + kw*dw], zero outside the image (padding).
// - packBIm2col writes a kc x nc block of cols (rows pc.., columns jc..) in the B-panel layout of gemm.ts:
//   Bp[q*8*kc + k*8 + jj] = cols[pc+k][jc+8q+jj] (zero past the block).
// - packBIm2colT does the same for colsᵀ (rows = output pixels p, columns = k): the weight gradient.
// - scatterTileCol2im adds a 5x8 tile of dcols (rows k, columns p) into the image: the input gradient.
// - `tables` is scratch (3*NC i32) inside the caller's GEMM workspace.

const NR: i32 = 8;
const NCT: i32 = 4096; // must equal gemm.ts NC (table capacity)

let gX: usize = 0;
let gH: i32 = 0;
let gW: i32 = 0;
let gKH: i32 = 1;
let gKW: i32 = 1;
let gSh: i32 = 1;
let gSw: i32 = 1;
let gPh: i32 = 0;
let gPw: i32 = 0;
let gDh: i32 = 1;
let gDw: i32 = 1;
let gOW: i32 = 1;

/** Sets the image (one sample, one group: first channel at x) and the convolution geometry. */
export function setConvGeom(
  x: usize,
  H: i32,
  W: i32,
  KH: i32,
  KW: i32,
  sh: i32,
  sw: i32,
  ph: i32,
  pw: i32,
  dh: i32,
  dw: i32,
  OW: i32,
): void {
  gX = x;
  gH = H;
  gW = W;
  gKH = KH;
  gKW = KW;
  gSh = sh;
  gSw = sw;
  gPh = ph;
  gPw = pw;
  gDh = dh;
  gDw = dw;
  gOW = OW;
}

export function setConvImage(x: usize): void {
  gX = x;
}

export function packBIm2col(dst: usize, pc: i32, kc: i32, jc: i32, nc: i32, tables: usize): void {
  const tIh = tables;
  const tIw = tables + <usize>(NCT * 4);
  const tFlag = tables + <usize>(2 * NCT * 4);
  const H = gH;
  const W = gW;
  let oh = jc / gOW;
  let ow = jc - oh * gOW;
  for (let t = 0; t < nc; t++) {
    store<i32>(tIh + <usize>(t * 4), oh * gSh - gPh);
    store<i32>(tIw + <usize>(t * 4), ow * gSw - gPw);
    if (++ow == gOW) {
      ow = 0;
      oh++;
    }
  }
  for (let q = 0; q < nc; q += NR) {
    const full =
      q + NR <= nc && gSw == 1 && load<i32>(tIh + <usize>(q * 4)) == load<i32>(tIh + <usize>((q + 7) * 4));
    store<i32>(tFlag + <usize>((q >> 3) * 4), full ? 1 : 0);
  }
  const KK = gKH * gKW;
  const HW = H * W;
  let c = pc / KK;
  const rem = pc - c * KK;
  let kh = rem / gKW;
  let kw = rem - kh * gKW;
  const panelBytes = <usize>(kc * 32);
  for (let k = 0; k < kc; k++) {
    const xc = gX + <usize>(c * HW * 4);
    const khd = kh * gDh;
    const kwd = kw * gDw;
    let d = dst + <usize>(k * 32);
    for (let q = 0; q < nc; q += NR) {
      if (load<i32>(tFlag + <usize>((q >> 3) * 4)) != 0) {
        const ih = load<i32>(tIh + <usize>(q * 4)) + khd;
        const iw = load<i32>(tIw + <usize>(q * 4)) + kwd;
        if (<u32>ih < <u32>H && iw >= 0 && iw + NR <= W) {
          const s = xc + <usize>((ih * W + iw) * 4);
          v128.store(d, v128.load(s));
          v128.store(d, v128.load(s, 16), 16);
          d += panelBytes;
          continue;
        }
      }
      const w = min<i32>(NR, nc - q);
      for (let jj = 0; jj < NR; jj++) {
        let v: f32 = 0;
        if (jj < w) {
          const ih = load<i32>(tIh + <usize>((q + jj) * 4)) + khd;
          const iw = load<i32>(tIw + <usize>((q + jj) * 4)) + kwd;
          if (<u32>ih < <u32>H && <u32>iw < <u32>W) v = load<f32>(xc + <usize>((ih * W + iw) * 4));
        }
        store<f32>(d + <usize>(jj * 4), v);
      }
      d += panelBytes;
    }
    if (++kw == gKW) {
      kw = 0;
      if (++kh == gKH) {
        kh = 0;
        c++;
      }
    }
  }
}

export function packBIm2colT(dst: usize, pc: i32, kc: i32, jc: i32, nc: i32, tables: usize): void {
  const tC = tables;
  const tKh = tables + <usize>(NCT * 4);
  const tKw = tables + <usize>(2 * NCT * 4);
  const H = gH;
  const W = gW;
  const KK = gKH * gKW;
  const HW = H * W;
  let c = jc / KK;
  const rem = jc - c * KK;
  let kh = rem / gKW;
  let kw = rem - kh * gKW;
  for (let t = 0; t < nc; t++) {
    store<i32>(tC + <usize>(t * 4), c * HW);
    store<i32>(tKh + <usize>(t * 4), kh * gDh);
    store<i32>(tKw + <usize>(t * 4), kw * gDw);
    if (++kw == gKW) {
      kw = 0;
      if (++kh == gKH) {
        kh = 0;
        c++;
      }
    }
  }
  const oh0 = pc / gOW;
  const ow0 = pc - oh0 * gOW;
  for (let q = 0; q < nc; q += NR) {
    const w = min<i32>(NR, nc - q);
    let d = dst + <usize>(q * kc * 4);
    let oh = oh0;
    let ow = ow0;
    for (let p = 0; p < kc; p++) {
      const ihb = oh * gSh - gPh;
      const iwb = ow * gSw - gPw;
      for (let jj = 0; jj < NR; jj++) {
        let v: f32 = 0;
        if (jj < w) {
          const t = <usize>((q + jj) * 4);
          const ih = ihb + load<i32>(tKh + t);
          const iw = iwb + load<i32>(tKw + t);
          if (<u32>ih < <u32>H && <u32>iw < <u32>W) {
            v = load<f32>(gX + <usize>((load<i32>(tC + t) + ih * W + iw) * 4));
          }
        }
        store<f32>(d + <usize>(jj * 4), v);
      }
      d += 32;
      if (++ow == gOW) {
        ow = 0;
        oh++;
      }
    }
  }
}

/** image[k -> (c,kh,kw)][p -> (oh,ow)] += alpha * tile[r][jj] for rows i.. (mr) and columns j.. (nr). */
export function scatterTileCol2im(tile: usize, i: i32, j: i32, mr: i32, nr: i32, alpha: f32): void {
  const ihb = tile + 160;
  const iwb = tile + 192;
  const H = gH;
  const W = gW;
  for (let jj = 0; jj < nr; jj++) {
    const p = j + jj;
    const oh = p / gOW;
    const ow = p - oh * gOW;
    store<i32>(ihb + <usize>(jj * 4), oh * gSh - gPh);
    store<i32>(iwb + <usize>(jj * 4), ow * gSw - gPw);
  }
  const KK = gKH * gKW;
  for (let r = 0; r < mr; r++) {
    const k = i + r;
    const c = k / KK;
    const rem = k - c * KK;
    const kh = rem / gKW;
    const kw = rem - kh * gKW;
    const base = gX + <usize>(c * H * W * 4);
    const khd = kh * gDh;
    const kwd = kw * gDw;
    const t = tile + <usize>(r * 32);
    for (let jj = 0; jj < nr; jj++) {
      const ih = load<i32>(ihb + <usize>(jj * 4)) + khd;
      const iw = load<i32>(iwb + <usize>(jj * 4)) + kwd;
      if (<u32>ih < <u32>H && <u32>iw < <u32>W) {
        const a = base + <usize>((ih * W + iw) * 4);
        store<f32>(a, load<f32>(a) + alpha * load<f32>(t + <usize>(jj * 4)));
      }
    }
  }
}
