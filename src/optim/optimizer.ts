// The Optimizer base class, in torch.optim's shape: parameter groups with their own (mutable) hyperparameters,
// per-parameter state created lazily on the first step, zeroGrad/step, and a JSON-serialisable state dict
// that identifies parameters by their index across groups. Subclasses supply only validation and a pure
// per-parameter update (param, grad, state, hyperparameters) -> (new param, new state), written with ops so
// it runs on every backend; a fast backend can swap that one function for a fused kernel.

import { enableGrad, noGrad } from "../autograd/engine.js";
import { Tensor, tensor, zerosLike } from "../tensor/tensor.js";
import { isFloat, type DType } from "../tensor/dtype.js";
import { formatShape } from "../tensor/shape.js";
import type { Storage } from "../backend/backend.js";
import { checkOptionKeys } from "../ops/util.js";

/** Hyperparameters every optimizer has; schedulers change `lr`. */
export interface BaseHyperparameters {
  lr: number;
}

/** One parameter group: its tensors plus its current hyperparameters (mutable; schedulers change them). */
export type ParamGroup<H extends BaseHyperparameters = BaseHyperparameters> = H & {
  params: Tensor[];
  /** The lr before any scheduler changed it; set by the first scheduler attached (torch's `initial_lr`). */
  initialLr?: number;
};

/** A parameter group as passed to a constructor: hyperparameters left out take the optimizer's defaults. */
export type ParamGroupInput<H extends BaseHyperparameters = BaseHyperparameters> = {
  params: Iterable<Tensor>;
} & Partial<H>;

/** What optimizers accept: tensors (e.g. `model.parameters()`) or parameter groups. */
export type Params<H extends BaseHyperparameters = BaseHyperparameters> =
  Iterable<Tensor> | readonly ParamGroupInput<H>[];

/** The result of a per-parameter update function. */
export interface ParamUpdate<S> {
  param: Tensor;
  state: S;
}

/** A state tensor in a state dict: plain numbers, so the dict survives JSON.stringify/parse exactly. */
export interface SerializedTensor {
  shape: number[];
  dtype: DType;
  data: number[];
}

/**
 * An optimizer's state in torch's layout: `state[i]` is the state of the i-th parameter (counting through
 * the groups in order; only parameters that have stepped appear) and `paramGroups[g].params` lists indices.
 */
export interface OptimizerStateDict {
  state: Record<string, Record<string, number | SerializedTensor>>;
  paramGroups: (Record<string, unknown> & { params: number[] })[];
}

/** Base class of SGD, Adagrad, RMSprop, Adam and AdamW. */
export abstract class Optimizer<
  H extends BaseHyperparameters = BaseHyperparameters,
  S extends object = object,
