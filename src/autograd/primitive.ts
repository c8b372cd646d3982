// A primitive op states its forward (kernel calls) and its backward (ops) side by side. Families export a
// table of rules typed by `RuleTable`, so a primitive without a backward rule does not compile. What a
// backward needs beyond the inputs, output and attributes (max pooling's argmax indices, the
// log-probabilities of cross-entropy, batch norm's statistics) the forward hands to `save`; it travels in
// the node's `saved` slot, which the engine empties once backward has used it (tinygrad's saved context).
// withBackwardOverride swaps a primitive's backward for the ops recorded inside one call (guided backprop's
// ReLU, deconvnet's), without touching the rule tables or the engine.

import { isGradEnabled, type GradNode } from "./engine.js";
import type { Tensor } from "../tensor/tensor.js";
import type { Primitive } from "../ops/primitives.js";

/**
 * A primitive: attributes `A` (geometry, axes, …) fixed when it is recorded, and `S`, what its forward
 * saves for its backward (`never` for the many that need only inputs and output).
 */
export interface Rule<A, S = never> {
  forward(inputs: readonly Tensor[], attrs: A, save: (saved: S) => void): Tensor;
  /** Gradient of each input (null where not differentiable) from the output's gradient. */
  backward(
    grad: Tensor,
    inputs: readonly Tensor[],
    output: Tensor,
    attrs: A,
    saved: S,
  ): readonly (Tensor | null)[];
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type RuleTable = { readonly [name: string]: Rule<any, any> };

/** Every primitive registered so far (withBackwardOverride checks the names it is given against it). */
export const primitiveNames = new Set<string>();

/**
 * A replacement backward for one primitive: the same arguments as the primitive's own rule (the output's
 * gradient, the op's inputs and output, its attributes), returning the gradient of each input.
 */
export type BackwardOverride = (
  grad: Tensor,
  inputs: readonly Tensor[],
  output: Tensor,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  attrs: any,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  saved: any,
) => readonly (Tensor | null)[];

/** The overrides in force, innermost call last (nested calls stack; the innermost wins per primitive). */
const overrideStack: Readonly<Record<string, BackwardOverride>>[] = [];

function activeOverride(name: string): BackwardOverride | undefined {
  for (let i = overrideStack.length - 1; i >= 0; i--) {
    const found = overrideStack[i][name];
    if (found) return found;
  }
  return undefined;
}

/**
 * Runs `fn` with the backward of the named primitives replaced. The replacement is fixed when an op is
 * *recorded* (its forward runs inside `fn`); the backward may run inside or after `fn`. Ops recorded outside
 * keep their own rule, so the override never leaks into other graphs. `fn` must be synchronous.
 *
 * The override applies to every use of the primitive — `nn.ReLU` modules and `F.relu` calls inside a
 * forward() alike, since both record the `relu` primitive. Names are `Primitive`s (`relu`, `maxPool2d`, …);
 * an unknown name is a type error, and an error at run time.
 *
 * @example
 * // Guided backprop (Springenberg et al. 2015): pass only positive gradients through positive inputs.
 * const guided: BackwardOverride = (g, [x]) => [g.relu().mul(F.compare("gt", x, 0))];
 * withBackwardOverride({ relu: guided }, () => model.forward(x).sum().backward());
 */
export function withBackwardOverride<T>(
  overrides: Readonly<Partial<Record<Primitive, BackwardOverride>>>,
  fn: () => T,
): T {
  // Checked at run time too: JavaScript callers and computed keys get past the type.
  for (const name of Object.keys(overrides) as Primitive[]) {
    if (!primitiveNames.has(name)) {
      throw new Error(
        `withBackwardOverride: no primitive named '${name}'; primitives are ${[...primitiveNames].sort().join(", ")}`,
      );
    }
    if (typeof overrides[name] !== "function")
      throw new Error(`withBackwardOverride: the override for '${name}' must be a function`);
  }
  overrideStack.push(overrides as Readonly<Record<string, BackwardOverride>>);
  try {
    const result = fn();
    if (result instanceof Promise)
      throw new Error("withBackwardOverride: fn must be synchronous (it returned a Promise)");
    return result;
  } finally {
    overrideStack.pop();
  }
}

type AttrsOf<R> = R extends Rule<infer A, infer _S> ? A : never;
type SavedOf<R> = R extends Rule<infer _A, infer S> ? S : never;

/**
 * Makes the rules of a family callable as `apply(name, inputs, attrs)`, and as
 * `apply.withSaved(name, inputs, attrs)` for an op that also hands what the forward saved to its caller
 * (maxPool2dWithIndices' indices, batch norm's statistics for the running averages).
 */
export function registerRules<T extends RuleTable>(table: T) {
  for (const name of Object.keys(table)) primitiveNames.add(name);
  function withSaved<K extends keyof T & string>(
    name: K,
    inputs: readonly Tensor[],
    attrs: AttrsOf<T[K]>,
  ): { output: Tensor; saved: SavedOf<T[K]> } {
    const rule = table[name];
    let saved: SavedOf<T[K]> | undefined;
    const output = rule.forward(inputs, attrs, (s: SavedOf<T[K]>) => (saved = s));
    if (isGradEnabled() && inputs.some((t) => t.requiresGrad)) {
      const backward = (overrideStack.length > 0 && activeOverride(name)) || rule.backward;
      const node: GradNode = {
        op: name,
        inputs,
        attrs,
        saved,
        backward: (grad) => backward(grad, inputs, output, attrs, node.saved),
      };
      output.attachGradFn(node);
    }
    return { output, saved: saved as SavedOf<T[K]> };
  }
  function apply<K extends keyof T & string>(
    name: K,
    inputs: readonly Tensor[],
    attrs: AttrsOf<T[K]>,
  ): Tensor {
    return withSaved(name, inputs, attrs).output;
  }
  return Object.assign(apply, { withSaved });
}
