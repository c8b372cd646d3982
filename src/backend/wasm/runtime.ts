// Loads the kernel module (feature probe -> relaxed-SIMD FMA build or plain SIMD build), owns the one
// memory, the per-thread GEMM workspaces and the thread pool, and runs range-splittable kernels.

import type { KernelArgs, KernelExports, RangeKernel } from "./exports.js";
import { WasmMemory, sharedMemorySupported, type MemoryOptions } from "./memory.js";
import { relaxedSimdSupported, simdSupported } from "./probe.js";
import { ThreadPool, type SpawnWorker } from "./threads.js";

export interface WasmRuntimeOptions extends MemoryOptions {
  /** Use the relaxed-SIMD (FMA) build: default when the engine supports it (Node: enabled via a V8 flag). */
  relaxed?: boolean;
  /** Threads including the calling one (default 1; see setNumThreads). Needs shared memory. */
  threads?: number;
  /** Returns the bytes of a kernel file (e.g. "striate-simd.wasm"); default: fs in Node, fetch in browsers. */
  loadBinary?: (fileName: string) => Promise<ArrayBuffer | Uint8Array>;
  /** Browsers: URL of the folder holding the .wasm files (default: build/kernels/ of this package). */
  kernelBaseUrl?: string | URL;
}

function isNode(): boolean {
  return typeof process === "object" && typeof process.versions === "object" && !!process.versions.node;
}

/** The Node-only helpers, imported through a variable so that browser bundlers do not follow it. */
export function importNodeHelpers(): Promise<typeof import("./node.js")> {
  const path = "./node.js";
  return import(/* @vite-ignore */ path) as Promise<typeof import("./node.js")>;
}

function importNodeWorker(): Promise<typeof import("./worker-node.js")> {
  const path = "./worker-node.js";
  return import(/* @vite-ignore */ path) as Promise<typeof import("./worker-node.js")>;
}

export function kernelFileName(relaxed: boolean, shared: boolean): string {
  return `striate-${relaxed ? "relaxed" : "simd"}${shared ? "-shared" : ""}.wasm`;
}

/**
 * Where a browser fetches a kernel file: `kernelBaseUrl` (absolute, or relative to the page) or, by default,
 * build/kernels/ next to this module — which a bundler that does not copy the .wasm files breaks.
 */
export function kernelUrl(file: string, kernelBaseUrl?: string | URL): URL {
  const base = kernelBaseUrl ?? new URL("../../../build/kernels/", import.meta.url);
  const page = (globalThis as { location?: { href: string } }).location?.href;
  return new URL(file, new URL(String(base), page));
}

const KERNEL_HINT =
  "serve the package's build/kernels/*.wasm files and pass their folder to initWasm, " +
  'e.g. initWasm({ kernelBaseUrl: "/striate-kernels/" }) (docs/browser.md)';

/** Fetches a kernel file; an error names the URL it tried and the option that sets it. */
export async function fetchKernel(file: string, kernelBaseUrl?: string | URL): Promise<ArrayBuffer> {
  const url = kernelUrl(file, kernelBaseUrl);
  let res: Response;
  try {
    res = await fetch(url);
  } catch (error) {
    throw new Error(`striate wasm backend: fetching ${url} failed (${String(error)}): ${KERNEL_HINT}`);
  }
  if (!res.ok)
    throw new Error(
      `striate wasm backend: fetching ${url} failed: HTTP ${res.status} ${res.statusText}; ${KERNEL_HINT}`,
    );
  const bytes = await res.arrayBuffer();
  // A server that answers every path with its index page returns 200 and HTML.
  const magic = new Uint8Array(bytes, 0, Math.min(4, bytes.byteLength));
  if (magic.length < 4 || magic[0] !== 0 || magic[1] !== 0x61 || magic[2] !== 0x73 || magic[3] !== 0x6d)
    throw new Error(
      `striate wasm backend: ${url} is not a WebAssembly file (${res.headers.get("content-type") ?? "no content type"}, ${bytes.byteLength} bytes); ${KERNEL_HINT}`,
    );
  return bytes;
}

