// Batched matrix multiply on the GPU, and the product kernels that convolution reuses. The tiled kernel: a
// workgroup of 16×16 threads computes a 64×64 block of C, each thread a 4×4 register tile; A and B pass
// through workgroup memory 16 columns of K at a time. Small products (or ones with fewer than 16 rows or
// columns, which would leave most of a 64×64 tile idle) run the direct kernel instead: one thread per
// element of C, no workgroup memory and no barriers. How an element of A or B is found (strides,
// transposes, or an implicit im2col for convolution) is WGSL given by the caller, so both kernel shapes
// serve every product.

import type { GemmGeometry, Storage } from "../backend.js";
import { LINEAR_GROUP_WGSL, PARAM_WORDS, type Param } from "./runtime.js";
import { buf, out, type GpuContext } from "./context.js";
import { full } from "./elementwise.js";

const TILE = 64;
const KT = 16;

/** The caller's part of a tiled product: bindings, helpers and the three element functions. */
export interface TiledProduct {
  /** Declarations of bindings 1.. (the output included). */
  bindings: string;
  /** fn loadA(b: u32, row: u32, k: u32) -> f32, fn loadB(b: u32, k: u32, col: u32) -> f32 and
   * fn store(b: u32, row: u32, col: u32, v: f32), plus anything they need; M, N, K are params 0, 1, 2. */
  functions: string;
  /**
   * Optional fn dotK(b: u32, row: u32, col: u32, k0: u32, k1: u32) -> f32, the direct kernels' sum of
   * loadA·loadB over [k0, k1): a caller whose elements lie at fixed strides walks them without computing
   * each address anew (the default calls loadA and loadB per k).
   */
  dot?: string;
}

const DEFAULT_DOT = `
fn dotK(b: u32, row: u32, col: u32, k0: u32, k1: u32) -> f32 {
  var acc = 0.0;
  for (var k = k0; k < k1; k++) { acc += loadA(b, row, k) * loadB(b, k, col); }
  return acc;
}`;

/** WGSL of the tiled product C[b] (M×N) = A[b] (M×K) · B[b] (K×N), batch index from workgroup z. */
export function tiledKernel(p: TiledProduct): string {
  return `
${p.bindings}
var<workgroup> tileA: array<array<f32, ${TILE}>, ${KT}>;
var<workgroup> tileB: array<array<f32, ${TILE}>, ${KT}>;
${p.functions}
@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let M = pu(0u); let N = pu(1u); let K = pu(2u);
  let b = wg.z;
  let row0 = wg.y * ${TILE}u; let col0 = wg.x * ${TILE}u;
  let t = lid.y * 16u + lid.x;
  var acc: array<array<f32, 4>, 4>;
  for (var k0 = 0u; k0 < K; k0 += ${KT}u) {
    // 256 threads load 64×16 of A and 16×64 of B: four elements each.
    for (var q = 0u; q < 4u; q++) {
      let e = t + q * 256u;
      let ar = e / ${KT}u; let ak = e % ${KT}u;
      var va = 0.0;
      if (row0 + ar < M && k0 + ak < K) { va = loadA(b, row0 + ar, k0 + ak); }
      tileA[ak][ar] = va;
      let bk = e / ${TILE}u; let bc = e % ${TILE}u;
      var vb = 0.0;
      if (k0 + bk < K && col0 + bc < N) { vb = loadB(b, k0 + bk, col0 + bc); }
      tileB[bk][bc] = vb;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < ${KT}u; kk++) {
      var a: array<f32, 4>; var bv: array<f32, 4>;
      for (var r = 0u; r < 4u; r++) { a[r] = tileA[kk][lid.y + r * 16u]; bv[r] = tileB[kk][lid.x + r * 16u]; }
      for (var r = 0u; r < 4u; r++) { for (var c = 0u; c < 4u; c++) { acc[r][c] += a[r] * bv[c]; } }
    }
    workgroupBarrier();
  }
  for (var r = 0u; r < 4u; r++) {
    for (var c = 0u; c < 4u; c++) {
      let row = row0 + lid.y + r * 16u; let col = col0 + lid.x + c * 16u;
      if (row < M && col < N) { store(b, row, col, acc[r][c]); }
    }
  }
}`;
}

/** Rows and columns of C one thread of the direct product computes. */
const DIRECT_BLOCK = 4;

/** WGSL lines `template` for every (r, c) of the thread's block, with `$r` and `$c` replaced. */
function perElement(template: string): string {
  return Array.from({ length: DIRECT_BLOCK * DIRECT_BLOCK }, (_, e) =>
    template
      .replaceAll("$r", String(Math.floor(e / DIRECT_BLOCK)))
      .replaceAll("$c", String(e % DIRECT_BLOCK)),
  ).join(" ");
}

