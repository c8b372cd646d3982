// Segmentation metrics, as PASCAL VOC and torchmetrics define them: a confusion matrix over pixels (pixels
// labelled ignoreIndex skipped), pixel accuracy, and per-class intersection over union TP / (TP + FP + FN)
// averaged over the classes that occur in the target or the prediction (mean IoU).

import { argmax } from "../ops/reduce.js";
import type { Tensor } from "../tensor/tensor.js";
import { formatShape } from "../tensor/shape.js";

/**
 * Scores of a segmentation (`segmentationScores`): pixel accuracy, IoU per class, mean IoU and the confusion
 * matrix.
 */
export interface SegmentationScores {
  /** Correct pixels / scored pixels. */
  pixelAccuracy: number;
  /** IoU per class (NaN for a class absent from both target and prediction). */
  iou: number[];
  /** Mean of the defined per-class IoUs. */
  meanIoU: number;
  /** confusion[target][predicted] pixel counts. */
  confusion: number[][];
}

/**
 * Scores a segmentation against its target.
 * @param prediction logits `[N, C, H, W]` (argmax over C) or labels `[N, H, W]` (int32)
 * @param target `[N, H, W]` int32 labels; pixels equal to `ignoreIndex` are not scored
 * @example segmentationScores(model.forward(x), masks, { numClasses: 4, ignoreIndex: 255 }).meanIoU
 */
export function segmentationScores(
  prediction: Tensor,
  target: Tensor,
  options: { numClasses: number; ignoreIndex?: number },
): SegmentationScores {
  const { numClasses, ignoreIndex = -100 } = options;
  if (!Number.isInteger(numClasses) || numClasses < 1)
    throw new Error(`segmentationScores: numClasses must be a positive integer, got ${numClasses}`);
  const labels = prediction.ndim === target.ndim + 1 ? argmax(prediction, 1) : prediction;
  if (labels.ndim !== target.ndim || labels.shape.some((d, i) => d !== target.shape[i]))
    throw new Error(
      `segmentationScores: prediction ${formatShape(prediction.shape)} does not match target ${formatShape(target.shape)} (expected logits [N, C, …] or labels of the target's shape)`,
    );
  const [p, t] = [labels.toArray(), target.toArray()];
  const confusion = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  let scored = 0;
  for (let i = 0; i < t.length; i++) {
    if (t[i] === ignoreIndex) continue;
    if (t[i] < 0 || t[i] >= numClasses || p[i] < 0 || p[i] >= numClasses)
      throw new Error(
        `segmentationScores: pixel ${i} has target ${t[i]} and prediction ${p[i]}; labels must be in [0, ${numClasses}) or ignoreIndex ${ignoreIndex}`,
      );
    confusion[t[i]][p[i]]++;
    scored++;
  }
  const correct = confusion.reduce((s, row, c) => s + row[c], 0);
  const iou = confusion.map((row, c) => {
    const predicted = confusion.reduce((s, r) => s + r[c], 0);
    const union = row.reduce((a, b) => a + b, 0) + predicted - row[c];
    return union === 0 ? NaN : row[c] / union;
  });
  const defined = iou.filter((v) => !Number.isNaN(v));
  return {
    pixelAccuracy: scored === 0 ? NaN : correct / scored,
    iou,
    meanIoU: defined.length === 0 ? NaN : defined.reduce((a, b) => a + b, 0) / defined.length,
    confusion,
  };
}
