// Matrix products: matmul (2-D and batched 3-D) and linear, on one gemm primitive with transpose flags so
// that backward never copies a transposed matrix.

import { registerRules, type Rule } from "../autograd/primitive.js";
import type { Tensor } from "../tensor/tensor.js";
import { broadcastShapes, formatShape } from "../tensor/shape.js";
import { checkCompatible, checkFloat, wrapLike } from "./util.js";
import { add } from "./elementwise.js";
import { expand, reshape } from "./movement.js";
import { sum } from "./reduce.js";

interface GemmAttrs {
  transA: boolean;
  transB: boolean;
}

/** [batch, rows, cols] of a 2-D or 3-D operand (batch 0 for 2-D, meaning "shared by every batch entry"). */
function dims(t: Tensor): [number, number, number] {
  return t.ndim === 2 ? [0, t.shape[0], t.shape[1]] : [t.shape[0], t.shape[1], t.shape[2]];
}

function gemmRaw(a: Tensor, b: Tensor, { transA, transB }: GemmAttrs): Tensor {
  const [ba, ra, ca] = dims(a);
  const [bb, rb, cb] = dims(b);
  const m = transA ? ca : ra;
  const k = transA ? ra : ca;
  const n = transB ? rb : cb;
  const batch = Math.max(ba, bb, 1);
  const storage = a.backend.gemm(a.storage, b.storage, {
    batch,
    m,
    n,
    k,
    transA,
    transB,
    batchStrideA: ba === 0 ? 0 : ra * ca,
    batchStrideB: bb === 0 ? 0 : rb * cb,
  });
  const batched = ba > 0 || bb > 0;
  return wrapLike(a, storage, batched ? [batch, m, n] : [m, n]);
}

/** Undo the broadcast of a 2-D operand over the batch. */
function unbatch(grad: Tensor, operand: Tensor): Tensor {
  return operand.ndim === 2 && grad.ndim === 3 ? sum(grad, 0) : grad;
}

const rules = {
  gemm: {
    forward: ([a, b], attrs) => gemmRaw(a, b, attrs),
    backward: (g, [a, b], _y, { transA, transB }) => {
      const da = !a.requiresGrad
        ? null
        : transA
          ? gemmRaw(b, g, { transA: transB, transB: true })
          : gemmRaw(g, b, { transA: false, transB: !transB });
      const db = !b.requiresGrad
        ? null
        : transB
          ? gemmRaw(g, a, { transA: true, transB: transA })
          : gemmRaw(a, g, { transA: !transA, transB: false });
      return [da && unbatch(da, a), db && unbatch(db, b)];
    },
  } satisfies Rule<GemmAttrs>,
};

const apply = registerRules(rules);

/** The primitives this family records (part of the `Primitive` union, ops/primitives.ts). */
export type MatmulPrimitive = keyof typeof rules;

/** op(a) · op(b) for 2-D or 3-D (batched) operands, with optional transposes. */
export function gemm(a: Tensor, b: Tensor, transA = false, transB = false): Tensor {
  checkCompatible("matmul", a, b);
  checkFloat("matmul", a);
  const describe = () =>
    `${formatShape(a.shape)}${transA ? "ᵀ" : ""} and ${formatShape(b.shape)}${transB ? "ᵀ" : ""}`;
  if (a.ndim < 2 || a.ndim > 3 || b.ndim < 2 || b.ndim > 3) {
    throw new Error(`matmul: operands must be 2-D or 3-D, got ${describe()}`);
  }
  const [ba, ra, ca] = dims(a);
  const [bb, rb, cb] = dims(b);
  const k = transA ? ra : ca;
  const kb = transB ? cb : rb;
  if (k !== kb) throw new Error(`matmul: inner dimensions differ (${k} vs ${kb}) for ${describe()}`);
  if (ba > 0 && bb > 0 && ba !== bb)
    throw new Error(`matmul: batch sizes differ (${ba} vs ${bb}) for ${describe()}`);
  return apply("gemm", [a, b], { transA, transB });
}

