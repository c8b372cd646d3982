// Geometric transforms on known images: a flip equals the mirrored array, a crop with padding equals the
// zero-padded image at the offset, random crops and translations are shifts within their bounds (and reach
// every allowed shift), resized crops and zooms reduce to plain resizing or identity at their limits.

import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../../src/index.js";
import {
  cropAt,
  randomCrop,
  randomHorizontalFlip,
  randomResizedCrop,
  randomScale,
  randomTranslate,
  resizeBilinear,
} from "../../src/data/index.js";
import { makeBatch, pixel, sampleOf } from "./batch-helpers.js";

const ramp = (s: number, ch: number, y: number, x: number) => 1 + 1000 * s + 100 * ch + 10 * y + x;

test("horizontal flip with p = 1 mirrors every row; p = 0 is the identity", () => {
  const batch = makeBatch([2, 2, 3, 4], ramp);
  const flipped = randomHorizontalFlip(1)(makeBatch([2, 2, 3, 4], ramp), new Rng(0));
  const expected = makeBatch([2, 2, 3, 4], (s, ch, y, x) => ramp(s, ch, y, 3 - x));
  assert.deepEqual(flipped.x, expected.x);
  assert.deepEqual(randomHorizontalFlip(0)(makeBatch([2, 2, 3, 4], ramp), new Rng(0)).x, batch.x);
  // p = 0.5: each image is either untouched or mirrored, about half of them mirrored.
  const many = randomHorizontalFlip(0.5)(makeBatch([400, 1, 1, 3], ramp), new Rng(3));
  let mirrored = 0;
  for (let s = 0; s < 400; s++) {
    const row = [...sampleOf(many, s)];
    const original = [0, 1, 2].map((x) => ramp(s, 0, 0, x));
    if (row[0] === original[2]) {
      mirrored++;
      assert.deepEqual(row, [...original].reverse());
    } else assert.deepEqual(row, original);
  }
  assert.ok(mirrored > 160 && mirrored < 240, `${mirrored} of 400 mirrored`);
});

test("cropAt with negative offsets reads zero padding; randomCrop(H + 2p, padding p) is the padded image", () => {
  const batch = makeBatch([1, 1, 3, 3], ramp);
  const crop = cropAt(batch, [-1], [1], [3, 3]);
  // The image is rows [1 2 3], [11 12 13], [21 22 23]; the window starts one row above, one column in.
  assert.deepEqual([...crop.x], [0, 0, 0, 2, 3, 0, 12, 13, 0]);
  // Only one offset is possible, so the crop is the whole padded image.
  const padded = randomCrop(5, { padding: 1 })(makeBatch([1, 1, 3, 3], ramp), new Rng(1));
  assert.deepEqual(padded.shape, [1, 1, 5, 5]);
  const rows = [
    [0, 0, 0, 0, 0],
    [0, 1, 2, 3, 0],
    [0, 11, 12, 13, 0],
    [0, 21, 22, 23, 0],
    [0, 0, 0, 0, 0],
  ];
  assert.deepEqual([...padded.x], rows.flat());
  const filled = randomCrop(5, { padding: 1, fill: -1 })(makeBatch([1, 1, 3, 3], ramp), new Rng(1));
  assert.equal(filled.x[0], -1);
  assert.equal(filled.x[6], 1);
});

// The shift (dy, dx) such that out(y, x) = in(y - dy, x - dx) where in range, else 0; null if none.
function findShift(
  input: Float32Array,
  output: Float32Array,
  h: number,
  w: number,
  max: number,
): [number, number] | null {
  for (let dy = -max; dy <= max; dy++) {
    for (let dx = -max; dx <= max; dx++) {
      let ok = true;
      for (let y = 0; y < h && ok; y++) {
        for (let x = 0; x < w && ok; x++) {
          const sy = y - dy;
          const sx = x - dx;
          const expected = sy >= 0 && sy < h && sx >= 0 && sx < w ? input[sy * w + sx] : 0;
          ok = output[y * w + x] === expected;
        }
      }
      if (ok) return [dy, dx];
    }
  }
  return null;
}

