// Small helpers shared by the op families: scalar promotion, result wrapping, shape checks.

import type { Storage } from "../backend/backend.js";
import { Tensor, type TensorLike, full } from "../tensor/tensor.js";
import { formatShape, type Shape } from "../tensor/shape.js";

/** Wraps a kernel result on the backend of `like`. */
export function wrapLike(like: Tensor, storage: Storage, shape: Shape): Tensor {
  return new Tensor(storage, shape, like.backend);
}

/** A number becomes a 0-d tensor of `like`'s dtype and backend. */
export function asTensor(value: TensorLike, like: Tensor, op = "asTensor"): Tensor {
  if (typeof value !== "number") return value;
  // An int32 tensor cannot hold 0.5: it would silently become 0.
  if (like.dtype === "int32" && !Number.isInteger(value)) {
    throw new Error(
      `${op}: the number ${value} cannot combine with int32 tensor ${formatShape(like.shape)}; convert with .to("float32")`,
    );
  }
  return full([], value, { dtype: like.dtype, backend: like.backend.name });
}

/** Throws unless all tensors share a backend and (for floats) a dtype. */
export function checkCompatible(op: string, ...tensors: Tensor[]): void {
  const [first] = tensors;
  for (const t of tensors) {
    if (t.backend !== first.backend) {
      throw new Error(
        `${op}: tensors live on different backends (${first.backend.name} and ${t.backend.name})`,
      );
    }
    if (t.dtype !== first.dtype) {
      throw new Error(
        `${op}: dtypes differ (${first.dtype} ${formatShape(first.shape)} and ${t.dtype} ${formatShape(t.shape)}); ` +
          `convert with .to(dtype)`,
      );
    }
  }
}

export function checkFloat(op: string, t: Tensor, name = "input"): void {
  if (t.dtype === "int32")
    throw new Error(`${op}: ${name} must be a float tensor, got int32 ${formatShape(t.shape)}`);
}