/**
 * Matrix product like torch.matmul: 1-D operands are vectors, and the leading (batch) dims of operands
 * with more than two dims broadcast against each other, e.g. [2, 1, 3, 4] · [5, 4, 6] -> [2, 5, 3, 6].
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  if (a.ndim === 0 || b.ndim === 0) {
    throw new Error(
      `matmul: operands must be at least 1-D, got ${formatShape(a.shape)} and ${formatShape(b.shape)}`,
    );
  }
  // Checked here so that the message shows the caller's shapes, not the reshaped ones gemm sees.
  const ka = a.shape[a.ndim - 1];
  const kb = b.ndim === 1 ? b.shape[0] : b.shape[b.ndim - 2];
  if (ka !== kb) {
    throw new Error(
      `matmul: inner dimensions differ (${ka} vs ${kb}) for ${formatShape(a.shape)} and ${formatShape(b.shape)}`,
    );
  }
  if (a.ndim === 1 || b.ndim === 1) {
    // A vector is a one-row (a) or one-column (b) matrix whose unit dim is dropped from the result.
    const y = matmul(a.ndim === 1 ? reshape(a, [1, -1]) : a, b.ndim === 1 ? reshape(b, [-1, 1]) : b);
    const drop = [a.ndim === 1 ? y.ndim - 2 : -1, b.ndim === 1 ? y.ndim - 1 : -1];
    return reshape(
      y,
      y.shape.filter((_, i) => !drop.includes(i)),
    );
  }
  if (a.ndim > 3 && b.ndim === 2) {
    const y = gemm(reshape(a, [-1, a.shape[a.ndim - 1]]), b);
    return reshape(y, [...a.shape.slice(0, -1), b.shape[1]]);
  }
  if (a.ndim > 3 || b.ndim > 3 || (a.ndim === 3 && b.ndim === 3 && a.shape[0] !== b.shape[0])) {
    return broadcastBatchMatmul(a, b);
  }
  return gemm(a, b);
}

/** matmul with torch's broadcasting of the leading (batch) dims, folded into one batch dim for gemm. */
function broadcastBatchMatmul(a: Tensor, b: Tensor): Tensor {
  const batchA = a.shape.slice(0, -2);
  const batchB = b.shape.slice(0, -2);
  const batch = broadcastShapes(batchA, batchB);
  if (!batch) {
    throw new Error(
      `matmul: batch dims ${formatShape(batchA)} and ${formatShape(batchB)} do not broadcast for ` +
        `${formatShape(a.shape)} and ${formatShape(b.shape)}`,
    );
  }
  // A 2-D operand stays 2-D: gemm shares it across the batch without copying.
  const fold = (t: Tensor) =>
    t.ndim === 2 ? t : reshape(expand(t, [...batch, ...t.shape.slice(-2)]), [-1, ...t.shape.slice(-2)]);
  const y = gemm(fold(a), fold(b));
  return reshape(y, [...batch, ...y.shape.slice(-2)]);
}

/**
 * y = x · weightᵀ + bias, with weight [out, in] as in torch.nn.functional.linear. x is [..., in].
 */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  if (weight.ndim !== 2)
    throw new Error(`linear: weight must be 2-D [out, in], got ${formatShape(weight.shape)}`);
  const inFeatures = weight.shape[1];
  if (x.ndim < 1 || x.shape[x.ndim - 1] !== inFeatures) {
    throw new Error(
      `linear: input ${formatShape(x.shape)} has ${x.shape[x.ndim - 1] ?? 0} features but weight ${formatShape(weight.shape)} expects ${inFeatures}`,
    );
  }
  if (bias && (bias.ndim !== 1 || bias.shape[0] !== weight.shape[0])) {
    throw new Error(
      `linear: bias ${formatShape(bias.shape)} does not match weight ${formatShape(weight.shape)} (expected [${weight.shape[0]}])`,
    );
  }
  const flat = x.ndim === 2 ? x : reshape(x, [-1, inFeatures]);
  let y = gemm(flat, weight, false, true);
  if (bias) y = add(y, bias);
  return x.ndim === 2 ? y : reshape(y, [...x.shape.slice(0, -1), weight.shape[0]]);
}