test("randomCrop(size, padding) and randomTranslate are shifts within bounds reaching every allowed shift", () => {
  for (const [name, transform, max] of [
    ["randomCrop", randomCrop(4, { padding: 2 }), 2],
    ["randomTranslate", randomTranslate(1), 1],
  ] as const) {
    const n = 300;
    const out = transform(
      makeBatch([n, 1, 4, 4], (_, __, y, x) => 1 + 4 * y + x),
      new Rng(11),
    );
    assert.deepEqual(out.shape, [n, 1, 4, 4]);
    const input = sampleOf(
      makeBatch([1, 1, 4, 4], (_, __, y, x) => 1 + 4 * y + x),
      0,
    );
    const seen = new Set<string>();
    for (let s = 0; s < n; s++) {
      const shift = findShift(input, sampleOf(out, s), 4, 4, max);
      assert.ok(shift, `${name}: sample ${s} is not a shift of the input by at most ${max}`);
      seen.add(shift.join(","));
    }
    assert.equal(seen.size, (2 * max + 1) ** 2, `${name}: shifts seen ${[...seen].join(" ")}`);
  }
  assert.throws(
    () => randomCrop(9, { padding: 2 })(makeBatch([1, 1, 4, 4], ramp), new Rng(0)),
    /crop 9×9 is larger than the padded image 8×8/,
  );
});

test("randomResizedCrop over the whole image is a plain bilinear resize; crops stay within the image", () => {
  const batch = makeBatch([2, 3, 6, 6], (s, ch, y, x) => Math.sin(s + ch + 0.7 * y + 0.3 * x));
  const whole = randomResizedCrop(4, { scale: [1, 1], ratio: [1, 1] })(
    makeBatch([2, 3, 6, 6], (s, ch, y, x) => Math.sin(s + ch + 0.7 * y + 0.3 * x)),
    new Rng(2),
  );
  assert.deepEqual(whole.shape, [2, 3, 4, 4]);
  for (let s = 0; s < 2; s++)
    assert.deepEqual(sampleOf(whole, s), resizeBilinear(sampleOf(batch, s), 3, 6, 6, 4, 4));
  // A constant image stays constant whatever region is chosen; a ramp image stays within its range.
  const flat = randomResizedCrop([5, 3])(
    makeBatch([20, 1, 8, 8], () => 0.25),
    new Rng(4),
  );
  assert.deepEqual(flat.shape, [20, 1, 5, 3]);
  assert.ok(flat.x.every((v) => Math.abs(v - 0.25) < 1e-7));
  const small = randomResizedCrop(4, { scale: [0.1, 0.2] })(
    makeBatch([50, 1, 10, 10], (_, __, y, x) => 10 * y + x),
    new Rng(5),
  );
  for (let s = 0; s < 50; s++) {
    const values = [...sampleOf(small, s)];
    // A crop of at most 20% of the area spans far less than the full 0..99 range.
    assert.ok(Math.max(...values) - Math.min(...values) < 80);
  }
});

test("randomScale: factor 1 is the identity, zooming in keeps a flat image flat, zooming out pads with fill", () => {
  const batch = makeBatch([1, 1, 5, 5], ramp);
  assert.deepEqual(randomScale([1, 1])(makeBatch([1, 1, 5, 5], ramp), new Rng(0)).x, batch.x);
  const zoomIn = randomScale([1.5, 2])(
    makeBatch([3, 1, 6, 6], () => 0.5),
    new Rng(0),
  );
  assert.ok(zoomIn.x.every((v) => Math.abs(v - 0.5) < 1e-7));
  const zoomOut = randomScale([0.5, 0.5])(
    makeBatch([1, 1, 8, 8], () => 1),
    new Rng(0),
  );
  assert.equal(pixel(zoomOut, 0, 0, 0, 0), 0);
  assert.equal(pixel(zoomOut, 0, 0, 7, 7), 0);
  assert.equal(pixel(zoomOut, 0, 0, 3, 4), 1);
  // Zooming a ramp in by 2 about the centre: output pixel x reads the input at 3.5 + (x − 3.5)/2.
  const line = randomScale([2, 2])(
    makeBatch([1, 1, 1, 8], (_, __, ___, x) => x),
    new Rng(0),
  );
  assert.deepEqual(
    [...line.x],
    [0, 1, 2, 3, 4, 5, 6, 7].map((x) => 3.5 + (x - 3.5) / 2),
  );
});
