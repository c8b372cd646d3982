// Fused optimizer updates: torch's single-tensor SGD and Adam/AdamW, one pass per parameter.
// Every operation is rounded to the storage's dtype in the order the op-by-op formulation used
// (`src/optim/*.ts` before fusion, and torch), so float32 results are bit-identical to that formulation
// and float64 ones exact up to float64 rounding; scalars are rounded like 0-d tensors of the dtype.

import type { AdamKernelParams, SgdKernelParams, Storage } from "../backend.js";
import type { DType } from "../../tensor/dtype.js";
import { alloc, arr } from "./storage.js";

/** Rounds a float64 result to the dtype's precision (float32 arithmetic emulated exactly). */
function rounding(dtype: DType): (v: number) => number {
  return dtype === "float32" ? Math.fround : (v) => v;
}

/** Adam's bias-corrected scalars for step t: lr/(1−β1ᵗ) and √(1−β2ᵗ), in float64 like torch. */
export function adamBiasCorrections(h: AdamKernelParams): { stepSize: number; bias2Sqrt: number } {
  return {
    stepSize: h.lr / (1 - h.beta1 ** h.step),
    bias2Sqrt: Math.sqrt(1 - h.beta2 ** h.step),
  };
}

/** d = ±g (+ wd·p); buf = d at first, then momentum·buf + (1 − dampening)·d; p −= lr·(buf or d + momentum·buf). */
export function sgdUpdate(
  param: Storage,
  grad: Storage,
  momentumBuffer: Storage | null,
  h: SgdKernelParams,
): { param: Storage; momentumBuffer: Storage | null } {
  const r = rounding(param.dtype);
  const p = arr(param);
  const g = arr(grad);
  const buf = momentumBuffer === null ? null : arr(momentumBuffer);
  const lr = r(h.lr);
  const wd = r(h.weightDecay);
  const momentum = r(h.momentum);
  const keep = r(1 - h.dampening);
  const out = h.inPlace ? param : alloc(param.dtype, param.size);
  const outBuf =
    h.momentum === 0
      ? null
      : h.inPlace && momentumBuffer !== null
        ? momentumBuffer
        : alloc(param.dtype, param.size);
  const [pOut, bufOut] = [arr(out), outBuf === null ? null : arr(outBuf)];
  for (let i = 0; i < p.length; i++) {
    let d = h.maximize ? -g[i] : g[i];
    if (h.weightDecay !== 0) d = r(d + r(p[i] * wd));
    let direction = d;
    if (bufOut !== null) {
      const b = buf === null ? d : r(r(buf[i] * momentum) + (h.dampening === 0 ? d : r(d * keep)));
      bufOut![i] = b;
      direction = h.nesterov ? r(d + r(b * momentum)) : b;
    }
    pOut[i] = r(p[i] - r(direction * lr));
  }
  return { param: out, momentumBuffer: outBuf };
}

/**
 * g = ±grad (+ wd·p for Adam; p·(1 − lr·wd) first for AdamW); m = β1·m + (1−β1)·g; v = β2·v + (1−β2)·g²;
 * p −= (m / (√v̂ / √(1−β2ᵗ) + eps)) · lr/(1−β1ᵗ), with v̂ = max(vmax, v) under AMSGrad, else v.
 */
export function adamUpdate(
  param: Storage,
  grad: Storage,
  expAvg: Storage,
  expAvgSq: Storage,
  maxExpAvgSq: Storage | null,
  h: AdamKernelParams,
): { param: Storage; expAvg: Storage; expAvgSq: Storage; maxExpAvgSq: Storage | null } {
  const r = rounding(param.dtype);
  const p = arr(param);
  const g = arr(grad);
  const m0 = arr(expAvg);
  const v0 = arr(expAvgSq);
  const vmax0 = maxExpAvgSq === null ? null : arr(maxExpAvgSq);
  const { stepSize, bias2Sqrt } = adamBiasCorrections(h);
  const [beta1, beta2, keep1, keep2] = [h.beta1, h.beta2, 1 - h.beta1, 1 - h.beta2].map(r);
  const [eps, wd, decay, size, bias2] = [
    h.eps,
    h.weightDecay,
    1 - h.lr * h.weightDecay,
    stepSize,
    bias2Sqrt,
  ].map(r);
  const decoupled = h.decoupledWeightDecay && h.weightDecay !== 0;
  const coupled = !h.decoupledWeightDecay && h.weightDecay !== 0;
  const target = (s: Storage) => (h.inPlace ? s : alloc(param.dtype, param.size));
  const [out, m, v] = [target(param), target(expAvg), target(expAvgSq)];
  const vmax = maxExpAvgSq === null ? null : target(maxExpAvgSq);
  const [pOut, mOut, vOut] = [arr(out), arr(m), arr(v)];
  const vmaxOut = vmax === null ? null : arr(vmax);
  for (let i = 0; i < p.length; i++) {
    const pi = decoupled ? r(p[i] * decay) : p[i];
    let gi = h.maximize ? -g[i] : g[i];
    if (coupled) gi = r(gi + r(pi * wd));
    const mi = r(r(m0[i] * beta1) + r(gi * keep1));
    const vi = r(r(v0[i] * beta2) + r(r(gi * gi) * keep2));
    mOut[i] = mi;
    vOut[i] = vi;
    let second = vi;
    if (vmaxOut !== null) {
      second = Math.max(vmax0![i], vi);
      vmaxOut[i] = second;
    }
    const denom = r(r(r(Math.sqrt(second)) / bias2) + eps);
    pOut[i] = r(pi - r(r(mi / denom) * size));
  }
  return { param: out, expAvg: m, expAvgSq: v, maxExpAvgSq: vmax };
}
