// Test-time crops: centerCrop's offsets (torchvision's rounding), five/ten-crop positions and mirroring, and
// averagePredictions equal to the mean of the per-crop softmax probabilities computed by hand.

import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng, tensor } from "../../src/index.js";
import { averagePredictions, centerCrop, fiveCrop, tenCrop } from "../../src/data/index.js";
import { makeBatch } from "./batch-helpers.js";

const ramp = (s: number, ch: number, y: number, x: number) => 1000 * s + 100 * ch + 10 * y + x;

test("centerCrop takes the middle window, rounding offsets half to even like torchvision", () => {
  const out = centerCrop(2)(makeBatch([1, 1, 4, 4], ramp), new Rng(0));
  assert.deepEqual([...out.x], [11, 12, 21, 22]);
  // (5 − 2) / 2 = 1.5 rounds to 2; (4 − 3) / 2 = 0.5 rounds to 0.
  const odd = centerCrop([2, 3])(makeBatch([1, 1, 5, 4], ramp), new Rng(0));
  assert.deepEqual([...odd.x], [20, 21, 22, 30, 31, 32]);
  const padded = centerCrop(4)(
    makeBatch([1, 1, 2, 2], (_s, _c, y, x) => 1 + 2 * y + x),
    new Rng(0),
  );
  assert.deepEqual([...padded.x], [0, 0, 0, 0, 0, 1, 2, 0, 0, 3, 4, 0, 0, 0, 0, 0]);
});

test("fiveCrop and tenCrop: corners, centre, then the mirrored batch's crops", () => {
  const batch = makeBatch([2, 1, 3, 3], ramp);
  const x = tensor(batch.x, batch.shape);
  const five = fiveCrop(2)(x);
  assert.equal(five.length, 5);
  const first = five.map((t) => [...t.toArray().subarray(0, 4)]);
  assert.deepEqual(first, [
    [0, 1, 10, 11],
    [1, 2, 11, 12],
    [10, 11, 20, 21],
    [11, 12, 21, 22],
    // Centre offset round((3 − 2) / 2) = round(0.5) = 0 in Python, so torchvision's centre is the top-left.
    [0, 1, 10, 11],
  ]);
  assert.deepEqual([...five[0].toArray().subarray(4)], [1000, 1001, 1010, 1011]);
  const ten = tenCrop(2)(x);
  assert.equal(ten.length, 10);
  assert.deepEqual(ten[5].shape, [2, 1, 2, 2]);
  // Top-left of the mirrored image is the mirrored top-right crop.
  assert.deepEqual([...ten[5].toArray().subarray(0, 4)], [2, 1, 12, 11]);
  const vertical = tenCrop(2, { vertical: true })(x);
  assert.deepEqual([...vertical[5].toArray().subarray(0, 4)], [20, 21, 10, 11]);
  assert.throws(() => fiveCrop(4)(x), /crop 4×4 is larger than the images \[2,1,3,3\]/);
});

test("averagePredictions averages softmax probabilities over the crops", () => {
  // Two channels; a 1×1 crop's two values serve as the logits of a two-class model.
  const batch = makeBatch([1, 2, 3, 3], (_s, ch, y, x) => (ch === 0 ? 0.3 * y : 0.2 * x - 0.1 * y));
  const x = tensor(batch.x, batch.shape);
  const model = { forward: (t: ReturnType<typeof tensor>) => t.reshape([t.shape[0], 2]) };
  const probs = averagePredictions(model, x, tenCrop(1));
  assert.deepEqual(probs.shape, [1, 2]);
  // The crop positions (y, x) of ten 1×1 crops of a 3×3 image; the mirrored ones read column 2 − x.
  const positions = [
    [0, 0],
    [0, 2],
    [2, 0],
    [2, 2],
    [1, 1],
  ];
  const logit = (ch: number, y: number, xx: number) => (ch === 0 ? 0.3 * y : 0.2 * xx - 0.1 * y);
  let expected0 = 0;
  for (const mirrored of [false, true]) {
    for (const [y, xx] of positions) {
      const col = mirrored ? 2 - xx : xx;
      const a = logit(0, y, col);
      const b = logit(1, y, col);
      expected0 += Math.exp(a) / (Math.exp(a) + Math.exp(b)) / 10;
    }
  }
  const got = probs.toArray();
  assert.ok(Math.abs(got[0] - expected0) < 1e-6, `${got[0]} vs ${expected0}`);
  assert.ok(Math.abs(got[0] + got[1] - 1) < 1e-6);
  // A plain function works as the model too.
  const same = averagePredictions((t) => t.reshape([1, 2]), x, tenCrop(1)).toArray();
  assert.ok(Math.abs(same[0] - got[0]) < 1e-7);
});
