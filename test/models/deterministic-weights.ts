// The weights of test/fixtures/torch/models_forward.json, rebuilt from the state_dict keys alone (its README
// and scripts/fixtures/torchvision_models.py `deterministic_values` define them): a counter-based hash of
// (key, element index) mapped to a range chosen by the key, so a torchvision model and ours get the same
// float32 values without shipping tens of MB of weights.

import { tensor, type Tensor } from "../../src/index.js";
import type { Module } from "../../src/nn/index.js";

function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) h = Math.imul(h ^ byte, 0x01000193) >>> 0;
  return h;
}

/** u[i] in [0, 1): murmur3's fmix32 of (fnv1a(key) xor i·0x9E3779B9), divided by 2^32. */
function hash01(seed: number, i: number): number {
  let h = seed ^ Math.imul(i, 0x9e3779b9);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return ((h ^ (h >>> 16)) >>> 0) / 2 ** 32;
}

export function uniform01(key: string, count: number): Float64Array {
  const seed = fnv1a(key);
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) out[i] = hash01(seed, i);
  return out;
}

/** The float32 values of the state_dict tensor `key` of shape `shape` (same float64 formulas as Python). */
export function deterministicValues(key: string, shape: readonly number[]): Float32Array {
  const count = shape.reduce((a, b) => a * b, 1);
  const seed = fnv1a(key);
  const out = new Float32Array(count);
  const fill = (f: (u: number) => number) => {
    for (let i = 0; i < count; i++) out[i] = f(hash01(seed, i));
  };
  if (key.endsWith("running_var")) fill((u) => 0.5 + u);
  else if (key.endsWith("running_mean")) fill((u) => 0.2 * (2 * u - 1));
  else if (key.endsWith("layer_scale")) fill((u) => 0.1 + 0.4 * u);
  else if (key.endsWith("weight") && shape.length >= 2) {
    const bound = Math.sqrt(3 / shape.slice(1).reduce((a, b) => a * b, 1));
    for (let i = 0; i < count; i++) out[i] = (2 * hash01(seed, i) - 1) * bound;
  } else if (key.endsWith("weight")) fill((u) => 0.8 + 0.4 * u);
  else fill((u) => 0.1 * (2 * u - 1));
  return out;
}

/**
 * Loads the deterministic values into every float tensor of the model's state_dict, except those given in
 * `overrides` (loaded as they are) and the integer `num_batches_tracked` counters (kept).
 */
export function loadDeterministicWeights(
  model: Module,
  overrides: ReadonlyMap<string, Tensor> = new Map(),
): void {
  const state = new Map<string, Tensor>();
  for (const [key, t] of model.stateDict()) {
    if (overrides.has(key)) state.set(key, overrides.get(key)!);
    else if (key.endsWith("num_batches_tracked")) state.set(key, t);
    else state.set(key, tensor(deterministicValues(key, t.shape), [...t.shape], { backend: t.backend.name }));
  }
  model.loadStateDict(state);
}
