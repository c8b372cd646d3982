// Colour jitter (browser-safe), following torchvision's ColorJitter on images in [0, 1]: brightness scales the
// pixels, contrast blends with the image's mean grey, saturation with each pixel's grey, hue rotates in HSV; each
// image gets its own factors and its own order of the four adjustments, and results are clamped to [0, 1].
// Grey uses ITU-R 601 weights (0.2989, 0.587, 0.114); saturation and hue leave one-channel images unchanged.

import { uniformIn, type Transform } from "./transforms.js";

/** A strength s (factors drawn from [max(0, 1 − s), 1 + s]; hue shifts from [−s, s]) or an explicit range. */
export type JitterRange = number | readonly [number, number];

/**
 * Options of `colorJitter` (torchvision ColorJitter's): each a strength s (factor drawn from [1 - s, 1 + s];
 * hue from [-s, s]) or an explicit [min, max]; absent means unchanged.
 */
export interface ColorJitterOptions {
  brightness?: JitterRange;
  contrast?: JitterRange;
  saturation?: JitterRange;
  /** Hue shift as a fraction of the colour wheel, at most 0.5. */
  hue?: JitterRange;
}

type Adjust = (x: Float32Array, offset: number, c: number, plane: number, factor: number) => void;

/**
 * Randomly changes brightness, contrast, saturation and hue; a zero (or omitted) strength skips that adjustment,
 * so `colorJitter({})` is the identity.
 *
 * @example colorJitter({ brightness: 0.4, contrast: 0.4, saturation: 0.4, hue: 0.1 })
 */
export function colorJitter(options: ColorJitterOptions = {}): Transform {
  const ranges: [Adjust, [number, number] | null][] = [
    [adjustBrightness, factorRange("brightness", options.brightness, 1)],
    [adjustContrast, factorRange("contrast", options.contrast, 1)],
    [adjustSaturation, factorRange("saturation", options.saturation, 1)],
    [adjustHue, factorRange("hue", options.hue, 0)],
  ];
  const hue = ranges[3][1];
  if (hue && (hue[0] < -0.5 || hue[1] > 0.5)) {
    throw new Error(`colorJitter: hue range [${hue.join(", ")}] must lie within [-0.5, 0.5]`);
  }
  const active = ranges.filter((r): r is [Adjust, [number, number]] => r[1] !== null);
  return (batch, rng) => {
    if (active.length === 0) return batch;
    const [n, c, h, w] = batch.shape;
    if (c !== 1 && c !== 3)
      throw new Error(`colorJitter: images must have 1 or 3 channels, batch is [${batch.shape.join(",")}]`);
    const plane = h * w;
    for (let s = 0; s < n; s++) {
      const order = rng.permutation(active.length);
      const factors = active.map(([, [lo, hi]]) => uniformIn(rng, lo, hi));
      for (const k of order) active[k][0](batch.x, s * c * plane, c, plane, factors[k]);
    }
    return batch;
  };
}

function factorRange(name: string, value: JitterRange | undefined, centre: number): [number, number] | null {
  if (value === undefined) return null;
  if (typeof value === "number") {
    if (!(value >= 0)) throw new Error(`colorJitter: ${name} must be ≥ 0, got ${value}`);
    if (value === 0) return null;
    return [centre === 1 ? Math.max(0, 1 - value) : -value, centre + value];
  }
  if (!(value[1] >= value[0])) throw new Error(`colorJitter: ${name} range [${value.join(", ")}] is empty`);
  return value[0] === centre && value[1] === centre ? null : [value[0], value[1]];
}

function clamp01(v: number): number {
  return v < 0 ? 0 : v > 1 ? 1 : v;
}

function grey(x: Float32Array, i: number, plane: number): number {
  return 0.2989 * x[i] + 0.587 * x[i + plane] + 0.114 * x[i + 2 * plane];
}

const adjustBrightness: Adjust = (x, offset, c, plane, factor) => {
  for (let i = offset; i < offset + c * plane; i++) x[i] = clamp01(x[i] * factor);
};

const adjustContrast: Adjust = (x, offset, c, plane, factor) => {
  let sum = 0;
  for (let i = offset; i < offset + plane; i++) sum += c === 3 ? grey(x, i, plane) : x[i];
  const mean = sum / plane;
  for (let i = offset; i < offset + c * plane; i++) x[i] = clamp01(factor * x[i] + (1 - factor) * mean);
};

const adjustSaturation: Adjust = (x, offset, c, plane, factor) => {
  if (c !== 3) return;
  for (let i = offset; i < offset + plane; i++) {
    const g = (1 - factor) * grey(x, i, plane);
    for (let ch = 0; ch < 3; ch++) x[i + ch * plane] = clamp01(factor * x[i + ch * plane] + g);
  }
};

const adjustHue: Adjust = (x, offset, c, plane, shift) => {
  if (c !== 3) return;
  for (let i = offset; i < offset + plane; i++) {
    const [hh, s, v] = rgbToHsv(x[i], x[i + plane], x[i + 2 * plane]);
    const [r, g, b] = hsvToRgb((((hh + shift) % 1) + 1) % 1, s, v);
    x[i] = r;
    x[i + plane] = g;
    x[i + 2 * plane] = b;
  }
};

/** RGB in [0, 1] to hue, saturation, value, each in [0, 1]. */
export function rgbToHsv(r: number, g: number, b: number): [number, number, number] {
  const max = Math.max(r, g, b);
  const min = Math.min(r, g, b);
  const delta = max - min;
  const s = max > 0 ? delta / max : 0;
  if (delta === 0) return [0, s, max];
  let h: number;
  if (max === r) h = (g - b) / delta;
  else if (max === g) h = 2 + (b - r) / delta;
  else h = 4 + (r - g) / delta;
  return [(((h / 6) % 1) + 1) % 1, s, max];
}

/** Hue, saturation, value in [0, 1] to RGB. */
export function hsvToRgb(h: number, s: number, v: number): [number, number, number] {
  const sector = h * 6;
  const i = Math.floor(sector) % 6;
  const f = sector - Math.floor(sector);
  const p = v * (1 - s);
  const q = v * (1 - s * f);
  const t = v * (1 - s * (1 - f));
  switch (i) {
    case 0:
      return [v, t, p];
    case 1:
      return [q, v, p];
    case 2:
      return [p, v, t];
    case 3:
      return [p, q, v];
    case 4:
      return [t, p, v];
    default:
      return [v, p, q];
  }
}
