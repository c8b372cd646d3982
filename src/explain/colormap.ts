// Colour maps for heat maps (browser-safe): viridis (perceptually uniform, the default for unsigned maps
// such as saliency and Grad-CAM), turbo (Google's improved rainbow), jet (the classic rainbow, kept because
// papers use it; it invents edges where the data has none), grey, and a blue-white-red diverging map for
// signed attributions (input × gradient, integrated gradients), where white must mean exactly 0.

/** RGB, each 0–255. */
export type Rgb = readonly [number, number, number];

/** The colour maps by name. */
export type ColormapName = "viridis" | "turbo" | "jet" | "grey" | "diverging";

// matplotlib's viridis sampled at 9 evenly spaced points; linear interpolation between them stays within
// 2/255 of the full 256-entry table.
const VIRIDIS: readonly Rgb[] = [
  [68, 1, 84],
  [71, 44, 122],
  [59, 81, 139],
  [44, 113, 142],
  [33, 144, 141],
  [39, 173, 129],
  [92, 200, 99],
  [170, 220, 50],
  [253, 231, 37],
];

// Blue (negative) – white (0) – red (positive), the ends of ColorBrewer's RdBu.
const DIVERGING: readonly Rgb[] = [
  [5, 48, 97],
  [67, 147, 195],
  [247, 247, 247],
  [214, 96, 77],
  [103, 0, 31],
];

function interpolate(table: readonly Rgb[], t: number): Rgb {
  const x = Math.min(1, Math.max(0, t)) * (table.length - 1);
  const i = Math.min(table.length - 2, Math.floor(x));
  const f = x - i;
  const [a, b] = [table[i], table[i + 1]];
  return [
    Math.round(a[0] + (b[0] - a[0]) * f),
    Math.round(a[1] + (b[1] - a[1]) * f),
    Math.round(a[2] + (b[2] - a[2]) * f),
  ];
}

/** Turbo (Mikhailov 2019) by its published polynomial approximation. */
function turbo(t: number): Rgb {
  const x = Math.min(1, Math.max(0, t));
  const r = 0.1357 + x * (4.5974 - x * (42.3277 - x * (130.5887 - x * (150.5666 - x * 58.1375))));
  const g = 0.0914 + x * (2.1856 + x * (4.8052 - x * (14.0195 - x * (4.2109 + x * 2.7747))));
  const b = 0.1067 + x * (12.5925 - x * (60.1097 - x * (109.0745 - x * (88.5066 - x * 26.8183))));
  const byte = (v: number) => Math.round(255 * Math.min(1, Math.max(0, v)));
  return [byte(r), byte(g), byte(b)];
}

function jet(t: number): Rgb {
  const x = Math.min(1, Math.max(0, t));
  const channel = (offset: number) =>
    Math.round(255 * Math.min(1, Math.max(0, 1.5 - Math.abs(4 * x - offset))));
  return [channel(3), channel(2), channel(1)];
}

/** The colour of t in [0, 1] (clamped) under colour map `name`. */
export function colormap(name: ColormapName, t: number): Rgb {
  switch (name) {
    case "viridis":
      return interpolate(VIRIDIS, t);
    case "diverging":
      return interpolate(DIVERGING, t);
    case "turbo":
      return turbo(t);
    case "jet":
      return jet(t);
    case "grey": {
      const v = Math.round(255 * Math.min(1, Math.max(0, t)));
      return [v, v, v];
    }
    default:
      throw new Error(
        `colormap: unknown colour map '${String(name)}'; use viridis, turbo, jet, grey or diverging`,
      );
  }
}

/** How values map to [0, 1] before colouring; see {@link valueRange}. */
export interface RangeOptions {
  /** Fixed [min, max]; default the data's own range. */
  range?: readonly [number, number];
  /** Symmetric around 0 ([-m, m] with m = max |v|), so 0 is the diverging map's white. Default: true for "diverging". */
  symmetric?: boolean;
}

/** The [lo, hi] that `values` are scaled from (hi > lo even for constant data). */
export function valueRange(
  values: ArrayLike<number>,
  options: RangeOptions & { colormap?: ColormapName } = {},
): [number, number] {
  if (options.range) return [options.range[0], options.range[1]];
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (lo === Infinity) return [0, 1];
  if (options.symmetric ?? options.colormap === "diverging") {
    const m = Math.max(Math.abs(lo), Math.abs(hi)) || 1;
    return [-m, m];
  }
  return hi > lo ? [lo, hi] : [lo - 0.5, hi + 0.5];
}
