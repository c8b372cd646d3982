// Turning tensors into pictures (browser-safe): an image tensor or a heat map into an RGBA Canvas (the
// rasteriser of src/viz, so the same object draws labels and is written as PNG by striate/node's
// writeImagePng), a heat map overlaid on its image with alpha, labelled grids of pictures, and
// toImageData() for a browser <canvas>.

import { Tensor } from "../tensor/tensor.js";
import { formatShape } from "../tensor/shape.js";
import { Canvas, parseColor, textHeight, textWidth } from "../viz/raster.js";
import { resizeBilinear } from "../data/resize.js";
import { colormap, valueRange, type ColormapName, type RangeOptions } from "./colormap.js";

export { Canvas } from "../viz/raster.js";

/** A picture source: a Tensor or a typed array with its shape. */
export type PictureSource = Tensor | { data: ArrayLike<number>; shape: readonly number[] };

function valuesOf(source: PictureSource): { data: ArrayLike<number>; shape: readonly number[] } {
  return source instanceof Tensor ? { data: source.toArray(), shape: source.shape } : source;
}

/** Drops leading 1s ([1, 1, H, W] → [H, W] for maps, [1, C, H, W] → [C, H, W] for images). */
function squeezeLeading(shape: readonly number[], keep: number): readonly number[] {
  let s = shape;
  while (s.length > keep && s[0] === 1) s = s.slice(1);
  return s;
}

/**
 * Image `index`'s map [H, W] out of a batch of maps [N, H, W] or attributions [N, C, H, W] (channels
 * summed, so a signed attribution keeps its sign), ready for heatmapToCanvas or overlayHeatmap.
 */
export function mapOfImage(maps: Tensor, index: number): { data: Float32Array; shape: [number, number] } {
  if (maps.ndim !== 3 && maps.ndim !== 4)
    throw new Error(`mapOfImage: expected maps [N, H, W] or [N, C, H, W], got ${formatShape(maps.shape)}`);
  const n = maps.shape[0];
  if (!(Number.isInteger(index) && index >= 0 && index < n))
    throw new Error(`mapOfImage: index ${index} is out of range for a batch of ${n}`);
  const [h, w] = maps.shape.slice(-2);
  const per = maps.size / n;
  const values = maps.toArray().subarray(index * per, (index + 1) * per);
  const flat = new Float32Array(h * w);
  for (let k = 0; k < per; k++) flat[k % (h * w)] += values[k];
  return { data: flat, shape: [h, w] };
}

/** Options of {@link imageToCanvas}. */
export interface ImageOptions {
  /** Scale the values to [0, 1] by their own min and max first (for class models, filters). Default false: values are taken as [0, 1] and clamped. */
  normalize?: boolean;
  /** Per-channel mean and std to undo (a normalised input back to pixels). */
  mean?: readonly number[];
  std?: readonly number[];
  /** Nearest-neighbour magnification (28×28 MNIST is tiny). Default 1. */
  scale?: number;
}

function checkScale(scale: number, caller: string): number {
  if (!(Number.isInteger(scale) && scale >= 1))
    throw new Error(`${caller}: scale must be an integer ≥ 1, got ${scale}`);
  return scale;
}

/**
 * An image [C, H, W] (or [1, C, H, W]) with C = 1 (grey) or 3 (RGB), values in [0, 1], as an RGBA Canvas.
 * @example writeImagePng("digit.png", imageToCanvas(x.slice(0, 0, 1), { scale: 8 }))
 */
export function imageToCanvas(source: PictureSource, options: ImageOptions = {}): Canvas {
  const { data, shape: raw } = valuesOf(source);
  const shape = squeezeLeading(raw, 3);
  if (shape.length !== 3 || (shape[0] !== 1 && shape[0] !== 3))
    throw new Error(
      `imageToCanvas: expected an image [C, H, W] with 1 or 3 channels, got ${formatShape(raw)}`,
    );
  const [c, h, w] = shape;
  const scale = checkScale(options.scale ?? 1, "imageToCanvas");
  const [lo, hi] = options.normalize ? valueRange(data) : [0, 1];
  const canvas = new Canvas(w * scale, h * scale, "#000000");
  const byte = (v: number) => Math.round(255 * Math.min(1, Math.max(0, (v - lo) / (hi - lo))));
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const rgb = [0, 1, 2].map((k) => {
        const ch = c === 1 ? 0 : k;
        const v = data[(ch * h + y) * w + x];
        return byte(options.mean && options.std ? v * options.std[ch] + options.mean[ch] : v);
      });
      canvas.fillRect(x * scale, y * scale, scale, scale, [rgb[0], rgb[1], rgb[2], 255]);
    }
  }
  return canvas;
}

