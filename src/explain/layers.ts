// Naming a layer to explain: by the module itself or by its dotted name as namedModules() spells it
// ("features.4", "layer4.1.conv2"). A wrong name is the most common mistake, so the error lists the valid
// ones.

import { Module } from "../nn/module.js";

/** A layer given as the module itself or as its dotted name in the model (`"features.4"`). */
export type LayerRef = Module | string;

/** The module `ref` names inside `model`, with its dotted name. */
export function resolveLayer(
  model: Module,
  ref: LayerRef,
  caller = "explain",
): { name: string; module: Module } {
  const named = model.namedModules();
  if (ref instanceof Module) {
    const found = named.find(([, m]) => m === ref);
    if (!found)
      throw new Error(
        `${caller}: the given ${ref.constructor.name} is not a layer of this ${model.constructor.name}`,
      );
    return { name: found[0], module: found[1] };
  }
  const found = named.find(([name]) => name === ref);
  if (!found) {
    const valid = named.filter(([name]) => name !== "").map(([name, m]) => `${name} (${m.constructor.name})`);
    throw new Error(
      `${caller}: no layer named '${ref}' in ${model.constructor.name}; valid names: ${valid.join(", ")}`,
    );
  }
  return { name: found[0], module: found[1] };
}
