// Detection ops beyond the torchvision fixtures: float64 gradient checks of boxIou, roiAlign and roiPool,
// NMS on hand-made boxes, the sampling-grid rules of RoI Align, and errors.

import { test } from "node:test";
import assert from "node:assert/strict";
import * as F from "../../src/ops/index.js";
import { tensor, type Tensor } from "../../src/tensor/tensor.js";
import { distinctInput, gradcheckCases, randomInput } from "../helpers/gradcheck.js";

const rois = () =>
  tensor(
    [
      [0, 0.6, 1.3, 5.2, 4.9],
      [1, 2.1, 0.4, 6.7, 6.8],
      [0, -1.5, -0.7, 3.4, 2.2],
    ],
    undefined,
    { dtype: "float64" },
  );

gradcheckCases("detection", [
  {
    name: "boxIou",
    inputs: () => [
      tensor(
        [
          [0, 0, 2, 3],
          [1, 1, 4, 2.5],
        ],
        undefined,
        { dtype: "float64" },
      ),
      tensor(
        [
          [0.5, 0.2, 3, 3.1],
          [1.2, 0.1, 2.2, 4],
          [3, 3, 5, 5.5],
        ],
        undefined,
        { dtype: "float64" },
      ),
    ],
    f: (a, b) => F.boxIou(a, b),
  },
  ...[
    { name: "roiAlign sampling 2", o: { samplingRatio: 2 } },
    { name: "roiAlign adaptive, aligned, scale 0.5", o: { aligned: true, spatialScale: 0.5 } },
  ].map(({ name, o }) => ({
    name,
    inputs: () => [randomInput([2, 2, 7, 7], { seed: 3 }), rois()],
    f: (x: Tensor, r: Tensor) => F.roiAlign(x, r, [2, 3], o),
    options: { wrt: [0] },
  })),
  {
    name: "roiPool",
    inputs: () => [distinctInput([2, 2, 7, 7], { seed: 4 }), rois()],
    f: (x, r) => F.roiPool(x, r, 2),
    options: { wrt: [0] },
  },
]);

test("nms keeps the best box of each overlapping cluster, by decreasing score", () => {
  const boxes = tensor([
    [0, 0, 10, 10],
    [1, 1, 11, 11], // IoU 81/119 = 0.68 with box 0
    [20, 20, 30, 30],
    [0, 0, 10, 9], // IoU 0.9 with box 0
  ]);
  const scores = tensor([0.9, 0.8, 0.7, 0.95]);
  assert.deepEqual([...F.nms(boxes, scores, 0.5).toArray()], [3, 2]);
  assert.deepEqual([...F.nms(boxes, scores, 0.7).toArray()], [3, 1, 2]);
  const classes = tensor([0, 1, 0, 0], undefined, { dtype: "int32" });
  assert.deepEqual([...F.batchedNms(boxes, scores, classes, 0.5).toArray()], [3, 1, 2]);
});

test("roiAlign averages the bilinear samples of each bin", () => {
  // A ramp x[h, w] = w: every sample's value is its x coordinate, so a bin's output is its centre's x.
  const x = tensor(
    Array.from({ length: 36 }, (_, i) => i % 6),
    [1, 1, 6, 6],
  );
  const y = F.roiAlign(x, tensor([[0, 1, 1, 5, 5]]), [1, 2], { samplingRatio: 2 });
  assert.deepEqual([...y.toArray()], [2, 4]);
  const aligned = F.roiAlign(x, tensor([[0, 1, 1, 5, 5]]), [1, 2], { samplingRatio: 2, aligned: true });
  assert.deepEqual([...aligned.toArray()], [1.5, 3.5]);
});

test("detection ops reject bad input clearly", () => {
  const x = randomInput([1, 2, 5, 5]);
  assert.throws(() => F.roiAlign(x, tensor([[0, 1, 1, 3]]), 2), /roiAlign: rois must be \[K, 5\]/);
  assert.throws(
    () => F.roiAlign(x, tensor([[1, 1, 1, 3, 3]]), 2),
    /RoI 0 names batch index 1, but the input has 1/,
  );
  assert.throws(() => F.roiAlign(x, tensor([[0, 1, 1, 3, 3]]), 2, { samplingRatio: 0 }), /samplingRatio/);
  assert.throws(() => F.roiPool(x, tensor([[0, 1, 1, 3, 3]]), 2, { spatialScale: -1 }), /spatialScale/);
  assert.throws(() => F.nms(tensor([[0, 0, 1, 1]]), tensor([0.5, 0.2]), 0.5), /scores must be \[1\]/);
  assert.throws(() => F.boxIou(tensor([[0, 0, 1]]), tensor([[0, 0, 1, 1]])), /boxes1 must be \[K, 4\]/);
  assert.throws(() => F.nms(tensor([[0, 0, 1, 1]]), tensor([0.5]), NaN), /iouThreshold/);
});
