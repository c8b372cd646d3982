// One WebAssembly.Memory for all kernels (shared when SharedArrayBuffer exists, so worker threads can run
// the same module over it) and a size-class allocator over it, written in TypeScript.
//
// Layout: [0, base) belongs to the wasm module's static data; blocks are carved from `base` upwards by a
// bump pointer and recycled through per-size-class free lists. Every block is 64-byte aligned (a cache
// line; f32x4 loads need 16). Classes are 64 B, then four per power of two (25 % worst-case slack), so a
// training loop that frees and re-allocates the same shapes reuses the same blocks and memory stays flat.
// When no block of the class is free and the memory is full, free blocks of all classes are merged with
// their neighbours and carved (a dropped model's blocks serve the next model's shapes) before it grows.
// Memory only grows (up to its maximum, at most 4 GiB); views must be re-created after growth, hence the
// accessor methods below.
// A reference, not an import: it must survive into memory.d.ts for consumers without DOM types.
// eslint-disable-next-line @typescript-eslint/triple-slash-reference
/// <reference path="../../../types/web-globals.d.ts" preserve="true" />

const PAGE = 65536;
const ALIGN = 64;
const MiB = 1 << 20;
/** wasm32 addresses 4 GiB: the largest memory there can be. */
export const MAX_MEMORY_BYTES = 2 ** 32;
/** The default maximum (2 GiB): a shared memory reserves its maximum up front, which some browsers refuse for 4. */
export const DEFAULT_MAXIMUM_BYTES = 2 ** 31;

/** Size class (bytes) for a request: 64, 128, 192, 256, 320, 384, 448, 512, 640, ... */
export function sizeClass(bytes: number): number {
  if (bytes <= ALIGN) return ALIGN;
  const p = 2 ** Math.floor(Math.log2(bytes - 1));
  const step = Math.max(ALIGN, p / 4);
  return Math.ceil(bytes / step) * step;
}

export interface MemoryOptions {
  /** Use a shared memory (default: when SharedArrayBuffer exists). */
  shared?: boolean;
  /** Initial size in bytes (default 16 MiB). */
  initialBytes?: number;
  /**
   * Maximum size in bytes (default 2 GiB, at most 4 GiB: wasm32's address space). Shared memories reserve
   * it up front. Allocating past it throws an error that says how much was asked.
   */
  maximumBytes?: number;
}

export function sharedMemorySupported(): boolean {
  if (typeof SharedArrayBuffer === "undefined") return false;
  try {
    const m = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
    return m.buffer instanceof SharedArrayBuffer;
  } catch {
    return false;
  }
}

export class WasmMemory {
  readonly memory: WebAssembly.Memory;
  readonly shared: boolean;
  /** The most this memory can grow to, in bytes. */
  readonly maximumBytes: number;
  private top = 0;
  private readonly freeLists = new Map<number, number[]>();
  /** Free memory merged across size classes (coalesce), carved first-fit when no class list has a block. */
  private spans: { ptr: number; bytes: number }[] = [];
  private readonly live = new Map<number, number>();
  private bytesLive = 0;
  /** The most bytesLive has been since construction or resetPeak(). */
  private peakLive = 0;
  private viewBuffer: ArrayBufferLike | null = null;
  private f32View = new Float32Array(0);
  private i32View = new Int32Array(0);
  private u8View = new Uint8Array(0);
  /**
   * Called before the heap grows the memory (`exhausted`: it cannot grow enough); returns true if it may
   * have freed blocks (then the free lists are tried again). The storage manager forces a collection here.
   */
  onPressure: ((exhausted: boolean) => boolean) | null = null;

  constructor(options: MemoryOptions = {}) {
    this.shared = options.shared ?? sharedMemorySupported();
    const maximumBytes = options.maximumBytes ?? DEFAULT_MAXIMUM_BYTES;
    if (!(maximumBytes > 0) || maximumBytes > MAX_MEMORY_BYTES) {
      throw new Error(
        `initWasm: maximumBytes must be between 1 and ${MAX_MEMORY_BYTES} (4 GiB, the most a wasm32 memory ` +
          `can address), got ${maximumBytes}`,
      );
    }
    const initial = Math.ceil(Math.min(options.initialBytes ?? 16 * MiB, maximumBytes) / PAGE);
    const maximum = Math.ceil(maximumBytes / PAGE);
    this.memory = new WebAssembly.Memory({ initial, maximum, shared: this.shared });
    this.maximumBytes = maximum * PAGE;
  }

