// Fused optimizer updates of the webgpu backend: torch's single-tensor SGD and Adam/AdamW, one thread per
// element, in f32 in the order of the js reference (src/backend/js/optim.ts). The kernels update their
// state in place; when the caller did not ask for that (`inPlace` false), the state is copied first, so a
// step never binds more than five buffers.

import type { AdamKernelParams, SgdKernelParams, Storage } from "../backend.js";
import { adamBiasCorrections } from "../js/optim.js";
import { buf, elementKernel, launchElements, out, type GpuContext } from "./context.js";
import { GpuStorage } from "./storage.js";

/** The storage itself (in place), or a copy of it in a new storage. */
function target(ctx: GpuContext, s: Storage, inPlace: boolean | undefined): Storage {
  if (inPlace) {
    if (s instanceof GpuStorage) s.host = null;
    return s;
  }
  const copy = out(ctx, s.dtype, s.size);
  ctx.rt.copy(buf(ctx, s), buf(ctx, copy), s.size * 4);
  return copy;
}

// params: 1 lr, 2 weightDecay, 3 momentum, 4 1 − dampening, 5 flags (1 maximize, 2 nesterov, 4 first step,
// 8 momentum, 16 dampening ≠ 0, 32 weight decay ≠ 0)
const SGD_WGSL = () =>
  elementKernel(
    [`read_write> P: array<f32>`, `read> G: array<f32>`, `read_write> BUF: array<f32>`],
    `let flags = pu(5u);
  var d = G[i]; if ((flags & 1u) != 0u) { d = -d; }
  if ((flags & 32u) != 0u) { d = d + P[i] * pf(2u); }
  var direction = d;
  if ((flags & 8u) != 0u) {
    var b = d;
    if ((flags & 4u) == 0u) { var dd = d; if ((flags & 16u) != 0u) { dd = d * pf(4u); } b = BUF[i] * pf(3u) + dd; }
    BUF[i] = b;
    direction = b; if ((flags & 2u) != 0u) { direction = d + b * pf(3u); }
  }
  P[i] = P[i] - direction * pf(1u);`,
  );

export function sgdUpdate(
  ctx: GpuContext,
  param: Storage,
  grad: Storage,
  momentumBuffer: Storage | null,
  h: SgdKernelParams,
): { param: Storage; momentumBuffer: Storage | null } {
  const p = target(ctx, param, h.inPlace);
  const usesMomentum = h.momentum !== 0;
  const first = usesMomentum && momentumBuffer === null;
  const b = !usesMomentum
    ? null
    : first
      ? out(ctx, param.dtype, param.size)
      : target(ctx, momentumBuffer!, h.inPlace);
  const flags =
    (h.maximize ? 1 : 0) |
    (h.nesterov ? 2 : 0) |
    (first ? 4 : 0) |
    (usesMomentum ? 8 : 0) |
    (h.dampening !== 0 ? 16 : 0) |
    (h.weightDecay !== 0 ? 32 : 0);
  // Without momentum the read-write third binding is unused: a scratch buffer stands in.
  const buffers = [p, grad, b ?? scratch(ctx)].map((s) => buf(ctx, s));
  launchElements(ctx, "sgd", SGD_WGSL, buffers, param.size, [
    { f: h.lr },
    { f: h.weightDecay },
    { f: h.momentum },
    { f: 1 - h.dampening },
    flags,
  ]);
  return { param: p, momentumBuffer: b };
}

const scratches = new WeakMap<GpuContext, Storage>();

/** A one-element storage bound where a kernel's optional output is absent. */
function scratch(ctx: GpuContext): Storage {
  let s = scratches.get(ctx);
  if (!s) {
    s = ctx.mem.alloc("float32", 1);
    ctx.mem.keep(s);
    scratches.set(ctx, s);
  }
  return s;
}

// params: 1 beta1, 2 beta2, 3 1−beta1, 4 1−beta2, 5 eps, 6 weightDecay, 7 1 − lr·wd, 8 step size,
// 9 √(1−β2ᵗ), 10 flags (1 maximize, 2 decoupled decay, 4 coupled decay, 8 amsgrad)
const ADAM_WGSL = () =>
  elementKernel(
    [
      `read_write> P: array<f32>`,
      `read> G: array<f32>`,
      `read_write> M: array<f32>`,
      `read_write> V: array<f32>`,
      `read_write> VMAX: array<f32>`,
    ],
    `let flags = pu(10u);
  var p = P[i]; if ((flags & 2u) != 0u) { p = p * pf(7u); }
  var g = G[i]; if ((flags & 1u) != 0u) { g = -g; }
  if ((flags & 4u) != 0u) { g = g + p * pf(6u); }
  let m = M[i] * pf(1u) + g * pf(3u);
  let v = V[i] * pf(2u) + (g * g) * pf(4u);
  M[i] = m; V[i] = v;
  var second = v;
  if ((flags & 8u) != 0u) { second = max(VMAX[i], v); VMAX[i] = second; }
  let denom = sqrt(second) / pf(9u) + pf(5u);
  P[i] = p - (m / denom) * pf(8u);`,
  );

export function adamUpdate(
  ctx: GpuContext,
  param: Storage,
  grad: Storage,
  expAvg: Storage,
  expAvgSq: Storage,
  maxExpAvgSq: Storage | null,
  h: AdamKernelParams,
): { param: Storage; expAvg: Storage; expAvgSq: Storage; maxExpAvgSq: Storage | null } {
  const { stepSize, bias2Sqrt } = adamBiasCorrections(h);
  const [p, m, v] = [param, expAvg, expAvgSq].map((s) => target(ctx, s, h.inPlace));
  const vmax = maxExpAvgSq === null ? null : target(ctx, maxExpAvgSq, h.inPlace);
  const flags =
    (h.maximize ? 1 : 0) |
    (h.decoupledWeightDecay && h.weightDecay !== 0 ? 2 : 0) |
    (!h.decoupledWeightDecay && h.weightDecay !== 0 ? 4 : 0) |
    (vmax !== null ? 8 : 0);
  const buffers = [p, grad, m, v, vmax ?? scratch(ctx)].map((s) => buf(ctx, s));
  launchElements(ctx, "adam", ADAM_WGSL, buffers, param.size, [
    { f: h.beta1 },
    { f: h.beta2 },
    { f: 1 - h.beta1 },
    { f: 1 - h.beta2 },
    { f: h.eps },
    { f: h.weightDecay },
    { f: 1 - h.lr * h.weightDecay },
    { f: stepSize },
    { f: bias2Sqrt },
    flags,
  ]);
  return { param: p, expAvg: m, expAvgSq: v, maxExpAvgSq: vmax };
}
