// Convolution of the webgpu backend as implicit GEMMs on the tiled kernel of gemm.ts: no im2col buffer is
// written; the kernel computes each column element from the image as it loads its tile. Per image and
// group (workgroup z = n·groups + g):
//   forward          Y[coutG, L]       = W[coutG, K] · cols(X)[K, L]          (K = cinG·kH·kW, L = outH·outW)
//   input gradient   dX[cinG, inH·inW] = Wᵀ[cinG, K'] · spread(dY)[K', inH·inW]  (K' = coutG·kH·kW)
//   weight gradient  dW[coutG, K]      = Σₙ dY[coutG, L] · cols(X)ᵀ[L, K]   (one product per group, K over N·L)
// The geometry is baked into each kernel as constants (conv-geometry.ts), one pipeline per layer shape.
// Depthwise convolutions (one input channel per group) go to the direct kernels of depthwise.ts, whose
// threads waste no tile rows on a single output channel, and so do convolutions small enough for gemm.ts's
// direct product kernel (all of them on a software adapter) and weight gradients that would split K.

import type { Conv2dGeometry, Storage } from "../backend.js";
import { buf, out, type GpuContext } from "./context.js";
import { launchProduct, productKernels, splitsK, usesDirectProduct, type ProductKernels } from "./gemm.js";
import * as depthwise from "./depthwise.js";
import { geometryKey, geometryWgsl } from "./conv-geometry.js";

/** WGSL: the im2col element (k, l) of image n, group grp of a binding X: 0 outside the image. */
const COL_WGSL = `
fn colValue(n: u32, grp: u32, k: u32, l: u32) -> f32 {
  let c = k / TAPS; let r = k % TAPS;
  let ih = i32((l / OUT_W) * STRIDE_H + (r / K_W) * DIL_H) - PAD_H;
  let iw = i32((l % OUT_W) * STRIDE_W + (r % K_W) * DIL_W) - PAD_W;
  if (ih < 0 || ih >= IN_H || iw < 0 || iw >= IN_W) { return 0.0; }
  return X[((n * IN_C + grp * CIN_G + c) * IN_H + u32(ih)) * IN_W + u32(iw)];
}`;

const FORWARD = {
  bindings: `@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> W: array<f32>;
@group(0) @binding(3) var<storage, read> BIAS: array<f32>;
@group(0) @binding(4) var<storage, read_write> Y: array<f32>;`,
  functions: `${COL_WGSL}
fn loadA(b: u32, row: u32, k: u32) -> f32 { return W[((b % GROUPS) * COUT_G + row) * CIN_G * TAPS + k]; }
fn loadB(b: u32, k: u32, col: u32) -> f32 { return colValue(b / GROUPS, b % GROUPS, k, col); }
fn store(b: u32, row: u32, col: u32, v: f32) {
  let co = (b % GROUPS) * COUT_G + row;
  var y = v;
  if (pu(4u) != 0u) { y += BIAS[co]; }
  Y[((b / GROUPS) * OUT_C + co) * L + col] = y;
}`,
};

const BACKWARD_INPUT = {
  bindings: `@group(0) @binding(1) var<storage, read> GY: array<f32>;
@group(0) @binding(2) var<storage, read> W: array<f32>;
@group(0) @binding(3) var<storage, read_write> DX: array<f32>;`,
  functions: `
fn loadA(b: u32, row: u32, k: u32) -> f32 {
  return W[(((b % GROUPS) * COUT_G + k / TAPS) * CIN_G + row) * TAPS + k % TAPS];
}
// dY spread back over the input: the output position that tap r of channel co reads pixel col from.
fn loadB(b: u32, k: u32, col: u32) -> f32 {
  let co = k / TAPS; let r = k % TAPS;
  let th = i32(col / IN_W + PAD_H) - i32((r / K_W) * DIL_H);
  let tw = i32(col % IN_W + PAD_W) - i32((r % K_W) * DIL_W);
  if (th < 0 || tw < 0 || th % STRIDE_H != 0 || tw % STRIDE_W != 0) { return 0.0; }
  let oh = u32(th / STRIDE_H); let ow = u32(tw / STRIDE_W);
  if (oh >= OUT_H || ow >= OUT_W) { return 0.0; }
  return GY[(((b / GROUPS) * OUT_C + (b % GROUPS) * COUT_G + co) * OUT_H + oh) * OUT_W + ow];
}
fn store(b: u32, row: u32, col: u32, v: f32) {
  DX[((b / GROUPS) * IN_C + (b % GROUPS) * CIN_G + row) * IN_PLANE + col] = v;
}`,
};

