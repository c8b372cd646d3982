// Transformed Winograd weights (U = G g Gᵀ per (o, c), kernels/winograd.ts winogradWeights) kept between
// calls, per weight storage: in inference the same weights are transformed again on every forward, which
// is ~25 % of the 256/512-channel layers of ResNet-18 at batch 1.
//
// Why keying on the storage object (and its version) is exact (src/backend/wasm/storage.ts): kernels never
// modify their inputs, `Tensor.assign` (loadStateDict, init, optimizers' first step) swaps in a new storage
// object, and a freed storage gets ptr -1 and is never revived (a later allocation at the same address is a
// new WasmStorage), so a WeakMap on the object, not its address, cannot confuse two storages. The one
// exception to immutability is the optimizers' in-place update (from a parameter's second step on, the
// optimizer overwrites the storage it gave the parameter, backend optim.ts): it bumps `WasmStorage.version`,
// and an entry is only served for the version it was filled from.
//
// Only the second call with the same storage, version and tile/kernel size/orientation fills an entry, so
// training (new contents every step, each used once forward and once for the input gradient) never does.
// Entries are buffers of the wasm allocator (they count in memory().heapBytes, not as storages) under an LRU
// byte budget. They are released when their storage dies: a FinalizationRegistry on the storage (between
// tasks), and, since that never runs inside a synchronous loop and StorageManager.free notifies no one, every
// use of the cache first drops the entries whose storage's block is no longer live in the allocator (freed by
// a scope or by the storage manager's own collections). A block reused by a newer allocation hides its old
// owner's death until the registry or the LRU removes the entry: later, never wrongly. The sweep does not
// deref WeakRefs: that would keep every dead storage alive until the end of the current job.

import { sizeClass, type WasmMemory } from "./memory.js";
import type { WasmRuntime } from "./runtime.js";
import type { WasmStorage } from "./storage.js";

/**
 * Default byte budget: 256 MiB, an eighth of the default 2 GiB memory maximum. Measured (allocator bytes,
 * size classes included): ResNet-18 100 MiB at batch 1 (F(2x2) at 512 channels) and 160 MiB at batch 16
 * (F(4x4) everywhere), ResNet-50 99 and 139 MiB, so all fit (and ResNet-18 at both batch sizes, 220 MiB);
 * ResNet-50 at batch 16 then needs 1.42 GB of wasm memory instead of 1.27, still inside 2 GiB. A bigger
 * net's least recently used layers fall back to the per-call transform.
 */
export const DEFAULT_WINOGRAD_CACHE_BYTES = 256 << 20;

interface Entry {
  /** Address of the weight storage when the entry was filled (a live block while the storage lives). */
  readonly storagePtr: number;
  /** The transformed weights (allocator block), -1 once released. */
  ptr: number;
  readonly bytes: number;
}

/** A (storage, key) seen at `version`: once (entry null), or again and cached. */
interface Slot {
  version: number;
  entry: Entry | null;
}

export interface WinogradCacheStats {
  entries: number;
  /** Allocator bytes of the cached buffers (size classes). */
  bytes: number;
  budgetBytes: number;
  hits: number;
  fills: number;
  evictions: number;
}

/** A buffer of transformed weights: `fresh` ones are empty and must be filled by the caller. */
export interface CachedWeights {
  ptr: number;
  fresh: boolean;
}

export class WinogradWeightCache {
  private readonly mem: WasmMemory;
  private readonly slots = new WeakMap<WasmStorage, Map<string, Slot>>();
  /** Filled entries, least recently used first (a Set keeps insertion order). */
  private readonly lru = new Set<Entry>();
  private readonly registry = new FinalizationRegistry<Entry>((e) => this.release(e));
  private budget: number;
  private total = 0;
  private hits = 0;
  private fills = 0;
  private evictions = 0;

  constructor(mem: WasmMemory, budgetBytes = DEFAULT_WINOGRAD_CACHE_BYTES) {
    this.mem = mem;
    this.budget = budgetBytes;
  }

  get budgetBytes(): number {
    return this.budget;
  }

