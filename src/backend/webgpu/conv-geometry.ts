// Convolution geometry as the webgpu kernels read it: every field but the batch is baked into the kernel's
// WGSL as a constant (one pipeline per layer shape), so that the shader compiler folds the index divisions
// and loop bounds instead of reading each field from the parameter block per multiply-add; the batch stays
// a launch parameter (a last, smaller batch needs no new pipeline). Shared by conv.ts and depthwise.ts.

import type { Conv2dGeometry } from "../backend.js";

/** The fields baked into the kernels, in key order. */
const BAKED = [
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

/** The pipeline-key suffix of a geometry: the fields baked into its kernels. */
export function geometryKey(g: Conv2dGeometry): string {
  return BAKED.map((f) => g[f]).join(",");
}

/**
 * WGSL constants of a geometry: abstract integers, so they serve i32 and u32 expressions alike. Besides the
 * fields: CIN_G and COUT_G (channels per group), TAPS (kH·kW), L (outH·outW) and IN_PLANE (inH·inW).
 */
export function geometryWgsl(g: Conv2dGeometry): string {
  const consts: [string, number][] = [
    ["IN_C", g.inChannels],
    ["IN_H", g.inH],
    ["IN_W", g.inW],
    ["OUT_C", g.outChannels],
    ["OUT_H", g.outH],
    ["OUT_W", g.outW],
    ["K_H", g.kernelH],
    ["K_W", g.kernelW],
    ["STRIDE_H", g.strideH],
    ["STRIDE_W", g.strideW],
    ["PAD_H", g.padH],
    ["PAD_W", g.padW],
    ["DIL_H", g.dilationH],
    ["DIL_W", g.dilationW],
    ["GROUPS", g.groups],
    ["CIN_G", g.inChannels / g.groups],
    ["COUT_G", g.outChannels / g.groups],
    ["TAPS", g.kernelH * g.kernelW],
    ["L", g.outH * g.outW],
    ["IN_PLANE", g.inH * g.inW],
  ];
  return "\n" + consts.map(([name, v]) => `const ${name} = ${v};`).join("\n") + "\n";
}

/**
 * WGSL of ceil(a / b) for a > 0 and 0 otherwise, b a positive constant: the first tap or output position at
 * or past a (signed) distance a. Written out so that b = 1 needs no division at all.
 */
export function ceilPos(a: string, b: number): string {
  return b === 1 ? `max(${a}, 0)` : `select(0, (${a} + ${b - 1}) / ${b}, ${a} > 0)`;
}
