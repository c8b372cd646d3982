// Direct convolution kernels of the webgpu backend (no product kernel, no workgroup memory, no barriers):
// for depthwise convolutions (one input channel per group, `multiplier` output channels each: a tiled
// product would spend 63 of its 64 rows on nothing) and for every convolution small enough that gemm.ts
// would pick its direct product kernel — on a software adapter, all of them.
// - forward: one thread per output element, over the taps inside the image (their range is computed once,
//   so the loops test no bounds) and the group's input channels innermost;
// - input gradient: one thread per input element, gathering from the outputs whose window holds it;
// - weight gradient: one thread per (weight element, chunk of output rows n·outH + oh) writing a partial
//   sum, and a second pass adding a weight's partials (split-K without the product kernel's index
//   divisions: the output columns a tap reads inside the image are a range found once per thread);
//   depthwise layers may instead run one workgroup per weight element with a workgroup reduction.
// The geometry is baked into each kernel as constants (conv-geometry.ts), one pipeline per layer shape.

import type { Conv2dGeometry, Storage } from "../backend.js";
import { LINEAR_GROUP_WGSL } from "./runtime.js";
import { usesDirectProduct } from "./gemm.js";
import { buf, elementKernel, launchElements, out, type GpuContext } from "./context.js";
import { ceilPos, geometryKey, geometryWgsl } from "./conv-geometry.js";

/** Depthwise: every group has a single input channel (and more than one group). */
export function applies(g: Conv2dGeometry): boolean {
  return g.groups > 1 && g.groups === g.inChannels;
}

/** Whether the forward runs the direct kernel here. */
export function forwardApplies(ctx: GpuContext, g: Conv2dGeometry): boolean {
  const cinG = g.inChannels / g.groups;
  const coutG = g.outChannels / g.groups;
  const taps = cinG * g.kernelH * g.kernelW;
  return applies(g) || usesDirectProduct(ctx, coutG, g.outH * g.outW, taps, g.batch * g.groups);
}

/** Whether the input gradient runs the direct kernel here. */
export function backwardInputApplies(ctx: GpuContext, g: Conv2dGeometry): boolean {
  const cinG = g.inChannels / g.groups;
  const coutG = g.outChannels / g.groups;
  const taps = coutG * g.kernelH * g.kernelW;
  return applies(g) || usesDirectProduct(ctx, cinG, g.inH * g.inW, taps, g.batch * g.groups);
}

/** Channels a thread computes together (it loads each shared input once for all): up to 4, dividing `n`. */
export function channelBlock(n: number): number {
  return [4, 3, 2, 1].find((b) => n % b === 0)!;
}

/** Columns a thread of the forward or input gradient computes together (it loads each weight once for all). */
export function columnBlock(outW: number): number {
  return Math.min(4, outW);
}

/** WGSL lines `template` for b = 0 … count−1, with `$` replaced by b. */
const unrolled = (count: number, template: string) =>
  Array.from({ length: count }, (_, b) => template.replaceAll("$", String(b))).join(" ");

/** WGSL lines `template` for every (b, p) of a cb × pb block, with `$b` and `$p` replaced. */
const block = (cb: number, pb: number, template: string) =>
  Array.from({ length: cb * pb }, (_, e) =>
    template.replaceAll("$b", String(Math.floor(e / pb))).replaceAll("$p", String(e % pb)),
  ).join(" ");

/** WGSL storing a cb × pb block column by column, each only if it lies inside the output row. */
const storeColumns = (
  cb: number,
  pb: number,
  first: string,
  width: string,
  store: (b: number, p: number) => string,
) =>
  Array.from({ length: pb }, (_, p) => {
    const lines = Array.from({ length: cb }, (_, b) => store(b, p)).join(" ");
    return p === 0 ? lines : `if (${first} + ${p} < ${width}) { ${lines} }`;
  }).join("\n  ");

