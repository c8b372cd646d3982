// Max, average and adaptive-average pooling of the webgpu backend, forward and backward. Forward kernels run
// one thread per output element; backward kernels one thread per input element, which gathers from the
// outputs whose window holds it (no atomics, so results do not depend on scheduling).
// Max-pool indices are int32 flat positions ih*inW+iw inside each (n, c) input plane, like PyTorch's.

import type { AdaptivePool2dGeometry, AvgPool2dGeometry, Pool2dGeometry, Storage } from "../backend.js";
import { buf, elementKernel, IS_NAN_WGSL, launchElements, out, type GpuContext } from "./context.js";

const POOL_FIELDS = [
  "inH",
  "inW",
  "outH",
  "outW",
  "kernelH",
  "kernelW",
  "strideH",
  "strideW",
  "padH",
  "padW",
  "dilationH",
  "dilationW",
] as const;

/**
 * Accessors for the pooling geometry and the avg-pool options, returning constants: the geometry is baked
 * into each kernel (one pipeline per layer shape, see conv-geometry.ts) so that the index divisions fold.
 * Batch and channels only bound the element count (parameter 0).
 */
function poolWgsl(g: Pool2dGeometry, avg?: AvgPool2dGeometry): string {
  const accessors = POOL_FIELDS.map(
    (f) => `fn p${f[0].toUpperCase()}${f.slice(1)}() -> i32 { return ${g[f]}; }`,
  ).join("\n");
  return `${accessors}
fn pCountIncludePad() -> bool { return ${avg?.countIncludePad ?? false}; }
fn pDivisor() -> i32 { return ${avg?.divisorOverride ?? 0}; }
fn pInPlane() -> i32 { return pInH() * pInW(); }
fn pOutPlane() -> i32 { return pOutH() * pOutW(); }
// PyTorch's avg-pool divisor for output (oh, ow): the override, or the window clipped to the padded or real input.
fn avgDivisor(oh: i32, ow: i32) -> f32 {
  if (pDivisor() > 0) { return f32(pDivisor()); }
  let h0 = oh * pStrideH() - pPadH(); let w0 = ow * pStrideW() - pPadW();
  let h1 = min(h0 + pKernelH(), pInH() + pPadH()); let w1 = min(w0 + pKernelW(), pInW() + pPadW());
  if (pCountIncludePad()) { return f32((h1 - h0) * (w1 - w0)); }
  return f32((min(h1, pInH()) - max(h0, 0)) * (min(w1, pInW()) - max(w0, 0)));
}
${IS_NAN_WGSL}`;
}

/** The pipeline-key suffix of a pooling geometry (and avg-pool options). */
function poolKey(g: Pool2dGeometry, avg?: AvgPool2dGeometry): string {
  const fields = POOL_FIELDS.map((f) => g[f]).join(",");
  return avg ? `${fields},${avg.countIncludePad ? 1 : 0},${avg.divisorOverride ?? 0}` : fields;
}

const MAX_WGSL = (geometry: string) => () =>
  elementKernel(
    [`read> X: array<f32>`, `read_write> Y: array<f32>`, `read_write> IDX: array<i32>`],
    `let ii = i32(i);
  let p = ii / pOutPlane(); let oh = (ii % pOutPlane()) / pOutW(); let ow = ii % pOutW();
  var best = 0.0; var bestIndex = -1;
  for (var ki = 0; ki < pKernelH(); ki++) {
    let ih = oh * pStrideH() - pPadH() + ki * pDilationH();
    if (ih < 0 || ih >= pInH()) { continue; }
    for (var kj = 0; kj < pKernelW(); kj++) {
      let iw = ow * pStrideW() - pPadW() + kj * pDilationW();
      if (iw < 0 || iw >= pInW()) { continue; }
      let v = X[p * pInPlane() + ih * pInW() + iw];
      if (bestIndex < 0 || v > best || isNan(v)) { best = v; bestIndex = ih * pInW() + iw; }
    }
  }
  if (bestIndex < 0) { best = -infinity(); }
  Y[ii] = best; IDX[ii] = bestIndex;`,
    geometry,
  );

