// Tensor storages of the wasm backend and their lifetime. Every storage is a block of the one wasm memory,
// which the JavaScript garbage collector cannot see, so nothing here may wait for it: every storage has an
// owner that frees it at a known moment (docs/design.md, "Memory", tells the whole story):
//
// - a scope: `scope(fn)` (and each Module.forward) records the storages allocated while fn runs; at its end
//   those neither reachable from fn's return value nor kept are freed (no gradients) or handed to the
//   autograd graph of the return value (`adopt`: with gradients, they are what backward needs). Reachable
//   ones move to the enclosing scope, or to the nursery at the outermost level.
// - the graph: adopted storages are freed by the engine once backward has run through their graph.
// - the nursery: storages no scope owns (op results in user code, batches, gradients, module outputs).
//   At the end of every backward pass (a "step boundary", `startStep`) each nursery storage allocated
//   before that pass began is spilled: its values are copied into a JavaScript typed array (which the GC
//   sees and reclaims on its own) and its block is freed. A spilled storage stays fully usable: reading it
//   reads the copy, a kernel that uses it copies it back in (it rejoins the nursery); one that comes back a
//   second time has shown it lives long and is tenured.
// - tenured (pinned): parameters' values and twice-spilled storages are never spilled; the
//   FinalizationRegistry frees them when their storage object dies.
//
// A freed storage has ptr -1 and no copy; any later use throws a clear error.
//
// Memory pressure (Node only): FinalizationRegistry callbacks run as separate tasks, and V8 finds dead
// storages only in full collections, so storages left to the GC (tenured ones, and graphs never backwarded)
// are counted; when the memory would have to grow and at least a quarter of it (and at least
// `gcThresholdBytes`) went to such storages since the last collection, or after `gcThresholdStorages` of
// them, the manager runs a garbage collection and `cleanupSome()` where the platform provides them (node.ts).
// Storages freed or spilled deterministically are uncounted, so a training loop triggers none.

import type { MemoryInfo, ScopeOptions, Storage } from "../backend.js";
import type { DType } from "../../tensor/dtype.js";
import type { WasmMemory } from "./memory.js";
import { ScopeStack } from "../scopes.js";

export const FREED_MESSAGE =
  "tensor was freed: it was allocated inside a scope or a module's forward() and neither returned nor kept " +
  "(a forward's intermediates are freed by the backward pass that used them); return it from the scope or " +
  "forward(), store it on the module, or call .keep()";

/** Who frees a storage's block: see the file comment. */
type Owner = "scope" | "graph" | "nursery" | "tenured";

/** The memory behind a storage; the nursery and the FinalizationRegistry hold this, never the storage. */
class Block {
  /** Byte address in the wasm memory; -1 once freed or spilled. */
  ptr: number;
  /** The values while spilled out of the wasm memory. */
  spilled: Float32Array | Int32Array | null = null;
  owner: Owner = "scope";
  /** Step generation at which it (re)joined the nursery. */
  generation = 0;
  /** Times it was spilled and used again. */
  returns = 0;
  /** Counted towards the next forced collection. */
  counted = false;

  constructor(
    readonly dtype: DType,
    readonly size: number,
    ptr: number,
  ) {
    this.ptr = ptr;
  }
}

/** A region of the wasm memory holding `size` float32 or int32 values. */
export class WasmStorage implements Storage {
  readonly dtype: DType;
  readonly size: number;
  /** @internal */
  readonly block: Block;
  /** Escaped its scope (a parameter, a gradient, optimizer state): scopes never free it. */
  kept = false;
  /**
   * Bumped whenever a kernel overwrites this storage in place (only the optimizers' in-place updates do,
   * optim.ts); caches of data derived from its contents (winograd-cache.ts) compare it.
   */
  version = 0;

  constructor(dtype: DType, size: number, ptr: number) {
    this.dtype = dtype;
    this.size = size;
    this.block = new Block(dtype, size, ptr);
  }

  /** Byte address in the wasm memory; -1 once freed or spilled (StorageManager.ptr brings it back). */
  get ptr(): number {
    return this.block.ptr;
  }
}

type CleanupRegistry = FinalizationRegistry<Block> & { cleanupSome?: () => void };

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
/** Returns after a spill that make a nursery storage tenured (used across two step boundaries). */
const RETURNS_TO_TENURE = 2;

