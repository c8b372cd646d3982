// What every kernel family of the webgpu backend works with: the runtime (pipelines, launches) and the
// storages (allocation, buffers), plus small helpers for WGSL types and 1-D launches.

/// <reference types="@webgpu/types" />

import type { Storage } from "../backend.js";
import type { DType } from "../../tensor/dtype.js";
import { LINEAR_GROUP_WGSL, type GpuRuntime, type Param } from "./runtime.js";
import type { GpuStorage, GpuStorageManager } from "./storage.js";

export interface GpuContext {
  rt: GpuRuntime;
  mem: GpuStorageManager;
}

/** Threads per workgroup of the 1-D (one thread per element) kernels. */
export const WG = 256;

/** The WGSL scalar type of a dtype (float32 → f32, int32 → i32). */
export function wgslType(dtype: DType): "f32" | "i32" {
  if (dtype === "float64") throw new Error("webgpu backend: float64 is not supported");
  return dtype === "int32" ? "i32" : "f32";
}

/**
 * WGSL of a 1-D kernel: `body` runs once per index `i < n` (n is parameter 0), with `bindings` declared
 * after the parameters (binding 1, 2, …) and `helpers` before the entry point.
 */
export function elementKernel(bindings: string[], body: string, helpers = ""): string {
  const decls = bindings.map((b, k) => `@group(0) @binding(${k + 1}) var<storage, ${b};`).join("\n");
  return `${decls}
${LINEAR_GROUP_WGSL}
${helpers}
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) count: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = linearGroup(wg, count) * ${WG}u + lid;
  if (i >= pu(0u)) { return; }
  ${body}
}`;
}

/** Launches a 1-D kernel over n elements (n is passed as parameter 0 before `params`). */
export function launchElements(
  ctx: GpuContext,
  key: string,
  code: () => string,
  buffers: GPUBuffer[],
  n: number,
  params: Param[] = [],
): void {
  if (n === 0) return;
  ctx.rt.launch(key, code, buffers, [n, ...params], Math.ceil(n / WG));
}

/** Allocates an output storage. */
export function out(ctx: GpuContext, dtype: DType, size: number): GpuStorage {
  return ctx.mem.alloc(dtype, size);
}

/** The GPU buffer of a storage (throws for a freed or foreign one). */
export function buf(ctx: GpuContext, s: Storage): GPUBuffer {
  return ctx.mem.buffer(s);
}

/** WGSL that tests a float for NaN by its bits (compilers may assume x == x). */
export const IS_NAN_WGSL = /* wgsl */ `
fn isNan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }
`;
