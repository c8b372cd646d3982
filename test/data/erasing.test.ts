// Cutout and random erasing: the blanked pixels form exactly one axis-aligned rectangle, the same in every
// channel — size×size for cutout unless clipped by the border — and random erasing respects its p, area and
// aspect-ratio ranges.

import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../../src/index.js";
import { cutout, randomErasing } from "../../src/data/index.js";
import { makeBatch, pixel } from "./batch-helpers.js";

// The bounding box of pixels equal to `value` in channel `ch` of sample s, after checking they fill it.
function erasedRect(batch: ReturnType<typeof makeBatch>, s: number, ch: number, value: number) {
  const [, , h, w] = batch.shape;
  let y0 = h,
    y1 = -1,
    x0 = w,
    x1 = -1,
    count = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (pixel(batch, s, ch, y, x) !== value) continue;
      count++;
      y0 = Math.min(y0, y);
      y1 = Math.max(y1, y);
      x0 = Math.min(x0, x);
      x1 = Math.max(x1, x);
    }
  }
  if (count === 0) return null;
  const height = y1 - y0 + 1;
  const width = x1 - x0 + 1;
  assert.equal(count, height * width, "the erased pixels form a filled rectangle");
  return { y0, y1, x0, x1, height, width };
}

test("cutout zeroes a size×size square in every channel, clipped at the borders", () => {
  const size = 4;
  const n = 300;
  const batch = cutout(size)(
    makeBatch([n, 2, 10, 10], () => 1),
    new Rng(8),
  );
  let whole = 0;
  let clipped = 0;
  for (let s = 0; s < n; s++) {
    const rect = erasedRect(batch, s, 0, 0)!;
    assert.deepEqual(erasedRect(batch, s, 1, 0), rect, "same square in every channel");
    const touchesBorder = rect.y0 === 0 || rect.x0 === 0 || rect.y1 === 9 || rect.x1 === 9;
    if (!touchesBorder) {
      assert.deepEqual([rect.height, rect.width], [size, size]);
      whole++;
    } else {
      assert.ok(rect.height <= size && rect.width <= size);
      if (rect.height < size || rect.width < size) clipped++;
    }
  }
  // Centres are uniform over the image, so both cases occur.
  assert.ok(whole > 50 && clipped > 50, `${whole} whole, ${clipped} clipped`);
  const valued = cutout(3, -2)(
    makeBatch([1, 1, 9, 9], () => 1),
    new Rng(0),
  );
  assert.ok(valued.x.some((v) => v === -2));
});

test("randomErasing: p = 0 is the identity; p = 1 erases a rectangle within the area and ratio ranges", () => {
  const original = makeBatch([5, 3, 8, 8], (s, ch, y, x) => s + ch + y + x + 1);
  assert.deepEqual(
    randomErasing({ p: 0 })(
      makeBatch([5, 3, 8, 8], (s, ch, y, x) => s + ch + y + x + 1),
      new Rng(0),
    ).x,
    original.x,
  );
  const h = 40;
  const w = 40;
  const n = 200;
  const erased = randomErasing({ p: 1, scale: [0.05, 0.2], ratio: [0.5, 2], value: [-1, -2, -3] })(
    makeBatch([n, 3, h, w], () => 1),
    new Rng(1),
  );
  for (let s = 0; s < n; s++) {
    const rect = erasedRect(erased, s, 0, -1)!;
    assert.ok(rect, `sample ${s} erased`);
    assert.deepEqual(erasedRect(erased, s, 1, -2), rect);
    assert.deepEqual(erasedRect(erased, s, 2, -3), rect);
    // Rounding the sides moves area and ratio a little past the sampled ranges.
    const area = (rect.height * rect.width) / (h * w);
    assert.ok(area >= 0.04 && area <= 0.23, `area ${area}`);
    const aspect = rect.height / rect.width;
    assert.ok(aspect >= 0.4 && aspect <= 2.5, `aspect ${aspect}`);
  }
  const half = randomErasing({ p: 0.5, value: 0 })(
    makeBatch([400, 1, 16, 16], () => 1),
    new Rng(2),
  );
  let count = 0;
  for (let s = 0; s < 400; s++) if (erasedRect(half, s, 0, 0)) count++;
  assert.ok(count > 160 && count < 240, `${count} of 400 erased`);
  const noisy = randomErasing({ p: 1, value: "random" })(
    makeBatch([4, 1, 16, 16], () => 5),
    new Rng(3),
  );
  assert.ok(noisy.x.some((v) => v !== 5 && v !== 0));
});