export class StorageManager {
  private readonly mem: WasmMemory;
  private readonly registry: CleanupRegistry;
  private readonly gc: (() => void) | null;
  private readonly scopes: ScopeStack<WasmStorage>;
  private readonly nursery = new Set<Block>();
  private generation = 0;
  private readonly gcFloor: number;
  private managedSinceGc = 0;
  private managedCountSinceGc = 0;
  private readonly gcCountFloor: number;
  private liveStorages = 0;
  private liveBytes = 0;
  private sinceCleanup = 0;
  /** Collections forced under memory pressure so far. */
  forcedCollections = 0;
  /** Storages spilled out of the wasm memory at step boundaries so far. */
  spills = 0;

  constructor(mem: WasmMemory, tools: GcTools | null, options: StorageOptions = {}) {
    this.mem = mem;
    const Registry = tools?.FinalizationRegistry ?? FinalizationRegistry;
    this.registry = new Registry<Block>((block) => this.collected(block)) as CleanupRegistry;
    this.gc = tools?.gc ?? null;
    this.gcFloor = options.gcThresholdBytes ?? DEFAULT_GC_THRESHOLD;
    this.gcCountFloor = options.gcThresholdStorages ?? DEFAULT_GC_COUNT_THRESHOLD;
    mem.onPressure = (exhausted) => this.relievePressure(exhausted);
    this.scopes = new ScopeStack<WasmStorage>({
      isFreed: (st) => this.isFreed(st),
      ownedByScope: (st) => st.block.owner === "scope",
      ownedByGraph: (st) => st.block.owner === "graph",
      toOutermost: (st) => this.toNursery(st.block),
      toGraph: (st) => {
        st.block.owner = "graph";
        this.count(st.block);
      },
      free: (st) => this.free(st),
      isStorage: (v): v is WasmStorage => v instanceof WasmStorage,
    });
  }

  alloc(dtype: DType, size: number): WasmStorage {
    if (dtype === "float64") {
      throw new Error(
        "wasm backend: float64 is not supported (storage is float32 or int32); create float64 tensors on the js backend ({ backend: 'js' })",
      );
    }
    this.housekeeping();
    const s = new WasmStorage(dtype, size, this.allocBlock(size));
    this.registry.register(s, s.block, s.block);
    if (!this.scopes.record(s)) this.toNursery(s.block);
    return s;
  }

  private housekeeping(): void {
    if (++this.sinceCleanup >= CLEANUP_EVERY) {
      this.sinceCleanup = 0;
      this.registry.cleanupSome?.();
    }
    if (this.gc !== null && this.managedCountSinceGc >= this.gcCountFloor) this.forceCollection();
  }

  private allocBlock(size: number): number {
    const ptr = this.mem.alloc(Math.max(1, size) * 4);
    this.liveStorages++;
    this.liveBytes += this.mem.blockBytes(ptr);
    return ptr;
  }

  /** The byte address of a live storage of this backend (a spilled one is copied back in first). */
  ptr(s: Storage): number {
    if (!(s instanceof WasmStorage)) {
      throw new Error(
        "wasm backend: this tensor's storage belongs to another backend; move it with .toArray()",
      );
    }
    const b = s.block;
    if (b.ptr >= 0) return b.ptr;
    if (b.spilled === null) throw new Error(FREED_MESSAGE);
    this.unspill(s);
    return b.ptr;
  }

  /** A copy of the values (read from the spilled copy without bringing it back). */
  read(s: Storage): Float32Array | Int32Array {
    if (s instanceof WasmStorage && s.block.ptr < 0 && s.block.spilled !== null)
      return s.block.spilled.slice();
    const p = this.ptr(s);
    return s.dtype === "int32" ? this.mem.readI32(p, s.size) : this.mem.readF32(p, s.size);
  }

  free(s: Storage): void {
    if (!(s instanceof WasmStorage)) return;
    const b = s.block;
    b.spilled = null;
    if (b.ptr < 0) return;
    this.registry.unregister(b);
    this.nursery.delete(b);
    this.uncount(b);
    this.release(b.ptr);
    b.ptr = -1;
  }

  /** Frees a storage the autograd graph owns (adopted by a module's scope), unless it was kept since. */
  freeAdopted(s: Storage): void {
    if (s instanceof WasmStorage && s.block.owner === "graph" && !s.kept) this.free(s);
  }

