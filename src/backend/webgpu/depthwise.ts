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

/** WGSL lines `template` for b = 0 … count−1, with `$` replaced by b. */
const unrolled = (count: number, template: string) =>
  Array.from({ length: count }, (_, b) => template.replaceAll("$", String(b))).join(" ");

// Parameters: 0 the thread count (outputs / CB), 1 whether BIAS is real. A thread computes CB output
// channels co0 … co0+CB−1 of one output position.
const forwardWgsl = (g: Conv2dGeometry, cb: number) => () =>
  elementKernel(
    [`read> X: array<f32>`, `read> W: array<f32>`, `read> BIAS: array<f32>`, `read_write> Y: array<f32>`],
    `let ow = i32(i % OUT_W); let oh = i32((i / OUT_W) % OUT_H);
  let co0 = i32((i / L) % (OUT_C / ${cb})) * ${cb}; let n = i32(i / (L * (OUT_C / ${cb})));
  ${unrolled(cb, "var acc$ = 0.0;")}
  if (pu(1u) != 0u) { ${unrolled(cb, "acc$ = BIAS[co0 + $];")} }
  let ih0 = oh * STRIDE_H - PAD_H; let iw0 = ow * STRIDE_W - PAD_W;
  let ki1 = min(K_H, ${ceilPos("IN_H - ih0", g.dilationH)}); let kj1 = min(K_W, ${ceilPos("IN_W - iw0", g.dilationW)});
  let xBase = (n * IN_C + (co0 / COUT_G) * CIN_G) * IN_PLANE + ih0 * IN_W + iw0;
  for (var ki = ${ceilPos("-ih0", g.dilationH)}; ki < ki1; ki++) {
    for (var kj = ${ceilPos("-iw0", g.dilationW)}; kj < kj1; kj++) {
      var xi = xBase + ki * DIL_H * IN_W + kj * DIL_W;
      var wi = co0 * CIN_G * TAPS + ki * K_W + kj;
      for (var c = 0; c < CIN_G; c++) {
        let xv = X[xi];
        ${unrolled(cb, "acc$ += W[wi + $ * CIN_G * TAPS] * xv;")}
        xi += IN_PLANE; wi += TAPS;
      }
    }
  }
  let yi = (n * OUT_C + co0) * L + oh * OUT_W + ow;
  ${unrolled(cb, "Y[yi + $ * L] = acc$;")}`,
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
  const buffers = [buf(ctx, x), buf(ctx, w), buf(ctx, bias ?? w), buf(ctx, y)];
  const key = `conv2d-direct|${geometryKey(g)}`;
  launchElements(ctx, key, forwardWgsl(g, cb), buffers, y.size / cb, [bias ? 1 : 0]);
  return y;
}

/** WGSL: `continue` unless tap k of a window reads input position `pos` from an output `o` (then defined). */
const outputOf = (
  o: string,
  pos: string,
  k: string,
  pad: string,
  dil: string,
  stride: string,
  size: string,
) =>
  `let t${o} = ${pos} + ${pad} - ${k} * ${dil};
      if (t${o} < 0 || t${o} % ${stride} != 0 || t${o} / ${stride} >= ${size}) { continue; }
      let ${o} = t${o} / ${stride};`;

// Parameter 0: the thread count (inputs / CB). A thread computes CB input channels ci0 … ci0+CB−1 of one
// input position.
const backwardInputWgsl = (g: Conv2dGeometry, cb: number) => () =>
  elementKernel(
    [`read> GY: array<f32>`, `read> W: array<f32>`, `read_write> DX: array<f32>`],
    `let iw = i32(i % IN_W); let ih = i32((i / IN_W) % IN_H);
  let ci0 = i32((i / IN_PLANE) % (IN_C / ${cb})) * ${cb}; let n = i32(i / (IN_PLANE * (IN_C / ${cb})));
  let grp = ci0 / CIN_G;
  ${unrolled(cb, "var acc$ = 0.0;")}
  for (var ki = 0; ki < K_H; ki++) {
    ${outputOf("oh", "ih", "ki", "PAD_H", "DIL_H", "STRIDE_H", "OUT_H")}
    for (var kj = 0; kj < K_W; kj++) {
      ${outputOf("ow", "iw", "kj", "PAD_W", "DIL_W", "STRIDE_W", "OUT_W")}
      var gi = ((n * OUT_C + grp * COUT_G) * OUT_H + oh) * OUT_W + ow;
      var wi = (grp * COUT_G * CIN_G + ci0 % CIN_G) * TAPS + ki * K_W + kj;
      for (var m = 0; m < COUT_G; m++) {
        let gv = GY[gi];
        ${unrolled(cb, "acc$ += W[wi + $ * TAPS] * gv;")}
        gi += L; wi += CIN_G * TAPS;
      }
    }
  }
  let xi = (n * IN_C + ci0) * IN_PLANE + ih * IN_W + iw;
  ${unrolled(cb, "DX[xi + $ * IN_PLANE] = acc$;")}`,
    geometryWgsl(g),
  );

