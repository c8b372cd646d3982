// Max, average and adaptive-average pooling over NCHW planes, forward and backward.
// Max-pool indices are int32 flat positions ih*inW+iw inside each (n, c) input plane, like PyTorch's.

import type { AdaptivePool2dGeometry, AvgPool2dGeometry, Pool2dGeometry, Storage } from "../backend.js";
import { alloc, arr } from "./storage.js";

export function maxPool2d(x: Storage, g: Pool2dGeometry): { y: Storage; indices: Storage } {
  const xv = arr(x);
  const planes = g.batch * g.channels;
  const outPlane = g.outH * g.outW;
  const inPlane = g.inH * g.inW;
  const y = alloc(x.dtype, planes * outPlane);
  const indices = alloc("int32", planes * outPlane);
  for (let p = 0; p < planes; p++) {
    const xBase = p * inPlane;
    for (let oh = 0; oh < g.outH; oh++) {
      for (let ow = 0; ow < g.outW; ow++) {
        let best = -Infinity;
        let bestIndex = -1;
        for (let ki = 0; ki < g.kernelH; ki++) {
          const ih = oh * g.strideH - g.padH + ki * g.dilationH;
          if (ih < 0 || ih >= g.inH) continue;
          for (let kj = 0; kj < g.kernelW; kj++) {
            const iw = ow * g.strideW - g.padW + kj * g.dilationW;
            if (iw < 0 || iw >= g.inW) continue;
            const v = xv[xBase + ih * g.inW + iw];
            if (v > best || bestIndex < 0 || Number.isNaN(v)) {
              best = v;
              bestIndex = ih * g.inW + iw;
            }
          }
        }
        const o = p * outPlane + oh * g.outW + ow;
        y.data[o] = best;
        indices.data[o] = bestIndex;
      }
    }
  }
  return { y, indices };
}

export function maxPool2dBackward(gy: Storage, indices: Storage, g: Pool2dGeometry): Storage {
  const gv = arr(gy);
  const iv = arr(indices);
  const planes = g.batch * g.channels;
  const outPlane = g.outH * g.outW;
  const inPlane = g.inH * g.inW;
  const dx = alloc(gy.dtype, planes * inPlane);
  for (let p = 0; p < planes; p++) {
    for (let o = 0; o < outPlane; o++) {
      const idx = iv[p * outPlane + o];
      if (idx >= 0) dx.data[p * inPlane + idx] += gv[p * outPlane + o];
    }
  }
  return dx;
}

/** Window [h0, h1) x [w0, w1) clipped to the input, and the divisor PyTorch uses for it. */
function avgWindow(g: AvgPool2dGeometry, oh: number, ow: number) {
  let h0 = oh * g.strideH - g.padH;
  let w0 = ow * g.strideW - g.padW;
  let h1 = Math.min(h0 + g.kernelH, g.inH + g.padH);
  let w1 = Math.min(w0 + g.kernelW, g.inW + g.padW);
  const padded = (h1 - h0) * (w1 - w0);
  h0 = Math.max(h0, 0);
  w0 = Math.max(w0, 0);
  h1 = Math.min(h1, g.inH);
  w1 = Math.min(w1, g.inW);
  const divisor = g.divisorOverride ?? (g.countIncludePad ? padded : (h1 - h0) * (w1 - w0));
  return { h0, h1, w0, w1, divisor };
}

export function avgPool2d(x: Storage, g: AvgPool2dGeometry): Storage {
  const xv = arr(x);
  const planes = g.batch * g.channels;
  const outPlane = g.outH * g.outW;
  const inPlane = g.inH * g.inW;
  const y = alloc(x.dtype, planes * outPlane);
  for (let oh = 0; oh < g.outH; oh++) {
    for (let ow = 0; ow < g.outW; ow++) {
      const { h0, h1, w0, w1, divisor } = avgWindow(g, oh, ow);
      for (let p = 0; p < planes; p++) {
        let s = 0;
        for (let ih = h0; ih < h1; ih++) {
          for (let iw = w0; iw < w1; iw++) s += xv[p * inPlane + ih * g.inW + iw];
        }
        y.data[p * outPlane + oh * g.outW + ow] = s / divisor;
      }
    }
  }
  return y;
}

export function avgPool2dBackward(gy: Storage, g: AvgPool2dGeometry): Storage {
  const gv = arr(gy);
  const planes = g.batch * g.channels;
  const outPlane = g.outH * g.outW;
  const inPlane = g.inH * g.inW;
  const dx = alloc(gy.dtype, planes * inPlane);
  for (let oh = 0; oh < g.outH; oh++) {
    for (let ow = 0; ow < g.outW; ow++) {
      const { h0, h1, w0, w1, divisor } = avgWindow(g, oh, ow);
      for (let p = 0; p < planes; p++) {
        const share = gv[p * outPlane + oh * g.outW + ow] / divisor;
        for (let ih = h0; ih < h1; ih++) {
          for (let iw = w0; iw < w1; iw++) dx.data[p * inPlane + ih * g.inW + iw] += share;
        }
      }
    }
  }
  return dx;
}

/** Adaptive cell i of `out` covers [floor(i*len/out), ceil((i+1)*len/out)). */
function adaptiveRange(i: number, len: number, out: number): [number, number] {
  return [Math.floor((i * len) / out), Math.ceil(((i + 1) * len) / out)];
}

export function adaptiveAvgPool2d(x: Storage, g: AdaptivePool2dGeometry): Storage {
  const { inH, inW, outH, outW } = g;
  const xv = arr(x);
  const planes = g.batch * g.channels;
  const y = alloc(x.dtype, planes * outH * outW);
  for (let oh = 0; oh < outH; oh++) {
    const [h0, h1] = adaptiveRange(oh, inH, outH);
    for (let ow = 0; ow < outW; ow++) {
      const [w0, w1] = adaptiveRange(ow, inW, outW);
      const count = (h1 - h0) * (w1 - w0);
      for (let p = 0; p < planes; p++) {
        let s = 0;
        for (let ih = h0; ih < h1; ih++) {
          for (let iw = w0; iw < w1; iw++) s += xv[p * inH * inW + ih * inW + iw];
        }
        y.data[p * outH * outW + oh * outW + ow] = s / count;
      }
    }
  }
  return y;
}

export function adaptiveAvgPool2dBackward(gy: Storage, g: AdaptivePool2dGeometry): Storage {
  const { inH, inW, outH, outW } = g;
  const gv = arr(gy);
  const planes = g.batch * g.channels;
  const dx = alloc(gy.dtype, planes * inH * inW);
  for (let oh = 0; oh < outH; oh++) {
    const [h0, h1] = adaptiveRange(oh, inH, outH);
    for (let ow = 0; ow < outW; ow++) {
      const [w0, w1] = adaptiveRange(ow, inW, outW);
      const count = (h1 - h0) * (w1 - w0);
      for (let p = 0; p < planes; p++) {
        const share = gv[p * outH * outW + oh * outW + ow] / count;
        for (let ih = h0; ih < h1; ih++) {
          for (let iw = w0; iw < w1; iw++) dx.data[p * inH * inW + ih * inW + iw] += share;
        }
      }
    }
  }
  return dx;
}
