// Module: the base of every layer and model, in PyTorch's shape. Parameters and child modules are found
// from the instance's own properties (in assignment order, so `this.conv1 = …` is named `conv1` as in
// torchvision); buffers are registered explicitly, because their torch names (`running_mean`) differ from
// idiomatic property names. forward() calls run through hooks, which summary() and the viz tools use.
//
// Each forward() runs in a memory scope (autograd/engine.ts forwardScope, docs/design.md "Memory"): what it
// allocated and neither returned nor stored on the module is freed when it returns (no gradients) or handed
// to its output's graph and freed by backward (gradients), not left to the garbage collector. A hook may
// hold on to any intermediate, so while hooks are registered the scopes are off.
//
// Backward hooks (registerFullBackwardHook) see, and may replace, the gradients at a module's boundary: the
// forward wraps the module's input and output in identity nodes whose backward calls the hooks, so neither
// the ops nor the engine know about them.

import { Tensor } from "../tensor/tensor.js";
import { formatShape } from "../tensor/shape.js";
import { forwardScope, isGradEnabled, noGrad } from "../autograd/engine.js";
import { Parameter } from "./parameter.js";

/**
 * Called after a module's forward() with its arguments and output. A hook registered on a module (not a
 * global one) that returns a Tensor replaces the output, as a torch forward hook returning a value does;
 * any other return value is ignored.
 */
export type ForwardHook = (module: Module, inputs: readonly unknown[], output: unknown) => unknown;

/**
 * Called during backward with the gradient w.r.t. the module's tensor input (`gradInput`, null where the
 * input needs no gradient) and w.r.t. its output (`gradOutput`), like torch's
 * `register_full_backward_hook`. Returning an array replaces gradInput (same length and shapes); returning
 * nothing keeps it.
 */
export type BackwardHook = (
  module: Module,
  gradInput: readonly (Tensor | null)[],
  gradOutput: readonly Tensor[],
) => readonly (Tensor | null)[] | void;

export interface HookHandle {
  remove(): void;
}

export interface LoadResult {
  missingKeys: string[];
  unexpectedKeys: string[];
}

/** A module whose forward maps one tensor to one tensor: every layer, block and zoo classifier. */
export type TensorModule = Module<[input: Tensor], Tensor>;

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

/**
 * The base of every layer and model (torch's `nn.Module`). `In` is forward()'s parameter list and `Out` its
 * result, so a child typed by its class (`conv1: Conv2d`) or as `Module<[Tensor], Tensor>` (`TensorModule`)
 * is called as `this.conv1.forward(x)` with its types checked. A subclass only writes its forward; its
 * instance type then carries that signature (`class Net extends Module { forward(x: Tensor): Tensor }` is a
 * `TensorModule`). `Module` with no arguments is any module: its forward cannot be called without knowing
 * the signature.
 */
export abstract class Module<In extends unknown[] = never[], Out = unknown> {
  /** Training mode (dropout active, batch norm uses batch statistics). */
  training = true;
  private readonly _buffers = new Map<string, { tensor: Tensor | null; persistent: boolean }>();
  private readonly _registered = new Map<string, Module | Parameter>();
  private readonly _hooks = new Set<ForwardHook>();
  private readonly _backwardHooks = new Set<BackwardHook>();

  constructor() {
    // Route forward() through the hooks. At this point `this.forward` already resolves to the subclass's
    // method via the prototype chain, so wrapping it here covers every subclass.
    // (Read through a typed view: TypeScript forbids reading an abstract member from `this` in the constructor.)
    const inner = (this as Module<In, Out>).forward;
    Object.defineProperty(this, "forward", {
      enumerable: false,
      value: (...args: In): Out => {
        const boundary = this._backwardHooks.size > 0 && isGradEnabled() ? this.backwardBoundary(args) : null;
        // The boundary swaps the differentiable input for an alias of the same type.
        const callArgs = (boundary ? boundary.args : args) as In;
        let output = releasesIntermediates()
          ? forwardScope(this, () => inner.apply(this, callArgs))
          : inner.apply(this, callArgs);
        if (this._hooks.size > 0 || globalForwardHooks.size > 0) {
          for (const hook of this._hooks) {
            const replaced = hook(this, args, output);
            // A hook's replacement stands for the output, as in torch (a hook that changes the type is the
            // hook's contract to keep).
            if (replaced instanceof Tensor) output = replaced as Out;
          }
          for (const hook of globalForwardHooks) hook(this, args, output);
        }
        return boundary ? (boundary.wrapOutput(output) as Out) : output;
      },
    });
  }

  /** The computation, called with this module's hooks and memory scope around it (as torch's `__call__`). */
  abstract forward(...args: In): Out;

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

