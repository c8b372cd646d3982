// Convolution of the webgpu backend as implicit GEMMs on the tiled kernel of gemm.ts: no im2col buffer is
// written; the kernel computes each column element from the image as it loads its tile. Per image and
// group (workgroup z = n·groups + g):
//   forward          Y[coutG, L]       = W[coutG, K] · cols(X)[K, L]          (K = cinG·kH·kW, L = outH·outW)
//   input gradient   dX[cinG, inH·inW] = Wᵀ[cinG, K'] · spread(dY)[K', inH·inW]  (K' = coutG·kH·kW)
//   weight gradient  dW[coutG, K]      = Σₙ dY[coutG, L] · cols(X)ᵀ[L, K]   (one product per group, K over N·L)
// Depthwise convolutions (one input channel per group) go to depthwise.ts, whose direct kernels waste no
// tile rows on a single output channel, and so do the forward and input gradient of small convolutions.

import type { Conv2dGeometry, Storage } from "../backend.js";
import { buf, out, type GpuContext } from "./context.js";
import { launchProduct, productKernels } from "./gemm.js";
import * as depthwise from "./depthwise.js";
import { FIELDS, GEOMETRY_PARAM, GEOMETRY_WGSL, geometryParams } from "./conv-geometry.js";

/** WGSL: the im2col element of a binding X (needs GEOMETRY_WGSL). */
const COL_WGSL = `
// The im2col element (k, l) of image n, group grp: 0 outside the image.
fn colValue(n: i32, grp: i32, k: i32, l: i32) -> f32 {
  let c = k / gTaps(); let r = k % gTaps();
  let ih = (l / gOutW()) * gStrideH() - gPadH() + (r / gKernelW()) * gDilationH();
  let iw = (l % gOutW()) * gStrideW() - gPadW() + (r % gKernelW()) * gDilationW();
  if (ih < 0 || ih >= gInH() || iw < 0 || iw >= gInW()) { return 0.0; }
  return X[((n * gInChannels() + grp * gCinG() + c) * gInH() + ih) * gInW() + iw];
}`;

const FORWARD_KERNELS = productKernels({
  bindings: `@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> W: array<f32>;
@group(0) @binding(3) var<storage, read> BIAS: array<f32>;
@group(0) @binding(4) var<storage, read_write> Y: array<f32>;`,
  functions: `${GEOMETRY_WGSL}${COL_WGSL}
fn hasBias() -> bool { return pu(${GEOMETRY_PARAM + FIELDS.length}u) != 0u; }
fn loadA(b: u32, row: u32, k: u32) -> f32 {
  let grp = i32(b) % gGroups();
  return W[(grp * gCoutG() + i32(row)) * gCinG() * gTaps() + i32(k)];
}
fn loadB(b: u32, k: u32, col: u32) -> f32 { return colValue(i32(b) / gGroups(), i32(b) % gGroups(), i32(k), i32(col)); }
fn store(b: u32, row: u32, col: u32, v: f32) {
  let n = i32(b) / gGroups(); let co = (i32(b) % gGroups()) * gCoutG() + i32(row);
  var y = v;
  if (hasBias()) { y += BIAS[co]; }
  Y[(n * gOutChannels() + co) * gL() + i32(col)] = y;
}`,
});

export function conv2d(
  ctx: GpuContext,
  x: Storage,
  w: Storage,
  bias: Storage | null,
  g: Conv2dGeometry,
): Storage {
  if (depthwise.forwardApplies(ctx, g)) return depthwise.forward(ctx, x, w, bias, g);
  const cinG = g.inChannels / g.groups;
  const coutG = g.outChannels / g.groups;
  const L = g.outH * g.outW;
  const y = out(ctx, x.dtype, g.batch * g.outChannels * L);
  const buffers = [buf(ctx, x), buf(ctx, w), buf(ctx, bias ?? w), buf(ctx, y)];
  const params = [...geometryParams(g), bias ? 1 : 0];
  launchProduct(
    ctx,
    "conv2d",
    FORWARD_KERNELS,
    buffers,
    coutG,
    L,
    cinG * g.kernelH * g.kernelW,
    g.batch * g.groups,
    params,
  );
  return y;
}

