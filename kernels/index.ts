// Entry point of the Striate wasm kernels: re-exports every kernel family.
// Memory layout: the module imports its memory (env.memory) and allocates nothing itself; JavaScript owns
// every buffer (src/backend/wasm/memory.ts) and passes byte addresses. heapBase() is the first address past
// the module's static data, where the JavaScript allocator may start.

export { gemmWorkspaceBytes, sgemm, sgemmRange, sgemmPackA } from "./gemm";
export {
  conv2dPackWeights,
  conv2dPackedWeightsSize,
  conv2dForward,
  conv2dBackwardInput,
  conv2dBackwardWeight,
  conv2dBackwardBias,
} from "./conv";

export function heapBase(): usize {
  return __heap_base;
}