  /** The descendant at a dotted path (`"layer4.1.conv2"`), like torch's get_submodule. */
  getSubmodule(path: string): Module {
    if (path === "") return this;
    return path.split(".").reduce<Module>((module, name) => {
      const child = module.namedChildren().find(([n]) => n === name)?.[1];
      if (child) return child;
      const names = module.namedChildren().map(([n]) => n);
      throw new Error(
        `${this.constructor.name}: no submodule '${path}' ('${name}' is not a child of ${module.constructor.name}; children: ${names.join(", ") || "none"})`,
      );
    }, this);
  }

  /**
   * Puts `module` in place of the descendant at a dotted path, like torch's set_submodule (or
   * `model.fc = nn.Linear(…)`): the new module takes the old one's name and position, so state_dict keys
   * and forward order stay the same. Used to replace a classifier head for transfer learning.
   */
  setSubmodule(path: string, module: Module): void {
    const parts = path.split(".");
    const name = parts.pop()!;
    this.getSubmodule(path); // names the missing part, if any
    this.getSubmodule(parts.join(".")).replaceChild(name, module);
  }

  /** Replaces the direct child `name`; containers override this to update their own order. */
  protected replaceChild(name: string, module: Module): void {
    if (Object.hasOwn(this, name) && (this as Record<string, unknown>)[name] instanceof Module) {
      (this as Record<string, unknown>)[name] = module;
    } else {
      this._registered.set(name, module);
    }
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
   * Registers a hook that sees (and may replace) the gradients at this module's boundary during backward,
   * like torch's `register_full_backward_hook`. It runs for every forward() recorded with gradients while it
   * is registered. The module must return one Tensor and take at most one tensor that requires a gradient.
   *
   * @example
   * // Zero the gradient flowing back through a layer's negative outputs
   * const handle = model.features[1].registerFullBackwardHook((_m, gradIn) => gradIn.map((g) => g?.relu() ?? null));
   * …; handle.remove();
   */
  registerFullBackwardHook(hook: BackwardHook): HookHandle {
    this._backwardHooks.add(hook);
    return { remove: () => this._backwardHooks.delete(hook) };
  }

  /**
   * The identity nodes that let backward hooks see this call's gradients: the tensor input that requires a
   * gradient is replaced by an alias whose backward calls the hooks (by then the output's gradient, captured
   * by the output's alias, is known); with no such input the hooks run at the output with gradInput [null].
   */
  private backwardBoundary(args: unknown[]): { args: unknown[]; wrapOutput: (output: unknown) => unknown } {
    const name = this.constructor.name;
    const differentiable = args.filter((a): a is Tensor => a instanceof Tensor && a.requiresGrad);
    if (differentiable.length > 1) {
      throw new Error(
        `registerFullBackwardHook: ${name} was called with ${differentiable.length} tensors that require ` +
          `gradients; backward hooks support modules with one differentiable tensor input`,
      );
    }
    let gradOutput: Tensor | null = null;
    const runHooks = (gradInput: Tensor | null): Tensor | null => {
      let current: (Tensor | null)[] = [gradInput];
      for (const hook of this._backwardHooks) {
        const replaced = hook(this, current, [gradOutput!]);
        if (replaced !== undefined) current = checkedGradInput(name, replaced, current);
      }
      return current[0];
    };
    const input = differentiable[0];
    const inputAlias = input ? aliasWithBackward(input, (g) => runHooks(g)) : null;
    return {
      args: inputAlias ? args.map((a) => (a === input ? inputAlias : a)) : args,
      wrapOutput: (output) => {
        if (!(output instanceof Tensor)) {
          throw new Error(
            `registerFullBackwardHook: ${name}.forward returned ${typeof output}; backward hooks need a module that returns one Tensor`,
          );
        }
        if (!output.requiresGrad) return output;
        return aliasWithBackward(output, (g) => {
          gradOutput = g;
          if (!inputAlias) runHooks(null);
          return g;
        });
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

/** A tensor sharing `t`'s values whose backward maps the gradient through `backward` to `t`. */
function aliasWithBackward(t: Tensor, backward: (g: Tensor) => Tensor | null): Tensor {
  const alias = t.detach();
  alias.attachGradFn({ op: "backwardHook", inputs: [t], backward: (g) => [backward(g)] });
  return alias;
}

/** A backward hook's replacement gradInput, checked against the gradients it replaces. */
function checkedGradInput(
  name: string,
  replaced: readonly (Tensor | null)[],
  current: readonly (Tensor | null)[],
): (Tensor | null)[] {
  if (!Array.isArray(replaced) || replaced.length !== current.length) {
    throw new Error(
      `backward hook on ${name}: must return ${current.length} gradient(s) (an array) or nothing, got ${String(replaced)}`,
    );
  }
  return replaced.map((g, i) => {
    const was = current[i];
    if (g !== null && !(g instanceof Tensor))
      throw new Error(`backward hook on ${name}: gradInput[${i}] must be a Tensor or null`);
    if (g && was && !sameShape(g.shape, was.shape)) {
      throw new Error(
        `backward hook on ${name}: gradInput[${i}] has shape ${formatShape(g.shape)} but the gradient it replaces is ${formatShape(was.shape)}`,
      );
    }
    return g;
  });
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