export function backwardInput(ctx: GpuContext, gy: Storage, w: Storage, g: Conv2dGeometry): Storage {
  const dx = out(ctx, gy.dtype, g.batch * g.inChannels * g.inH * g.inW);
  const cb = channelBlock(g.inChannels / g.groups);
  const buffers = [buf(ctx, gy), buf(ctx, w), buf(ctx, dx)];
  launchElements(ctx, `conv2d-dx-direct|${geometryKey(g)}`, backwardInputWgsl(g, cb), buffers, dx.size / cb);
  return dx;
}

/** Multiply-adds each thread of the split weight gradient sums per output channel (in whole output rows). */
const DW_CHUNK_MACS = 1024;

// Parameters: 0 the thread count (chunks × weights / CB), 1 the batch, 2 output rows per chunk. A thread
// sums CB output channels co0 … co0+CB−1 of one input channel and tap over its chunk of output rows.
const backwardWeightWgsl = (g: Conv2dGeometry, cb: number) => () =>
  elementKernel(
    [`read> X: array<f32>`, `read> GY: array<f32>`, `read_write> OUT: array<f32>`],
    `let f = i % (OUT_C / ${cb} * CIN_G * TAPS); let chunk = i32(i / (OUT_C / ${cb} * CIN_G * TAPS));
  let kj = i32(f % K_W); let ki = i32((f / K_W) % K_H); let c = i32((f / TAPS) % CIN_G);
  let co0 = i32(f / (CIN_G * TAPS)) * ${cb}; let ci = (co0 / COUT_G) * CIN_G + c;
  let oh0 = ${ceilPos("PAD_H - ki * DIL_H", g.strideH)}; let oh1 = min(OUT_H, ${ceilPos("IN_H + PAD_H - ki * DIL_H", g.strideH)});
  let ow0 = ${ceilPos("PAD_W - kj * DIL_W", g.strideW)}; let ow1 = min(OUT_W, ${ceilPos("IN_W + PAD_W - kj * DIL_W", g.strideW)});
  let rows = pi(2u); let r1 = min(pi(1u) * OUT_H, (chunk + 1) * rows);
  ${unrolled(cb, "var acc$ = 0.0;")}
  for (var r = chunk * rows; r < r1; r++) {
    let n = r / OUT_H; let oh = r % OUT_H;
    if (oh < oh0 || oh >= oh1) { continue; }
    var gi = ((n * OUT_C + co0) * OUT_H + oh) * OUT_W + ow0;
    var xi = ((n * IN_C + ci) * IN_H + oh * STRIDE_H - PAD_H + ki * DIL_H) * IN_W + ow0 * STRIDE_W - PAD_W + kj * DIL_W;
    for (var ow = ow0; ow < ow1; ow++) {
      let xv = X[xi];
      ${unrolled(cb, "acc$ += GY[gi + $ * L] * xv;")}
      gi += 1; xi += STRIDE_W;
    }
  }
  let o = u32(chunk) * (OUT_C * CIN_G * TAPS) + u32(co0 * CIN_G * TAPS + c * TAPS + ki * K_W + kj);
  ${unrolled(cb, "OUT[o + $ * CIN_G * TAPS] = acc$;")}`,
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
  if (chunks === 1) {
    launchElements(ctx, key, code, [buf(ctx, x), buf(ctx, gy), buf(ctx, dw)], weights / cb, params);
    return dw;
  }
  const part = ctx.mem.alloc("float32", chunks * weights);
  launchElements(
    ctx,
    key,
    code,
    [buf(ctx, x), buf(ctx, gy), buf(ctx, part)],
    (chunks * weights) / cb,
    params,
  );
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
