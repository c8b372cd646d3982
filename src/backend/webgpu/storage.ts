// Tensor storages of the webgpu backend and their lifetime. A storage is a GPU buffer (from the runtime's
// pool) plus, when the values are known on the host, a copy of them: a tensor made from an array keeps its
// array, and `await tensor.data()` leaves the values it read. Reading synchronously (`toArray()`, `item()`)
// works only from that copy, since mapping a GPU buffer is asynchronous (docs/webgpu.md, "Reading values").
//
// Freeing follows the memory hooks of the Backend interface (docs/design.md, "Memory"): a scope frees what
// was allocated inside and is neither reachable from its result nor kept, or hands it to the autograd graph
// (`adopt`), which frees it once backward has run. Storages no scope owns (op results in user code,
// batches, parameters) return their buffer to the pool when the garbage collector finds their storage dead
// (a FinalizationRegistry): GPU memory is not JavaScript memory, but the objects that hold it are.

/// <reference types="@webgpu/types" />

import type { MemoryInfo, ScopeOptions, Storage } from "../backend.js";
import type { DType, TypedArray } from "../../tensor/dtype.js";
import type { GpuRuntime } from "./runtime.js";

export const FREED_MESSAGE =
  "tensor was freed: it was allocated inside a scope or a module's forward() and neither returned nor kept " +
  "(a forward's intermediates are freed by the backward pass that used them); return it from the scope or " +
  "forward(), store it on the module, or call .keep()";

/** Who frees a storage's buffer: a scope, the autograd graph, or the garbage collector. */
type Owner = "scope" | "graph" | "collector";

/** The buffer behind a storage; the FinalizationRegistry holds this, never the storage. */
class Block {
  buffer: GPUBuffer | null;
  constructor(buffer: GPUBuffer) {
    this.buffer = buffer;
  }
}

/** `size` float32 or int32 values in a GPU buffer. */
export class GpuStorage implements Storage {
  readonly dtype: DType;
  readonly size: number;
  /** @internal */
  readonly block: Block;
  /** The values on the host, when known (from fromArray or an awaited read); null otherwise. */
  host: Float32Array | Int32Array | null = null;
  owner: Owner = "scope";
  /** Escaped its scope (a parameter, a gradient, optimizer state): scopes never free it. */
  kept = false;

  constructor(dtype: DType, size: number, buffer: GPUBuffer) {
    this.dtype = dtype;
    this.size = size;
    this.block = new Block(buffer);
  }

  get freed(): boolean {
    return this.block.buffer === null;
  }
}

export class GpuStorageManager {
  private readonly frames: Set<GpuStorage>[] = [];
  private readonly registry: FinalizationRegistry<Block>;
  private liveStorages = 0;
  private liveBytes = 0;

  constructor(readonly rt: GpuRuntime) {
    this.registry = new FinalizationRegistry<Block>((block) => this.releaseBlock(block));
  }

  alloc(dtype: DType, size: number): GpuStorage {
    if (dtype === "float64") {
      throw new Error(
        "webgpu backend: float64 is not supported (WGSL has no 64-bit floats; storage is float32 or int32); create float64 tensors on the js backend ({ backend: 'js' })",
      );
    }
    const s = new GpuStorage(dtype, size, this.rt.acquire(size * 4));
    this.liveStorages++;
    this.liveBytes += s.block.buffer!.size;
    this.registry.register(s, s.block, s.block);
    const frame = this.frames[this.frames.length - 1];
    if (frame !== undefined) frame.add(s);
    else s.owner = "collector";
    return s;
  }

  /** The buffer of a live storage of this backend; throws a clear error for a freed or foreign one. */
  buffer(s: Storage): GPUBuffer {
    if (!(s instanceof GpuStorage)) {
      throw new Error(
        "webgpu backend: this tensor's storage belongs to another backend; copy it over with tensor(await t.data(), t.shape, { backend: 'webgpu' })",
      );
    }
    const b = s.block.buffer;
    if (b === null) throw new Error(FREED_MESSAGE);
    return b;
  }

