// Classification metrics computed on the host from logits and targets: accuracy, top-k accuracy and the
// confusion matrix. They read values out once per batch (a few kilobytes), which is cheaper than building
// extra graph ops, and they accept both class-index targets and soft targets (mixup, label smoothing).

import type { Tensor } from "../tensor/tensor.js";
import { formatShape } from "../tensor/shape.js";

/** Per-row argmax of a [N, K] array laid out row-major; a NaN wins, as in torch.argmax. */
export function rowArgmax(values: ArrayLike<number>, rows: number, cols: number): Int32Array {
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    let best = 0;
    let bestValue = values[r * cols];
    for (let c = 1; c < cols && !Number.isNaN(bestValue); c++) {
      const v = values[r * cols + c];
      if (v > bestValue || Number.isNaN(v)) {
        bestValue = v;
        best = c;
      }
    }
    out[r] = best;
  }
  return out;
}

/**
 * Class indices of a target batch: int labels [N] as they are, soft targets [N, K] by their argmax.
 * @example targetLabels(y, 10) // Int32Array of length N
 */
export function targetLabels(target: Tensor, numClasses: number): Int32Array {
  if (target.ndim === 1) return Int32Array.from(target.toArray());
  if (target.ndim === 2 && target.shape[1] === numClasses) {
    return rowArgmax(target.toArray(), target.shape[0], numClasses);
  }
  throw new Error(
    `metrics: target ${formatShape(target.shape)} is neither class indices [N] nor probabilities [N, ${numClasses}]`,
  );
}

function checkLogits(op: string, logits: Tensor): [number, number] {
  if (logits.ndim !== 2) throw new Error(`${op}: logits must be [N, K], got ${formatShape(logits.shape)}`);
  return [logits.shape[0], logits.shape[1]];
}

function rowHasNaN(values: ArrayLike<number>, start: number, length: number): boolean {
  for (let i = start; i < start + length; i++) if (Number.isNaN(values[i])) return true;
  return false;
}

/**
 * Number of rows whose true class is among the k highest logits (ties broken towards the lower index). A
 * row holding a NaN logit is never counted correct: its prediction is meaningless.
 */
export function countTopK(logits: Tensor, labels: Int32Array, k: number): number {
  const [n, classes] = checkLogits("countTopK", logits);
  if (labels.length !== n) {
    throw new Error(`countTopK: ${labels.length} labels for logits ${formatShape(logits.shape)}`);
  }
  const values = logits.toArray();
  let correct = 0;
  for (let r = 0; r < n; r++) {
    const label = labels[r];
    const own = values[r * classes + label];
    if (rowHasNaN(values, r * classes, classes)) continue;
    // Rank of the true class = how many classes beat it; a class with a lower index wins a tie.
    let better = 0;
    for (let c = 0; c < classes && better < k; c++) {
      const v = values[r * classes + c];
      if (v > own || (v === own && c < label)) better++;
    }
    if (better < k) correct++;
  }
  return correct;
}

/**
 * Fraction of rows whose argmax matches the target (class indices [N] or soft targets [N, K]).
 * @example accuracy(model.forward(x), y) // 0.97
 */
export function accuracy(logits: Tensor, target: Tensor): number {
  const [n, classes] = checkLogits("accuracy", logits);
  return n === 0 ? 0 : countTopK(logits, targetLabels(target, classes), 1) / n;
}

/** Fraction of rows whose true class is among the k largest logits. */
export function topKAccuracy(logits: Tensor, target: Tensor, k = 5): number {
  const [n, classes] = checkLogits("topKAccuracy", logits);
  return n === 0 ? 0 : countTopK(logits, targetLabels(target, classes), k) / n;
}

/**
 * A K×K confusion matrix: `matrix[t][p]` counts samples of true class t predicted as p.
 * @example const cm = new ConfusionMatrix(10); cm.update(logits, y); cm.matrix[3][5]
 */
export class ConfusionMatrix {
  readonly matrix: number[][];

  constructor(readonly numClasses: number) {
    if (!Number.isInteger(numClasses) || numClasses < 1)
      throw new Error(`ConfusionMatrix: numClasses must be a positive integer, got ${numClasses}`);
    this.matrix = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  }

  /**
   * Counts a batch: `logits` [N, K] (the prediction is the argmax) against `target` [N] class indices or [N,
   * K] soft targets (their argmax).
   */
  update(logits: Tensor, target: Tensor): void {
    const [n, classes] = checkLogits("ConfusionMatrix.update", logits);
    if (classes !== this.numClasses) {
      throw new Error(
        `ConfusionMatrix.update: logits ${formatShape(logits.shape)} have ${classes} classes, expected ${this.numClasses}`,
      );
    }
    const truth = targetLabels(target, classes);
    const predicted = rowArgmax(logits.toArray(), n, classes);
    for (let i = 0; i < n; i++) this.matrix[truth[i]][predicted[i]]++;
  }

  /** Number of samples counted. */
  get total(): number {
    return this.matrix.reduce((s, row) => s + row.reduce((a, b) => a + b, 0), 0);
  }

  /** Trace over total. */
  accuracy(): number {
    const total = this.total;
    return total === 0 ? 0 : this.matrix.reduce((s, row, i) => s + row[i], 0) / total;
  }

  /** Recall of each class (diagonal over row sum); NaN-free: 0 for a class with no samples. */
  perClassRecall(): number[] {
    return this.matrix.map((row, i) => {
      const n = row.reduce((a, b) => a + b, 0);
      return n === 0 ? 0 : row[i] / n;
    });
  }
}