const BACKWARD_WEIGHT = {
  bindings: `@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> GY: array<f32>;
@group(0) @binding(3) var<storage, read_write> DW: array<f32>;`,
  functions: `${COL_WGSL}
fn loadA(b: u32, row: u32, k: u32) -> f32 { return GY[((k / L) * OUT_C + b * COUT_G + row) * L + k % L]; }
fn loadB(b: u32, k: u32, col: u32) -> f32 { return colValue(k / L, b, col, k % L); }
fn store(b: u32, row: u32, col: u32, v: f32) { DW[(b * COUT_G + row) * CIN_G * TAPS + col] = v; }`,
};

/** The product kernels of one direction and geometry, made once per key (the runtime compiles them once). */
const productCache = new Map<string, ProductKernels>();
function kernelsFor(
  product: { bindings: string; functions: string },
  key: string,
  g: Conv2dGeometry,
): ProductKernels {
  let kernels = productCache.get(key);
  if (!kernels) {
    const wgsl = geometryWgsl(g);
    kernels = productKernels({ bindings: product.bindings, functions: wgsl + product.functions });
    productCache.set(key, kernels);
  }
  return kernels;
}

export function conv2d(
  ctx: GpuContext,
  x: Storage,
  w: Storage,
  bias: Storage | null,
  g: Conv2dGeometry,
): Storage {
  if (depthwise.forwardApplies(ctx, g)) return depthwise.forward(ctx, x, w, bias, g);
  const L = g.outH * g.outW;
  const y = out(ctx, x.dtype, g.batch * g.outChannels * L);
  const key = `conv2d|${geometryKey(g)}`;
  launchProduct(
    ctx,
    key,
    kernelsFor(FORWARD, key, g),
    [buf(ctx, x), buf(ctx, w), buf(ctx, bias ?? w), buf(ctx, y)],
    g.outChannels / g.groups,
    L,
    (g.inChannels / g.groups) * g.kernelH * g.kernelW,
    g.batch * g.groups,
    [bias ? 1 : 0],
  );
  return y;
}

export function conv2dBackwardInput(ctx: GpuContext, gy: Storage, w: Storage, g: Conv2dGeometry): Storage {
  if (depthwise.backwardInputApplies(ctx, g)) return depthwise.backwardInput(ctx, gy, w, g);
  const dx = out(ctx, gy.dtype, g.batch * g.inChannels * g.inH * g.inW);
  const key = `conv2d-dx|${geometryKey(g)}`;
  launchProduct(
    ctx,
    key,
    kernelsFor(BACKWARD_INPUT, key, g),
    [buf(ctx, gy), buf(ctx, w), buf(ctx, dx)],
    g.inChannels / g.groups,
    g.inH * g.inW,
    (g.outChannels / g.groups) * g.kernelH * g.kernelW,
    g.batch * g.groups,
    [],
  );
  return dx;
}

export function conv2dBackwardWeight(ctx: GpuContext, x: Storage, gy: Storage, g: Conv2dGeometry): Storage {
  if (depthwise.applies(g)) return depthwise.backwardWeight(ctx, x, gy, g);
  const coutG = g.outChannels / g.groups;
  const taps = (g.inChannels / g.groups) * g.kernelH * g.kernelW;
  const k = g.batch * g.outH * g.outW;
  if (usesDirectProduct(ctx, coutG, taps, k, g.groups) || splitsK(coutG * taps * g.groups, k))
    return depthwise.backwardWeightSplit(ctx, x, gy, g);
  const dw = out(ctx, x.dtype, g.outChannels * taps);
  const key = `conv2d-dw|${geometryKey(g)}`;
  launchProduct(
    ctx,
    key,
    kernelsFor(BACKWARD_WEIGHT, key, g),
    [buf(ctx, x), buf(ctx, gy), buf(ctx, dw)],
    coutG,
    taps,
    k,
    g.groups,
    [],
  );
  return dw;
}