export function maxPool2d(ctx: GpuContext, x: Storage, g: Pool2dGeometry): { y: Storage; indices: Storage } {
  const n = g.batch * g.channels * g.outH * g.outW;
  const y = out(ctx, x.dtype, n);
  const indices = out(ctx, "int32", n);
  const buffers = [buf(ctx, x), buf(ctx, y), buf(ctx, indices)];
  launchElements(ctx, `maxpool|${poolKey(g)}`, MAX_WGSL(poolWgsl(g)), buffers, n);
  return { y, indices };
}

/** WGSL loop header over the outputs (oh, ow) whose window tap (ki, kj) reads input (ih, iw). */
const FOR_EACH_WINDOW = `
  for (var ki = 0; ki < pKernelH(); ki++) {
    let th = ih + pPadH() - ki * pDilationH();
    if (th < 0 || th % pStrideH() != 0 || th / pStrideH() >= pOutH()) { continue; }
    let oh = th / pStrideH();
    for (var kj = 0; kj < pKernelW(); kj++) {
      let tw = iw + pPadW() - kj * pDilationW();
      if (tw < 0 || tw % pStrideW() != 0 || tw / pStrideW() >= pOutW()) { continue; }
      let ow = tw / pStrideW();
      let o = p * pOutPlane() + oh * pOutW() + ow;`;

const INPUT_INDEX = `let ii = i32(i);
  let p = ii / pInPlane(); let ih = (ii % pInPlane()) / pInW(); let iw = ii % pInW();
  var acc = 0.0;`;

const MAX_BACKWARD_WGSL = (geometry: string) => () =>
  elementKernel(
    [`read> GY: array<f32>`, `read> IDX: array<i32>`, `read_write> DX: array<f32>`],
    `${INPUT_INDEX}${FOR_EACH_WINDOW}
      if (IDX[o] == ih * pInW() + iw) { acc += GY[o]; }
    }
  }
  DX[ii] = acc;`,
    geometry,
  );

export function maxPool2dBackward(
  ctx: GpuContext,
  gy: Storage,
  indices: Storage,
  g: Pool2dGeometry,
): Storage {
  const dx = out(ctx, gy.dtype, g.batch * g.channels * g.inH * g.inW);
  const buffers = [buf(ctx, gy), buf(ctx, indices), buf(ctx, dx)];
  launchElements(ctx, `maxpool-dx|${poolKey(g)}`, MAX_BACKWARD_WGSL(poolWgsl(g)), buffers, dx.size);
  return dx;
}

const AVG_WGSL = (geometry: string) => () =>
  elementKernel(
    [`read> X: array<f32>`, `read_write> Y: array<f32>`],
    `let ii = i32(i);
  let p = ii / pOutPlane(); let oh = (ii % pOutPlane()) / pOutW(); let ow = ii % pOutW();
  let h0 = max(oh * pStrideH() - pPadH(), 0); let w0 = max(ow * pStrideW() - pPadW(), 0);
  let h1 = min(oh * pStrideH() - pPadH() + pKernelH(), pInH()); let w1 = min(ow * pStrideW() - pPadW() + pKernelW(), pInW());
  var s = 0.0;
  for (var ih = h0; ih < h1; ih++) { for (var iw = w0; iw < w1; iw++) { s += X[p * pInPlane() + ih * pInW() + iw]; } }
  Y[ii] = s / avgDivisor(oh, ow);`,
    geometry,
  );

export function avgPool2d(ctx: GpuContext, x: Storage, g: AvgPool2dGeometry): Storage {
  const n = g.batch * g.channels * g.outH * g.outW;
  const y = out(ctx, x.dtype, n);
  launchElements(ctx, `avgpool|${poolKey(g, g)}`, AVG_WGSL(poolWgsl(g, g)), [buf(ctx, x), buf(ctx, y)], n);
  return y;
}

const AVG_BACKWARD_WGSL = (geometry: string) => () =>
  elementKernel(
    [`read> GY: array<f32>`, `read_write> DX: array<f32>`],
    `${INPUT_INDEX}${FOR_EACH_WINDOW}
      acc += GY[o] / avgDivisor(oh, ow);
    }
  }
  DX[ii] = acc;`,
    geometry,
  );

