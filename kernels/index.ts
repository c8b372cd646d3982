// Entry point of the Striate wasm kernels: re-exports every kernel family.
// Memory layout: the module imports its memory (env.memory) and allocates nothing itself; JavaScript owns
// every buffer (src/backend/wasm/memory.ts) and passes byte addresses. heapBase() is the first address past
// the module's static data, where the JavaScript allocator may start.

// micro5x8 is exported so that Binaryen does not inline it into the driver: V8 allocates registers per
// function, and inside the large driver the 10 accumulators spill (measured: 25 vs 35 GFLOP/s).
export { gemmWorkspaceBytes, micro5x8, micro2x8, sgemm, sgemmRange, sgemmPackA } from "./gemm";
export {
  conv2dPackWeights,
  conv2dPackedWeightsSize,
  conv2dPackFlippedWeights,
  conv2dForward,
  conv2dBackwardInput,
  conv2dBackwardWeight,
} from "./conv";

export {
  maxPool2dForward,
  maxPool2dBackward,
  avgPool2dForward,
  avgPool2dBackward,
  adaptiveAvgPool2dForward,
  adaptiveAvgPool2dBackward,
} from "./pool";
export { batchNormStats, batchNormForward, batchNormBackward } from "./normalization";

export {
  depthwiseConv2dForward,
  depthwiseConv2dBackwardInput,
  depthwiseConv2dBackwardWeight,
} from "./depthwise";
export {
  winogradConv2dForward,
  winogradWeights,
  winogradWeightsSize,
  winogradWorkspaceBytes,
} from "./winograd";

export { unary, binary, where, cast } from "./elementwise";
export { reduce, argmax } from "./reduce";
export { stridedCopy } from "./movement";
export { softmaxCrossEntropy, softmaxCrossEntropyBackward } from "./losses";
export { sgdUpdate, adamUpdate } from "./optim";

export function heapBase(): usize {
  return __heap_base;
}