/** Options of {@link heatmapToCanvas}. */
export interface HeatmapOptions extends RangeOptions {
  /** Colour map; default viridis. */
  colormap?: ColormapName;
  /** Nearest-neighbour magnification. Default 1. */
  scale?: number;
}

/** A map [H, W] (or [1, H, W], [1, 1, H, W]) as RGBA values, scaled into [0, 1] by `options`' range. */
function heatmapPixels(
  source: PictureSource,
  options: HeatmapOptions,
  caller: string,
): { rgba: Uint8Array; h: number; w: number } {
  const { data, shape: raw } = valuesOf(source);
  const shape = squeezeLeading(raw, 2);
  if (shape.length !== 2) throw new Error(`${caller}: expected a map [H, W], got ${formatShape(raw)}`);
  const [h, w] = shape;
  const map = options.colormap ?? "viridis";
  const [lo, hi] = valueRange(data, { ...options, colormap: map });
  const rgba = new Uint8Array(h * w * 4);
  for (let i = 0; i < h * w; i++) {
    const [r, g, b] = colormap(map, (data[i] - lo) / (hi - lo));
    rgba.set([r, g, b, 255], 4 * i);
  }
  return { rgba, h, w };
}

/**
 * A heat map [H, W] coloured by a colour map (viridis by default; "diverging" for signed attributions,
 * symmetric around 0).
 * @example heatmapToCanvas(saliency.slice(0, 0, 1), { colormap: "turbo", scale: 8 })
 */
export function heatmapToCanvas(source: PictureSource, options: HeatmapOptions = {}): Canvas {
  const { rgba, h, w } = heatmapPixels(source, options, "heatmapToCanvas");
  const scale = checkScale(options.scale ?? 1, "heatmapToCanvas");
  const canvas = new Canvas(w * scale, h * scale, "#000000");
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const i = 4 * (y * w + x);
      canvas.fillRect(x * scale, y * scale, scale, scale, [rgba[i], rgba[i + 1], rgba[i + 2], 255]);
    }
  return canvas;
}

/** Options of {@link overlayHeatmap}. */
export interface OverlayOptions extends HeatmapOptions, Pick<ImageOptions, "mean" | "std" | "normalize"> {
  /** Opacity of the heat map over the image, 0–1. Default 0.5. */
  alpha?: number;
}

/**
 * A heat map laid over its image: the map is resized bilinearly to the image's size when they differ
 * (a Grad-CAM map at layer resolution), coloured, and blended with opacity `alpha`.
 * @param image [C, H, W] (or [1, C, H, W]) in [0, 1]
 * @param heatmap [h, w] (or [1, h, w])
 * @example overlayHeatmap(x.slice(0, 0, 1), cam.slice(0, 0, 1), { alpha: 0.5, colormap: "jet", scale: 8 })
 */
export function overlayHeatmap(
  image: PictureSource,
  heatmap: PictureSource,
  options: OverlayOptions = {},
): Canvas {
  const alpha = options.alpha ?? 0.5;
  if (!(alpha >= 0 && alpha <= 1)) throw new Error(`overlayHeatmap: alpha must be in [0, 1], got ${alpha}`);
  const base = imageToCanvas(image, { ...options, scale: 1 });
  const map = valuesOf(heatmap);
  const mapShape = squeezeLeading(map.shape, 2);
  if (mapShape.length !== 2)
    throw new Error(`overlayHeatmap: expected a map [H, W], got ${formatShape(map.shape)}`);
  let values: Float32Array = Float32Array.from(map.data);
  if (mapShape[0] !== base.height || mapShape[1] !== base.width)
    values = resizeBilinear(values, 1, mapShape[0], mapShape[1], base.height, base.width);
  const { rgba } = heatmapPixels(
    { data: values, shape: [base.height, base.width] },
    options,
    "overlayHeatmap",
  );
  const scale = checkScale(options.scale ?? 1, "overlayHeatmap");
  const out = new Canvas(base.width * scale, base.height * scale, "#000000");
  for (let y = 0; y < base.height; y++)
    for (let x = 0; x < base.width; x++) {
      const i = 4 * (y * base.width + x);
      const mix = (k: number) => Math.round((1 - alpha) * base.data[i + k] + alpha * rgba[i + k]);
      out.fillRect(x * scale, y * scale, scale, scale, [mix(0), mix(1), mix(2), 255]);
    }
  return out;
}

