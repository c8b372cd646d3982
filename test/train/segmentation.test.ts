// Segmentation metrics by hand: pixel accuracy, per-class IoU (NaN for absent classes), ignored pixels.
import { test } from "node:test";
import assert from "node:assert/strict";
import { tensor } from "../../src/index.js";
import { segmentationScores } from "../../src/train/segmentation.js";

test("segmentationScores counts pixels, skips ignored ones and averages the defined IoUs", () => {
  const target = tensor(
    [
      [
        [0, 0, 1, 255],
        [1, 1, 0, 0],
      ],
    ],
    undefined,
    { dtype: "int32" },
  );
  const predicted = tensor(
    [
      [
        [0, 1, 1, 2],
        [1, 0, 0, 0],
      ],
    ],
    undefined,
    { dtype: "int32" },
  );
  const s = segmentationScores(predicted, target, { numClasses: 4, ignoreIndex: 255 });
  // 7 scored pixels, 5 right. Class 0: TP 3, FP 1, FN 1 -> 3/5; class 1: TP 2, FP 1, FN 1 -> 2/4.
  assert.equal(s.pixelAccuracy, 5 / 7);
  assert.deepEqual(s.iou.slice(0, 2), [3 / 5, 2 / 4]);
  assert.ok(Number.isNaN(s.iou[2]) && Number.isNaN(s.iou[3]));
  assert.equal(s.meanIoU, (3 / 5 + 2 / 4) / 2);
  // Logits give the same scores through argmax over the class dim.
  const logits = tensor([
    [
      [
        [9, 0, 0, 0],
        [0, 9, 9, 9],
      ],
      [
        [0, 9, 9, 0],
        [9, 0, 0, 0],
      ],
    ],
  ]);
  assert.equal(
    segmentationScores(
      logits,
      tensor(
        [
          [
            [0, 1, 1, 0],
            [1, 0, 0, 0],
          ],
        ],
        undefined,
        { dtype: "int32" },
      ),
      { numClasses: 2 },
    ).pixelAccuracy,
    1,
  );
  assert.throws(
    () => segmentationScores(predicted, tensor([[0, 1]], undefined, { dtype: "int32" }), { numClasses: 4 }),
    /does not match target/,
  );
  assert.throws(() => segmentationScores(predicted, target, { numClasses: 2 }), /labels must be in \[0, 2\)/);
});
