// SGEMM kernel against a straightforward triple loop: all transpose combinations, odd sizes and tails
// around the 5x8 tile and the MC/KC/NC blocks, alpha/beta, padded leading dimensions, bias.
import { describe, it, after } from "node:test";
import assert from "node:assert/strict";
import { sgemm, type GemmArgs } from "../../../src/backend/wasm/gemm.js";
import type { WasmRuntime } from "../../../src/backend/wasm/runtime.js";
import { VARIANTS, randomArray, rng, runtime, upload } from "./helpers.js";
import { assertClose } from "../../helpers/close.js";

interface Case {
  M: number;
  N: number;
  K: number;
  transA?: boolean;
  transB?: boolean;
  alpha?: number;
  beta?: number;
  pad?: number;
  bias?: "row" | "col";
}

function reference(c: Case, a: Float32Array, b: Float32Array, c0: Float32Array, bias: Float32Array | null) {
  const { M, N, K } = c;
  const pad = c.pad ?? 0;
  const lda = (c.transA ? M : K) + pad;
  const ldb = (c.transB ? K : N) + pad;
  const ldc = N + pad;
  const alpha = c.alpha ?? 1;
  const beta = c.beta ?? 0;
  const out = Float32Array.from(c0);
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = 0;
      for (let k = 0; k < K; k++) {
        const av = c.transA ? a[k * lda + i] : a[i * lda + k];
        const bv = c.transB ? b[j * ldb + k] : b[k * ldb + j];
        s += av * bv;
      }
      let v = alpha * s + (beta === 0 ? 0 : beta * c0[i * ldc + j]);
      if (bias !== null) v += c.bias === "row" ? bias[i] : bias[j];
      out[i * ldc + j] = v;
    }
  }
  return out;
}

function run(rt: WasmRuntime, c: Case, seed: number): void {
  const rand = rng(seed);
  const pad = c.pad ?? 0;
  const rowsA = c.transA ? c.K : c.M;
  const lda = (c.transA ? c.M : c.K) + pad;
  const rowsB = c.transB ? c.N : c.K;
  const ldb = (c.transB ? c.K : c.N) + pad;
  const ldc = c.N + pad;
  const a = randomArray(rowsA * lda, rand);
  const b = randomArray(rowsB * ldb, rand);
  const c0 = randomArray(c.M * ldc, rand);
  // beta = 0 must ignore C entirely, even NaN.
  if ((c.beta ?? 0) === 0) c0.fill(NaN);
  const bias = c.bias ? randomArray(c.bias === "row" ? c.M : c.N, rand) : null;
  const expected = reference(c, a, b, c0, bias);
  if ((c.beta ?? 0) === 0 && pad > 0) {
    // Padding columns are never written.
    for (let i = 0; i < c.M; i++) for (let j = c.N; j < ldc; j++) expected[i * ldc + j] = NaN;
  }
  const pa = upload(rt, a);
  const pb = upload(rt, b);
  const pc = upload(rt, c0);
  const pbias = bias ? upload(rt, bias) : 0;
  const args: GemmArgs = {
    M: c.M,
    N: c.N,
    K: c.K,
    a: pa,
    b: pb,
    c: pc,
    transA: c.transA,
    transB: c.transB,
    alpha: c.alpha,
    beta: c.beta,
    lda,
    ldb,
    ldc,
    bias: pbias,
    biasPer: c.bias,
  };
  sgemm(rt, args);
  const got = rt.mem.readF32(pc, c.M * ldc);
  for (const p of [pa, pb, pc]) rt.mem.free(p);
  if (pbias) rt.mem.free(pbias);
  assertClose(got, expected, 1e-4 * Math.sqrt(Math.max(c.K, 1)), `sgemm ${JSON.stringify(c)}`);
}

const shapes: [number, number, number][] = [
  [1, 1, 1],
  [5, 8, 1],
  [4, 7, 3],
  [6, 9, 17],
  [13, 31, 29],
  [37, 19, 64],
  [121, 33, 257],
  [125, 24, 256],
  [3, 4101, 5],
  [250, 10, 20],
  [11, 17, 600],
  [64, 144, 27],
];

for (const v of VARIANTS) {
  describe(`sgemm (${v.name})`, () => {
    it("matches the reference for odd shapes and every transpose combination", async () => {
      const rt = await runtime(v.relaxed);
      let seed = 1;
      for (const [M, N, K] of shapes) {
        for (const transA of [false, true]) {
          for (const transB of [false, true]) run(rt, { M, N, K, transA, transB }, seed++);
        }
      }
    });

    it("applies alpha, beta and padded leading dimensions", async () => {
      const rt = await runtime(v.relaxed);
      run(rt, { M: 17, N: 23, K: 300, alpha: 0.5, beta: 1, pad: 3 }, 101);
      run(rt, { M: 9, N: 40, K: 7, alpha: -2, beta: 0.25, pad: 5, transA: true }, 102);
      run(rt, { M: 9, N: 41, K: 7, alpha: 1.5, beta: 0, pad: 2, transB: true }, 103);
    });

    it("fuses bias (per row and per column)", async () => {
      const rt = await runtime(v.relaxed);
      run(rt, { M: 23, N: 45, K: 270, bias: "row" }, 201);
      run(rt, { M: 23, N: 45, K: 31, bias: "col" }, 202);
      run(rt, { M: 7, N: 13, K: 5, bias: "col", beta: 0.5 }, 203);
    });

    it("handles K = 0 (C = beta*C + bias)", async () => {
      const rt = await runtime(v.relaxed);
      run(rt, { M: 6, N: 11, K: 0, beta: 0.5, bias: "row" }, 301);
      run(rt, { M: 6, N: 11, K: 0, beta: 0 }, 302);
    });
  });
}

describe("sgemm with 2 threads", () => {
  it("splits columns and matches the reference", async () => {
    const rt = await runtime(true, 2);
    assert.equal(rt.numThreads, 2);
    run(rt, { M: 64, N: 1031, K: 150 }, 401);
    run(rt, { M: 130, N: 515, K: 300, transA: true, transB: true, beta: 1, bias: "col" }, 402);
  });
  after(async () => (await runtime(true, 2)).dispose());
});
