// What every family of the wasm Backend's methods shares: the runtime (kernels, threads), the storage
// manager, and the storage basics the families build on (allocate, fill, copy, read and write, and running
// a js reference kernel on copies for the cold int32 paths). backend.ts creates one context and spreads the
// families' methods (createXMethods(cx) in each family file) into the Backend object.

import type { Storage } from "../backend.js";
import { jsBackend } from "../js/index.js";
import { dtypeOf, type DType, type TypedArray } from "../../tensor/dtype.js";
import type { WasmRuntime } from "./runtime.js";
import type { StorageManager, WasmStorage } from "./storage.js";

export interface WasmContext {
  readonly rt: WasmRuntime;
  readonly storages: StorageManager;
  /** Byte address of a live storage (throws on a freed one). */
  ptr(s: Storage): number;
  alloc(dtype: DType, size: number): WasmStorage;
  fromArray(data: TypedArray): WasmStorage;
  /** A copy of the contents as a typed array of the storage's dtype. */
  toArray(s: Storage): TypedArray;
  full(dtype: DType, size: number, value: number): WasmStorage;
  copy(x: Storage): WasmStorage;
  /** Runs a js reference kernel on copies of the inputs (cold int32 paths, RoI ops, topk). */
  viaJs(inputs: readonly Storage[], run: (js: Storage[]) => Storage): WasmStorage;
  /** A js-backend copy of a storage (for js kernels with several outputs). */
  toJs(s: Storage): Storage;
  /** A wasm copy of a js-backend storage. */
  fromJs(s: Storage): WasmStorage;
}

export function createContext(rt: WasmRuntime, storages: StorageManager): WasmContext {
  const mem = rt.mem;
  const ptr = (s: Storage) => storages.ptr(s);
  const alloc = (dtype: DType, size: number): WasmStorage => storages.alloc(dtype, size);

  function fromArray(data: TypedArray): WasmStorage {
    const s = alloc(dtypeOf(data), data.length);
    if (s.dtype === "int32") mem.writeI32(s.ptr, data);
    else mem.writeF32(s.ptr, data);
    return s;
  }

  function toArray(s: Storage): TypedArray {
    // A storage spilled at a step boundary is read from its copy, without bringing it back (storage.ts).
    return storages.read(s);
  }

  function full(dtype: DType, size: number, value: number): WasmStorage {
    const s = alloc(dtype, size);
    const start = s.ptr >>> 2;
    if (dtype === "int32") mem.i32().fill(value, start, start + size);
    else mem.f32().fill(value, start, start + size);
    return s;
  }

  function copy(x: Storage): WasmStorage {
    const p = ptr(x);
    const out = alloc(x.dtype, x.size);
    mem.u8().copyWithin(out.ptr, p, p + 4 * x.size);
    return out;
  }

  const toJs = (s: Storage): Storage => jsBackend.fromArray(toArray(s));
  const fromJs = (s: Storage): WasmStorage => fromArray(jsBackend.toArray(s));
  const viaJs = (inputs: readonly Storage[], run: (js: Storage[]) => Storage): WasmStorage =>
    fromJs(run(inputs.map(toJs)));

  return { rt, storages, ptr, alloc, fromArray, toArray, full, copy, viaJs, toJs, fromJs };
}
