// prepareImage: polarity detection from the border, MNIST's crop / 20-pixel box / centre of mass, and
// letterboxing of colour pictures, checked on pictures built here with known geometry.
import { test } from "node:test";
import assert from "node:assert/strict";
import { borderMean, prepareImage, resizeArea } from "../../src/data/prepare-image.js";

/** A single-channel picture: `ink` pixels at `inkValue`, the rest at `paper`. */
function picture(
  w: number,
  h: number,
  ink: (x: number, y: number) => boolean,
  inkValue: number,
  paper: number,
) {
  const out = new Float32Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) out[y * w + x] = ink(x, y) ? inkValue : paper;
  return out;
}

/** Bounding box size and centre of mass of a 28×28 plane's ink (values > 0.1). */
function geometry(plane: Float32Array, size = 28) {
  let mass = 0;
  let cx = 0;
  let cy = 0;
  let [top, bottom, left, right] = [size, -1, size, -1];
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const v = plane[y * size + x];
      mass += v;
      cx += v * (x + 0.5);
      cy += v * (y + 0.5);
      if (v > 0.1)
        [top, bottom, left, right] = [
          Math.min(top, y),
          Math.max(bottom, y),
          Math.min(left, x),
          Math.max(right, x),
        ];
    }
  }
  return { height: bottom - top + 1, width: right - left + 1, cx: cx / mass, cy: cy / mass };
}

// An off-centre bar, dark on white, on a 100×60 sheet (wider than tall).
const bar = (x: number, y: number) => x >= 10 && x < 50 && y >= 20 && y < 30;

test("a dark-on-light drawing is inverted and laid out as an MNIST digit", () => {
  const drawing = picture(100, 60, bar, 0.05, 0.95);
  const out = prepareImage(drawing, 1, 60, 100, [1, 28, 28]);
  assert.equal(out.inverted, true);
  assert.equal(out.layout, "mnist");
  assert.equal(out.image.length, 28 * 28);
  const g = geometry(out.image);
  assert.equal(Math.max(g.width, g.height), 20, "the ink's longer side fills the 20-pixel box");
  assert.ok(Math.abs(g.width / g.height - 4) < 0.8, `aspect ratio kept: ${g.width}×${g.height}`);
  assert.ok(Math.abs(g.cx - 14) <= 0.5 && Math.abs(g.cy - 14) <= 0.5, `centre of mass ${g.cx}, ${g.cy}`);
  assert.equal(out.image[0], 0, "background is black after inversion");
  assert.equal(out.notes.length, 2);
  assert.match(out.notes[0], /dark on light \(border brightness 0\.95\): inverted/);
  assert.match(out.notes[1], /^100×60 \(not square\): ink cropped/);
});

test("MNIST-like input at the model's size is used as is; --invert no and yes are obeyed", () => {
  const digit = picture(28, 28, (x, y) => x > 10 && x < 16 && y > 4 && y < 24, 1, 0);
  const same = prepareImage(digit, 1, 28, 28, [1, 28, 28]);
  assert.deepEqual([same.inverted, same.layout, same.notes], [false, "as-is", []]);
  assert.deepEqual(same.image, digit);
  const drawing = picture(28, 28, (x, y) => x > 10 && x < 16 && y > 4 && y < 24, 0, 1);
  assert.equal(prepareImage(drawing, 1, 28, 28, [1, 28, 28], { invert: "no" }).inverted, false);
  const forced = prepareImage(digit, 1, 28, 28, [1, 28, 28], { invert: "yes" });
  assert.equal(forced.inverted, true);
  assert.equal(forced.image[0], 1);
  assert.deepEqual(forced.notes, [], "a requested inversion needs no notice");
  assert.throws(
    () => prepareImage(digit, 1, 28, 28, [1, 28, 28], { invert: "maybe" as never }),
    /invert must be 'auto', 'yes' or 'no', got 'maybe'/,
  );
});

test("colour pictures are never auto-inverted, and a non-square one is letterboxed with its border colour", () => {
  const [w, h] = [64, 32];
  const rgb = new Float32Array(3 * w * h);
  for (let c = 0; c < 3; c++) rgb.fill([0.9, 0.8, 0.7][c], c * w * h, (c + 1) * w * h); // a light sky
  rgb[0 * w * h + 16 * w + 32] = 0; // one dark pixel in the middle of the red plane
  const out = prepareImage(rgb, 3, h, w, [3, 32, 32]);
  assert.equal(out.inverted, false);
  assert.equal(out.layout, "letterbox");
  assert.match(out.notes[0], /^64×32 \(not square\): letterboxed into 32×32/);
  // The 64×32 picture becomes 32×16 rows 8..23; rows 0..7 and 24..31 are padding in the border colour.
  for (let c = 0; c < 3; c++) {
    assert.ok(Math.abs(out.image[c * 1024 + 0] - [0.9, 0.8, 0.7][c]) < 1e-6, `padding, channel ${c}`);
    assert.ok(Math.abs(out.image[c * 1024 + 31 * 32 + 31] - [0.9, 0.8, 0.7][c]) < 1e-6);
  }
  const darkest = out.image.subarray(0, 1024).reduce((m, v) => Math.min(m, v), 1);
  assert.ok(darkest < 0.9 - 0.1, "the dark pixel survives the reduction (area averaging)");
  const square = prepareImage(new Float32Array(3 * 64 * 64).fill(0.5), 3, 64, 64, [3, 32, 32]);
  assert.equal(square.layout, "resize");
  assert.deepEqual(square.notes, []);
});

test("resizeArea keeps the mean brightness; borderMean reads the frame", () => {
  const plane = picture(30, 20, (x, y) => (x * 7 + y * 3) % 5 === 0, 1, 0.25);
  const mean = (a: Float32Array) => a.reduce((s, v) => s + v, 0) / a.length;
  assert.ok(Math.abs(mean(resizeArea(plane, 20, 30, 10, 15)) - mean(plane)) < 1e-6);
  assert.ok(Math.abs(mean(resizeArea(plane, 20, 30, 7, 11)) - mean(plane)) < 1e-6);
  const framed = picture(40, 40, (x, y) => x > 5 && x < 34 && y > 5 && y < 34, 0, 1);
  assert.equal(borderMean(framed, 40, 40), 1);
});
