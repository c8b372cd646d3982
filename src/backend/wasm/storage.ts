// Tensor storages of the wasm backend and their lifetime: every storage is a block of the one wasm memory,
// freed either deterministically by the scope it was allocated in, or by a FinalizationRegistry once no
// tensor refers to it. Users never dispose.
//
// Scopes: `scope(fn)` records the storages allocated while fn runs; at its end it frees those that are
// neither reachable from fn's return value (through arrays, objects, Maps, Sets, tensors and their .grad)
// nor kept (`keep`: Tensor.assign, gradient accumulation, optimizer state, module buffers). Reachable ones
// move to the enclosing scope. A freed storage has ptr -1 and any later use throws a clear error.
//
// Memory pressure: FinalizationRegistry callbacks run as separate tasks, and V8 finds dead storages only
// in full collections, so a synchronous training loop would see neither. Storages the GC owns (allocated
// outside any scope, kept, or returned from an outermost scope: old parameters, gradients and optimizer
// state are the typical garbage) are therefore counted; when the memory would have to grow and at least a
// quarter of it (and at least `gcThresholdBytes`) went to GC-owned storages since the last collection, the
// manager runs a garbage collection and `cleanupSome()` where the platform provides them (Node: node.ts),
// which frees unreachable storages synchronously, and reuses their blocks instead of growing. A second
// trigger counts them instead: after `gcThresholdStorages` GC-owned storages (a training loop whose
// optimizer updates in place leaves only small gradients behind, which may never add up to a memory growth)
// a collection is forced at the next allocation, so the dead storages and the JavaScript objects that hold
// them do not pile up for V8's own, much later, full collection.

import type { MemoryInfo, Storage } from "../backend.js";
import type { DType } from "../../tensor/dtype.js";
import type { WasmMemory } from "./memory.js";

export const FREED_MESSAGE =
  "tensor was freed at the end of a scope; keep it by returning it from the scope or calling .keep()";

/** A region of the wasm memory holding `size` float32 or int32 values. */
export class WasmStorage implements Storage {
  readonly dtype: DType;
  readonly size: number;
  /** Byte address in the wasm memory; -1 once freed. */
  ptr: number;
  /** Escaped its scope (a parameter, a gradient, optimizer state): only the GC frees it. */
  kept = false;
  /** Owned by the GC (kept, or never in a scope); counted once towards the next forced collection. */
  managed = false;
  /**
   * Bumped whenever a kernel overwrites this storage in place (only the optimizers' in-place updates do,
   * optim.ts); caches of data derived from its contents (winograd-cache.ts) compare it.
   */
  version = 0;

  constructor(dtype: DType, size: number, ptr: number) {
    this.dtype = dtype;
    this.size = size;
    this.ptr = ptr;
  }
}

type CleanupRegistry = FinalizationRegistry<number> & { cleanupSome?: () => void };

/** What a platform can offer for reclaiming memory synchronously (Node: a gc() and cleanupSome). */
export interface GcTools {
  gc: () => void;
  /** A FinalizationRegistry constructor whose registries have cleanupSome(). */
  FinalizationRegistry: typeof FinalizationRegistry;
}

export interface StorageOptions {
  /** Bytes of GC-owned storages allocated since the last collection below which none is forced (4 MiB). */
  gcThresholdBytes?: number;
  /** GC-owned storages allocated since the last collection after which one is forced (4096). */
  gcThresholdStorages?: number;
}

const DEFAULT_GC_THRESHOLD = 4 << 20;
const DEFAULT_GC_COUNT_THRESHOLD = 4096;
/** Allocations between two cleanupSome() calls: frees what young-generation GCs found, cheaply. */
const CLEANUP_EVERY = 256;

export class StorageManager {
  private readonly mem: WasmMemory;
  private readonly registry: CleanupRegistry;
  private readonly gc: (() => void) | null;
  private readonly frames: Set<WasmStorage>[] = [];
  private readonly gcFloor: number;
  private managedSinceGc = 0;
  private managedCountSinceGc = 0;
  private readonly gcCountFloor: number;
  private liveStorages = 0;
  private liveBytes = 0;
  private sinceCleanup = 0;
  /** Collections forced under memory pressure so far. */
  forcedCollections = 0;

  constructor(mem: WasmMemory, tools: GcTools | null, options: StorageOptions = {}) {
    this.mem = mem;
    const Registry = tools?.FinalizationRegistry ?? FinalizationRegistry;
    this.registry = new Registry<number>((ptr) => this.release(ptr)) as CleanupRegistry;
    this.gc = tools?.gc ?? null;
    this.gcFloor = options.gcThresholdBytes ?? DEFAULT_GC_THRESHOLD;
    this.gcCountFloor = options.gcThresholdStorages ?? DEFAULT_GC_COUNT_THRESHOLD;
    mem.onPressure = () => this.relievePressure();
  }