  private release(ptr: number): void {
    const bytes = this.mem.blockBytes(ptr);
    this.mem.free(ptr);
    this.liveStorages--;
    this.liveBytes -= bytes;
  }

  /** FinalizationRegistry callback: the storage object died while its block was live. */
  private collected(b: Block): void {
    this.nursery.delete(b);
    if (b.ptr < 0) return;
    this.release(b.ptr);
    b.ptr = -1;
  }

  keep(s: Storage): void {
    if (!(s instanceof WasmStorage) || this.isFreed(s)) return;
    s.kept = true;
    // A storage still owned by a scope or a graph now belongs to no one in particular: the nursery.
    if (s.block.owner === "scope" || s.block.owner === "graph") this.toNursery(s.block);
  }

  pin(s: Storage): void {
    if (!(s instanceof WasmStorage) || this.isFreed(s)) return;
    if (s.block.owner === "nursery") this.tenure(s.block);
  }

  private isFreed(s: WasmStorage): boolean {
    return s.block.ptr < 0 && s.block.spilled === null;
  }

  private toNursery(b: Block): void {
    b.owner = "nursery";
    b.generation = this.generation;
    if (b.ptr < 0) return;
    this.nursery.add(b);
    // Counted until a step boundary spills it: a loop without backward leaves the nursery to the GC.
    this.count(b);
  }

  private tenure(b: Block): void {
    b.owner = "tenured";
    this.nursery.delete(b);
    this.count(b);
  }

  private count(b: Block): void {
    if (b.counted || b.ptr < 0) return;
    b.counted = true;
    this.managedSinceGc += this.mem.blockBytes(b.ptr);
    this.managedCountSinceGc++;
  }

  private uncount(b: Block): void {
    if (!b.counted) return;
    b.counted = false;
    this.managedSinceGc = Math.max(0, this.managedSinceGc - this.mem.blockBytes(b.ptr));
    this.managedCountSinceGc = Math.max(0, this.managedCountSinceGc - 1);
  }

  /** Starts a step; the returned function spills the nursery storages allocated before it started. */
  startStep(): () => void {
    const started = ++this.generation;
    return () => {
      for (const b of this.nursery) if (b.generation < started) this.spill(b);
    };
  }

  private spill(b: Block): void {
    b.spilled = b.dtype === "int32" ? this.mem.readI32(b.ptr, b.size) : this.mem.readF32(b.ptr, b.size);
    this.registry.unregister(b);
    this.nursery.delete(b);
    this.uncount(b);
    this.release(b.ptr);
    b.ptr = -1;
    this.spills++;
  }

  private unspill(s: WasmStorage): void {
    const b = s.block;
    const values = b.spilled!;
    b.ptr = this.allocBlock(b.size);
    if (b.dtype === "int32") this.mem.writeI32(b.ptr, values);
    else this.mem.writeF32(b.ptr, values);
    b.spilled = null;
    this.registry.register(s, b, b);
    if (b.owner === "tenured" || ++b.returns >= RETURNS_TO_TENURE) this.tenure(b);
    else this.toNursery(b);
  }

  releaseTemporary(s: Storage): void {
    if (s instanceof WasmStorage) this.scopes.releaseTemporary(s);
  }

  scope<T>(fn: () => T, options: ScopeOptions<T> = {}): T {
    const result = this.scopes.run(fn, options);
    // Kept storages replaced during the scope (old parameters, gradients) die young: reclaim them now.
    if (this.scopes.depth === 0) this.registry.cleanupSome?.();
    return result;
  }

  /**
   * Called by the memory before it grows: collect garbage if enough GC-owned storage was allocated since
   * the last collection that it may be worth it (a quarter of the memory: amortised, never a loop), and
   * always when the memory cannot grow any more.
   */
  private relievePressure(exhausted: boolean): boolean {
    if (this.gc === null) return false;
    const before = this.mem.stats();
    const worthIt = this.managedSinceGc >= Math.max(this.gcFloor, before.memoryBytes / 4);
    if (!worthIt && !exhausted) return false;
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
      peakHeapBytes: m.peakLiveBytes,
      forcedCollections: this.forcedCollections,
      spilled: this.spills,
    };
  }
}