export function avgPool2dBackward(ctx: GpuContext, gy: Storage, g: AvgPool2dGeometry): Storage {
  const dx = out(ctx, gy.dtype, g.batch * g.channels * g.inH * g.inW);
  // Avg pooling has no dilation; the window loop reads it as 1.
  const geometry = { ...g, dilationH: 1, dilationW: 1 };
  const code = AVG_BACKWARD_WGSL(poolWgsl(geometry, g));
  launchElements(ctx, `avgpool-dx|${poolKey(geometry, g)}`, code, [buf(ctx, gy), buf(ctx, dx)], dx.size);
  return dx;
}

/** Adaptive cell i of `out` covers [floor(i*len/out), ceil((i+1)*len/out)). */
const ADAPTIVE_WGSL = `
fn aInH() -> i32 { return pi(1u); } fn aInW() -> i32 { return pi(2u); }
fn aOutH() -> i32 { return pi(3u); } fn aOutW() -> i32 { return pi(4u); }
fn lo(i: i32, len: i32, n: i32) -> i32 { return (i * len) / n; }
fn hi(i: i32, len: i32, n: i32) -> i32 { return ((i + 1) * len + n - 1) / n; }`;

const ADAPTIVE_FORWARD_WGSL = () =>
  elementKernel(
    [`read> X: array<f32>`, `read_write> Y: array<f32>`],
    `let ii = i32(i);
  let p = ii / (aOutH() * aOutW()); let oh = (ii / aOutW()) % aOutH(); let ow = ii % aOutW();
  let h0 = lo(oh, aInH(), aOutH()); let h1 = hi(oh, aInH(), aOutH());
  let w0 = lo(ow, aInW(), aOutW()); let w1 = hi(ow, aInW(), aOutW());
  var s = 0.0;
  for (var ih = h0; ih < h1; ih++) { for (var iw = w0; iw < w1; iw++) { s += X[(p * aInH() + ih) * aInW() + iw]; } }
  Y[ii] = s / f32((h1 - h0) * (w1 - w0));`,
    ADAPTIVE_WGSL,
  );

const ADAPTIVE_BACKWARD_WGSL = () =>
  elementKernel(
    [`read> GY: array<f32>`, `read_write> DX: array<f32>`],
    `let ii = i32(i);
  let p = ii / (aInH() * aInW()); let ih = (ii / aInW()) % aInH(); let iw = ii % aInW();
  var acc = 0.0;
  for (var oh = 0; oh < aOutH(); oh++) {
    let h0 = lo(oh, aInH(), aOutH()); let h1 = hi(oh, aInH(), aOutH());
    if (ih < h0 || ih >= h1) { continue; }
    for (var ow = 0; ow < aOutW(); ow++) {
      let w0 = lo(ow, aInW(), aOutW()); let w1 = hi(ow, aInW(), aOutW());
      if (iw < w0 || iw >= w1) { continue; }
      acc += GY[(p * aOutH() + oh) * aOutW() + ow] / f32((h1 - h0) * (w1 - w0));
    }
  }
  DX[ii] = acc;`,
    ADAPTIVE_WGSL,
  );

function adaptiveParams(g: AdaptivePool2dGeometry) {
  return [g.inH, g.inW, g.outH, g.outW].map((i) => ({ i }));
}

export function adaptiveAvgPool2d(ctx: GpuContext, x: Storage, g: AdaptivePool2dGeometry): Storage {
  const y = out(ctx, x.dtype, g.batch * g.channels * g.outH * g.outW);
  launchElements(
    ctx,
    "adaptive-avgpool",
    ADAPTIVE_FORWARD_WGSL,
    [buf(ctx, x), buf(ctx, y)],
    y.size,
    adaptiveParams(g),
  );
  return y;
}

export function adaptiveAvgPool2dBackward(ctx: GpuContext, gy: Storage, g: AdaptivePool2dGeometry): Storage {
  const dx = out(ctx, gy.dtype, g.batch * g.channels * g.inH * g.inW);
  launchElements(
    ctx,
    "adaptive-avgpool-dx",
    ADAPTIVE_BACKWARD_WGSL,
    [buf(ctx, gy), buf(ctx, dx)],
    dx.size,
    adaptiveParams(g),
  );
  return dx;
}
