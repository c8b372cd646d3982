// Typed wrapper of the SGEMM kernel (kernels/gemm.ts): C = alpha*op(A)*op(B) + beta*C (+ bias),
// row-major, addresses are byte offsets into the runtime's memory. Threads split C by columns (multiples
// of 8, the micro-tile width) after op(A) is packed once into a shared buffer.

import type { Backend } from "../backend.js";
import type { WasmContext } from "./context.js";
import type { WasmRuntime } from "./runtime.js";

export interface GemmArgs {
  M: number;
  N: number;
  K: number;
  a: number;
  b: number;
  c: number;
  transA?: boolean;
  transB?: boolean;
  alpha?: number;
  beta?: number;
  /** Leading dimensions (defaults: dense). */
  lda?: number;
  ldb?: number;
  ldc?: number;
  /** Address of a bias vector added after the product: per row (length M) or per column (length N). */
  bias?: number;
  biasPer?: "row" | "col";
}

export function sgemm(rt: WasmRuntime, p: GemmArgs): void {
  const { M, N, K } = p;
  const transA = p.transA ? 1 : 0;
  const transB = p.transB ? 1 : 0;
  const lda = p.lda ?? (transA ? M : K);
  const ldb = p.ldb ?? (transB ? K : N);
  const ldc = p.ldc ?? N;
  const alpha = p.alpha ?? 1;
  const beta = p.beta ?? 0;
  const bias = p.bias ?? 0;
  const biasMode = bias === 0 ? 0 : p.biasPer === "col" ? 2 : 1;
  if (M <= 0 || N <= 0) return;
  const work = M * N * K;
  const threads = rt.threadsFor(work, N, 8);
  const x = rt.exports;
  if (threads <= 1) {
    x.sgemmRange(
      transA,
      transB,
      M,
      K,
      alpha,
      p.a,
      lda,
      p.b,
      ldb,
      beta,
      p.c,
      ldc,
      bias,
      biasMode,
      0,
      rt.workspace(0),
      0,
      N,
    );
    return;
  }
  const packed = rt.mem.alloc(Math.ceil(M / 5) * 5 * Math.max(K, 1) * 4);
  try {
    x.sgemmPackA(transA, M, K, p.a, lda, packed);
    rt.parallel({
      name: "sgemmRange",
      args: [transA, transB, M, K, alpha, packed, lda, p.b, ldb, beta, p.c, ldc, bias, biasMode, 1],
      units: N,
      work,
      granularity: 8,
    });
  } finally {
    rt.mem.free(packed);
  }
}

/** The Backend's gemm: one SGEMM call per batch entry (a batch stride of 0 reuses the matrix). */
export function createGemmMethods(cx: WasmContext): Pick<Backend, "gemm"> {
  const { rt, ptr, alloc } = cx;
  return {
    gemm(a, b, g) {
      const pa = ptr(a);
      const pb = ptr(b);
      const { batch, m, n, k } = g;
      if (k === 0) return cx.full(a.dtype, batch * m * n, 0);
      const out = alloc(a.dtype, batch * m * n);
      for (let t = 0; t < batch; t++) {
        sgemm(rt, {
          M: m,
          N: n,
          K: k,
          a: pa + 4 * t * g.batchStrideA,
          b: pb + 4 * t * g.batchStrideB,
          c: out.ptr + 4 * t * m * n,
          transA: g.transA,
          transB: g.transB,
        });
      }
      return out;
    },
  };
}
