// The js backend stores a tensor as a plain typed array.

import type { Storage } from "../backend.js";
import type { DType, TypedArray } from "../../tensor/dtype.js";
import { typedArrayFor } from "../../tensor/dtype.js";

export interface JsStorage extends Storage {
  readonly data: TypedArray;
}

export function wrap(data: TypedArray, dtype: DType): JsStorage {
  return { dtype, size: data.length, data };
}

export function arr(s: Storage): TypedArray {
  return (s as JsStorage).data;
}

export function alloc(dtype: DType, size: number): JsStorage {
  return wrap(typedArrayFor(dtype, size), dtype);
}
