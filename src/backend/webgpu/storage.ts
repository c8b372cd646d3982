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
//
// The registry's callbacks run as tasks of their own, so a loop that never yields to the event loop (no
// await) frees nothing this way: every step's batch and dropped gradients stay on the GPU until it ends.
// Values cannot be copied out synchronously as the wasm backend spills them, so instead the manager
// counts backward passes run without a turn of the event loop and warns once, saying what to do.

/// <reference types="@webgpu/types" />

import type { MemoryInfo, ScopeOptions, Storage } from "../backend.js";
import type { DType, TypedArray } from "../../tensor/dtype.js";
import type { GpuRuntime } from "./runtime.js";
import { ScopeStack } from "../scopes.js";

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

/** Backward passes without a turn of the event loop after which the manager warns (once). */
export const STEPS_WITHOUT_YIELD_WARNING = 100;

export const NO_YIELD_WARNING =
  `webgpu: ${STEPS_WITHOUT_YIELD_WARNING} backward passes ran without yielding to the event loop. Tensors no scope owns ` +
  "(batches, outputs, the gradients zeroGrad() drops) go back to the GPU when the garbage collector's finalizers " +
  "run, and those run only between tasks, so GPU memory grows every step. Await something in the loop " +
  "(await loss.itemAsync(), or await new Promise(setTimeout) every few steps), or run each step in scope() " +
  "(docs/webgpu.md, Memory).";

export class GpuStorageManager {
  private readonly scopes: ScopeStack<GpuStorage>;
  private readonly registry: FinalizationRegistry<Block>;
  private liveStorages = 0;
  private liveBytes = 0;
  /** Backward passes since the event loop last turned (a timer set at a step ran). */
  private stepsWithoutYield = 0;
  private turnPending = false;
  private warned = false;

  constructor(readonly rt: GpuRuntime) {
    this.registry = new FinalizationRegistry<Block>((block) => this.releaseBlock(block));
    this.scopes = new ScopeStack<GpuStorage>({
      isFreed: (st) => st.freed,
      ownedByScope: (st) => st.owner === "scope",
      ownedByGraph: (st) => st.owner === "graph",
      toOutermost: (st) => (st.owner = "collector"),
      toGraph: (st) => (st.owner = "graph"),
      free: (st) => this.free(st),
      isStorage: (v): v is GpuStorage => v instanceof GpuStorage,
    });
  }

  /**
   * A backward pass starts (Backend.startStep). Nothing is spilled; the manager only checks that the
   * event loop turns between steps, since the collector's finalizers need it.
   */
  startStep(): () => void {
    if (!this.turnPending) {
      this.turnPending = true;
      setTimeout(() => {
        this.turnPending = false;
        this.stepsWithoutYield = 0;
      }, 0);
    }
    if (++this.stepsWithoutYield >= STEPS_WITHOUT_YIELD_WARNING && !this.warned) {
      this.warned = true;
      console.warn(NO_YIELD_WARNING);
    }
    return () => {};
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
    if (!this.scopes.record(s)) s.owner = "collector";
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

  releaseTemporary(s: Storage): void {
    if (s instanceof GpuStorage) this.scopes.releaseTemporary(s);
  }

  scope<T>(fn: () => T, options: ScopeOptions<T> = {}): T {
    return this.scopes.run(fn, options);
  }

  info(): MemoryInfo {
    return { backend: "webgpu", storages: this.liveStorages, bytes: this.liveBytes };
  }
}

/** A copy of host values as the storage's typed array. */
export function hostCopy(s: GpuStorage): TypedArray {
  return s.host!.slice();
}
