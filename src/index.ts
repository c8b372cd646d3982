/**
 * Striate's public entry point (browser-safe: no Node-only modules are imported from here).
 *
 * @module striate
 */

export {
  Tensor,
  tensor,
  scalar,
  zeros,
  ones,
  full,
  zerosLike,
  onesLike,
  rand,
  randn,
  randint,
  arange,
  fromStorage,
} from "./tensor/tensor.js";
export type { NestedArray, TensorLike, TensorOptions, RandomOptions } from "./tensor/tensor.js";
export type { DType, TypedArray } from "./tensor/dtype.js";
export { Rng, manualSeed, globalRng } from "./tensor/rng.js";
export { noGrad, enableGrad, isGradEnabled } from "./autograd/engine.js";
export {
  setBackend,
  getBackend,
  registerBackend,
  listBackends,
  scope,
  memory,
  resetPeakMemory,
} from "./backend/registry.js";
export type { Backend, Storage, MemoryInfo } from "./backend/backend.js";
export { initWasm, setNumThreads, getNumThreads } from "./backend/wasm/index.js";
export type { InitWasmOptions, WasmBackend } from "./backend/wasm/index.js";
export { initWebGpu } from "./backend/webgpu/index.js";
export type { InitWebGpuOptions, WebGpuBackend } from "./backend/webgpu/index.js";
export * as F from "./ops/index.js";
export * as nn from "./nn/index.js";
export * as optim from "./optim/index.js";
export * as data from "./data/index.js";
export * as models from "./models/index.js";
export * as train from "./train/index.js";
export * as spec from "./spec/index.js";
export * as io from "./io/index.js";
export * as explain from "./explain/index.js";
export { importOnnx, exportOnnx, OnnxModel } from "./io/onnx.js";
export type { OnnxExportOptions } from "./io/onnx.js";
export { withBackwardOverride } from "./autograd/primitive.js";
export type { Primitive } from "./ops/primitives.js";
export type { BackwardOverride } from "./autograd/primitive.js";
export * as tune from "./tune/index.js";
export type { Shape } from "./tensor/shape.js";
export type { BackwardOptions } from "./autograd/engine.js";
export type { ScopeOptions } from "./backend/backend.js";