  alloc(dtype: DType, size: number): WasmStorage {
    if (dtype === "float64") {
      throw new Error(
        "wasm backend: float64 is not supported (storage is float32 or int32); create float64 tensors on the js backend ({ backend: 'js' })",
      );
    }
    if (++this.sinceCleanup >= CLEANUP_EVERY) {
      this.sinceCleanup = 0;
      this.registry.cleanupSome?.();
    }
    if (this.gc !== null && this.managedCountSinceGc >= this.gcCountFloor) this.forceCollection();
    const bytes = Math.max(1, size) * 4;
    const s = new WasmStorage(dtype, size, this.mem.alloc(bytes));
    this.registry.register(s, s.ptr, s);
    this.liveStorages++;
    this.liveBytes += this.mem.blockBytes(s.ptr);
    const frame = this.frames[this.frames.length - 1];
    if (frame !== undefined) frame.add(s);
    else this.manage(s);
    return s;
  }

  /** The byte address of a live storage of this backend; throws for freed or foreign storages. */
  ptr(s: Storage): number {
    if (!(s instanceof WasmStorage)) {
      throw new Error(
        "wasm backend: this tensor's storage belongs to another backend; move it with .toArray()",
      );
    }
    if (s.ptr < 0) throw new Error(FREED_MESSAGE);
    return s.ptr;
  }

  free(s: WasmStorage): void {
    if (s.ptr < 0) return;
    this.registry.unregister(s);
    this.release(s.ptr);
    s.ptr = -1;
  }

  private release(ptr: number): void {
    const bytes = this.mem.blockBytes(ptr);
    this.mem.free(ptr);
    this.liveStorages--;
    this.liveBytes -= bytes;
  }

  keep(s: Storage): void {
    if (!(s instanceof WasmStorage) || s.ptr < 0) return;
    s.kept = true;
    this.manage(s);
  }

  private manage(s: WasmStorage): void {
    if (s.managed) return;
    s.managed = true;
    this.managedSinceGc += this.mem.blockBytes(s.ptr);
    this.managedCountSinceGc++;
  }

  scope<T>(fn: () => T): T {
    const frame = new Set<WasmStorage>();
    this.frames.push(frame);
    let result: T;
    try {
      result = fn();
    } catch (e) {
      this.close(frame, new Set());
      throw e;
    }
    if (isThenable(result)) {
      this.close(frame, new Set(frame));
      throw new Error("scope: fn returned a Promise; scopes are synchronous (await outside the scope)");
    }
    this.close(frame, reachableStorages(result));
    // Kept storages replaced during the scope (old parameters, gradients) die young: reclaim them now.
    this.registry.cleanupSome?.();
    return result;
  }

  private close(frame: Set<WasmStorage>, survivors: Set<WasmStorage>): void {
    const top = this.frames.pop();
    if (top !== frame) throw new Error("scope: scopes were closed out of order");
    const parent = this.frames[this.frames.length - 1];
    for (const s of frame) {
      if (s.ptr < 0 || s.kept) continue;
      if (!survivors.has(s)) this.free(s);
      else if (parent !== undefined) parent.add(s);
      else this.manage(s);
    }
  }

  /**
   * Called by the memory before it grows: collect garbage if enough GC-owned storage was allocated since
   * the last collection that it may be worth it (a quarter of the memory: amortised, never a loop).
   */
  private relievePressure(): boolean {
    if (this.gc === null) return false;
    const before = this.mem.stats();
    if (this.managedSinceGc < Math.max(this.gcFloor, before.memoryBytes / 4)) return false;
    this.forceCollection();
    return this.mem.stats().liveBytes < before.liveBytes;
  }

  private forceCollection(): void {
    this.collect();
    this.forcedCollections++;
  }

  /** Runs a full collection now (where the platform allows) and frees every unreachable storage. */
  collect(): void {
    if (this.gc === null) return;
    this.gc();
    this.registry.cleanupSome?.();
    this.managedSinceGc = 0;
    this.managedCountSinceGc = 0;
  }

  info(): MemoryInfo {
    const m = this.mem.stats();
    return {
      backend: "wasm",
      storages: this.liveStorages,
      bytes: this.liveBytes,
      memoryBytes: m.memoryBytes,
      heapBytes: m.liveBytes,
      forcedCollections: this.forcedCollections,
    };
  }
}

function isThenable(v: unknown): boolean {
  return typeof v === "object" && v !== null && typeof (v as { then?: unknown }).then === "function";
}

/** Storages reachable from a scope's return value. Tensors are entered through .storage and .grad only. */
export function reachableStorages(root: unknown): Set<WasmStorage> {
  const found = new Set<WasmStorage>();
  const seen = new Set<object>();
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v !== "object" || v === null || seen.has(v)) continue;
    seen.add(v);
    if (v instanceof WasmStorage) {
      found.add(v);
    } else if (isTensorLike(v)) {
      stack.push(v.storage, v.grad);
    } else if (Array.isArray(v)) {
      stack.push(...v);
    } else if (v instanceof Map) {
      for (const [k, x] of v) stack.push(k, x);
    } else if (v instanceof Set) {
      stack.push(...v);
    } else if (!ArrayBuffer.isView(v) && !(v instanceof ArrayBuffer) && !isBackendLike(v)) {
      stack.push(...Object.values(v));
    }
  }
  return found;
}

function isTensorLike(v: object): v is { storage: unknown; grad: unknown } {
  return "storage" in v && "shape" in v && "backend" in v;
}

function isBackendLike(v: object): boolean {
  return typeof (v as { supports?: unknown }).supports === "function";
}
