// Module: the base of every layer and model, in PyTorch's shape. Parameters and child modules are found
// from the instance's own properties (in assignment order, so `this.conv1 = …` is named `conv1` as in
// torchvision); buffers are registered explicitly, because their torch names (`running_mean`) differ from
// idiomatic property names. forward() calls run through hooks, which summary() and the viz tools use.
//
// Each forward() runs in a memory scope (autograd/engine.ts forwardScope, docs/design.md "Memory"): what it
// allocated and neither returned nor stored on the module is freed when it returns (no gradients) or handed
// to its output's graph and freed by backward (gradients), not left to the garbage collector. A hook may
// hold on to any intermediate, so while hooks are registered the scopes are off.

import { Tensor } from "../tensor/tensor.js";
import { formatShape } from "../tensor/shape.js";
import { forwardScope, noGrad } from "../autograd/engine.js";
import { Parameter } from "./parameter.js";

export type ForwardHook = (module: Module, inputs: readonly unknown[], output: unknown) => void;

export interface HookHandle {
  remove(): void;
}

export interface LoadResult {
  missingKeys: string[];
  unexpectedKeys: string[];
}

/** Hooks that see every module's forward call (used by summary and activation capture). */
const globalForwardHooks = new Set<ForwardHook>();

export function registerGlobalForwardHook(hook: ForwardHook): HookHandle {
  globalForwardHooks.add(hook);
  return { remove: () => globalForwardHooks.delete(hook) };
}

/** Hooks registered on single modules and not yet removed, over all modules. */
let moduleHookCount = 0;

function releasesIntermediates(): boolean {
  return moduleHookCount === 0 && globalForwardHooks.size === 0;
}

export abstract class Module {
  /** Training mode (dropout active, batch norm uses batch statistics). */
  training = true;
  private readonly _buffers = new Map<string, { tensor: Tensor | null; persistent: boolean }>();
  private readonly _registered = new Map<string, Module | Parameter>();
  private readonly _hooks = new Set<ForwardHook>();

  constructor() {
    // Route forward() through the hooks. At this point `this.forward` already resolves to the subclass's
    // method via the prototype chain, so wrapping it here covers every subclass.
    const inner = (this as unknown as { forward: (...args: unknown[]) => unknown }).forward;
    Object.defineProperty(this, "forward", {
      enumerable: false,
      value: (...args: unknown[]) => {
        const output = releasesIntermediates()
          ? forwardScope(this, () => inner.apply(this, args))
          : inner.apply(this, args);
        if (this._hooks.size > 0 || globalForwardHooks.size > 0) {
          for (const hook of this._hooks) hook(this, args, output);
          for (const hook of globalForwardHooks) hook(this, args, output);
        }
        return output;
      },
    });
  }

  abstract forward(...args: never[]): unknown;

  /** Registers a child module or parameter under a name that is not a property (e.g. '0' in Sequential). */
  registerModule<M extends Module>(name: string, module: M): M {
    this._registered.set(name, module);
    return module;
  }

  registerParameter(name: string, parameter: Parameter): Parameter {
    this._registered.set(name, parameter);
    return parameter;
  }

  /** Registers a buffer (state that is saved but not trained, e.g. batch norm's running_mean). */
  registerBuffer(name: string, tensor: Tensor | null, persistent = true): void {
    this._buffers.set(name, { tensor, persistent });
  }

  getBuffer(name: string): Tensor {
    const entry = this._buffers.get(name);
    if (!entry?.tensor) throw new Error(`${this.constructor.name}: no buffer '${name}'`);
    return entry.tensor;
  }

  /** Replaces a buffer's tensor (e.g. the new running mean after a training step). */
  setBuffer(name: string, tensor: Tensor): void {
    const entry = this._buffers.get(name);
    if (!entry) throw new Error(`${this.constructor.name}: no buffer '${name}'`);
    // A buffer outlives the scope of the step that computed it (wasm frees what a scope does not keep).
    entry.tensor = tensor.keep();
  }

  private ownEntries(): [string, Module | Parameter][] {
    const found: [string, Module | Parameter][] = [];
    for (const [key, value] of Object.entries(this)) {
      if (value instanceof Parameter || value instanceof Module) found.push([key, value]);
    }
    return [...found, ...this._registered.entries()];
  }

  /** Direct parameters of this module (not of its children), in definition order. */
  ownParameters(): [string, Parameter][] {
    return this.ownEntries().filter((e): e is [string, Parameter] => e[1] instanceof Parameter);
  }

  namedChildren(): [string, Module][] {
    return this.ownEntries().filter((e): e is [string, Module] => e[1] instanceof Module);
  }

  children(): Module[] {
    return this.namedChildren().map(([, m]) => m);
  }

  /** This module and all descendants with dotted names ('' for this one). */
  namedModules(prefix = ""): [string, Module][] {
    const out: [string, Module][] = [[prefix, this]];
    for (const [name, child] of this.namedChildren()) {
      out.push(...child.namedModules(prefix ? `${prefix}.${name}` : name));
    }
    return out;
  }

  modules(): Module[] {
    return this.namedModules().map(([, m]) => m);
  }

  namedParameters(prefix = ""): [string, Parameter][] {
    const out: [string, Parameter][] = [];
    const seen = new Set<Parameter>();
    for (const [path, module] of this.namedModules(prefix)) {
      for (const [name, p] of module.ownParameters()) {
        if (seen.has(p)) continue;
        seen.add(p);
        out.push([path ? `${path}.${name}` : name, p]);
      }
    }
    return out;
  }