> {
  /** Name used in error messages, e.g. "SGD". */
  readonly name: string;
  readonly defaults: H;
  readonly paramGroups: ParamGroup<H>[] = [];
  /** Per-parameter state, created on a parameter's first update. */
  state = new Map<Tensor, S>();
  /** True when built from plain tensors: error messages then need not name a group. */
  private implicitGroup = false;
  /**
   * The storage each parameter was given by this optimizer's last update of it. While the parameter still
   * has it, only the parameter (and views of it, which see updates as in torch) holds it — nobody assigned
   * it a storage shared with another tensor — so the next update may overwrite it and the state in place
   * instead of allocating: fewer dead storages for the garbage collector to find (about 10 % of a LeNet-5
   * training step went to forced collections of old parameters and state).
   */
  private readonly updatedStorage = new WeakMap<Tensor, Storage>();

  /**
   * `options` are the constructor's options as the user passed them: a key that is not a hyperparameter of
   * this optimizer (a typo, or a JS user's guess such as Adam's `beta1` for `betas`) is rejected before
   * anything else is checked, so the error names the typo rather than the default it left missing.
   */
  protected constructor(name: string, params: Params<H>, defaults: H, options: object = {}) {
    this.name = name;
    this.defaults = defaults;
    checkOptionKeys(name, options, Object.keys(defaults));
    const items = [...(params as Iterable<Tensor | ParamGroupInput<H>>)];
    const groups = toGroupInputs(items);
    if (groups.length === 0) throw new Error(`${name}: got an empty parameter list`);
    this.implicitGroup = items[0] instanceof Tensor;
    for (const group of groups) this.addParamGroup(group);
  }

  /** Throws if the group's hyperparameters are invalid (`where` names the optimizer and group). */
  protected abstract validate(group: H, where: string): void;

  /**
   * The update of one parameter; see the update function exported next to each optimizer. With `inPlace`
   * the parameter's and the state's storages belong to this optimizer and may be overwritten.
   */
  protected abstract update(
    param: Tensor,
    grad: Tensor,
    state: S,
    group: H,
    inPlace: boolean,
  ): ParamUpdate<S>;

  /** Adds a group (e.g. layers unfrozen later during fine-tuning); missing hyperparameters take the defaults. */
  addParamGroup(input: ParamGroupInput<H>): void {
    const where = this.describeGroup(this.paramGroups.length);
    if (typeof input !== "object" || input === null || input.params == null) {
      throw new Error(`${where}: a parameter group must be an object { params, ...options }`);
    }
    const params = [...input.params];
    if (params.length === 0) throw new Error(`${where}: parameter group has no parameters`);
    const taken = new Set(this.paramGroups.flatMap((g) => g.params));
    const seen = new Set<Tensor>();
    params.forEach((p, i) => {
      if (!(p instanceof Tensor)) throw new Error(`${where}: params[${i}] is not a Tensor`);
      if (!isFloat(p.dtype)) {
        throw new Error(
          `${where}: params[${i}] ${formatShape(p.shape)} is ${p.dtype}; only float tensors can be optimized`,
        );
      }
      if (!p.isLeaf) {
        throw new Error(
          `${where}: params[${i}] ${formatShape(p.shape)} was computed by ${p.gradFn!.op}; only leaf tensors can be optimized`,
        );
      }
      if (seen.has(p))
        throw new Error(`${where}: params[${i}] ${formatShape(p.shape)} appears twice in the group`);
      if (taken.has(p)) {
        throw new Error(
          `${where}: params[${i}] ${formatShape(p.shape)} already belongs to another parameter group`,
        );
      }
      seen.add(p);
    });
    checkOptionKeys(where, input, ["params", ...Object.keys(this.defaults)]);
    const overrides = Object.fromEntries(
      Object.entries(input).filter(([key, value]) => key !== "params" && value !== undefined),
    );
    const group = { ...copyValues(this.defaults), ...copyValues(overrides), params } as ParamGroup<H>;
    this.validate(group, where);
    this.paramGroups.push(group);
  }

  /** Clears every parameter's gradient: to null (default, like torch), or to zeros. */
  zeroGrad(setToNull = true): void {
    for (const group of this.paramGroups) {
      for (const p of group.params) {
        if (p.grad !== null) p.grad = setToNull ? null : zerosLike(p.grad);
      }
    }
  }

  /**
   * Updates every parameter that has a gradient (frozen parameters and those without a gradient are
   * skipped). `closure`, if given, re-evaluates the model and returns the loss; step returns its value.
   * @example loss.backward(); optimizer.step(); optimizer.zeroGrad();
   */
  step<T = undefined>(closure?: () => T): T | undefined {
    const loss = closure ? enableGrad(closure) : undefined;
    noGrad(() => {
      this.paramGroups.forEach((group, g) => {
        // Schedulers and users write hyperparameters directly; a bad value should fail here, not as NaNs.
        this.validate(group, this.describeGroup(g));
        for (const p of group.params) {
          if (!p.requiresGrad || p.grad === null) continue;
          const inPlace = this.updatedStorage.get(p) === p.storage;
          const { param, state } = this.update(p, p.grad, this.state.get(p) ?? ({} as S), group, inPlace);
          p.assign(param);
          this.updatedStorage.set(p, p.storage);
          this.state.set(p, state);
          // State tensors outlive the scope of this step (wasm frees what a scope does not keep).
          for (const v of Object.values(state as object)) if (v instanceof Tensor) v.keep();
        }
      });
    });
    return loss;
  }

  /** The optimizer's state as a JSON-serialisable object (state tensors copied to number arrays). */
  stateDict(): OptimizerStateDict {
    const indices = this.paramIndices();
    const state: OptimizerStateDict["state"] = {};
    for (const [p, s] of this.state) {
      const index = indices.get(p);
      if (index === undefined) continue;
      const entry: Record<string, number | SerializedTensor> = {};
      for (const [key, value] of Object.entries(s)) {
        if (value instanceof Tensor) entry[key] = serializeTensor(value);
        else if (typeof value === "number") entry[key] = value;
      }
      state[String(index)] = entry;
    }
    const paramGroups = this.paramGroups.map((group) => {
      const { params, ...hyper } = group;
      return { ...copyValues(hyper), params: params.map((p) => indices.get(p)!) };
    });
    return { state, paramGroups };
  }

  /**
   * Restores state saved by `stateDict()` into an optimizer built over the same parameters (same groups,
   * same sizes, same order). Hyperparameters (including a scheduled lr) are restored too.
   */
  loadStateDict(dict: OptimizerStateDict): void {
    const where = `${this.name}.loadStateDict`;
    if (!dict || !Array.isArray(dict.paramGroups) || typeof dict.state !== "object") {
      throw new Error(`${where}: expected an object with 'state' and 'paramGroups'`);
    }
    if (dict.paramGroups.length !== this.paramGroups.length) {
      throw new Error(
        `${where}: saved state has ${dict.paramGroups.length} parameter groups, this optimizer has ${this.paramGroups.length}`,
      );
    }
    const byIndex = this.paramGroups.flatMap((g) => g.params);
    dict.paramGroups.forEach((saved, g) => {
      const count = this.paramGroups[g].params.length;
      if (!Array.isArray(saved.params) || saved.params.length !== count) {
        throw new Error(
          `${where}: saved parameter group ${g} has ${saved.params?.length ?? 0} parameters, this optimizer's has ${count}`,
        );
      }
    });
    const state = new Map<Tensor, S>();
    for (const [key, entry] of Object.entries(dict.state)) {
      const p = byIndex[Number(key)];
      if (!p)
        throw new Error(
          `${where}: state for parameter ${key}, but there are only ${byIndex.length} parameters`,
        );
      const restored: Record<string, number | Tensor> = {};
      for (const [name, value] of Object.entries(entry)) {
        restored[name] =
          typeof value === "number" ? value : deserializeTensor(value, p, `${where}: state[${key}].${name}`);
      }
      state.set(p, restored as S);
    }
    const groups = dict.paramGroups.map((saved, g) => {
      const { params: _params, ...hyper } = saved;
      const group = { ...this.paramGroups[g], ...copyValues(hyper) } as ParamGroup<H>;
      this.validate(group, `${where} (param group ${g})`);
      return group;
    });
    // Mutate the existing group objects: schedulers hold references to them through the optimizer.
    groups.forEach((group, g) => Object.assign(this.paramGroups[g], group));
    this.state = state;
  }

  private describeGroup(index: number): string {
    return this.implicitGroup && index === 0 ? this.name : `${this.name} (param group ${index})`;
  }

  private paramIndices(): Map<Tensor, number> {
    const indices = new Map<Tensor, number>();
    for (const group of this.paramGroups) for (const p of group.params) indices.set(p, indices.size);
    return indices;
  }
}

