// Typed wrappers of the fused optimizer kernels (kernels/optim.ts): the hyperparameters become the
// kernels' flags and f64 scalars (rounded to f32 in the kernel); threads split elements.

import type { AdamKernelParams, Backend, SgdKernelParams, Storage } from "../backend.js";
import { adamBiasCorrections } from "../js/optim.js";
import type { WasmContext } from "./context.js";
import type { WasmRuntime } from "./runtime.js";
import type { WasmStorage } from "./storage.js";

// Memory-bound (3-9 streams of f32 per element): weigh an element like this many multiply-adds.
const ELEMENT_WORK = 16;
// Thread split points on 64-byte boundaries (the allocator aligns blocks to 64 bytes).
const GRANULARITY = 16;

/** Byte addresses of one SGD call; buf is 0 when there is no buffer yet, outBuf 0 without momentum. */
export interface SgdAddresses {
  param: number;
  grad: number;
  buf: number;
  outParam: number;
  outBuf: number;
}

export function sgdUpdate(rt: WasmRuntime, n: number, a: SgdAddresses, h: SgdKernelParams): void {
  if (n === 0) return;
  const momentum = h.momentum !== 0;
  const flags =
    (h.maximize ? 1 : 0) |
    (h.weightDecay !== 0 ? 2 : 0) |
    (momentum ? 4 : 0) |
    (momentum && a.buf !== 0 ? 8 : 0) |
    (momentum && h.nesterov ? 16 : 0) |
    (h.dampening !== 0 ? 32 : 0);
  rt.parallel({
    name: "sgdUpdate",
    args: [
      a.param,
      a.grad,
      a.buf,
      a.outParam,
      a.outBuf,
      h.lr,
      h.momentum,
      1 - h.dampening,
      h.weightDecay,
      flags,
    ],
    units: n,
    work: n * ELEMENT_WORK,
    granularity: GRANULARITY,
  });
}

/** Byte addresses of one Adam call; maxExpAvgSq and outMaxExpAvgSq are 0 without AMSGrad (which they switch). */
export interface AdamAddresses {
  param: number;
  grad: number;
  expAvg: number;
  expAvgSq: number;
  maxExpAvgSq: number;
  outParam: number;
  outExpAvg: number;
  outExpAvgSq: number;
  outMaxExpAvgSq: number;
}

export function adamUpdate(rt: WasmRuntime, n: number, a: AdamAddresses, h: AdamKernelParams): void {
  if (n === 0) return;
  const decay = h.weightDecay !== 0;
  const flags =
    (h.maximize ? 1 : 0) |
    (decay && !h.decoupledWeightDecay ? 2 : 0) |
    (decay && h.decoupledWeightDecay ? 4 : 0) |
    (a.maxExpAvgSq !== 0 ? 8 : 0);
  const { stepSize, bias2Sqrt } = adamBiasCorrections(h);
  rt.parallel({
    name: "adamUpdate",
    // prettier-ignore
    args: [
      a.param, a.grad, a.expAvg, a.expAvgSq, a.maxExpAvgSq,
      a.outParam, a.outExpAvg, a.outExpAvgSq, a.outMaxExpAvgSq,
      h.beta1, h.beta2, 1 - h.beta1, 1 - h.beta2, h.eps, h.weightDecay, 1 - h.lr * h.weightDecay,
      stepSize, bias2Sqrt, flags,
    ],
    units: n,
    work: n * ELEMENT_WORK,
    granularity: GRANULARITY,
  });
}

type OptimMethods = Pick<Backend, "sgdUpdate" | "adamUpdate">;

/** Storages are otherwise immutable: the Winograd weight cache keys on them and checks this version. */
function wroteInPlace(storages: (WasmStorage | null)[]): void {
  for (const s of storages) if (s !== null) s.version++;
}

/** The Backend's fused optimizer updates over storages of `storages` (spread into the wasm Backend object). */
export function createOptimMethods({ rt, storages }: WasmContext): OptimMethods {
  const ptr = (s: Storage | null) => (s === null ? 0 : storages.ptr(s));
  const like = (s: Storage) => storages.alloc(s.dtype, s.size);
  const addr = (s: WasmStorage | null) => (s === null ? 0 : s.ptr);
  return {
    sgdUpdate(param, grad, momentumBuffer, h) {
      const [p, g, buf] = [ptr(param), ptr(grad), ptr(momentumBuffer)];
      // In place, each element is read before it is written (same index, same vector), so out may be in.
      const out = h.inPlace ? (param as WasmStorage) : like(param);
      const outBuf =
        h.momentum === 0
          ? null
          : h.inPlace && momentumBuffer !== null
            ? (momentumBuffer as WasmStorage)
            : like(param);
      sgdUpdate(rt, param.size, { param: p, grad: g, buf, outParam: out.ptr, outBuf: addr(outBuf) }, h);
      if (h.inPlace) wroteInPlace([out, outBuf]);
      return { param: out, momentumBuffer: outBuf };
    },
    adamUpdate(param, grad, expAvg, expAvgSq, maxExpAvgSq, h) {
      const inputs = [param, grad, expAvg, expAvgSq, maxExpAvgSq].map(ptr);
      const target = (s: Storage) => (h.inPlace ? (s as WasmStorage) : like(param));
      const [out, m, v] = [target(param), target(expAvg), target(expAvgSq)];
      const vmax = maxExpAvgSq !== null ? target(maxExpAvgSq) : null;
      const [p, g, m0, v0, vmax0] = inputs;
      adamUpdate(
        rt,
        param.size,
        {
          param: p,
          grad: g,
          expAvg: m0,
          expAvgSq: v0,
          maxExpAvgSq: vmax0,
          outParam: out.ptr,
          outExpAvg: m.ptr,
          outExpAvgSq: v.ptr,
          outMaxExpAvgSq: addr(vmax),
        },
        h,
      );
      if (h.inPlace) wroteInPlace([out, m, v, vmax]);
      return { param: out, expAvg: m, expAvgSq: v, maxExpAvgSq: vmax };
    },
  };
}
