// Fused softmax cross-entropy over [rows, classes]: the forward returns the per-row loss and the
// log-probabilities the backward needs, so the gradient is one pass (softmax − target) · g.
// Each row is computed in float64 and stored once in the storage's dtype.

import type { Storage } from "../backend.js";
import { alloc, arr } from "./storage.js";

export function softmaxCrossEntropy(
  logits: Storage,
  target: Storage,
  rows: number,
  classes: number,
): { loss: Storage; logProbs: Storage } {
  const x = arr(logits);
  const t = arr(target);
  const loss = alloc(logits.dtype, rows);
  const logProbs = alloc(logits.dtype, rows * classes);
  const lp = logProbs.data;
  for (let r = 0; r < rows; r++) {
    const base = r * classes;
    let max = -Infinity;
    for (let c = 0; c < classes; c++) max = Math.max(max, x[base + c]);
    let sumExp = 0;
    for (let c = 0; c < classes; c++) sumExp += Math.exp(x[base + c] - max);
    const logSum = Math.log(sumExp);
    let total = 0;
    for (let c = 0; c < classes; c++) {
      const v = x[base + c] - max - logSum;
      lp[base + c] = v;
      // 0 · (−∞) would be NaN: a class with no target mass contributes nothing, whatever its logit.
      if (t[base + c] !== 0) total += t[base + c] * v;
    }
    loss.data[r] = -total;
  }
  return { loss, logProbs };
}

export function softmaxCrossEntropyBackward(
  logProbs: Storage,
  target: Storage,
  gLoss: Storage,
  rows: number,
  classes: number,
): Storage {
  const lp = arr(logProbs);
  const t = arr(target);
  const g = arr(gLoss);
  const dx = alloc(logProbs.dtype, rows * classes);
  for (let r = 0; r < rows; r++) {
    const base = r * classes;
    for (let c = 0; c < classes; c++) dx.data[base + c] = (Math.exp(lp[base + c]) - t[base + c]) * g[r];
  }
  return dx;
}