function toGroupInputs<H extends BaseHyperparameters>(
  items: readonly (Tensor | ParamGroupInput<H>)[],
): ParamGroupInput<H>[] {
  if (items.length > 0 && items.every((item) => !(item instanceof Tensor)))
    return items as ParamGroupInput<H>[];
  if (items.some((item) => !(item instanceof Tensor))) {
    throw new Error("optimizer: params must be all Tensors or all parameter groups ({ params, ...options })");
  }
  return items.length === 0 ? [] : [{ params: items as Tensor[] } as unknown as ParamGroupInput<H>];
}

/** Copies arrays (e.g. Adam's betas) so groups and saved dicts never share them. */
function copyValues<T extends object>(values: T): T {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(values)) out[key] = Array.isArray(value) ? [...value] : value;
  return out as T;
}

/** A tensor as JSON-serialisable `{ shape, dtype, data }` (optimizer state dicts; exact for float32). */
export function serializeTensor(t: Tensor): SerializedTensor {
  return { shape: [...t.shape], dtype: t.dtype, data: Array.from(t.toArray()) };
}

/** Rebuilds a state tensor on `like`'s backend and dtype, checking it has `like`'s shape. */
function deserializeTensor(value: SerializedTensor, like: Tensor, where: string): Tensor {
  if (!value || !Array.isArray(value.shape) || !Array.isArray(value.data)) {
    throw new Error(`${where}: expected a number or { shape, dtype, data }`);
  }
  const sameShape = value.shape.length === like.ndim && value.shape.every((d, i) => d === like.shape[i]);
  if (!sameShape) {
    throw new Error(
      `${where}: saved shape ${formatShape(value.shape)} does not match parameter ${formatShape(like.shape)}`,
    );
  }
  return tensor(value.data, value.shape, { dtype: like.dtype, backend: like.backend.name });
}

/** Throws unless `value` is a finite number >= `min` (or > `min` when `strict`). */
export function checkAtLeast(where: string, name: string, value: unknown, min = 0, strict = false): void {
  const ok = typeof value === "number" && Number.isFinite(value) && (strict ? value > min : value >= min);
  if (!ok)
    throw new Error(
      `${where}: invalid ${name} ${String(value)} (must be a finite number ${strict ? ">" : ">="} ${min})`,
    );
}

/** Throws unless `value` is a number in [0, 1). */
export function checkUnitInterval(where: string, name: string, value: unknown): void {
  if (typeof value !== "number" || !(value >= 0 && value < 1)) {
    throw new Error(`${where}: invalid ${name} ${String(value)} (must be in [0, 1))`);
  }
}

export function checkBoolean(where: string, name: string, value: unknown): void {
  if (typeof value !== "boolean")
    throw new Error(`${where}: ${name} must be true or false, got ${String(value)}`);
}

/** The learning rate check shared by all optimizers; SGD has no default lr, so a missing one is named. */
export function checkLr(where: string, lr: unknown): void {
  if (lr === undefined)
    throw new Error(`${where}: lr is required (in the options or in every parameter group)`);
  checkAtLeast(where, "lr", lr);
}
