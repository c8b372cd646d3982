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
  try {
    return wrap(typedArrayFor(dtype, size), dtype);
  } catch (e) {
    // The engine's RangeError says only "Invalid typed array length" or "Array buffer allocation failed".
    if (!(e instanceof RangeError)) throw e;
    const bytes = size * (dtype === "float64" ? 8 : 4);
    throw new Error(
      `js backend: cannot allocate a ${dtype} tensor of ${size} values (${(bytes / 2 ** 30).toFixed(1)} GiB): ${e.message}. ` +
        `Use a smaller shape or batch`,
    );
  }
}
