// Containers: Sequential (children called in order), ModuleList and ModuleDict (named collections).

import type { Tensor } from "../tensor/tensor.js";
import { Module, type TensorModule } from "./module.js";

/**
 * Calls its children in order, feeding each output to the next. Children are named '0', '1', …; each maps
 * a tensor to a tensor (a layer class, or any module typed `TensorModule`).
 */
export class Sequential extends Module<[input: Tensor], Tensor> {
  private readonly layers: TensorModule[] = [];

  constructor(...layers: TensorModule[]) {
    super();
    layers.forEach((layer) => this.append(layer));
  }

  append(layer: TensorModule): this {
    this.registerModule(String(this.layers.length), layer);
    this.layers.push(layer);
    return this;
  }

  get length(): number {
    return this.layers.length;
  }

  protected override replaceChild(name: string, module: Module): void {
    super.replaceChild(name, module);
    // setSubmodule takes any module, as torch's does; a replacement must map a tensor to a tensor too.
    this.layers[Number(name)] = module as TensorModule;
  }

  at(index: number): TensorModule {
    const layer = this.layers[index < 0 ? index + this.layers.length : index];
    if (!layer) throw new Error(`Sequential: no layer at index ${index} (length ${this.layers.length})`);
    return layer;
  }

  [Symbol.iterator](): Iterator<TensorModule> {
    return this.layers[Symbol.iterator]();
  }

  forward(x: Tensor): Tensor {
    let out = x;
    for (const layer of this.layers) out = layer.forward(out);
    return out;
  }
}

/** A list of modules registered as children '0', '1', …; it has no forward of its own. */
export class ModuleList<M extends Module = Module> extends Module {
  private readonly items: M[] = [];

  constructor(modules: readonly M[] = []) {
    super();
    modules.forEach((m) => this.append(m));
  }

  append(module: M): this {
    this.registerModule(String(this.items.length), module);
    this.items.push(module);
    return this;
  }

  get length(): number {
    return this.items.length;
  }

  protected override replaceChild(name: string, module: Module): void {
    super.replaceChild(name, module);
    this.items[Number(name)] = module as M;
  }

  at(index: number): M {
    return this.items[index];
  }

  [Symbol.iterator](): Iterator<M> {
    return this.items[Symbol.iterator]();
  }

  forward(): never {
    throw new Error("ModuleList has no forward(); iterate over its modules");
  }
}

/** Modules registered under string keys, in insertion order. */
export class ModuleDict<M extends Module = Module> extends Module {
  private readonly items = new Map<string, M>();

  constructor(modules: Record<string, M> = {}) {
    super();
    for (const [k, m] of Object.entries(modules)) this.set(k, m);
  }

  set(key: string, module: M): this {
    this.registerModule(key, module);
    this.items.set(key, module);
    return this;
  }

  protected override replaceChild(name: string, module: Module): void {
    super.replaceChild(name, module);
    this.items.set(name, module as M);
  }

  get(key: string): M {
    const m = this.items.get(key);
    if (!m) throw new Error(`ModuleDict: no module '${key}'; keys: ${[...this.items.keys()].join(", ")}`);
    return m;
  }

  entries(): [string, M][] {
    return [...this.items.entries()];
  }

  forward(): never {
    throw new Error("ModuleDict has no forward(); call its modules by key");
  }
}
