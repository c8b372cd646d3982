// Reference loops shared by the conv tests: direct enumeration of every convolution tap.
import { conv2dOutputSize, type Conv2dShape } from "../../../src/backend/wasm/conv.js";

export function convDims(s: Conv2dShape) {
  const sh = s.strideH ?? 1;
  const sw = s.strideW ?? 1;
  const ph = s.padH ?? 0;
  const pw = s.padW ?? 0;
  const dh = s.dilationH ?? 1;
  const dw = s.dilationW ?? 1;
  const G = s.groups ?? 1;
  const { OH, OW } = conv2dOutputSize(s);
  return { ...s, sh, sw, ph, pw, dh, dw, G, OH, OW, Cg: s.C / G, Og: s.O / G };
}

/** Calls f(xIndex, wIndex, yIndex) for every in-bounds tap of the convolution. */
export function forEachTap(s: Conv2dShape, f: (xi: number, wi: number, yi: number) => void): void {
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