/** WGSL lines `template` for i = 0 … DIRECT_BLOCK−1, with `$` replaced. */
function perLine(template: string): string {
  return Array.from({ length: DIRECT_BLOCK }, (_, i) => template.replaceAll("$", String(i))).join(" ");
}

/**
 * WGSL of the direct product: one thread per 4×4 block of C (b, rows, cols), a plain loop over K that loads
 * 4 elements of A and 4 of B per 16 multiply-adds (rows and columns past the edge read the last one and are
 * not stored). No workgroup memory, no barriers.
 */
export function directKernel(p: TiledProduct): string {
  return `
${p.bindings}
${p.functions}
${LINEAR_GROUP_WGSL}
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) count: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let M = pu(0u); let N = pu(1u); let K = pu(2u);
  let RB = (M + 3u) / 4u; let CB = (N + 3u) / 4u;
  let e = linearGroup(wg, count) * 256u + lid;
  if (e >= RB * CB * pu(${PRODUCT_BATCH_PARAM}u)) { return; }
  let b = e / (RB * CB); let rowBase = ((e / CB) % RB) * 4u; let colBase = (e % CB) * 4u;
  ${perLine("let row$ = min(rowBase + $u, M - 1u); let col$ = min(colBase + $u, N - 1u);")}
  ${perElement("var acc$r$c = 0.0;")}
  for (var k = 0u; k < K; k++) {
    ${perLine("let a$ = loadA(b, row$, k); let b$ = loadB(b, k, col$);")}
    ${perElement("acc$r$c += a$r * b$c;")}
  }
  ${perElement("if (rowBase + $ru < M && colBase + $cu < N) { store(b, row$r, col$c, acc$r$c); }")}
}`;
}

/** Launch parameters of the split-K direct product (the last two words, after any caller's parameters). */
const SPLITS_PARAM = PARAM_WORDS - 2;
const CHUNK_PARAM = PARAM_WORDS - 1;

/**
 * WGSL of the split-K direct product, for few outputs over a long K (a weight gradient summed over a whole
 * batch): `partial` has one thread per (chunk of K, element of C) write its partial sum to PART; `combine`
 * sums an element's partials and stores it. Each pass names the functions of the other under a condition
 * that never holds, so that every binding stays in the pipeline's layout.
 */