  /** Sets the first address the allocator may hand out (the module's heap base). Call before alloc. */
  setBase(base: number): void {
    if (this.top !== 0) throw new Error("WasmMemory.setBase: allocator already in use");
    this.top = Math.ceil(Math.max(base, ALIGN) / ALIGN) * ALIGN;
  }

  /** Allocates `bytes` (64-byte aligned, contents undefined) and returns its address. */
  alloc(bytes: number): number {
    if (!(bytes >= 0) || !Number.isFinite(bytes)) throw new Error(`WasmMemory.alloc: bad size ${bytes}`);
    if (this.top === 0) this.setBase(ALIGN);
    const size = sizeClass(bytes);
    let ptr = this.popFree(size);
    if (ptr < 0) ptr = this.reuse(size);
    if (ptr < 0) {
      // Before growing (or, at the maximum, failing), let the storage manager reclaim what it can.
      const atMaximum = this.top + size > this.maximumBytes;
      if (this.onPressure?.(atMaximum)) ptr = this.popFree(size);
      if (ptr < 0) ptr = this.reuse(size);
    }
    if (ptr < 0) {
      ptr = this.top;
      this.ensure(ptr + size, bytes);
      this.top = ptr + size;
    }
    this.live.set(ptr, size);
    this.bytesLive += size;
    if (this.bytesLive > this.peakLive) this.peakLive = this.bytesLive;
    return ptr;
  }

  /**
   * A block of `size` without growing: from the bump region if the memory has room, else carved from the
   * free blocks of other size classes, merged with their free neighbours (a dropped model's large blocks
   * become room for the next model's different sizes). -1 if nothing fits.
   */
  private reuse(size: number): number {
    if (this.top + size <= this.memory.buffer.byteLength) return this.bump(size);
    let ptr = this.carve(size);
    if (ptr >= 0) return ptr;
    if (!this.coalesce()) return -1;
    ptr = this.carve(size);
    if (ptr < 0 && this.top + size <= this.memory.buffer.byteLength) ptr = this.bump(size);
    return ptr;
  }

  private bump(size: number): number {
    const ptr = this.top;
    this.top += size;
    return ptr;
  }

  /**
   * Best fit among the merged free spans (the smallest that holds `size`, so that small blocks fill small
   * holes and large spans stay whole for large tensors); the rest of the span stays free.
   */
  private carve(size: number): number {
    let best = -1;
    for (let i = 0; i < this.spans.length; i++) {
      const bytes = this.spans[i].bytes;
      if (bytes >= size && (best < 0 || bytes < this.spans[best].bytes)) best = i;
    }
    if (best < 0) return -1;
    const span = this.spans[best];
    const ptr = span.ptr;
    span.ptr += size;
    span.bytes -= size;
    if (span.bytes === 0) this.spans.splice(best, 1);
    return ptr;
  }

  /**
   * Moves every free block into address-ordered spans, merging neighbours; a span that ends at the bump
   * pointer goes back to the bump region. Returns true if anything was free.
   */
  private coalesce(): boolean {
    const free: { ptr: number; bytes: number }[] = [...this.spans];
    for (const [size, list] of this.freeLists) for (const ptr of list) free.push({ ptr, bytes: size });
    this.freeLists.clear();
    if (free.length === 0) return false;
    free.sort((a, b) => a.ptr - b.ptr);
    const merged: { ptr: number; bytes: number }[] = [];
    for (const block of free) {
      const last = merged[merged.length - 1];
      if (last !== undefined && last.ptr + last.bytes === block.ptr) last.bytes += block.bytes;
      else merged.push({ ...block });
    }
    const last = merged[merged.length - 1];
    if (last.ptr + last.bytes === this.top) {
      this.top = last.ptr;
      merged.pop();
    }
    this.spans = merged;
    return true;
  }

  private popFree(size: number): number {
    const list = this.freeLists.get(size);
    return list !== undefined && list.length > 0 ? list.pop()! : -1;
  }

  /** Size of a live block (its size class). */
  blockBytes(ptr: number): number {
    const size = this.live.get(ptr);
    if (size === undefined) throw new Error(`WasmMemory: ${ptr} is not a live block`);
    return size;
  }

