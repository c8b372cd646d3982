// Deterministic crops for evaluation (browser-safe): centerCrop as a loader transform, and five-/ten-crop
// test-time augmentation, whose crops are classified separately and their probabilities averaged
// (averagePredictions) — the evaluation protocol of AlexNet and ResNet papers.

import { noGrad } from "../autograd/engine.js";
import { add, div } from "../ops/elementwise.js";
import { softmax } from "../ops/softmax.js";
import { tensor, type Tensor } from "../tensor/tensor.js";
import { cropAt } from "./geometric.js";
import { pair, type RawBatch, type Size2, type Transform } from "./transforms.js";

/**
 * Crops the centre of every image (torchvision CenterCrop); a crop larger than the image is zero-padded.
 *
 * @example new DataLoader(test, { batchSize: 100, transform: centerCrop(224) })
 */
export function centerCrop(size: Size2): Transform {
  const [oh, ow] = pair("centerCrop", size);
  return (batch) => {
    const [n, , h, w] = batch.shape;
    const top = roundHalfEven((h - oh) / 2);
    const left = roundHalfEven((w - ow) / 2);
    return cropAt(batch, new Int32Array(n).fill(top), new Int32Array(n).fill(left), [oh, ow]);
  };
}

// Python's round(), which torchvision uses for the centre offset.
function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Maps a batch [N, C, H, W] to several crops of it, each [N, C, h, w]. */
export type MultiCrop = (x: Tensor) => Tensor[];

/**
 * The four corner crops and the centre crop, in torchvision's order: top-left, top-right, bottom-left,
 * bottom-right, centre.
 */
export function fiveCrop(size: Size2): MultiCrop {
  const [oh, ow] = pair("fiveCrop", size);
  return (x) => cropsOf(x, oh, ow, false);
}

/**
 * The five crops of {@link fiveCrop} followed by the same five of the mirrored batch (flipped left–right, or
 * top–bottom when `vertical`).
 *
 * @example const probs = averagePredictions(model, x, tenCrop(224));
 */
export function tenCrop(size: Size2, options: { vertical?: boolean } = {}): MultiCrop {
  const [oh, ow] = pair("tenCrop", size);
  return (x) => [
    ...cropsOf(x, oh, ow, false),
    ...cropsOf(x, oh, ow, options.vertical ? "vertical" : "horizontal"),
  ];
}

function cropsOf(x: Tensor, oh: number, ow: number, flip: false | "horizontal" | "vertical"): Tensor[] {
  if (x.ndim !== 4 || x.dtype !== "float32") {
    throw new Error(
      `tenCrop/fiveCrop: input must be float32 [N, C, H, W], got ${x.dtype} [${x.shape.join(",")}]`,
    );
  }
  const [n, c, h, w] = x.shape;
  if (oh > h || ow > w)
    throw new Error(`tenCrop/fiveCrop: crop ${oh}×${ow} is larger than the images [${x.shape.join(",")}]`);
  const values = x.toArray() as Float32Array;
  if (flip) flipInPlace(values, n * c, h, w, flip);
  const batch: RawBatch = {
    x: values,
    shape: [n, c, h, w],
    y: new Int32Array(n),
    numClasses: 0,
    indices: new Int32Array(n),
  };
  const corners: [number, number][] = [
    [0, 0],
    [0, w - ow],
    [h - oh, 0],
    [h - oh, w - ow],
    [roundHalfEven((h - oh) / 2), roundHalfEven((w - ow) / 2)],
  ];
  return corners.map(([top, left]) => {
    const crop = cropAt(batch, new Int32Array(n).fill(top), new Int32Array(n).fill(left), [oh, ow]);
    return tensor(crop.x, crop.shape, { backend: x.backend.name });
  });
}

function flipInPlace(
  x: Float32Array,
  planes: number,
  h: number,
  w: number,
  how: "horizontal" | "vertical",
): void {
  for (let p = 0; p < planes; p++) {
    const plane = x.subarray(p * h * w, (p + 1) * h * w);
    if (how === "horizontal") {
      for (let y = 0; y < h; y++) plane.subarray(y * w, (y + 1) * w).reverse();
    } else {
      const copy = plane.slice();
      for (let y = 0; y < h; y++) plane.set(copy.subarray((h - 1 - y) * w, (h - y) * w), y * w);
    }
  }
}

/** A model as a function of a batch, or any object with `forward(x)` (every nn.Module). */
export type Predictor =
  | ((x: Tensor) => Tensor)
  | {
      /** The model's output for the batch `x`. */
      forward(x: Tensor): Tensor;
    };

/**
 * Runs `model` on every crop of `x` (without recording gradients) and averages the softmax probabilities:
 * [N, K] class probabilities.
 *
 * @example
 * model.eval();
 * const probs = averagePredictions(model, x, tenCrop(24)); // x: [N,3,32,32]
 * const predicted = probs.argmax(1);
 */
export function averagePredictions(model: Predictor, x: Tensor, crops: MultiCrop): Tensor {
  const run = typeof model === "function" ? model : (t: Tensor) => model.forward(t);
  return noGrad(() => {
    const views = crops(x);
    if (views.length === 0) throw new Error("averagePredictions: the crop function returned no crops");
    let total: Tensor | null = null;
    for (const view of views) {
      const logits = run(view);
      if (logits.ndim !== 2) {
        throw new Error(
          `averagePredictions: the model must return logits [N, K], got [${logits.shape.join(",")}]`,
        );
      }
      const probs = softmax(logits, 1);
      total = total ? add(total, probs) : probs;
    }
    return div(total!, views.length);
  });
}
