// Bilinear resizing against values PyTorch's F.interpolate(mode="bilinear", align_corners=False) gives
// (worked out from its half-pixel mapping, src = (dst + 0.5)·in/out − 0.5 clamped at the edges).

import { test } from "node:test";
import assert from "node:assert/strict";
import { resizeBilinear, resizeRegion } from "../../src/data/index.js";

test("upsampling a 2×2 image to 4×4 matches PyTorch", () => {
  const out = resizeBilinear(Float32Array.from([0, 1, 2, 3]), 1, 2, 2, 4, 4);
  // torch.nn.functional.interpolate(torch.tensor([[[[0., 1.], [2., 3.]]]]), size=4, mode="bilinear")
  const expected = [
    [0, 0.25, 0.75, 1],
    [0.5, 0.75, 1.25, 1.5],
    [1.5, 1.75, 2.25, 2.5],
    [2, 2.25, 2.75, 3],
  ].flat();
  assert.deepEqual([...out], expected);
});

test("downsampling, per-channel planes and identity", () => {
  assert.deepEqual([...resizeBilinear(Float32Array.from([0, 1, 2, 3]), 1, 1, 4, 1, 2)], [0.5, 2.5]);
  assert.deepEqual([...resizeBilinear(Float32Array.from([0, 1, 2]), 1, 1, 3, 1, 2)], [0.25, 1.75]);
  // Two channels are resized independently.
  const two = resizeBilinear(Float32Array.from([0, 1, 10, 20]), 2, 1, 2, 1, 4);
  assert.deepEqual([...two], [0, 0.25, 0.75, 1, 10, 12.5, 17.5, 20]);
  const image = Float32Array.from({ length: 12 }, (_, i) => i * i);
  assert.deepEqual(resizeBilinear(image, 1, 3, 4, 3, 4), image);
  assert.throws(() => resizeBilinear(image, 1, 3, 3, 2, 2), /12 values do not make an image \[1,3,3\]/);
});

test("resizeRegion equals cropping then resizing", () => {
  const plane = Float32Array.from({ length: 25 }, (_, i) => Math.sqrt(i));
  const crop = Float32Array.from({ length: 6 }, (_, k) => plane[(1 + Math.floor(k / 3)) * 5 + 2 + (k % 3)]);
  const direct = new Float32Array(12);
  resizeRegion(plane, 0, 5, { top: 1, left: 2, height: 2, width: 3 }, direct, 0, 3, 4);
  assert.deepEqual(direct, resizeBilinear(crop, 1, 2, 3, 3, 4));
});