// Parameters: 0 the thread count, 1 whether BIAS is real. A thread computes CB output channels
// co0 … co0+CB−1 at PB output columns ow0 … ow0+PB−1 of one row: per tap and input channel it loads CB
// weights and PB inputs for CB·PB multiply-adds. Taps whose row falls outside the image are skipped
// (a range found once); a column outside it reads a clamped index and contributes 0.
const forwardWgsl = (g: Conv2dGeometry, cb: number, pb: number) => () =>
  elementKernel(
    [`read> X: array<f32>`, `read> W: array<f32>`, `read> BIAS: array<f32>`, `read_write> Y: array<f32>`],
    `const OWB = ${Math.ceil(g.outW / pb)}; const COB = OUT_C / ${cb};
  let ow0 = i32(i % OWB) * ${pb}; let oh = i32((i / OWB) % OUT_H);
  let co0 = i32((i / (OWB * OUT_H)) % COB) * ${cb}; let n = i32(i / (OWB * OUT_H * COB));
  ${block(cb, pb, "var acc$b$p = 0.0;")}
  if (pu(1u) != 0u) { ${block(cb, pb, "acc$b$p = BIAS[co0 + $b];")} }
  let ih0 = oh * STRIDE_H - PAD_H; let iwBase = ow0 * STRIDE_W - PAD_W;
  let ki1 = min(K_H, ${ceilPos("IN_H - ih0", g.dilationH)});
  let xBase = (n * IN_C + (co0 / COUT_G) * CIN_G) * IN_PLANE;
  for (var ki = ${ceilPos("-ih0", g.dilationH)}; ki < ki1; ki++) {
    let xRow = xBase + (ih0 + ki * DIL_H) * IN_W;
    for (var kj = 0; kj < K_W; kj++) {
      ${unrolled(pb, "let iw$ = iwBase + $ * STRIDE_W + kj * DIL_W; let in$ = iw$ >= 0 && iw$ < IN_W; let col$ = clamp(iw$, 0, IN_W - 1);")}
      var xi = xRow;
      var wi = co0 * CIN_G * TAPS + ki * K_W + kj;
      for (var c = 0; c < CIN_G; c++) {
        ${unrolled(pb, "let x$ = select(0.0, X[xi + col$], in$);")}
        ${unrolled(cb, "let w$ = W[wi + $ * CIN_G * TAPS];")}
        ${block(cb, pb, "acc$b$p += w$b * x$p;")}
        xi += IN_PLANE; wi += TAPS;
      }
    }
  }
  let yi = (n * OUT_C + co0) * L + oh * OUT_W + ow0;
  ${storeColumns(cb, pb, "ow0", "OUT_W", (b, p) => `Y[yi + ${b} * L + ${p}] = acc${b}${p};`)}`,
    geometryWgsl(g),
  );

export function forward(
  ctx: GpuContext,
  x: Storage,
  w: Storage,
  bias: Storage | null,
  g: Conv2dGeometry,
): Storage {
  const y = out(ctx, x.dtype, g.batch * g.outChannels * g.outH * g.outW);
  const cb = channelBlock(g.outChannels / g.groups);
  const pb = columnBlock(g.outW);
  const threads = (g.batch * g.outChannels * g.outH * Math.ceil(g.outW / pb)) / cb;
  const buffers = [buf(ctx, x), buf(ctx, w), buf(ctx, bias ?? w), buf(ctx, y)];
  const key = `conv2d-direct|${geometryKey(g)}`;
  launchElements(ctx, key, forwardWgsl(g, cb, pb), buffers, threads, [bias ? 1 : 0]);
  return y;
}

// Parameter 0: the thread count. A thread computes CB input channels ci0 … ci0+CB−1 at PB input columns
// iw0 … iw0+PB−1 of one row, gathering from the outputs whose window holds them: per tap and output
// channel of the group it loads CB weights and PB output gradients. A tap row that reads this input row
// from no output is skipped; a column that reads none contributes 0 (a clamped index, masked).
const backwardInputWgsl = (g: Conv2dGeometry, cb: number, pb: number) => () =>
  elementKernel(
    [`read> GY: array<f32>`, `read> W: array<f32>`, `read_write> DX: array<f32>`],
    `const IWB = ${Math.ceil(g.inW / pb)}; const CIB = IN_C / ${cb};
  let iw0 = i32(i % IWB) * ${pb}; let ih = i32((i / IWB) % IN_H);
  let ci0 = i32((i / (IWB * IN_H)) % CIB) * ${cb}; let n = i32(i / (IWB * IN_H * CIB));
  let grp = ci0 / CIN_G;
  ${block(cb, pb, "var acc$b$p = 0.0;")}
  for (var ki = 0; ki < K_H; ki++) {
    let th = ih + PAD_H - ki * DIL_H;
    if (th < 0 || th % STRIDE_H != 0 || th / STRIDE_H >= OUT_H) { continue; }
    let gRow = ((n * OUT_C + grp * COUT_G) * OUT_H + th / STRIDE_H) * OUT_W;
    for (var kj = 0; kj < K_W; kj++) {
      ${unrolled(pb, "let tw$ = iw0 + $ + PAD_W - kj * DIL_W; let in$ = tw$ >= 0 && tw$ % STRIDE_W == 0 && tw$ / STRIDE_W < OUT_W; let col$ = clamp(tw$ / STRIDE_W, 0, OUT_W - 1);")}
      var gi = gRow;
      var wi = (grp * COUT_G * CIN_G + ci0 % CIN_G) * TAPS + ki * K_W + kj;
      for (var m = 0; m < COUT_G; m++) {
        ${unrolled(pb, "let g$ = select(0.0, GY[gi + col$], in$);")}
        ${unrolled(cb, "let w$ = W[wi + $ * TAPS];")}
        ${block(cb, pb, "acc$b$p += w$b * g$p;")}
        gi += L; wi += CIN_G * TAPS;
      }
    }
  }
  let xi = (n * IN_C + ci0) * IN_PLANE + ih * IN_W + iw0;
  ${storeColumns(cb, pb, "iw0", "IN_W", (b, p) => `DX[xi + ${b} * IN_PLANE + ${p}] = acc${b}${p};`)}`,
    geometryWgsl(g),
  );

