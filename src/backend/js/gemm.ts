// Batched matrix multiply C[b] = op(A[b]) · op(B[b]), row-major. The reference kernel: i-k-j loop order
// so the innermost loop streams rows of B and C.

import type { GemmGeometry, Storage } from "../backend.js";
import { alloc, arr } from "./storage.js";

export function gemm(a: Storage, b: Storage, g: GemmGeometry): Storage {
  const { batch, m, n, k, transA, transB, batchStrideA, batchStrideB } = g;
  const av = arr(a);
  const bv = arr(b);
  const out = alloc(a.dtype, batch * m * n);
  const c = out.data;
  // Element strides of op(A) as [m, k] and op(B) as [k, n].
  const aRow = transA ? 1 : k;
  const aCol = transA ? m : 1;
  const bRow = transB ? 1 : n;
  const bCol = transB ? k : 1;
  for (let t = 0; t < batch; t++) {
    const aBase = t * batchStrideA;
    const bBase = t * batchStrideB;
    const cBase = t * m * n;
    for (let i = 0; i < m; i++) {
      const cRow = cBase + i * n;
      for (let p = 0; p < k; p++) {
        const aip = av[aBase + i * aRow + p * aCol];
        const bp = bBase + p * bRow;
        for (let j = 0; j < n; j++) c[cRow + j] += aip * bv[bp + j * bCol];
      }
    }
  }
  return out;
}
