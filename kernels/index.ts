// Entry point of the Striate wasm kernels: re-exports every kernel family.
// Memory layout: the module imports its memory (env.memory) and allocates nothing itself; JavaScript owns
// every buffer (src/backend/wasm/memory.ts) and passes byte addresses. heapBase() is the first address past
// the module's static data, where the JavaScript allocator may start.
// Families whose every export is a kernel are re-exported whole (a new kernel there needs no line here);
// gemm and elementwise also export helpers for other families, so their kernels are listed.

// micro5x8 is exported so that Binaryen does not inline it into the driver: V8 allocates registers per
// function, and inside the large driver the 10 accumulators spill (measured: 25 vs 35 GFLOP/s).
export { gemmWorkspaceBytes, micro5x8, micro2x8, sgemm, sgemmRange, sgemmPackA } from "./gemm";
export { unary, binary, where, cast } from "./elementwise";
export * from "./conv";
export * from "./depthwise";
export * from "./winograd";
export * from "./pool";
export * from "./normalization";
export * from "./reduce";
export * from "./movement";
export * from "./losses";
export * from "./optim";

export function heapBase(): usize {
  return __heap_base;
}
