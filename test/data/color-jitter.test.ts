// Colour jitter: zero strength is exactly the identity; brightness alone multiplies by one factor within its
// range (then clamps); saturation and hue leave grey pixels grey; hue rotation moves red to green at 1/3 turn;
// RGB ↔ HSV round-trips.

import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../../src/index.js";
import { colorJitter, hsvToRgb, rgbToHsv } from "../../src/data/index.js";
import { makeBatch, sampleOf } from "./batch-helpers.js";

const colourful = (s: number, ch: number, y: number, x: number) =>
  (Math.sin(3 * s + 2 * ch + y + 0.5 * x) + 1) / 2;

test("zero strength is the identity, even for values outside [0, 1]", () => {
  const make = () => makeBatch([3, 3, 4, 4], (s, ch, y, x) => 2 * colourful(s, ch, y, x) - 0.5);
  const original = make();
  assert.deepEqual(
    colorJitter({ brightness: 0, contrast: 0, saturation: 0, hue: 0 })(make(), new Rng(0)).x,
    original.x,
  );
  assert.deepEqual(colorJitter({})(make(), new Rng(0)).x, original.x);
});

test("brightness multiplies each image by one factor in [1 − b, 1 + b], clamped to [0, 1]", () => {
  const n = 50;
  const make = () => makeBatch([n, 3, 3, 3], (s, ch, y, x) => 0.05 + 0.6 * colourful(s, ch, y, x));
  const original = make();
  const out = colorJitter({ brightness: 0.4 })(make(), new Rng(6));
  for (let s = 0; s < n; s++) {
    const a = sampleOf(original, s);
    const b = sampleOf(out, s);
    const factor = b[0] / a[0];
    assert.ok(factor >= 0.6 - 1e-6 && factor <= 1.4 + 1e-6, `factor ${factor}`);
    a.forEach((v, p) => assert.ok(Math.abs(b[p] - Math.min(1, v * factor)) < 1e-5));
  }
});

test("contrast blends towards the image's mean grey; saturation and hue keep grey pixels", () => {
  const make = () => makeBatch([20, 3, 4, 4], (s, _ch, y, x) => 0.1 + (0.05 * s * ((y + x) % 3)) / 3);
  const original = make();
  const out = colorJitter({ saturation: 0.9, hue: 0.5 })(make(), new Rng(1));
  // torchvision's grey weights sum to 0.9999, so a grey pixel moves by at most 1e-4·|1 − factor|·value.
  out.x.forEach((v, i) => assert.ok(Math.abs(v - original.x[i]) < 1e-4 * original.x[i]));
  // Contrast: every pixel moves along the line through the image's mean grey, by one factor.
  const colour = () => makeBatch([1, 3, 2, 2], (_s, ch, y, x) => 0.2 + 0.1 * ch + 0.15 * y + 0.05 * x);
  const before = colour();
  const after = colorJitter({ contrast: 0.8 })(colour(), new Rng(2));
  let mean = 0;
  for (let p = 0; p < 4; p++)
    mean += 0.2989 * before.x[p] + 0.587 * before.x[4 + p] + 0.114 * before.x[8 + p];
  mean /= 4;
  const factor = (after.x[0] - mean) / (before.x[0] - mean);
  before.x.forEach((v, i) => assert.ok(Math.abs(after.x[i] - (factor * v + (1 - factor) * mean)) < 1e-5));
  assert.ok(Math.abs(factor - 1) > 1e-3 && factor >= 0.2 && factor <= 1.8);
});

test("hue: a third of a turn sends red to green; RGB ↔ HSV round-trips", () => {
  const red = makeBatch([1, 3, 1, 1], (_s, ch) => (ch === 0 ? 1 : 0));
  const green = colorJitter({ hue: [1 / 3, 1 / 3] })(red, new Rng(0));
  assert.deepEqual(
    [...green.x].map((v) => Math.round(v * 1e6) / 1e6),
    [0, 1, 0],
  );
  const rng = new Rng(4);
  for (let i = 0; i < 200; i++) {
    const rgb: [number, number, number] = [rng.uniform(), rng.uniform(), rng.uniform()];
    const back = hsvToRgb(...rgbToHsv(...rgb));
    back.forEach((v, k) => assert.ok(Math.abs(v - rgb[k]) < 1e-9));
  }
  const blue = rgbToHsv(0, 0, 1);
  assert.ok(Math.abs(blue[0] - 2 / 3) < 1e-12 && blue[1] === 1 && blue[2] === 1);
  assert.throws(() => colorJitter({ hue: 0.7 }), /hue range \[-0\.7, 0\.7\] must lie within \[-0\.5, 0\.5\]/);
});
