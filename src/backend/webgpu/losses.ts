// Fused softmax cross-entropy of the webgpu backend over [rows, classes]: the forward runs one thread per
// row (max, log-sum-exp, loss) and keeps the log-probabilities for the backward, one thread per element.

import type { Storage } from "../backend.js";
import { buf, elementKernel, launchElements, out, type GpuContext } from "./context.js";

const FORWARD_WGSL = () =>
  elementKernel(
    [
      `read> X: array<f32>`,
      `read> T: array<f32>`,
      `read_write> LOSS: array<f32>`,
      `read_write> LP: array<f32>`,
    ],
    `let classes = pu(1u); let base = i * classes;
  var mx = -infinity();
  for (var c = 0u; c < classes; c++) { mx = max(mx, X[base + c]); }
  var sumExp = 0.0;
  for (var c = 0u; c < classes; c++) { sumExp += exp(X[base + c] - mx); }
  let logSum = log(sumExp);
  var total = 0.0;
  for (var c = 0u; c < classes; c++) {
    let v = X[base + c] - mx - logSum;
    LP[base + c] = v;
    // 0 · (−∞) would be NaN: a class with no target mass contributes nothing, whatever its logit.
    if (T[base + c] != 0.0) { total += T[base + c] * v; }
  }
  LOSS[i] = -total;`,
  );

export function softmaxCrossEntropy(
  ctx: GpuContext,
  logits: Storage,
  target: Storage,
  rows: number,
  classes: number,
): { loss: Storage; logProbs: Storage } {
  const loss = out(ctx, logits.dtype, rows);
  const logProbs = out(ctx, logits.dtype, rows * classes);
  const buffers = [logits, target, loss, logProbs].map((s) => buf(ctx, s));
  launchElements(ctx, "softmax-ce", FORWARD_WGSL, buffers, rows, [classes]);
  return { loss, logProbs };
}

const BACKWARD_WGSL = () =>
  elementKernel(
    [`read> LP: array<f32>`, `read> T: array<f32>`, `read> G: array<f32>`, `read_write> DX: array<f32>`],
    `DX[i] = (exp(LP[i]) - T[i]) * G[i / pu(1u)];`,
  );

export function softmaxCrossEntropyBackward(
  ctx: GpuContext,
  logProbs: Storage,
  target: Storage,
  gLoss: Storage,
  rows: number,
  classes: number,
): Storage {
  const dx = out(ctx, logProbs.dtype, rows * classes);
  const buffers = [logProbs, target, gLoss, dx].map((s) => buf(ctx, s));
  launchElements(ctx, "softmax-ce-dx", BACKWARD_WGSL, buffers, rows * classes, [classes]);
  return dx;
}
