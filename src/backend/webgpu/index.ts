// The webgpu backend: every kernel of the Backend interface in WGSL (one family per file, like js/), tensors
// in GPU buffers that stay on the device between ops, launches recorded and submitted in batches, memory
// freed through the backend memory hooks. `await initWebGpu()` finds a device (navigator.gpu in browsers,
// the optional `webgpu` package in Node), registers the backend as "webgpu" and makes it the default.
// Reading values is asynchronous: `await tensor.data()` / `await tensor.itemAsync()` (docs/webgpu.md).

/// <reference types="@webgpu/types" />

import type { Backend, ScopeOptions, Storage } from "../backend.js";
import type { DType, TypedArray } from "../../tensor/dtype.js";
import { registerBackend, setBackend } from "../registry.js";
import { openDevice, type DeviceOptions } from "./device.js";
import { GpuRuntime } from "./runtime.js";
import { GpuStorage, GpuStorageManager } from "./storage.js";
import type { GpuContext } from "./context.js";
import * as elementwise from "./elementwise.js";
import * as reduce from "./reduce.js";
import * as movement from "./movement.js";
import * as gemm from "./gemm.js";
import * as conv from "./conv.js";
import * as pool from "./pool.js";
import * as normalization from "./normalization.js";
import * as losses from "./losses.js";
import * as optim from "./optim.js";
import * as detection from "./detection.js";
import * as topk from "./topk.js";

export const SYNC_READ_MESSAGE =
  "webgpu: toArray()/item() cannot wait for the GPU (reading a GPU buffer back is asynchronous); use " +
  "`await tensor.data()` or `await tensor.itemAsync()` — afterwards toArray() and item() return those values synchronously";

/** The webgpu backend once initWebGpu() has resolved: a Backend plus its device and runtime. */
export interface WebGpuBackend extends Backend {
  readonly runtime: GpuRuntime;
  /** The adapter's name, e.g. "google/swiftshader". */
  readonly adapterName: string;
  /** Whether the adapter is a software rasteriser (timings then only show that it runs). */
  readonly software: boolean;
  /** Submits every launch recorded so far and resolves when the GPU has run them. */
  sync(): Promise<void>;
}

type Methods<T> = {
  [K in keyof T]: T[K] extends (ctx: GpuContext, ...args: infer A) => infer R ? (...args: A) => R : never;
};

/** Binds every exported kernel of a family to the context (the families take it as first argument). */
function bind<T extends object>(ctx: GpuContext, family: T): Methods<T> {
  const bound: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(family)) {
    if (typeof fn === "function")
      bound[name] = (...args: unknown[]) => (fn as (...a: unknown[]) => unknown)(ctx, ...args);
  }
  return bound as Methods<T>;
}

function typed(dtype: DType, bytes: ArrayBuffer): Float32Array | Int32Array {
  return dtype === "int32" ? new Int32Array(bytes) : new Float32Array(bytes);
}

export function createWebGpuBackend(rt: GpuRuntime): WebGpuBackend {
  const mem = new GpuStorageManager(rt);
  const ctx: GpuContext = { rt, mem };
  const gpu = (s: Storage): GpuStorage => {
    mem.buffer(s); // throws a clear error for a foreign or freed storage
    return s as GpuStorage;
  };
  const kernels = {
    ...bind(ctx, elementwise),
    ...bind(ctx, reduce),
    ...bind(ctx, movement),
    gemm: bind(ctx, gemm).gemm,
    ...bind(ctx, conv),
    ...bind(ctx, pool),
    ...bind(ctx, normalization),
    ...bind(ctx, losses),
    ...bind(ctx, optim),
    ...bind(ctx, detection),
    ...bind(ctx, topk),
  };
  return {
    name: "webgpu",
    runtime: rt,
    adapterName: rt.adapterName,
    software: rt.software,
    supports: (dtype: DType) => dtype !== "float64",
    fromArray(data: TypedArray): Storage {
      const dtype: DType =
        data instanceof Int32Array ? "int32" : data instanceof Float64Array ? "float64" : "float32";
      const s = mem.alloc(dtype, data.length);
      const host = dtype === "int32" ? Int32Array.from(data) : Float32Array.from(data);
      rt.write(mem.buffer(s), host);
      s.host = host;
      return s;
    },
    toArray(storage: Storage): TypedArray {
      const s = gpu(storage);
      if (s.host === null) throw new Error(SYNC_READ_MESSAGE);
      return s.host.slice();
    },
    toArrayIfHost(storage: Storage): TypedArray | null {
      return gpu(storage).host?.slice() ?? null;
    },
    async readAsync(storage: Storage): Promise<TypedArray> {
      const s = gpu(storage);
      if (s.host === null) {
        const bytes = await rt.read(mem.buffer(s), s.size * 4);
        // A kernel may have overwritten it in place while we waited (an optimizer step): keep only a fresh read.
        s.host = typed(s.dtype, bytes);
      }
      return s.host.slice();
    },
    syncReads: false,
    async sync(): Promise<void> {
      rt.flush();
      await rt.device.queue.onSubmittedWorkDone();
    },
    ...kernels,
    scope: <T>(fn: () => T, options?: ScopeOptions<T>) => mem.scope(fn, options),
    keep: (s: Storage) => mem.keep(s),
    free: (s: Storage) => mem.freeAdopted(s),
    releaseTemporary: (s: Storage) => mem.releaseTemporary(s),
    memory: () => mem.info(),
    startStep: () => mem.startStep(),
  } as WebGpuBackend;
}

/** Options of initWebGpu(): the device request (DeviceOptions) and whether webgpu becomes the default. */
export interface InitWebGpuOptions extends DeviceOptions {
  /** Make "webgpu" the default backend for new tensors (default true). */
  setDefault?: boolean;
}

/** The webgpu backend once initWebGpu() has resolved. */
export let webGpuBackend: WebGpuBackend | undefined;
let loading: Promise<WebGpuBackend> | null = null;

/**
 * Finds a WebGPU device (once; later calls only apply `setDefault`), registers the backend as "webgpu" and
 * makes it the default. Browsers use navigator.gpu; Node imports the optional `webgpu` package (Dawn).
 * Throws "no WebGPU adapter: …" saying what is missing when there is none.
 * @example await initWebGpu(); const y = model.forward(x); console.log(await y.data());
 */
export async function initWebGpu(options: InitWebGpuOptions = {}): Promise<WebGpuBackend> {
  loading ??= openDevice(options).then((device) => createWebGpuBackend(new GpuRuntime(device)));
  let backend: WebGpuBackend;
  try {
    backend = await loading;
  } catch (e) {
    loading = null;
    throw e;
  }
  webGpuBackend = backend;
  registerBackend(backend);
  if (options.setDefault ?? true) setBackend("webgpu");
  return backend;
}
