// Convolution geometry as the webgpu kernels read it: the Conv2dGeometry fields as launch parameters 4..19
// and WGSL accessors for them (shared by conv.ts and depthwise.ts).

import type { Conv2dGeometry } from "../backend.js";

/** Geometry parameters after M, N, K and the batch (index 4 on), and WGSL names for them. */
/** Launch parameter of the first geometry field (after M, N, K and the product batch of gemm.ts). */
export const GEOMETRY_PARAM = 4;

export const FIELDS = [
  "batch",
  "inChannels",
  "inH",
  "inW",
  "outChannels",
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
  "groups",
] as const;

/** WGSL functions reading the geometry (gBatch(), gInChannels(), …) and derived sizes. */
export const GEOMETRY_WGSL =
  FIELDS.map(
    (f, i) => `fn g${f[0].toUpperCase()}${f.slice(1)}() -> i32 { return pi(${GEOMETRY_PARAM + i}u); }`,
  ).join("\n") +
  `
fn gCinG() -> i32 { return gInChannels() / gGroups(); }
fn gCoutG() -> i32 { return gOutChannels() / gGroups(); }
fn gTaps() -> i32 { return gKernelH() * gKernelW(); }
fn gL() -> i32 { return gOutH() * gOutW(); }`;

export function geometryParams(g: Conv2dGeometry): { i: number }[] {
  return FIELDS.map((f) => ({ i: g[f] }));
}
