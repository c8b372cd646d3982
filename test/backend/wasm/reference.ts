// Shared by the wasm kernel tests: compact conv and pool specs with PyTorch's defaults, turned into the
// Backend's geometry (what the ops pass the kernels), and reference loops over every convolution tap.
import type { AvgPool2dGeometry, Conv2dGeometry } from "../../../src/backend/backend.js";

/** A conv as the tests write it; stride 1, no padding, dilation 1, 1 group unless given. */
export interface ConvSpec {
  N: number;
  C: number;
  H: number;
  W: number;
  /** Output channels. */
  O: number;
  KH: number;
  KW: number;
  strideH?: number;
  strideW?: number;
  padH?: number;
  padW?: number;
  dilationH?: number;
  dilationW?: number;
  groups?: number;
  /** Output size when not the one the input gives (conv-transpose passes a smaller input-gradient size). */
  OH?: number;
  OW?: number;
}

export function conv2dOutputSize(s: ConvSpec): { OH: number; OW: number } {
  const OH =
    s.OH ??
    Math.floor((s.H + 2 * (s.padH ?? 0) - (s.dilationH ?? 1) * (s.KH - 1) - 1) / (s.strideH ?? 1)) + 1;
  const OW =
    s.OW ??
    Math.floor((s.W + 2 * (s.padW ?? 0) - (s.dilationW ?? 1) * (s.KW - 1) - 1) / (s.strideW ?? 1)) + 1;
  return { OH, OW };
}

export function convGeometry(s: ConvSpec): Conv2dGeometry {
  const { OH, OW } = conv2dOutputSize(s);
  return {
    ...{ batch: s.N, inChannels: s.C, inH: s.H, inW: s.W, outChannels: s.O, outH: OH, outW: OW },
    ...{ kernelH: s.KH, kernelW: s.KW, strideH: s.strideH ?? 1, strideW: s.strideW ?? 1 },
    ...{ padH: s.padH ?? 0, padW: s.padW ?? 0, dilationH: s.dilationH ?? 1, dilationW: s.dilationW ?? 1 },
    groups: s.groups ?? 1,
  };
}

export function convDims(s: ConvSpec) {
  const g = convGeometry(s);
  const [sh, sw, ph, pw, dh, dw, G] = [
    g.strideH,
    g.strideW,
    g.padH,
    g.padW,
    g.dilationH,
    g.dilationW,
    g.groups,
  ];
  return { ...s, sh, sw, ph, pw, dh, dw, G, OH: g.outH, OW: g.outW, Cg: s.C / G, Og: s.O / G };
}

/** A pooling window over `planes` H x W planes as the tests write it; stride = kernel unless given. */
export interface PoolSpec {
  planes: number;
  H: number;
  W: number;
  KH: number;
  KW: number;
  strideH?: number;
  strideW?: number;
  padH?: number;
  padW?: number;
  dilationH?: number;
  dilationW?: number;
  ceilMode?: boolean;
}

function pooledSize(size: number, k: number, s: number, p: number, d: number, ceil: boolean): number {
  const span = size + 2 * p - d * (k - 1) - 1;
  let out = (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
  // PyTorch: with ceil_mode the last window must start inside the input or its left padding.
  if (ceil && (out - 1) * s >= size + p) out--;
  return out;
}

export function pool2dOutputSize(s: PoolSpec): { OH: number; OW: number } {
  const ceil = s.ceilMode ?? false;
  return {
    OH: pooledSize(s.H, s.KH, s.strideH ?? s.KH, s.padH ?? 0, s.dilationH ?? 1, ceil),
    OW: pooledSize(s.W, s.KW, s.strideW ?? s.KW, s.padW ?? 0, s.dilationW ?? 1, ceil),
  };
}

/** The pool geometry of a spec (batch = planes, one channel), with average pooling's options. */
export function poolGeometry(
  s: PoolSpec,
  o: { countIncludePad?: boolean; divisorOverride?: number } = {},
): AvgPool2dGeometry {
  const { OH, OW } = pool2dOutputSize(s);
  return {
    ...{ batch: s.planes, channels: 1, inH: s.H, inW: s.W, outH: OH, outW: OW, kernelH: s.KH, kernelW: s.KW },
    ...{ strideH: s.strideH ?? s.KH, strideW: s.strideW ?? s.KW, padH: s.padH ?? 0, padW: s.padW ?? 0 },
    ...{ dilationH: s.dilationH ?? 1, dilationW: s.dilationW ?? 1 },
    ...{ countIncludePad: o.countIncludePad ?? true, divisorOverride: o.divisorOverride ?? null },
  };
}

/** Calls f(xIndex, wIndex, yIndex) for every in-bounds tap of the convolution. */
export function forEachTap(s: ConvSpec, f: (xi: number, wi: number, yi: number) => void): void {
  const g = convDims(s);
  for (let n = 0; n < g.N; n++)
    for (let o = 0; o < g.O; o++) {
      const grp = Math.floor(o / g.Og);
      for (let oh = 0; oh < g.OH; oh++)
        for (let ow = 0; ow < g.OW; ow++) {
          const yi = ((n * g.O + o) * g.OH + oh) * g.OW + ow;
          for (let cg = 0; cg < g.Cg; cg++) {
            const c = grp * g.Cg + cg;
            for (let kh = 0; kh < g.KH; kh++) {
              const ih = oh * g.sh - g.ph + kh * g.dh;
              if (ih < 0 || ih >= g.H) continue;
              for (let kw = 0; kw < g.KW; kw++) {
                const iw = ow * g.sw - g.pw + kw * g.dw;
                if (iw < 0 || iw >= g.W) continue;
                f(((n * g.C + c) * g.H + ih) * g.W + iw, ((o * g.Cg + cg) * g.KH + kh) * g.KW + kw, yi);
              }
            }
          }
        }
    }
}
