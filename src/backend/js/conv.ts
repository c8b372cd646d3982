// Convolution by im2col + matrix multiply, per image and group. Layouts: x NCHW, w OIHW
// [Cout, Cin/groups, kH, kW], cols [Cin/groups * kH * kW, outH * outW] for one image and group.

import type { Conv2dGeometry, Storage } from "../backend.js";
import type { TypedArray } from "../../tensor/dtype.js";
import { typedArrayFor } from "../../tensor/dtype.js";
import { alloc, arr } from "./storage.js";

function im2col(x: TypedArray, xBase: number, g: Conv2dGeometry, cinG: number, cols: TypedArray): void {
  const { inH, inW, outH, outW, kernelH, kernelW, strideH, strideW, padH, padW, dilationH, dilationW } = g;
  const L = outH * outW;
  let row = 0;
  for (let c = 0; c < cinG; c++) {
    const plane = xBase + c * inH * inW;
    for (let ki = 0; ki < kernelH; ki++) {
      for (let kj = 0; kj < kernelW; kj++, row++) {
        const base = row * L;
        for (let oh = 0; oh < outH; oh++) {
          const ih = oh * strideH - padH + ki * dilationH;
          const rowOut = base + oh * outW;
          if (ih < 0 || ih >= inH) {
            cols.fill(0, rowOut, rowOut + outW);
            continue;
          }
          const inRow = plane + ih * inW;
          for (let ow = 0; ow < outW; ow++) {
            const iw = ow * strideW - padW + kj * dilationW;
            cols[rowOut + ow] = iw >= 0 && iw < inW ? x[inRow + iw] : 0;
          }
        }
      }
    }
  }
}

function col2imAdd(cols: TypedArray, g: Conv2dGeometry, cinG: number, dx: TypedArray, dxBase: number): void {
  const { inH, inW, outH, outW, kernelH, kernelW, strideH, strideW, padH, padW, dilationH, dilationW } = g;
  const L = outH * outW;
  let row = 0;
  for (let c = 0; c < cinG; c++) {
    const plane = dxBase + c * inH * inW;
    for (let ki = 0; ki < kernelH; ki++) {
      for (let kj = 0; kj < kernelW; kj++, row++) {
        const base = row * L;
        for (let oh = 0; oh < outH; oh++) {
          const ih = oh * strideH - padH + ki * dilationH;
          if (ih < 0 || ih >= inH) continue;
          const inRow = plane + ih * inW;
          for (let ow = 0; ow < outW; ow++) {
            const iw = ow * strideW - padW + kj * dilationW;
            if (iw >= 0 && iw < inW) dx[inRow + iw] += cols[base + oh * outW + ow];
          }
        }
      }
    }
  }
}

/** C[m,n] += A[m,k] · B[k,n] with explicit offsets and (row, col) strides for A and B. */
function matmulAdd(
  a: TypedArray,
  aOff: number,
  aRow: number,
  aCol: number,
  b: TypedArray,
  bOff: number,
  bRow: number,
  bCol: number,
  c: TypedArray,
  cOff: number,
  m: number,
  n: number,
  k: number,
): void {
  for (let i = 0; i < m; i++) {
    const cr = cOff + i * n;
    for (let p = 0; p < k; p++) {
      const aip = a[aOff + i * aRow + p * aCol];
      const bp = bOff + p * bRow;
      for (let j = 0; j < n; j++) c[cr + j] += aip * b[bp + j * bCol];
    }
  }
}

function groupSizes(g: Conv2dGeometry) {
  const cinG = g.inChannels / g.groups;
  const coutG = g.outChannels / g.groups;
  const K = cinG * g.kernelH * g.kernelW;
  const L = g.outH * g.outW;
  return { cinG, coutG, K, L };
}

export function conv2d(x: Storage, w: Storage, bias: Storage | null, g: Conv2dGeometry): Storage {
  const { cinG, coutG, K, L } = groupSizes(g);
  const xv = arr(x);
  const wv = arr(w);
  const out = alloc(x.dtype, g.batch * g.outChannels * L);
  const y = out.data;
  const cols = typedArrayFor(x.dtype, K * L);
  for (let n = 0; n < g.batch; n++) {
    for (let grp = 0; grp < g.groups; grp++) {
      im2col(xv, (n * g.inChannels + grp * cinG) * g.inH * g.inW, g, cinG, cols);
      const yOff = (n * g.outChannels + grp * coutG) * L;
      matmulAdd(wv, grp * coutG * K, K, 1, cols, 0, L, 1, y, yOff, coutG, L, K);
    }
  }
  if (bias) {
    const bv = arr(bias);
    for (let n = 0; n < g.batch; n++) {
      for (let c = 0; c < g.outChannels; c++) {
        const off = (n * g.outChannels + c) * L;
        for (let i = 0; i < L; i++) y[off + i] += bv[c];
      }
    }
  }
  return out;
}

export function conv2dBackwardInput(gy: Storage, w: Storage, g: Conv2dGeometry): Storage {
  const { cinG, coutG, K, L } = groupSizes(g);
  const gv = arr(gy);
  const wv = arr(w);
  const out = alloc(gy.dtype, g.batch * g.inChannels * g.inH * g.inW);
  const cols = typedArrayFor(gy.dtype, K * L);
  for (let n = 0; n < g.batch; n++) {
    for (let grp = 0; grp < g.groups; grp++) {
      cols.fill(0);
      // cols[K, L] = W_gᵀ [K, coutG] · dY_g [coutG, L]
      matmulAdd(
        wv,
        grp * coutG * K,
        1,
        K,
        gv,
        (n * g.outChannels + grp * coutG) * L,
        L,
        1,
        cols,
        0,
        K,
        L,
        coutG,
      );
      col2imAdd(cols, g, cinG, out.data, (n * g.inChannels + grp * cinG) * g.inH * g.inW);
    }
  }
  return out;
}

export function conv2dBackwardWeight(x: Storage, gy: Storage, g: Conv2dGeometry): Storage {
  const { cinG, coutG, K, L } = groupSizes(g);
  const xv = arr(x);
  const gv = arr(gy);
  const out = alloc(x.dtype, g.outChannels * K);
  const cols = typedArrayFor(x.dtype, K * L);
  for (let n = 0; n < g.batch; n++) {
    for (let grp = 0; grp < g.groups; grp++) {
      im2col(xv, (n * g.inChannels + grp * cinG) * g.inH * g.inW, g, cinG, cols);
      // dW_g [coutG, K] += dY_g [coutG, L] · colsᵀ [L, K]
      matmulAdd(
        gv,
        (n * g.outChannels + grp * coutG) * L,
        L,
        1,
        cols,
        0,
        1,
        L,
        out.data,
        grp * coutG * K,
        coutG,
        K,
        L,
      );
    }
  }
  return out;
}