/** A parallel kernel call: `fn(...args, ws, u0, u1)` over units [0, units); args are checked against fn. */
export interface ParallelCall<K extends RangeKernel = RangeKernel> {
  name: K;
  args: KernelArgs<K>;
  units: number;
  /** Rough work (e.g. multiply-adds); below PARALLEL_THRESHOLD the call stays on the calling thread. */
  work: number;
  /** Split points between threads are multiples of this (default 1). */
  granularity?: number;
}

/**
 * Work below which a kernel is not split across threads (multiply-adds; measured, docs/wasm-backend.md:
 * 4x lower than the first setting lifted LeNet training on 2 threads by ~10 %, since most of its kernels
 * are small; dispatch costs a few microseconds).
 */
export const PARALLEL_THRESHOLD = 16 * 1024 * 144;

/** Read-only counters of the thread pool over the runtime's life (they never decrease). */
export interface ThreadStats {
  /** Kernel calls split across threads (counted on the calling thread). */
  splitCalls: number;
  /** Ranges of those calls that worker threads ran (counted by the workers, in the shared memory). */
  workerRanges: number;
  /** Ranges meant for a worker that the calling thread ran because no worker had claimed them in time. */
  rangesTakenBack: number;
}

export class WasmRuntime {
  readonly exports: KernelExports;
  readonly mem: WasmMemory;
  readonly module: WebAssembly.Module;
  readonly relaxed: boolean;
  private readonly workspaces: number[] = [];
  private pool: ThreadPool | null = null;
  private readonly spawn: SpawnWorker | null;
  private splitCalls = 0;
  /** Counters of pools already terminated (a pool's own counts live in its control block). */
  private pastWorkerRanges = 0;
  private pastRangesTakenBack = 0;

  constructor(
    module: WebAssembly.Module,
    instance: WebAssembly.Instance,
    mem: WasmMemory,
    relaxed: boolean,
    spawn: SpawnWorker | null,
  ) {
    this.module = module;
    this.exports = instance.exports as unknown as KernelExports;
    this.mem = mem;
    this.relaxed = relaxed;
    this.spawn = spawn;
    mem.setBase(this.exports.heapBase());
  }

  get numThreads(): number {
    return this.pool === null ? 1 : this.pool.size + 1;
  }

  /** Uses n threads (the calling one plus n-1 workers); 1 without shared memory. */
  async setNumThreads(n: number): Promise<void> {
    const want = Math.max(1, Math.floor(n));
    if (want === this.numThreads) return;
    this.stopPool();
    if (want === 1 || !this.mem.shared || this.spawn === null) return;
    const pool = new ThreadPool(this.mem, this.module, this.relaxed, want - 1, this.spawn);
    await pool.ready();
    this.pool = pool;
    for (let t = 0; t < want; t++) this.workspace(t);
  }

  /** GEMM workspace of thread t (allocated on first use, kept for the runtime's life). */
  workspace(t: number): number {
    while (this.workspaces.length <= t)
      this.workspaces.push(this.mem.alloc(this.exports.gemmWorkspaceBytes()));
    return this.workspaces[t];
  }

  /** How many threads a call of this much work over this many units would use. */
  threadsFor(work: number, units: number, granularity = 1): number {
    if (this.pool === null || work < PARALLEL_THRESHOLD) return 1;
    return Math.max(1, Math.min(this.numThreads, Math.ceil(units / granularity)));
  }

