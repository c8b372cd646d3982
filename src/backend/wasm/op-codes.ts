// The op codes of the wasm kernels, in the one file both sides import: the AssemblyScript kernels
// (kernels/elementwise.ts, kernels/reduce.ts import it by relative path) and their TypeScript wrappers. Valid
// in both languages: enums of consecutive integers, no other syntax. The names are the Backend's
// (UnaryKind, BinaryKind, ReduceKind), so a wrapper looks a code up as `UnaryCode[kind]` and a kind without a
// code is a compile error there.

/** Unary kernel ops: y = op(x; a, b) with the scalar parameters of the Backend's UnaryParams. */
export enum UnaryCode {
  neg,
  exp,
  log,
  sqrt,
  abs,
  sign,
  square,
  reciprocal,
  relu,
  relu6,
  sigmoid,
  tanh,
  erf,
  /** x * Φ(x) */
  gelu,
  /** Φ(x) + x φ(x) */
  geluGrad,
  /** x > 0 ? x : a * x */
  leakyRelu,
  /** x > 0 ? x : a * (exp(x) - 1) */
  elu,
  /** x ** a */
  powScalar,
  /** min(max(x, a), b) */
  clamp,
  /** x > a ? 1 : 0 */
  greaterScalar,
}

/** Binary kernel ops; comparisons give 0/1 floats, maximum and minimum propagate NaN. */
export enum BinaryCode {
  add,
  sub,
  mul,
  div,
  maximum,
  minimum,
  pow,
  eq,
  gt,
  lt,
}

/** Reductions (mean is a sum scaled by the wrapper). */
export enum ReduceCode {
  sum,
  max,
  min,
}