const BACKWARD_INPUT_KERNELS = productKernels({
  bindings: `@group(0) @binding(1) var<storage, read> GY: array<f32>;
@group(0) @binding(2) var<storage, read> W: array<f32>;
@group(0) @binding(3) var<storage, read_write> DX: array<f32>;
`,
  functions: `${GEOMETRY_WGSL}
fn loadA(b: u32, row: u32, k: u32) -> f32 {
  let grp = i32(b) % gGroups();
  let co = i32(k) / gTaps(); let r = i32(k) % gTaps();
  return W[((grp * gCoutG() + co) * gCinG() + i32(row)) * gTaps() + r];
}
// dY spread back over the input: the output position that tap r of channel co reads pixel col from.
fn loadB(b: u32, k: u32, col: u32) -> f32 {
  let n = i32(b) / gGroups(); let grp = i32(b) % gGroups();
  let co = i32(k) / gTaps(); let r = i32(k) % gTaps();
  let th = i32(col) / gInW() + gPadH() - (r / gKernelW()) * gDilationH();
  let tw = i32(col) % gInW() + gPadW() - (r % gKernelW()) * gDilationW();
  if (th < 0 || tw < 0 || th % gStrideH() != 0 || tw % gStrideW() != 0) { return 0.0; }
  let oh = th / gStrideH(); let ow = tw / gStrideW();
  if (oh >= gOutH() || ow >= gOutW()) { return 0.0; }
  return GY[((n * gOutChannels() + grp * gCoutG() + co) * gOutH() + oh) * gOutW() + ow];
}
fn store(b: u32, row: u32, col: u32, v: f32) {
  let n = i32(b) / gGroups(); let c = (i32(b) % gGroups()) * gCinG() + i32(row);
  DX[(n * gInChannels() + c) * gInH() * gInW() + i32(col)] = v;
}`,
});

export function conv2dBackwardInput(ctx: GpuContext, gy: Storage, w: Storage, g: Conv2dGeometry): Storage {
  if (depthwise.backwardInputApplies(ctx, g)) return depthwise.backwardInput(ctx, gy, w, g);
  const cinG = g.inChannels / g.groups;
  const coutG = g.outChannels / g.groups;
  const dx = out(ctx, gy.dtype, g.batch * g.inChannels * g.inH * g.inW);
  const buffers = [buf(ctx, gy), buf(ctx, w), buf(ctx, dx)];
  const k = coutG * g.kernelH * g.kernelW;
  launchProduct(
    ctx,
    "conv2d-dx",
    BACKWARD_INPUT_KERNELS,
    buffers,
    cinG,
    g.inH * g.inW,
    k,
    g.batch * g.groups,
    geometryParams(g),
  );
  return dx;
}

const BACKWARD_WEIGHT_KERNELS = productKernels({
  bindings: `@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> GY: array<f32>;
@group(0) @binding(3) var<storage, read_write> DW: array<f32>;`,
  functions: `${GEOMETRY_WGSL}${COL_WGSL}
fn loadA(b: u32, row: u32, k: u32) -> f32 {
  let n = i32(k) / gL(); let l = i32(k) % gL();
  return GY[(n * gOutChannels() + i32(b) * gCoutG() + i32(row)) * gL() + l];
}
fn loadB(b: u32, k: u32, col: u32) -> f32 { return colValue(i32(k) / gL(), i32(b), i32(col), i32(k) % gL()); }
fn store(b: u32, row: u32, col: u32, v: f32) {
  DW[(i32(b) * gCoutG() + i32(row)) * gCinG() * gTaps() + i32(col)] = v;
}`,
});

export function conv2dBackwardWeight(ctx: GpuContext, x: Storage, gy: Storage, g: Conv2dGeometry): Storage {
  if (depthwise.applies(g)) return depthwise.backwardWeight(ctx, x, gy, g);
  const cinG = g.inChannels / g.groups;
  const coutG = g.outChannels / g.groups;
  const taps = cinG * g.kernelH * g.kernelW;
  const dw = out(ctx, x.dtype, g.outChannels * taps);
  const buffers = [buf(ctx, x), buf(ctx, gy), buf(ctx, dw)];
  launchProduct(
    ctx,
    "conv2d-dw",
    BACKWARD_WEIGHT_KERNELS,
    buffers,
    coutG,
    taps,
    g.batch * g.outH * g.outW,
    g.groups,
    geometryParams(g),
  );
  return dw;
}
