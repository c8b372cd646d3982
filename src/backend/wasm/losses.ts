// Typed wrapper of the fused softmax cross-entropy kernels (kernels/losses.ts): [rows, classes] f32
// logits and target probabilities; threads split rows.

import type { Backend } from "../backend.js";
import type { WasmContext } from "./context.js";
import type { WasmRuntime } from "./runtime.js";

// An exp and a few flops per element: weigh it like this many multiply-adds for the thread threshold.
const EXP_WORK = 32;

/** loss[rows] = −Σ t·logSoftmax(x) per row, and lp[rows, classes] = logSoftmax(x). */
export function softmaxCrossEntropy(
  rt: WasmRuntime,
  x: number,
  t: number,
  loss: number,
  lp: number,
  rows: number,
  classes: number,
): void {
  if (rows === 0) return;
  rt.parallel({
    name: "softmaxCrossEntropy",
    args: [x, t, loss, lp, classes],
    units: rows,
    work: rows * classes * EXP_WORK,
  });
}

/** dx[rows, classes] = (exp(lp) − t) · g[row]. */
export function softmaxCrossEntropyBackward(
  rt: WasmRuntime,
  lp: number,
  t: number,
  g: number,
  dx: number,
  rows: number,
  classes: number,
): void {
  if (rows * classes === 0) return;
  rt.parallel({
    name: "softmaxCrossEntropyBackward",
    args: [lp, t, g, dx, classes],
    units: rows,
    work: rows * classes * EXP_WORK,
  });
}

type LossMethods = Pick<Backend, "softmaxCrossEntropy" | "softmaxCrossEntropyBackward">;

/** The Backend's fused-loss methods over storages of `storages` (spread into the wasm Backend object). */
export function createLossMethods({ rt, storages }: WasmContext): LossMethods {
  return {
    softmaxCrossEntropy(logits, target, rows, classes) {
      const [px, pt] = [storages.ptr(logits), storages.ptr(target)];
      const loss = storages.alloc(logits.dtype, rows);
      const logProbs = storages.alloc(logits.dtype, rows * classes);
      softmaxCrossEntropy(rt, px, pt, loss.ptr, logProbs.ptr, rows, classes);
      return { loss, logProbs };
    },
    softmaxCrossEntropyBackward(logProbs, target, gLoss, rows, classes) {
      const [plp, pt, pg] = [storages.ptr(logProbs), storages.ptr(target), storages.ptr(gLoss)];
      const dx = storages.alloc(logProbs.dtype, rows * classes);
      softmaxCrossEntropyBackward(rt, plp, pt, pg, dx.ptr, rows, classes);
      return dx;
    },
  };
}
