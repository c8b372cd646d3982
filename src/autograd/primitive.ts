// A primitive op states its forward (kernel calls) and its backward (ops) side by side. Families export a
// table of rules typed by `RuleTable`, so a primitive without a backward rule does not compile.

import { isGradEnabled } from "./engine.js";
import type { Tensor } from "../tensor/tensor.js";

export interface Rule<A> {
  forward(inputs: readonly Tensor[], attrs: A): Tensor;
  /** Gradient of each input (null where not differentiable) from the output's gradient. */
  backward(grad: Tensor, inputs: readonly Tensor[], output: Tensor, attrs: A): readonly (Tensor | null)[];
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type RuleTable = { readonly [name: string]: Rule<any> };

/** Every primitive registered so far, for the generated coverage matrix. */
export const primitiveNames = new Set<string>();

/** Makes the rules of a family callable as `apply(name, inputs, attrs)`. */
export function registerRules<T extends RuleTable>(table: T) {
  for (const name of Object.keys(table)) primitiveNames.add(name);
  return function apply<K extends keyof T & string>(
    name: K,
    inputs: readonly Tensor[],
    attrs: T[K] extends Rule<infer A> ? A : never,
  ): Tensor {
    const rule = table[name];
    const output = rule.forward(inputs, attrs);
    if (isGradEnabled() && inputs.some((t) => t.requiresGrad)) {
      output.attachGradFn({
        op: name,
        inputs,
        attrs,
        backward: (grad) => rule.backward(grad, inputs, output, attrs),
      });
    }
    return output;
  };
}
