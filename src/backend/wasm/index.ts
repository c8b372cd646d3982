// Loading the wasm backend: `await initWasm()` compiles the kernel build this engine supports, starts the
// thread pool, registers the backend as "wasm" and makes it the default. Afterwards every kernel runs
// synchronously. Node gets it automatically through the package's Node entry (src/index-node.ts).

import { registerBackend, setBackend } from "../registry.js";
import { createWasmBackend, type WasmBackend } from "./backend.js";
import { createWasmRuntime, importNodeHelpers, type WasmRuntimeOptions } from "./runtime.js";
import { sharedMemorySupported } from "./memory.js";
import { StorageManager, type GcTools, type StorageOptions } from "./storage.js";

export type { WasmBackend } from "./backend.js";

/**
 * Options of `initWasm`: `threads`, the memory's `initialBytes`/`maximumBytes`, `relaxed`/`shared` to pick
 * the kernel build, and where the kernel files come from in browsers (`kernelBaseUrl`, or `loadBinary` to
 * supply the bytes). docs/browser.md explains them.
 */
export interface InitWasmOptions extends WasmRuntimeOptions, StorageOptions {
  /**
   * Threads including the calling one (default: the available cores — os.availableParallelism() in Node,
   * navigator.hardwareConcurrency in browsers; 1 without SharedArrayBuffer).
   */
  threads?: number;
  /** Make "wasm" the default backend for new tensors (default true). */
  setDefault?: boolean;
}

/** The wasm backend once initWasm() has resolved. */
export let wasmBackend: WasmBackend | undefined;
let loading: Promise<WasmBackend> | null = null;

function isNode(): boolean {
  return typeof process === "object" && typeof process.versions === "object" && !!process.versions.node;
}

async function defaultThreads(): Promise<number> {
  if (isNode()) return (await importNodeHelpers()).availableParallelism();
  const cores = typeof navigator === "object" ? navigator.hardwareConcurrency : undefined;
  return cores && cores > 0 ? cores : 1;
}

async function load(options: InitWasmOptions): Promise<WasmBackend> {
  const shared = options.shared ?? sharedMemorySupported();
  // Only when shared memory was wanted: `shared: false` is a choice, not a missing feature.
  if (!shared && options.shared === undefined && !isNode()) {
    console.warn(
      "striate: SharedArrayBuffer is unavailable (the page is not cross-origin isolated), so the wasm backend runs single-threaded",
    );
  }
  const rt = await createWasmRuntime({ ...options, shared, threads: 1 });
  const tools: GcTools | null = isNode() ? (await importNodeHelpers()).gcTools() : null;
  const backend = createWasmBackend(rt, new StorageManager(rt.mem, tools, options));
  wasmBackend = backend;
  return backend;
}

/**
 * Loads the wasm backend (once; later calls only apply `threads` and `setDefault`), registers it as "wasm"
 * and makes it the default backend.
 * @example await initWasm({ threads: 4 }); // then tensors are created on wasm
 */
export async function initWasm(options: InitWasmOptions = {}): Promise<WasmBackend> {
  if (options.threads !== undefined) checkThreads("initWasm", options.threads);
  loading ??= load(options);
  let backend: WasmBackend;
  try {
    backend = await loading;
  } catch (e) {
    loading = null;
    throw e;
  }
  await backend.runtime.setNumThreads(options.threads ?? (await defaultThreads()));
  registerBackend(backend);
  if (options.setDefault ?? true) setBackend("wasm");
  return backend;
}

/** Most threads accepted: far beyond any machine's cores, a typo rather than a wish. */
const MAX_THREADS = 256;

function checkThreads(op: string, n: unknown): void {
  if (typeof n !== "number" || !Number.isInteger(n) || n < 1 || n > MAX_THREADS) {
    throw new Error(
      `${op}: the number of threads must be an integer in [1, ${MAX_THREADS}], got ${String(n)}`,
    );
  }
}

/**
 * Uses n threads for wasm kernels (the calling one plus n-1 workers); 1 without shared memory. n must be an
 * integer in [1, 256] (torch.set_num_threads also rejects 0).
 */
export async function setNumThreads(n: number): Promise<void> {
  checkThreads("setNumThreads", n);
  if (!wasmBackend)
    throw new Error("setNumThreads: the wasm backend is not initialised; await initWasm() first");
  await wasmBackend.runtime.setNumThreads(n);
}

/** Threads the wasm kernels use (1 before initWasm). */
export function getNumThreads(): number {
  return wasmBackend?.runtime.numThreads ?? 1;
}