/** Options of {@link canvasGrid}. */
export interface GridOptions {
  /** Pictures per row; default ceil(sqrt(count)). */
  columns?: number;
  /** A caption under each picture (drawn in the 5×7 pixel font). */
  labels?: readonly string[];
  /** Gap between pictures in pixels. Default 2. */
  padding?: number;
  /** Background colour '#rrggbb'. Default white. */
  background?: string;
  /** Caption colour. Default '#222222'. */
  color?: string;
  /** A title above the grid. */
  title?: string;
}

/**
 * Pictures tiled row by row into one Canvas, each cell as large as the largest picture, with optional
 * captions and title.
 * @example canvasGrid(maps.map((m) => heatmapToCanvas(m, { scale: 4 })), { labels: names, columns: 8 })
 */
export function canvasGrid(pictures: readonly Canvas[], options: GridOptions = {}): Canvas {
  if (pictures.length === 0) throw new Error("canvasGrid: no pictures to tile");
  const labels = options.labels;
  if (labels && labels.length !== pictures.length)
    throw new Error(`canvasGrid: ${labels.length} labels for ${pictures.length} pictures`);
  const columns = options.columns ?? Math.ceil(Math.sqrt(pictures.length));
  if (!(Number.isInteger(columns) && columns >= 1))
    throw new Error(`canvasGrid: columns must be an integer ≥ 1, got ${columns}`);
  const pad = options.padding ?? 2;
  const rows = Math.ceil(pictures.length / columns);
  const labelWidth = labels ? Math.max(...labels.map((l) => textWidth(l))) : 0;
  const cellW = Math.max(...pictures.map((p) => p.width), labelWidth + 4); // a gap between neighbouring captions
  const captionH = labels ? textHeight() + 3 : 0;
  const cellH = Math.max(...pictures.map((p) => p.height)) + captionH;
  const titleH = options.title ? textHeight(2) + 2 * pad + 2 : 0;
  const width = Math.max(
    columns * (cellW + pad) + pad,
    options.title ? textWidth(options.title, 2) + 2 * pad : 0,
  );
  const canvas = new Canvas(width, titleH + rows * (cellH + pad) + pad, options.background ?? "#ffffff");
  const ink = parseColor(options.color ?? "#222222");
  if (options.title) canvas.text(pad, pad, options.title, ink, 2);
  pictures.forEach((picture, i) => {
    const x0 = pad + (i % columns) * (cellW + pad) + Math.floor((cellW - picture.width) / 2);
    const y0 = titleH + pad + Math.floor(i / columns) * (cellH + pad);
    blit(canvas, picture, x0, y0);
    if (labels) {
      const tx = pad + (i % columns) * (cellW + pad) + Math.floor((cellW - textWidth(labels[i])) / 2);
      canvas.text(tx, y0 + cellH - captionH + 2, labels[i], ink);
    }
  });
  return canvas;
}

/** Copies `src` into `dst` with its top-left corner at (x, y). */
export function blit(dst: Canvas, src: Canvas, x: number, y: number): void {
  for (let sy = 0; sy < src.height; sy++) {
    const dy = y + sy;
    if (dy < 0 || dy >= dst.height) continue;
    for (let sx = 0; sx < src.width; sx++) {
      const dx = x + sx;
      if (dx < 0 || dx >= dst.width) continue;
      const s = 4 * (sy * src.width + sx);
      dst.data.set(src.data.subarray(s, s + 4), 4 * (dy * dst.width + dx));
    }
  }
}

/** What toImageData returns outside a browser: ImageData's fields. */
export interface ImageDataLike {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8ClampedArray;
}

/**
 * The picture as an ImageData for a browser canvas (`ctx.putImageData(toImageData(c), 0, 0)`); where
 * ImageData does not exist (Node) an object with the same fields.
 */
export function toImageData(canvas: Canvas): ImageDataLike {
  const data = new Uint8ClampedArray(canvas.data);
  const ImageDataCtor = (
    globalThis as { ImageData?: new (d: Uint8ClampedArray, w: number, h: number) => ImageDataLike }
  ).ImageData;
  return ImageDataCtor
    ? new ImageDataCtor(data, canvas.width, canvas.height)
    : { width: canvas.width, height: canvas.height, data };
}
