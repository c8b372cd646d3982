// The wasm Backend: every kernel of the Backend interface over the SIMD kernels, with all storage in the
// one wasm memory (no copies between ops). Assembled from per-family method factories (createXMethods in
// conv.ts, pool.ts, elementwise.ts, …) over one shared context (context.ts), as js/index.ts assembles the
// reference kernels; each family translates the Backend's geometry into its kernels' arguments, and the
// wrappers decide threads.
//
// Cold paths written as JavaScript loops over the memory (docs/wasm-backend.md): int32 arithmetic
// (unary, binary, reduce, argmax on int32 go through the js reference kernels), oneHot, full (a native
// TypedArray.fill) and the same-dtype cast (a native copyWithin).

import type { Backend, MemoryInfo, ScopeOptions, Storage } from "../backend.js";
import type { DType } from "../../tensor/dtype.js";
import { createContext, type WasmContext } from "./context.js";
import type { WasmRuntime } from "./runtime.js";
import type { StorageManager } from "./storage.js";
import { createElementwiseMethods } from "./elementwise.js";
import { createMovementMethods } from "./movement.js";
import { createGemmMethods } from "./gemm.js";
import { createConvMethods } from "./conv.js";
import { createPoolMethods } from "./pool.js";
import { createBatchNormMethods } from "./normalization.js";
import { createLossMethods } from "./losses.js";
import { createOptimMethods } from "./optim.js";
import { createDetectionMethods } from "./detection.js";
import { createTopkMethods } from "./topk.js";

/** The wasm Backend plus what only it has: its runtime (threads) and storage manager. */
export interface WasmBackend extends Backend {
  readonly runtime: WasmRuntime;
  readonly storages: StorageManager;
  scope<T>(fn: () => T, options?: ScopeOptions<T>): T;
  keep(storage: Storage): void;
  pin(storage: Storage): void;
  free(storage: Storage): void;
  releaseTemporary(storage: Storage): void;
  startStep(): () => void;
  /**
   * Live storages and bytes, the memory's size, and the counts of forced collections and spilled storages.
   */
  memory(): MemoryInfo;
}

/** [n] int32 labels -> [n, classes] one-hot, written as a JavaScript loop over the memory. */
function createOneHot(cx: WasmContext): Backend["oneHot"] {
  return (labels, classes, dtype) => {
    const pl = cx.ptr(labels) >>> 2;
    const out = cx.full(dtype, labels.size * classes, 0);
    const l = cx.rt.mem.i32();
    const view = dtype === "int32" ? l : cx.rt.mem.f32();
    const base = out.ptr >>> 2;
    for (let i = 0; i < labels.size; i++) view[base + i * classes + l[pl + i]] = 1;
    return out;
  };
}

export function createWasmBackend(rt: WasmRuntime, storages: StorageManager): WasmBackend {
  const cx = createContext(rt, storages);
  return {
    name: "wasm",
    runtime: rt,
    storages,
    supports: (dtype: DType) => dtype !== "float64",
    fromArray: cx.fromArray,
    toArray: cx.toArray,
    full: cx.full,
    oneHot: createOneHot(cx),
    ...createElementwiseMethods(cx),
    ...createMovementMethods(cx),
    ...createGemmMethods(cx),
    ...createConvMethods(cx),
    ...createPoolMethods(cx),
    ...createBatchNormMethods(cx),
    ...createLossMethods(cx),
    ...createOptimMethods(cx),
    ...createDetectionMethods(cx),
    ...createTopkMethods(cx),
    scope: <T>(fn: () => T, options?: ScopeOptions<T>) => storages.scope(fn, options),
    keep: (s: Storage) => storages.keep(s),
    pin: (s: Storage) => storages.pin(s),
    free: (s: Storage) => storages.freeAdopted(s),
    releaseTemporary: (s: Storage) => storages.releaseTemporary(s),
    startStep: () => storages.startStep(),
    memory: () => storages.info(),
    resetPeakMemory: () => rt.mem.resetPeak(),
  };
}
