// What the picture, class-model and attack tools share when they call a model: a forward pass that must
// give logits [N, K], the gradient of an objective with respect to the input alone (parameters frozen for
// the call as the attributions do, so no weight gradient is computed or left behind), and the
// checks that turn a wrong image shape or class index into a clear error instead of NaN.

import type { Module } from "../nn/module.js";
import { Tensor, tensor } from "../tensor/tensor.js";
import { formatShape } from "../tensor/shape.js";
import { enableGrad } from "../autograd/engine.js";
import { withFrozenParameters } from "./attribution.js";

/** A model's forward as a function of a batch. */
export function forwardOf(model: Module<[x: Tensor], unknown>): (x: Tensor) => unknown {
  return (x) => model.forward(x);
}

/** The model's logits [N, K] for x; a model returning anything else is an error naming `caller`. */
export function logitsOf(model: Module<[x: Tensor], unknown>, x: Tensor, caller: string): Tensor {
  const out = forwardOf(model)(x);
  const logits =
    out instanceof Tensor
      ? out
      : typeof out === "object" && out !== null && (out as { logits?: unknown }).logits instanceof Tensor
        ? (out as { logits: Tensor }).logits
        : undefined;
  if (!logits || logits.ndim !== 2 || logits.shape[0] !== x.shape[0]) {
    const got = logits ? formatShape(logits.shape) : typeof out;
    throw new Error(`${caller}: the model must return logits [${x.shape[0]}, K] for this batch, got ${got}`);
  }
  return logits;
}

/** Checks that x is a float image batch [N, C, H, W]. */
export function checkImageBatch(x: Tensor, caller: string): void {
  if (x.ndim !== 4 || x.dtype === "int32")
    throw new Error(
      `${caller}: expected a float image batch [N, C, H, W], got ${x.dtype} ${formatShape(x.shape)}`,
    );
}

/** The class indices of `labels` (a Tensor [N] or numbers), each checked against K classes. */
export function classIndices(
  labels: Tensor | readonly number[] | number,
  n: number,
  k: number,
  caller: string,
): Int32Array {
  const values =
    labels instanceof Tensor
      ? labels.ndim === 1
        ? Array.from(labels.toArray())
        : undefined
      : typeof labels === "number"
        ? new Array<number>(n).fill(labels)
        : [...labels];
  if (!values || values.length !== n) {
    const got = labels instanceof Tensor ? formatShape(labels.shape) : `${values?.length ?? 0} values`;
    throw new Error(`${caller}: expected ${n} class indices (one per image), got ${got}`);
  }
  values.forEach((v, i) => {
    if (!Number.isInteger(v) || v < 0 || v >= k)
      throw new Error(`${caller}: class ${v} at index ${i} is out of range for a model with ${k} classes`);
  });
  return Int32Array.from(values);
}

/**
 * The value of `objective(model(x'), x')` and its gradient with respect to x' = a leaf copy of x.
 * `objective` must return a scalar tensor.
 */
export function inputGradient(
  model: Module,
  x: Tensor,
  objective: (logits: Tensor, input: Tensor) => Tensor,
  caller: string,
): { value: number; grad: Float32Array; logits: Tensor } {
  return withFrozenParameters(model, () =>
    enableGrad(() => {
      const input = tensor(Float32Array.from(x.toArray()), x.shape, { backend: x.backend.name });
      input.requiresGrad = true;
      const logits = logitsOf(model, input, caller);
      const value = objective(logits, input);
      if (value.size !== 1)
        throw new Error(`${caller}: the objective must be a scalar, got ${formatShape(value.shape)}`);
      if (!value.requiresGrad)
        throw new Error(
          `${caller}: the model's output does not depend differentiably on its input (a part of it runs under noGrad, detaches or takes an argmax)`,
        );
      value.backward();
      if (!input.grad)
        throw new Error(`${caller}: the model's output does not depend differentiably on its input`);
      return { value: value.item(), grad: Float32Array.from(input.grad.toArray()), logits: logits.detach() };
    }),
  );
}
