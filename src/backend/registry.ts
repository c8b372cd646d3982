// Which backend new tensors are created on. Explicit: a backend is registered by the code that imports it.

import type { Backend, MemoryInfo, ScopeOptions, Storage } from "./backend.js";
import { jsBackend } from "./js/index.js";
import { metaBackend } from "./meta/index.js";

const backends = new Map<string, Backend>([
  ["js", jsBackend],
  ["meta", metaBackend],
]);
let current: Backend = jsBackend;

/** Makes a backend available to `setBackend` and the `backend` option under its `name`. */
export function registerBackend(backend: Backend): void {
  backends.set(backend.name, backend);
}

/** Makes `name` the backend for tensors created from now on. */
export function setBackend(name: string): void {
  const found = backends.get(name);
  if (!found) {
    throw new Error(`setBackend: unknown backend '${name}'; registered: ${[...backends.keys()].join(", ")}`);
  }
  current = found;
}

/** The backend named `name`, or the current default (`setBackend`); an error lists the registered ones. */
export function getBackend(name?: string): Backend {
  if (name === undefined) return current;
  const found = backends.get(name);
  if (!found) throw new Error(`getBackend: unknown backend '${name}'`);
  return found;
}

/** Names of the registered backends ("js", "meta", and "wasm" once loaded). */
export function listBackends(): string[] {
  return [...backends.keys()];
}

/**
 * Runs `fn` and then frees, on every backend that manages its memory (wasm), the tensors allocated inside
 * that are not reachable from the return value and were not kept (parameters updated with assign,
 * gradients, optimizer state, module buffers). A no-op on js, whose arrays the GC reclaims.
 * Run backward inside the scope: the autograd graph of a returned tensor is not kept.
 * Training loops do not need it (docs/design.md, "Memory"): it makes freeing explicit where you want that.
 * @example const loss = scope(() => { const l = F.crossEntropy(model.forward(x), y); l.backward(); opt.step(); return l.item(); });
 */
export function scope<T>(fn: () => T, options: InternalScopeOptions<T> = {}): T {
  let run = fn;
  for (const backend of backends.values()) {
    if (backend.scope === undefined) continue;
    const inner = run;
    const adopt = options.adopt;
    const backendOptions: ScopeOptions<T> = {
      alsoReachable: options.alsoReachable,
      release: options.release,
      adopt: adopt && ((result, storages) => adopt(result, storages, backend)),
    };
    run = () => backend.scope!(inner, backendOptions);
  }
  return run();
}

/** @internal Scope options for the engine and Module.forward (see ScopeOptions in backend.ts). */
export interface InternalScopeOptions<T> {
  alsoReachable?: unknown;
  adopt?: (result: T, storages: readonly Storage[], backend: Backend) => boolean;
  release?: "free" | "collector";
}

/**
 * @internal Starts a step (a backward pass) on every backend that manages memory; the returned function
 * ends it (see Backend.startStep).
 */
export function startStep(): () => void {
  const ends: (() => void)[] = [];
  for (const backend of backends.values()) if (backend.startStep) ends.push(backend.startStep());
  return () => {
    for (const end of ends) end();
  };
}

/** Live memory of a backend (default: the current one): storages, bytes and, on wasm, the memory size. */
export function memory(name?: string): MemoryInfo {
  const backend = getBackend(name);
  return backend.memory?.() ?? { backend: backend.name, storages: Number.NaN, bytes: Number.NaN };
}

/**
 * Starts the peak `memory().peakHeapBytes` afresh (torch's `reset_peak_memory_stats`), e.g. before the step
 * whose peak you want; a no-op on backends that keep no peak.
 * @example resetPeakMemory(); step(); console.log(memory().peakHeapBytes);
 */
export function resetPeakMemory(name?: string): void {
  getBackend(name).resetPeakMemory?.();
}
