// Node-only helpers of the wasm backend (imported dynamically, never by browser code paths).
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import v8 from "node:v8";
import os from "node:os";
import vm from "node:vm";
import { relaxedSimdSupported } from "./probe.js";
import type { GcTools } from "./storage.js";

/** build/kernels/ of this package: src/backend/wasm and dist/backend/wasm are both three levels deep. */
export const KERNEL_DIR = fileURLToPath(new URL("../../../build/kernels/", import.meta.url));

export async function readKernelFile(name: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(KERNEL_DIR + name));
  } catch (e) {
    throw new Error(
      `striate wasm backend: cannot read ${KERNEL_DIR}${name}; run \`npm run build:kernels\` (${e})`,
    );
  }
}

/**
 * Relaxed SIMD is behind a flag in Node 20 (V8 11.3). The flag must be set before the module is compiled;
 * it is rejected in NODE_OPTIONS and a worker's execArgv, so it is set here, at run time.
 */
export function enableRelaxedSimd(): boolean {
  if (relaxedSimdSupported()) return true;
  try {
    v8.setFlagsFromString("--experimental-wasm-relaxed-simd");
  } catch {
    return false;
  }
  return relaxedSimdSupported();
}

export function availableParallelism(): number {
  return os.availableParallelism();
}

let tools: GcTools | null | undefined;

/**
 * A gc() and a FinalizationRegistry with cleanupSome(), so that memory pressure can free unreachable
 * tensors synchronously, in the middle of a training loop that never yields. Both come from a fresh
 * context created after setting the V8 flags (flags only affect contexts created later); the registry
 * accepts objects of the main context, since they share one heap. Null if the flags are refused.
 */
export function gcTools(): GcTools | null {
  if (tools !== undefined) return tools;
  try {
    v8.setFlagsFromString("--expose-gc");
    v8.setFlagsFromString("--harmony-weak-refs-with-cleanup-some");
    const ctx = vm.runInNewContext("({ gc, FinalizationRegistry })") as Partial<GcTools>;
    tools = typeof ctx.gc === "function" && ctx.FinalizationRegistry ? (ctx as GcTools) : null;
  } catch {
    tools = null;
  }
  return tools;
}
