// The raw exports of the kernel module (kernels/index.ts): byte addresses and sizes as numbers.
// Every function that takes (ws, u0, u1) computes work units [u0, u1) with workspace ws, so the thread pool
// can hand the same call to several threads with different ranges.

type Ptr = number;

export interface KernelExports {
  heapBase(): Ptr;
  gemmWorkspaceBytes(): number;
  sgemm(
    transA: number,
    transB: number,
    M: number,
    N: number,
    K: number,
    alpha: number,
    a: Ptr,
    lda: number,
    b: Ptr,
    ldb: number,
    beta: number,
    c: Ptr,
    ldc: number,
    ws: Ptr,
  ): void;
  sgemmRange(
    transA: number,
    transB: number,
    M: number,
    K: number,
    alpha: number,
    a: Ptr,
    lda: number,
    b: Ptr,
    ldb: number,
    beta: number,
    c: Ptr,
    ldc: number,
    bias: Ptr,
    biasMode: number,
    act: number,
    aPacked: number,
    ws: Ptr,
    j0: number,
    j1: number,
  ): void;
  sgemmPackA(transA: number, M: number, K: number, a: Ptr, lda: number, dst: Ptr): void;
  conv2dPackWeights(w: Ptr, O: number, Kg: number, G: number, trans: number, dst: Ptr): void;
  conv2dPackedWeightsSize(O: number, Kg: number, G: number, trans: number): number;
  conv2dForward(...args: number[]): void;
  conv2dBackwardInput(...args: number[]): void;
  conv2dBackwardWeight(...args: number[]): void;
  [name: string]: (...args: number[]) => number | void;
}