  /** Runs a range-splittable kernel, across the pool when it is big enough. */
  parallel<K extends RangeKernel>(call: ParallelCall<K>): void {
    const fn = this.exports[call.name] as unknown as (...args: number[]) => void;
    if (typeof fn !== "function") throw new Error(`wasm kernel ${call.name} does not exist`);
    // The arguments were checked against the kernel's parameters by the caller's type (ParallelCall).
    const args = call.args as unknown as number[];
    const g = call.granularity ?? 1;
    const threads = this.threadsFor(call.work, call.units, g);
    if (threads <= 1 || this.pool === null) {
      fn(...args, this.workspace(0), 0, call.units);
      return;
    }
    const bounds: number[] = [0];
    for (let t = 1; t < threads; t++)
      bounds.push(Math.min(call.units, Math.round((call.units * t) / threads / g) * g));
    bounds.push(call.units);
    const ws: number[] = [];
    for (let t = 0; t < threads; t++) ws.push(this.workspace(t));
    this.splitCalls++;
    this.pool.run(call.name, args, ws, bounds, (t) => fn(...args, ws[t], bounds[t], bounds[t + 1]));
  }

  /** How much work the thread pool has taken so far: lets a test (or a user) see that workers ran. */
  threadStats(): ThreadStats {
    return {
      splitCalls: this.splitCalls,
      workerRanges: this.pastWorkerRanges + (this.pool?.rangesRunByWorkers() ?? 0),
      rangesTakenBack: this.pastRangesTakenBack + (this.pool?.rangesTakenBack() ?? 0),
    };
  }

  private stopPool(): void {
    if (this.pool === null) return;
    this.pastWorkerRanges += this.pool.rangesRunByWorkers();
    this.pastRangesTakenBack += this.pool.rangesTakenBack();
    this.pool.terminate();
    this.pool = null;
  }

  /** Stops the worker threads. */
  dispose(): void {
    this.stopPool();
  }
}

export async function createWasmRuntime(options: WasmRuntimeOptions = {}): Promise<WasmRuntime> {
  if (!simdSupported()) throw new Error("striate wasm backend: this engine has no WebAssembly SIMD");
  const node = isNode() ? await importNodeHelpers() : null;
  let relaxed = options.relaxed ?? true;
  if (relaxed) relaxed = node !== null ? node.enableRelaxedSimd() : relaxedSimdSupported();
  const shared = options.shared ?? sharedMemorySupported();
  const file = kernelFileName(relaxed, shared);
  let bytes: ArrayBuffer | Uint8Array;
  if (options.loadBinary !== undefined) bytes = await options.loadBinary(file);
  else if (node !== null) bytes = await node.readKernelFile(file);
  else bytes = await fetchKernel(file, options.kernelBaseUrl);
  const module = await WebAssembly.compile(bytes as BufferSource);
  const mem = new WasmMemory({ ...options, shared });
  const instance = await WebAssembly.instantiate(module, {
    env: {
      memory: mem.memory,
      abort: () => {
        throw new Error("striate wasm kernel aborted");
      },
    },
  });
  const spawn = node !== null ? (await importNodeWorker()).spawnNodeWorker : spawnBrowserWorker;
  const rt = new WasmRuntime(module, instance, mem, relaxed, shared ? spawn : null);
  const threads = options.threads ?? 1;
  if (threads > 1) await rt.setNumThreads(threads);
  return rt;
}

/**
 * A Web Worker from a Blob URL (a classic script: the worker program has no imports, so the package needs
 * no worker file and no bundler support). It inherits the page's cross-origin isolation, which it needs
 * to receive the shared memory. Tested in Chromium by test/browser/wasm-workers.test.ts.
 */
function spawnBrowserWorker(source: string): import("./threads.js").WorkerHandle {
  const url = URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
  const w = new Worker(url);
  // The worker has fetched its script once it answers or fails; only then may the URL go.
  const release = () => URL.revokeObjectURL(url);
  w.addEventListener("message", release, { once: true });
  w.addEventListener("error", release, { once: true });
  return {
    postMessage: (m: unknown) => w.postMessage(m),
    onMessage: (cb: (m: unknown) => void) => w.addEventListener("message", (e) => cb(e.data)),
    // An ErrorEvent prints as "[object ErrorEvent]"; its message (e.g. a CSP that forbids blob: workers)
    // is what the user needs to see.
    onError: (cb: (e: unknown) => void) =>
      w.addEventListener("error", (e) => cb(e.message ? e.message : "the Web Worker failed to start")),
    terminate: () => w.terminate(),
  };
}