  private releaseBlock(block: Block): void {
    if (block.buffer === null) return;
    this.liveStorages--;
    this.liveBytes -= block.buffer.size;
    this.rt.release(block.buffer);
    block.buffer = null;
  }

  free(s: Storage): void {
    if (!(s instanceof GpuStorage) || s.freed) return;
    this.registry.unregister(s.block);
    this.releaseBlock(s.block);
    s.host = null;
  }

  /** Frees a storage the autograd graph owns (adopted by a module's scope), unless it was kept since. */
  freeAdopted(s: Storage): void {
    if (s instanceof GpuStorage && s.owner === "graph" && !s.kept) this.free(s);
  }

  keep(s: Storage): void {
    if (!(s instanceof GpuStorage) || s.freed) return;
    s.kept = true;
    s.owner = "collector";
  }

  scope<T>(fn: () => T, options: ScopeOptions<T> = {}): T {
    const frame = new Set<GpuStorage>();
    this.frames.push(frame);
    let result: T;
    try {
      result = fn();
    } catch (e) {
      this.close(frame, new Set(), {});
      throw e;
    }
    if (typeof (result as { then?: unknown } | null)?.then === "function") {
      this.close(frame, new Set(frame), {});
      throw new Error("scope: fn returned a Promise; scopes are synchronous (await outside the scope)");
    }
    const roots = options.alsoReachable === undefined ? result : [result, options.alsoReachable];
    this.close(frame, reachableGpuStorages(roots), options, result);
    return result;
  }

  private close<T>(
    frame: Set<GpuStorage>,
    survivors: Set<GpuStorage>,
    options: ScopeOptions<T>,
    result?: T,
  ): void {
    if (this.frames.pop() !== frame) throw new Error("scope: scopes were closed out of order");
    const parent = this.frames[this.frames.length - 1];
    const unreachable: GpuStorage[] = [];
    for (const s of frame) {
      if (s.freed || s.kept) continue;
      if (survivors.has(s)) {
        if (parent !== undefined) parent.add(s);
        else if (s.owner === "scope") s.owner = "collector";
      } else if (s.owner === "graph" && options.adopt !== undefined) {
        parent?.add(s);
      } else {
        unreachable.push(s);
      }
    }
    if (unreachable.length === 0) return;
    if (options.adopt !== undefined && options.adopt(result as T, unreachable)) {
      for (const s of unreachable) {
        s.owner = "graph";
        parent?.add(s);
      }
    } else if (options.release === "collector") {
      for (const s of unreachable) {
        if (parent !== undefined) parent.add(s);
        else s.owner = "collector";
      }
    } else {
      for (const s of unreachable) this.free(s);
    }
  }

  info(): MemoryInfo {
    return { backend: "webgpu", storages: this.liveStorages, bytes: this.liveBytes };
  }
}

/** Storages reachable from a scope's result. Tensors are entered through .storage and .grad only. */
function reachableGpuStorages(root: unknown): Set<GpuStorage> {
  const found = new Set<GpuStorage>();
  const seen = new Set<object>();
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v !== "object" || v === null || seen.has(v)) continue;
    seen.add(v);
    if (v instanceof GpuStorage) found.add(v);
    else if ("storage" in v && "shape" in v && "backend" in v)
      stack.push(v.storage, (v as { grad?: unknown }).grad);
    else if (Array.isArray(v)) stack.push(...v);
    else if (v instanceof Map) for (const [k, x] of v) stack.push(k, x);
    else if (v instanceof Set) stack.push(...v);
    else if (
      !ArrayBuffer.isView(v) &&
      !(v instanceof ArrayBuffer) &&
      typeof (v as { supports?: unknown }).supports !== "function"
    )
      stack.push(...Object.values(v));
  }
  return found;
}

/** A copy of host values as the storage's typed array. */
export function hostCopy(s: GpuStorage): TypedArray {
  return s.host!.slice();
}