  parameters(): Parameter[] {
    return this.namedParameters().map(([, p]) => p);
  }

  namedBuffers(prefix = "", persistentOnly = false): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [path, module] of this.namedModules(prefix)) {
      for (const [name, entry] of module._buffers) {
        if (!entry.tensor || (persistentOnly && !entry.persistent)) continue;
        out.push([path ? `${path}.${name}` : name, entry.tensor]);
      }
    }
    return out;
  }

  buffers(): Tensor[] {
    return this.namedBuffers().map(([, b]) => b);
  }

  /** Total number of parameter elements (trainable only when `trainableOnly`). */
  numParameters(trainableOnly = false): number {
    return this.parameters()
      .filter((p) => !trainableOnly || p.requiresGrad)
      .reduce((s, p) => s + p.size, 0);
  }

  /** Sets training mode here and in every descendant. */
  train(mode = true): this {
    for (const m of this.modules()) m.training = mode;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Clears the gradients of every parameter. */
  zeroGrad(): void {
    for (const p of this.parameters()) p.grad = null;
  }

  /** Freezes (false) or unfreezes (true) every parameter, e.g. for transfer learning. */
  requiresGrad_(requiresGrad = true): this {
    for (const p of this.parameters()) {
      p.requiresGrad = requiresGrad;
      if (!requiresGrad) p.grad = null;
    }
    return this;
  }

  /** Calls `fn` on every module, children first (like torch's Module.apply). */
  apply(fn: (module: Module) => void): this {
    for (const child of this.children()) child.apply(fn);
    fn(this);
    return this;
  }

  registerForwardHook(hook: ForwardHook): HookHandle {
    if (!this._hooks.has(hook)) moduleHookCount++;
    this._hooks.add(hook);
    return {
      remove: () => {
        if (this._hooks.delete(hook)) moduleHookCount--;
      },
    };
  }

  /**
   * Parameters and persistent buffers by torch-style dotted name, in torch's order (each module's
   * parameters, then its buffers, then its children).
   */
  stateDict(): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    this.collectState("", out);
    return out;
  }

  private collectState(prefix: string, out: Map<string, Tensor>): void {
    const key = (name: string) => (prefix ? `${prefix}.${name}` : name);
    for (const [name, p] of this.ownParameters()) out.set(key(name), p.detach());
    for (const [name, entry] of this._buffers) {
      if (entry.tensor && entry.persistent) out.set(key(name), entry.tensor);
    }
    for (const [name, child] of this.namedChildren()) child.collectState(key(name), out);
  }

  /**
   * Copies values from `state` into this module's parameters and buffers. With `strict` (the default),
   * missing or unexpected keys are an error; shape mismatches are always an error. Both list every key.
   */
  loadStateDict(state: Map<string, Tensor> | Record<string, Tensor>, strict = true): LoadResult {
    const entries = state instanceof Map ? state : new Map(Object.entries(state));
    const targets = new Map<string, { assign: (t: Tensor) => void; shape: readonly number[] }>();
    for (const [path, module] of this.namedModules()) {
      const key = (name: string) => (path ? `${path}.${name}` : name);
      for (const [name, p] of module.ownParameters())
        targets.set(key(name), { assign: (t) => p.assign(t), shape: p.shape });
      for (const [name, entry] of module._buffers) {
        if (!entry.tensor || !entry.persistent) continue;
        const current = entry.tensor;
        targets.set(key(name), {
          assign: (t) => (entry.tensor = noGrad(() => t.detach().to(current.dtype))),
          shape: current.shape,
        });
      }
    }
    const missingKeys = [...targets.keys()].filter((k) => !entries.has(k));
    const unexpectedKeys = [...entries.keys()].filter((k) => !targets.has(k));
    const mismatched = [...entries.entries()]
      .filter(([k, t]) => targets.has(k) && !sameShape(targets.get(k)!.shape, t.shape))
      .map(
        ([k, t]) => `${k}: checkpoint ${formatShape(t.shape)} vs model ${formatShape(targets.get(k)!.shape)}`,
      );
    const problems: string[] = [];
    if (mismatched.length > 0) problems.push(`shape mismatch for ${mismatched.join("; ")}`);
    if (strict && missingKeys.length > 0) problems.push(`missing keys: ${missingKeys.join(", ")}`);
    if (strict && unexpectedKeys.length > 0) problems.push(`unexpected keys: ${unexpectedKeys.join(", ")}`);
    if (problems.length > 0)
      throw new Error(`loadStateDict(${this.constructor.name}): ${problems.join(". ")}`);
    for (const [k, t] of entries) {
      const target = targets.get(k);
      if (target) noGrad(() => target.assign(t));
    }
    return { missingKeys, unexpectedKeys };
  }

  /** Extra text inside this module's printed line, e.g. "3, 64, kernelSize=[3,3]". */
  extraRepr(): string {
    return "";
  }

  toString(): string {
    const children = this.namedChildren();
    const head = `${this.constructor.name}(${this.extraRepr()}`;
    if (children.length === 0) return `${head})`;
    const lines = children.map(
      ([name, child]) => `  (${name}): ${child.toString().split("\n").join("\n  ")}`,
    );
    return `${head}\n${lines.join("\n")}\n)`;
  }
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