  /** A smaller budget evicts least recently used entries at once; 0 turns the cache off. */
  set budgetBytes(bytes: number) {
    if (!(bytes >= 0)) throw new Error(`WinogradWeightCache: bad budget ${bytes}`);
    this.budget = bytes;
    this.evictUntil(bytes);
  }

  /**
   * The transformed weights for `key` (tile, orientation, O x C, kernel size) of the weights in `storage`,
   * `bytes` long: a cached buffer, a fresh one to fill (second use of this version of the storage), or null
   * (first use, over budget, or out of memory).
   * A fresh buffer that cannot be filled must be given back with `discard`.
   */
  acquire(storage: WasmStorage, key: string, bytes: number): CachedWeights | null {
    this.sweep();
    if (storage.ptr < 0) return null;
    let slots = this.slots.get(storage);
    if (slots === undefined) {
      slots = new Map();
      this.slots.set(storage, slots);
    }
    const slot = slots.get(key);
    if (slot === undefined || slot.version !== storage.version) {
      if (slot?.entry) this.release(slot.entry);
      slots.set(key, { version: storage.version, entry: null });
      return null;
    }
    if (slot.entry !== null && slot.entry.ptr >= 0) {
      this.lru.delete(slot.entry);
      this.lru.add(slot.entry);
      this.hits++;
      return { ptr: slot.entry.ptr, fresh: false };
    }
    slot.entry = this.fill(storage, bytes);
    return slot.entry === null ? null : { ptr: slot.entry.ptr, fresh: true };
  }

  /** Releases a fresh buffer whose transform failed (the slot counts as seen once). */
  discard(storage: WasmStorage, key: string): void {
    const slot = this.slots.get(storage)?.get(key);
    if (slot?.entry) this.release(slot.entry);
    if (slot !== undefined) slot.entry = null;
  }

  /** Frees every cached buffer (the seen-once marks stay). */
  clear(): void {
    for (const e of this.lru) this.release(e);
  }

  stats(): WinogradCacheStats {
    this.sweep();
    return {
      entries: this.lru.size,
      bytes: this.total,
      budgetBytes: this.budget,
      hits: this.hits,
      fills: this.fills,
      evictions: this.evictions,
    };
  }

  private fill(storage: WasmStorage, bytes: number): Entry | null {
    const block = sizeClass(bytes);
    if (block > this.budget) return null;
    this.evictUntil(this.budget - block);
    let ptr: number;
    try {
      ptr = this.mem.alloc(bytes);
    } catch {
      // The memory cannot grow: give it all back and let the call transform per call, as without a cache.
      this.clear();
      return null;
    }
    const e: Entry = { storagePtr: storage.ptr, ptr, bytes: this.mem.blockBytes(ptr) };
    this.lru.add(e);
    this.total += e.bytes;
    this.fills++;
    this.registry.register(storage, e, e);
    return e;
  }

  private evictUntil(limit: number): void {
    for (const e of this.lru) {
      if (this.total <= limit) return;
      this.release(e);
      this.evictions++;
    }
  }

  /** Drops the entries whose storage's block was freed (by a scope or a collection). */
  private sweep(): void {
    for (const e of this.lru) if (!isLiveBlock(this.mem, e.storagePtr)) this.release(e);
  }

  private release(e: Entry): void {
    if (e.ptr < 0) return;
    this.registry.unregister(e);
    this.lru.delete(e);
    this.total -= e.bytes;
    this.mem.free(e.ptr);
    e.ptr = -1;
  }
}

function isLiveBlock(mem: WasmMemory, ptr: number): boolean {
  try {
    mem.blockBytes(ptr);
    return true;
  } catch {
    return false;
  }
}

const caches = new WeakMap<WasmRuntime, WinogradWeightCache>();

/** The transformed-weight cache of a runtime (created on first use, with the default budget). */
export function winogradWeightCache(rt: WasmRuntime): WinogradWeightCache {
  let c = caches.get(rt);
  if (c === undefined) {
    c = new WinogradWeightCache(rt.mem);
    caches.set(rt, c);
  }
  return c;
}
