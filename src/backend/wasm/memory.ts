// One WebAssembly.Memory for all kernels (shared when SharedArrayBuffer exists, so worker threads can run
// the same module over it) and a size-class allocator over it, written in TypeScript.
//
// Layout: [0, base) belongs to the wasm module's static data; blocks are carved from `base` upwards by a
// bump pointer and recycled through per-size-class free lists. Every block is 64-byte aligned (a cache
// line; f32x4 loads need 16). Classes are 64 B, then four per power of two (25 % worst-case slack), so a
// training loop that frees and re-allocates the same shapes reuses the same blocks and memory stays flat.
// Memory only grows; views must be re-created after growth, hence the accessor methods below.

const PAGE = 65536;
const ALIGN = 64;

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
  /** Maximum size in bytes (default 2 GiB; shared memories reserve it up front). */
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
  private top = 0;
  private readonly freeLists = new Map<number, number[]>();
  private readonly live = new Map<number, number>();
  private bytesLive = 0;
  private viewBuffer: ArrayBufferLike | null = null;
  private f32View = new Float32Array(0);
  private i32View = new Int32Array(0);
  private u8View = new Uint8Array(0);
  /**
   * Called before the heap grows the memory; returns true if it may have freed blocks (then the free
   * lists are tried again). The storage manager forces a garbage collection here.
   */
  onPressure: (() => boolean) | null = null;

  constructor(options: MemoryOptions = {}) {
    this.shared = options.shared ?? sharedMemorySupported();
    const initial = Math.ceil((options.initialBytes ?? 16 << 20) / PAGE);
    const maximum = Math.ceil((options.maximumBytes ?? 2 ** 31) / PAGE);
    this.memory = new WebAssembly.Memory({ initial, maximum, shared: this.shared });
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
    if (ptr < 0 && this.top + size > this.memory.buffer.byteLength && this.onPressure?.()) {
      ptr = this.popFree(size);
    }
    if (ptr < 0) {
      ptr = this.top;
      this.ensure(ptr + size);
      this.top = ptr + size;
    }
    this.live.set(ptr, size);
    this.bytesLive += size;
    return ptr;
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

  /** Bytes in live blocks (rounded to their classes) and the high-water mark of the heap. */
  stats(): { liveBytes: number; liveBlocks: number; heapTop: number; memoryBytes: number } {
    return {
      liveBytes: this.bytesLive,
      liveBlocks: this.live.size,
      heapTop: this.top,
      memoryBytes: this.memory.buffer.byteLength,
    };
  }

  private ensure(end: number): void {
    const have = this.memory.buffer.byteLength;
    if (end <= have) return;
    // Grow by at least 1/8 of the current size, so that many small growths do not each cost a grow.
    const want = Math.max(end - have, have >> 3);
    this.memory.grow(Math.ceil(want / PAGE));
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

  /** Float32Array over the whole memory (index = address / 4); re-fetch after any allocation. */
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
    this.f32().set(data, ptr >> 2);
  }

  writeI32(ptr: number, data: ArrayLike<number>): void {
    this.i32().set(data, ptr >> 2);
  }

  /** Copies `length` floats at `ptr` out of wasm memory. */
  readF32(ptr: number, length: number): Float32Array {
    return this.f32().slice(ptr >> 2, (ptr >> 2) + length);
  }

  readI32(ptr: number, length: number): Int32Array {
    return this.i32().slice(ptr >> 2, (ptr >> 2) + length);
  }
}