export function splitKernel(p: TiledProduct, pass: "partial" | "combine"): string {
  const part = (p.bindings.match(/@binding\(/g) ?? []).length + 1;
  const body =
    pass === "partial"
      ? `if (e >= total * pu(${SPLITS_PARAM}u)) { return; }
  let f = e % total; let k0 = (e / total) * pu(${CHUNK_PARAM}u); let k1 = min(K, k0 + pu(${CHUNK_PARAM}u));
  let b = f / (M * N); let row = (f / N) % M; let col = f % N;
  PART[e] = dotK(b, row, col, k0, k1);
  if (K == 0xffffffffu) { store(0u, 0u, 0u, 0.0); }`
      : `if (e >= total) { return; }
  var acc = 0.0;
  for (var s = 0u; s < pu(${SPLITS_PARAM}u); s++) { acc += PART[s * total + e]; }
  if (K == 0xffffffffu) { acc += loadA(0u, 0u, 0u) * loadB(0u, 0u, 0u); }
  store(e / (M * N), (e / N) % M, e % N, acc);`;
  return `
${p.bindings}
@group(0) @binding(${part}) var<storage, read_write> PART: array<f32>;
${p.functions}
${p.dot ?? DEFAULT_DOT}
${LINEAR_GROUP_WGSL}
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) count: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let M = pu(0u); let N = pu(1u); let K = pu(2u);
  let total = M * N * pu(${PRODUCT_BATCH_PARAM}u);
  let e = linearGroup(wg, count) * 256u + lid;
  ${body}
}`;
}

/**
 * Products with fewer outputs than this and a K of at least SPLIT_K_MIN split K across threads (whatever
 * their size: a few tiles over a long K would leave most of a GPU idle).
 */
const SPLIT_OUTPUTS = 1 << 14;
const SPLIT_K_MIN = 2048;
/** K per thread of a split product. */
const SPLIT_CHUNK = 256;

/** Products below this many multiply-adds run the direct kernel (the tiled one pays for its barriers). */
const DIRECT_MACS = 1 << 23;

/** Whether a product with `outputs` elements of C over a K of `k` splits K across threads. */
export function splitsK(outputs: number, k: number): boolean {
  return outputs < SPLIT_OUTPUTS && k >= SPLIT_K_MIN;
}

/** Whether a product of `batch` M×K·K×N matrices runs the direct kernel rather than the tiled one. */
export function usesDirectProduct(ctx: GpuContext, m: number, n: number, k: number, batch: number): boolean {
  return ctx.rt.preferDirect || m < 16 || n < 16 || m * n * k * batch < DIRECT_MACS;
}

/** The WGSL of every kernel shape of a product, each made on first use. */
export interface ProductKernels {
  tiled: () => string;
  direct: () => string;
  partial: () => string;
  combine: () => string;
}

export function productKernels(p: TiledProduct): ProductKernels {
  const cache = new Map<string, string>();
  const once = (key: string, make: () => string) => () => {
    let code = cache.get(key);
    if (code === undefined) cache.set(key, (code = make()));
    return code;
  };
  return {
    tiled: once("tiled", () => tiledKernel(p)),
    direct: once("direct", () => directKernel(p)),
    partial: once("partial", () => splitKernel(p, "partial")),
    combine: once("combine", () => splitKernel(p, "combine")),
  };
}

/**
 * Launches a product over `batch` matrices of M×N with the tiled or the direct kernel (params after M, N, K
 * are the caller's, from index 4 on: index 3 holds the batch).
 */
export function launchProduct(
  ctx: GpuContext,
  key: string,
  kernels: ProductKernels,
  buffers: GPUBuffer[],
  m: number,
  n: number,
  k: number,
  batch: number,
  params: Param[],
): void {
  if (m === 0 || n === 0 || batch === 0) return;
  if (batch > 65535) throw new Error(`webgpu ${key}: batch ${batch} > 65535`);
  const all = [m, n, k, batch, ...params];
  const outputs = m * n * batch;
  if (splitsK(outputs, k)) {
    const splits = Math.ceil(k / SPLIT_CHUNK);
    const part = ctx.mem.alloc("float32", splits * outputs);
    const withSplits = [...all, ...new Array<number>(SPLITS_PARAM - all.length).fill(0), splits, SPLIT_CHUNK];
    const bound = [...buffers, ctx.mem.buffer(part)];
    ctx.rt.launch(`${key}-partial`, kernels.partial, bound, withSplits, Math.ceil((splits * outputs) / 256));
    ctx.rt.launch(`${key}-combine`, kernels.combine, bound, withSplits, Math.ceil(outputs / 256));
    ctx.mem.free(part); // back to the pool; the launches recorded above run before any reuse
  } else if (usesDirectProduct(ctx, m, n, k, batch)) {
    const blocks = batch * Math.ceil(m / DIRECT_BLOCK) * Math.ceil(n / DIRECT_BLOCK);
    ctx.rt.launch(`${key}-direct`, kernels.direct, buffers, all, Math.ceil(blocks / 256));
  } else {
    ctx.rt.launch(key, kernels.tiled, buffers, all, [Math.ceil(n / TILE), Math.ceil(m / TILE), batch]);
  }
}

/** Launch parameter holding the batch count; the caller's own parameters start after it. */
export const PRODUCT_BATCH_PARAM = 3;

const GEMM_KERNELS = productKernels({
  bindings: `@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<f32>;
@group(0) @binding(3) var<storage, read_write> C: array<f32>;`,
  // params: 4 aRow, 5 aCol, 6 bRow, 7 bCol, 8 batchStrideA, 9 batchStrideB
  functions: `
fn loadA(b: u32, row: u32, k: u32) -> f32 { return A[b * pu(8u) + row * pu(4u) + k * pu(5u)]; }
fn loadB(b: u32, k: u32, col: u32) -> f32 { return B[b * pu(9u) + k * pu(6u) + col * pu(7u)]; }
fn store(b: u32, row: u32, col: u32, v: f32) { C[(b * pu(0u) + row) * pu(1u) + col] = v; }`,
  dot: `
fn dotK(b: u32, row: u32, col: u32, k0: u32, k1: u32) -> f32 {
  let strideA = pu(5u); let strideB = pu(6u);
  var ia = b * pu(8u) + row * pu(4u) + k0 * strideA;
  var ib = b * pu(9u) + k0 * strideB + col * pu(7u);
  var acc = 0.0;
  for (var k = k0; k < k1; k++) { acc += A[ia] * B[ib]; ia += strideA; ib += strideB; }
  return acc;
}`,
});

export function gemm(ctx: GpuContext, a: Storage, b: Storage, g: GemmGeometry): Storage {
  const { batch, m, n, k, transA, transB } = g;
  if (k === 0) return full(ctx, a.dtype, batch * m * n, 0);
  const c = out(ctx, a.dtype, batch * m * n);
  const params = [
    transA ? 1 : k,
    transA ? m : 1,
    transB ? 1 : n,
    transB ? k : 1,
    g.batchStrideA,
    g.batchStrideB,
  ];
  launchProduct(ctx, "gemm", GEMM_KERNELS, [buf(ctx, a), buf(ctx, b), buf(ctx, c)], m, n, k, batch, params);
  return c;
}