  /** Allocates and zero-fills. */
  allocZeroed(bytes: number): number {
    const ptr = this.alloc(bytes);
    this.u8().fill(0, ptr, ptr + bytes);
    return ptr;
  }

  free(ptr: number): void {
    const size = this.live.get(ptr);
    if (size === undefined) throw new Error(`WasmMemory.free: ${ptr} is not a live block`);
    this.live.delete(ptr);
    this.bytesLive -= size;
    let list = this.freeLists.get(size);
    if (list === undefined) {
      list = [];
      this.freeLists.set(size, list);
    }
    list.push(ptr);
  }

  /** Starts the peak of live bytes afresh from what is live now. */
  resetPeak(): void {
    this.peakLive = this.bytesLive;
  }

  /** Bytes in live blocks (rounded to their classes), their peak, and the high-water mark of the heap. */
  stats(): {
    liveBytes: number;
    peakLiveBytes: number;
    liveBlocks: number;
    heapTop: number;
    memoryBytes: number;
  } {
    return {
      liveBytes: this.bytesLive,
      peakLiveBytes: this.peakLive,
      liveBlocks: this.live.size,
      heapTop: this.top,
      memoryBytes: this.memory.buffer.byteLength,
    };
  }

  /** Grows the memory to hold `end` bytes (`request`: the allocation that needs it, for the error). */
  private ensure(end: number, request: number): void {
    const have = this.memory.buffer.byteLength;
    if (end <= have) return;
    if (end > this.maximumBytes) throw this.outOfMemory(request, end);
    // Grow by at least 1/8 of the current size, so that many small growths do not each cost a grow.
    const want = Math.min(Math.max(end - have, have / 8), this.maximumBytes - have);
    try {
      this.memory.grow(Math.ceil(want / PAGE));
    } catch (e) {
      throw this.outOfMemory(request, end, e);
    }
  }

  private outOfMemory(request: number, end: number, cause?: unknown): Error {
    const mib = (n: number) => `${(n / MiB).toFixed(1)} MiB`;
    const stats = this.stats();
    const message =
      `wasm backend: out of memory: allocating ${mib(request)} needs the wasm memory to grow from ` +
      `${mib(stats.memoryBytes)} to ${mib(end)}, past its maximum of ${mib(this.maximumBytes)} ` +
      `(${mib(stats.liveBytes)} in live blocks). ` +
      (this.maximumBytes < MAX_MEMORY_BYTES
        ? `Raise the maximum with initWasm({ maximumBytes: 4 * 2 ** 30 }) (up to 4 GiB, wasm32's limit) before creating tensors, or `
        : `4 GiB is wasm32's limit: `) +
      `use smaller batches, or keep fewer tensors and models alive (a model you no longer reference is freed).`;
    return cause === undefined ? new Error(message) : new Error(message, { cause });
  }

  private refresh(): void {
    const buf = this.memory.buffer;
    if (buf !== this.viewBuffer || this.f32View.byteLength !== buf.byteLength) {
      this.viewBuffer = buf;
      this.f32View = new Float32Array(buf);
      this.i32View = new Int32Array(buf);
      this.u8View = new Uint8Array(buf);
    }
  }

  /** Float32Array over the whole memory (index = address >>> 2: addresses reach 4 GiB); re-fetch after any allocation. */
  f32(): Float32Array {
    this.refresh();
    return this.f32View;
  }

  i32(): Int32Array {
    this.refresh();
    return this.i32View;
  }

  u8(): Uint8Array {
    this.refresh();
    return this.u8View;
  }

  /** Copies `data` into memory at `ptr`. */
  writeF32(ptr: number, data: ArrayLike<number>): void {
    this.f32().set(data, ptr >>> 2);
  }

  writeI32(ptr: number, data: ArrayLike<number>): void {
    this.i32().set(data, ptr >>> 2);
  }

  /** Copies `length` floats at `ptr` out of wasm memory. */
  readF32(ptr: number, length: number): Float32Array {
    return this.f32().slice(ptr >>> 2, (ptr >>> 2) + length);
  }

  readI32(ptr: number, length: number): Int32Array {
    return this.i32().slice(ptr >>> 2, (ptr >>> 2) + length);
  }
}
