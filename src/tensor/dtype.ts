// Element types a tensor can hold, and the typed arrays that back them on the CPU.

/** float32 for activations and weights, float64 for gradient checks, int32 for labels and indices. */
export type DType = "float32" | "float64" | "int32";

/** The typed array backing each dtype: Float32Array, Float64Array or Int32Array. */
export type TypedArray = Float32Array | Float64Array | Int32Array;

export function typedArrayFor(dtype: DType, size: number): TypedArray {
  switch (dtype) {
    case "float32":
      return new Float32Array(size);
    case "float64":
      return new Float64Array(size);
    case "int32":
      return new Int32Array(size);
  }
}

export function dtypeOf(array: TypedArray): DType {
  if (array instanceof Float32Array) return "float32";
  if (array instanceof Float64Array) return "float64";
  return "int32";
}

export function isFloat(dtype: DType): boolean {
  return dtype !== "int32";
}