export function backwardInput(ctx: GpuContext, gy: Storage, w: Storage, g: Conv2dGeometry): Storage {
  const dx = out(ctx, gy.dtype, g.batch * g.inChannels * g.inH * g.inW);
  const cb = channelBlock(g.inChannels / g.groups);
  const pb = columnBlock(g.inW);
  const threads = (g.batch * g.inChannels * g.inH * Math.ceil(g.inW / pb)) / cb;
  const buffers = [buf(ctx, gy), buf(ctx, w), buf(ctx, dx)];
  launchElements(ctx, `conv2d-dx-direct|${geometryKey(g)}`, backwardInputWgsl(g, cb, pb), buffers, threads);
  return dx;
}

/** Multiply-adds each thread of the split weight gradient sums per output channel (in whole output rows). */
const DW_CHUNK_MACS = 1024;

// Parameters: 0 the thread count (chunks × weights / (CB·kW)), 1 the batch, 2 output rows per chunk. A
// thread sums CB output channels co0 … co0+CB−1 and the kW taps of one input channel and tap row over its
// chunk of output rows: per output position it loads CB output gradients and kW inputs (a column outside
// the image reads a clamped index, masked) for CB·kW multiply-adds.
const backwardWeightWgsl = (g: Conv2dGeometry, cb: number) => () =>
  elementKernel(
    [`read> X: array<f32>`, `read> GY: array<f32>`, `read_write> OUT: array<f32>`],
    `const ROWS_OF_TAPS = OUT_C / ${cb} * CIN_G * K_H;
  let f = i % ROWS_OF_TAPS; let chunk = i32(i / ROWS_OF_TAPS);
  let ki = i32(f % K_H); let c = i32((f / K_H) % CIN_G);
  let co0 = i32(f / (CIN_G * K_H)) * ${cb}; let ci = (co0 / COUT_G) * CIN_G + c;
  let oh0 = ${ceilPos("PAD_H - ki * DIL_H", g.strideH)}; let oh1 = min(OUT_H, ${ceilPos("IN_H + PAD_H - ki * DIL_H", g.strideH)});
  let rows = pi(2u); let r1 = min(pi(1u) * OUT_H, (chunk + 1) * rows);
  ${block(cb, g.kernelW, "var acc$b$p = 0.0;")}
  for (var r = chunk * rows; r < r1; r++) {
    let n = r / OUT_H; let oh = r % OUT_H;
    if (oh >= oh0 && oh < oh1) {
      var gi = ((n * OUT_C + co0) * OUT_H + oh) * OUT_W;
      let xRow = ((n * IN_C + ci) * IN_H + oh * STRIDE_H - PAD_H + ki * DIL_H) * IN_W;
      for (var ow = 0; ow < OUT_W; ow++) {
        ${unrolled(g.kernelW, "let iw$ = ow * STRIDE_W - PAD_W + $ * DIL_W; let x$ = select(0.0, X[xRow + clamp(iw$, 0, IN_W - 1)], iw$ >= 0 && iw$ < IN_W);")}
        ${unrolled(cb, "let g$ = GY[gi + $ * L];")}
        ${block(cb, g.kernelW, "acc$b$p += g$b * x$p;")}
        gi += 1;
      }
    }
  }
  let o = u32(chunk) * (OUT_C * CIN_G * TAPS) + u32((co0 * CIN_G + c) * TAPS + ki * K_W);
  ${block(cb, g.kernelW, "OUT[o + $b * CIN_G * TAPS + $p] = acc$b$p;")}`,
    geometryWgsl(g),
  );

