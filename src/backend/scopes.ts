// The scope stack that the wasm and webgpu backends share (docs/design.md, "Memory"). `scope(fn)` records
// the storages allocated while fn runs; at its end, those neither reachable from fn's result nor kept are
// freed, or handed to the autograd graph of the result (`adopt`), or left to the backend's collector
// (`release: "collector"`). Reachable ones move to the enclosing scope, or, at the outermost level, to
// whatever the backend does with storages no scope owns (the wasm nursery; webgpu's garbage collector).
// What differs between backends (how a storage is freed, what "no scope owns it" means) comes in as hooks.

import type { ScopeOptions, Storage } from "./backend.js";

/** Who holds a storage for freeing: "scope" while a scope records it, "graph" once adopted. */
export interface ScopedStorage extends Storage {
  /** Escaped its scope (a parameter, a gradient, optimizer state): scopes never free it. */
  readonly kept: boolean;
}

/** What a backend supplies to the scope stack. */
export interface ScopeHooks<S extends ScopedStorage> {
  isFreed(s: S): boolean;
  /** Whether a scope still owns it (neither adopted by a graph nor handed elsewhere). */
  ownedByScope(s: S): boolean;
  /** Whether the autograd graph of an earlier result owns it. */
  ownedByGraph(s: S): boolean;
  /** It left the outermost scope alive: the backend's owner of storages no scope holds takes it. */
  toOutermost(s: S): void;
  /** The autograd graph of the scope's result takes it (freed once backward has run). */
  toGraph(s: S): void;
  free(s: S): void;
  /** Whether a value met while walking a scope's result is one of this backend's storages. */
  isStorage(v: object): v is S;
}

export class ScopeStack<S extends ScopedStorage> {
  private readonly frames: Set<S>[] = [];

  constructor(private readonly hooks: ScopeHooks<S>) {}

  /** Scopes open now. */
  get depth(): number {
    return this.frames.length;
  }

  /** Records a new storage in the innermost open scope; false when no scope is open. */
  record(s: S): boolean {
    const frame = this.frames[this.frames.length - 1];
    if (frame === undefined) return false;
    frame.add(s);
    return true;
  }

  /** Frees `s` now if the innermost open scope recorded it and it is not kept; see Backend.releaseTemporary. */
  releaseTemporary(s: S): void {
    const frame = this.frames[this.frames.length - 1];
    if (frame === undefined || s.kept || this.hooks.isFreed(s) || !frame.delete(s)) return;
    this.hooks.free(s);
  }

  run<T>(fn: () => T, options: ScopeOptions<T> = {}): T {
    const frame = new Set<S>();
    this.frames.push(frame);
    let result: T;
    try {
      result = fn();
    } catch (e) {
      this.close(frame, new Set(), {});
      throw e;
    }
    if (isThenable(result)) {
      this.close(frame, new Set(frame), {});
      throw new Error("scope: fn returned a Promise; scopes are synchronous (await outside the scope)");
    }
    const roots = options.alsoReachable === undefined ? result : [result, options.alsoReachable];
    this.close(frame, reachableStorages(roots, this.hooks.isStorage), options, result);
    return result;
  }

  private close<T>(frame: Set<S>, survivors: Set<S>, options: ScopeOptions<T>, result?: T): void {
    if (this.frames.pop() !== frame) throw new Error("scope: scopes were closed out of order");
    const hooks = this.hooks;
    const parent = this.frames[this.frames.length - 1];
    const unreachable: S[] = [];
    for (const s of frame) {
      if (hooks.isFreed(s) || s.kept) continue;
      if (survivors.has(s)) {
        if (parent !== undefined) parent.add(s);
        else if (hooks.ownedByScope(s)) hooks.toOutermost(s);
      } else if (hooks.ownedByGraph(s) && options.adopt !== undefined) {
        // Already owned by the graph of an inner module's output; an enclosing plain scope frees it.
        parent?.add(s);
      } else {
        unreachable.push(s);
      }
    }
    if (unreachable.length === 0) return;
    if (options.adopt !== undefined && options.adopt(result as T, unreachable)) {
      for (const s of unreachable) {
        hooks.toGraph(s);
        parent?.add(s);
      }
    } else if (options.release === "collector") {
      for (const s of unreachable) {
        if (parent !== undefined) parent.add(s);
        else hooks.toOutermost(s);
      }
    } else {
      for (const s of unreachable) hooks.free(s);
    }
  }
}

function isThenable(v: unknown): boolean {
  return typeof v === "object" && v !== null && typeof (v as { then?: unknown }).then === "function";
}

/** Storages reachable from a scope's return value. Tensors are entered through .storage and .grad only. */
export function reachableStorages<S extends object>(root: unknown, isStorage: (v: object) => v is S): Set<S> {
  const found = new Set<S>();
  const seen = new Set<object>();
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v !== "object" || v === null || seen.has(v)) continue;
    seen.add(v);
    if (isStorage(v)) {
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