// Parameters: 0 the weight count, 1 the number of partial sums per weight.
const COMBINE_WGSL = () =>
  elementKernel(
    [`read> PART: array<f32>`, `read_write> DW: array<f32>`],
    `var acc = 0.0;
  for (var s = 0u; s < pu(1u); s++) { acc += PART[s * pu(0u) + i]; }
  DW[i] = acc;`,
  );

/** The weight gradient of any convolution as a split sum of direct partials (see the file comment). */
export function backwardWeightSplit(ctx: GpuContext, x: Storage, gy: Storage, g: Conv2dGeometry): Storage {
  const weights = g.outChannels * (g.inChannels / g.groups) * g.kernelH * g.kernelW;
  const cb = channelBlock(g.outChannels / g.groups);
  const dw = out(ctx, x.dtype, weights);
  const rows = g.batch * g.outH;
  const perChunk = Math.max(1, Math.min(rows, Math.round(DW_CHUNK_MACS / g.outW)));
  const chunks = Math.ceil(rows / perChunk);
  const key = `conv2d-dw-direct|${geometryKey(g)}`;
  const code = backwardWeightWgsl(g, cb);
  const params = [g.batch, perChunk];
  // A thread covers CB output channels and the kW taps of a kernel row.
  const threads = weights / cb / g.kernelW;
  if (chunks === 1) {
    launchElements(ctx, key, code, [buf(ctx, x), buf(ctx, gy), buf(ctx, dw)], threads, params);
    return dw;
  }
  const part = ctx.mem.alloc("float32", chunks * weights);
  launchElements(ctx, key, code, [buf(ctx, x), buf(ctx, gy), buf(ctx, part)], chunks * threads, params);
  launchElements(ctx, "conv2d-dw-combine", COMBINE_WGSL, [buf(ctx, part), buf(ctx, dw)], weights, [chunks]);
  ctx.mem.free(part); // back to the pool; the launches recorded above run before any reuse
  return dw;
}

const RWG = 128;

// Parameter 0 is the weight count, 1 the batch.
const backwardWeightReduceWgsl = (g: Conv2dGeometry) => () => `
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> GY: array<f32>;
@group(0) @binding(3) var<storage, read_write> DW: array<f32>;
var<workgroup> part: array<f32, ${RWG}>;
${LINEAR_GROUP_WGSL}
${geometryWgsl(g)}
@compute @workgroup_size(${RWG})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) count: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let e = i32(linearGroup(wg, count));
  if (e >= i32(pu(0u))) { return; }
  let co = e / TAPS; let ki = (e % TAPS) / K_W; let kj = e % K_W;
  let c = co / COUT_G;
  let total = pi(1u) * L;
  var acc = 0.0;
  for (var t = i32(lid); t < total; t += ${RWG}) {
    let n = t / L; let l = t % L;
    let ih = (l / OUT_W) * STRIDE_H - PAD_H + ki * DIL_H;
    let iw = (l % OUT_W) * STRIDE_W - PAD_W + kj * DIL_W;
    if (ih < 0 || ih >= IN_H || iw < 0 || iw >= IN_W) { continue; }
    acc += GY[(n * OUT_C + co) * L + l] * X[((n * IN_C + c) * IN_H + ih) * IN_W + iw];
  }
  part[lid] = acc;
  workgroupBarrier();
  for (var s = ${RWG / 2}u; s > 0u; s = s / 2u) {
    if (lid < s) { part[lid] += part[lid + s]; }
    workgroupBarrier();
  }
  if (lid == 0u) { DW[e] = part[0]; }
}`;

/** The weight gradient of a depthwise convolution: one workgroup per weight element. */
export function backwardWeight(ctx: GpuContext, x: Storage, gy: Storage, g: Conv2dGeometry): Storage {
  if (ctx.rt.preferDirect) return backwardWeightSplit(ctx, x, gy, g);
  const dw = out(ctx, x.dtype, g.outChannels * g.kernelH * g.kernelW);
  ctx.rt.launch(
    `depthwise-dw|${geometryKey(g)}`,
    backwardWeightReduceWgsl(g),
    [buf(ctx, x), buf(ctx, gy), buf(ctx, dw)],
    [dw.size, g.batch],
    dw.size,
  );
  return dw;
}
