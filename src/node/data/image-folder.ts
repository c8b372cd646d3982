// Images on disk as a classification dataset (torchvision ImageFolder, Node): one sub-folder per class, PNG
// files decoded with pngjs and JPEG files with jpeg-js. Both decoders hand back 8-bit RGBA, so the conversion to
// the requested channel count is done here, explicitly: grey sources have R = G = B, alpha is dropped unless a
// background to composite over is given, and one-channel output uses the ITU-R 601 luma (as PIL's convert("L")).

import { readdir, readFile } from "node:fs/promises";
import { extname, join } from "node:path";
import { PNG } from "pngjs";
import jpeg from "jpeg-js";
import { TensorDataset } from "../../data/dataset.js";
import { axisWeights } from "../../data/resize.js";
import { isDirectory } from "./files.js";
import { checkPngData, DEFAULT_MAX_PIXELS, readImageHeader, type PngLayout } from "./image-header.js";
import { canStreamPng, decodePngRows } from "./png-rows.js";

/** Options of `loadImageFolder` (torchvision's ImageFolder layout: one sub-folder per class). */
export interface ImageFolderOptions {
  /** Resize every image to this size (one number for a square, or [height, width]); bilinear. */
  size?: number | readonly [number, number];
  /** 3: RGB (default), 1: grey, 4: RGBA. */
  channels?: 1 | 3 | 4;
  /** Composite transparent pixels over this grey level in [0, 1] (for 1 or 3 channels); ignored alpha otherwise. */
  background?: number;
  /**
   * Largest image accepted, in pixels (width × height, read from the file's header before decoding; default
   * 40,000,000). Raise it for larger images: a full PNG decode peaks near 16 bytes per pixel (a PNG resized down
   * is decoded row by row and needs far less).
   */
  maxPixels?: number;
}

/** A dataset read from an image folder; `files[i]` is the path of image i. */
export class ImageFolderDataset extends TensorDataset {
  constructor(
    images: Float32Array,
    labels: Int32Array,
    shape: [number, number, number],
    classes: string[],
    readonly files: string[],
  ) {
    super(images, labels, { shape, classes });
  }
}

const EXTENSIONS = new Set([".png", ".jpg", ".jpeg"]);

/**
 * Reads `dir/<class>/<image>.png|jpg|jpeg` into a dataset [N, C, H, W] with pixels in [0, 1]. Classes are the
 * sub-folder names in sorted order; other files are skipped. Without `size` every image must have the same size.
 *
 * @example const ds = await loadImageFolder("./flowers", { size: 64 }); // [N,3,64,64], ds.classes = sub-folders
 */
export async function loadImageFolder(
  dir: string,
  options: ImageFolderOptions = {},
): Promise<ImageFolderDataset> {
  const channels = options.channels ?? 3;
  if (![1, 3, 4].includes(channels))
    throw new Error(`loadImageFolder: channels must be 1, 3 or 4, got ${channels}`);
  if (!(await isDirectory(dir))) {
    throw new Error(
      `loadImageFolder: folder ${dir} does not exist; expected one sub-folder of images per class`,
    );
  }
  const entries = await readdir(dir, { withFileTypes: true });
  const classes = entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
  if (classes.length === 0)
    throw new Error(`loadImageFolder: ${dir} has no sub-folders; expected one per class`);
  const files: string[] = [];
  const labels: number[] = [];
  for (const [label, name] of classes.entries()) {
    const inner = await readdir(join(dir, name), { withFileTypes: true });
    for (const file of inner
      .filter((e) => e.isFile() && EXTENSIONS.has(extname(e.name).toLowerCase()))
      .map((e) => e.name)
      .sort()) {
      files.push(join(dir, name, file));
      labels.push(label);
    }
  }
  if (files.length === 0) {
    throw new Error(
      `loadImageFolder: no .png, .jpg or .jpeg files in the class folders of ${dir} (${classes.join(", ")})`,
    );
  }
  const target = options.size === undefined ? null : sizePair(options.size);
  let shape: [number, number, number] | null = target ? [channels, target[0], target[1]] : null;
  let first = "";
  const images: Float32Array[] = [];
  for (const path of files) {
    const { image, width, height } = await readImageFile(path, {
      channels,
      size: target ?? undefined,
      background: options.background,
      maxPixels: options.maxPixels,
    });
    if (target) {
      // Already resized.
    } else if (!shape) {
      shape = [channels, height, width];
      first = path;
    } else if (shape[1] !== height || shape[2] !== width) {
      throw new Error(
        `loadImageFolder: ${path} is ${width}×${height} but ${first} is ${shape[2]}×${shape[1]} (width×height); ` +
          "pass { size } to resize all images",
      );
    }
    images.push(image);
  }
  const all = new Float32Array(images.reduce((n, im) => n + im.length, 0));
  images.forEach((im, i) => all.set(im, i * im.length));
  return new ImageFolderDataset(all, Int32Array.from(labels), shape!, classes, files);
}

function sizePair(size: number | readonly [number, number]): [number, number] {
  const [h, w] = typeof size === "number" ? [size, size] : size;
  if (![h, w].every((d) => Number.isInteger(d) && d > 0)) {
    throw new Error(
      `loadImageFolder: size must be a positive integer or [height, width], got ${String(size)}`,
    );
  }
  return [h, w];
}

/**
 * Reads one PNG or JPEG file as a CHW float image in [0, 1] with `channels` channels, resized (bilinear) to
 * `size` when given. The format comes from the file's signature and its size from its header, checked against
 * `maxPixels` (default 40,000,000) before decoding. Used by loadImageFolder and by the CLI's `predict`.
 */
export async function readImageFile(
  path: string,
  options: {
    channels?: 1 | 3 | 4;
    size?: readonly [number, number];
    background?: number;
    maxPixels?: number;
  } = {},
): Promise<{ image: Float32Array; width: number; height: number }> {
  const channels = options.channels ?? 3;
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  if (!(maxPixels > 0))
    throw new Error(`readImageFile: maxPixels must be a positive number, got ${maxPixels}`);
  const decoded = await decode(path, new Uint8Array(await readFile(path)), maxPixels, options.size?.[0]);
  const { width, height } = decoded;
  const size = options.size ?? [height, width];
  // Converted and resampled straight from the decoded bytes: a large image resized to a small one never
  // exists as a full-size float array.
  const image = toChannelsResized(decoded, channels, size[0], size[1], options.background);
  return { image, width, height };
}

/** Decoded RGBA bytes; `rowAt[y]` is where source row y sits in `rgba` when only some rows were kept. */
interface Decoded {
  width: number;
  height: number;
  rgba: Uint8Array;
  rowAt?: Int32Array;
}

// A large PNG resized to fewer rows is decoded row by row, keeping only the rows bilinear resizing reads.
async function decodeRowsForResize(path: string, layout: PngLayout, outH: number): Promise<Decoded> {
  const { width, height } = layout;
  const ys = axisWeights(height, outH);
  const wanted = new Set([...ys.i0, ...ys.i1]);
  const rows = await decodePngRows(path, layout, wanted);
  const rowAt = new Int32Array(height).fill(-1);
  const rgba = new Uint8Array(4 * width * rows.size);
  [...rows.keys()]
    .sort((a, b) => a - b)
    .forEach((y, i) => {
      rowAt[y] = i;
      rgba.set(rows.get(y)!, 4 * width * i);
    });
  return { width, height, rgba, rowAt };
}

async function decode(path: string, bytes: Uint8Array, maxPixels: number, outH?: number): Promise<Decoded> {
  const ext = extname(path).toLowerCase();
  if (!EXTENSIONS.has(ext)) {
    throw new Error(`${path}: only .png, .jpg and .jpeg images are supported, not '${ext || "(none)"}'`);
  }
  const header = readImageHeader(path, bytes, maxPixels);
  if (header.format === "png") {
    const layout = await checkPngData(path, bytes);
    if (outH !== undefined && outH < header.height && canStreamPng(layout)) {
      return decodeRowsForResize(path, layout, outH);
    }
  }
  let decoded: Decoded;
  try {
    if (header.format === "png") {
      const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      const data = png.data; // a view, not a copy: the decoded image can be large
      decoded = {
        width: png.width,
        height: png.height,
        rgba: new Uint8Array(data.buffer, data.byteOffset, data.length),
      };
    } else {
      const image = jpeg.decode(bytes, {
        useTArray: true,
        formatAsRGBA: true,
        tolerantDecoding: false, // truncated data must fail, not decode as grey blocks
        maxResolutionInMP: maxPixels / 1e6,
        maxMemoryUsageInMB: Math.max(512, Math.ceil((maxPixels * 16) / 2 ** 20)),
      });
      decoded = { width: image.width, height: image.height, rgba: image.data };
    }
  } catch (error) {
    throw new Error(
      `${path} could not be decoded as ${header.format.toUpperCase()} (${(error as Error).message})`,
    );
  }
  if (
    decoded.width !== header.width ||
    decoded.height !== header.height ||
    decoded.rgba.length !== 4 * header.width * header.height
  ) {
    throw new Error(
      `${path}: decoded ${decoded.width}×${decoded.height} but the header declares ${header.width}×${header.height}`,
    );
  }
  return decoded;
}

// RGBA bytes (pixel-interleaved) to a CHW float image in [0, 1] of outH×outW, bilinear as resizeBilinear
// (align_corners = false). Each source pixel's channel values are computed (and rounded to float32, as a
// stored plane would be) only where the resampling reads them, so no full-size float copy is made.
function toChannelsResized(
  { rgba, width, height, rowAt }: Decoded,
  channels: 1 | 3 | 4,
  outH: number,
  outW: number,
  background?: number,
): Float32Array {
  const plane = outH * outW;
  const out = new Float32Array(channels * plane);
  const value = channelReader(rgba, channels, background);
  const rowStart = (y: number): number => (rowAt ? rowAt[y] : y) * width;
  if (outH === height && outW === width) {
    for (let c = 0; c < channels; c++) for (let p = 0; p < plane; p++) out[c * plane + p] = value(p, c);
    return out;
  }
  const ys = axisWeights(height, outH);
  const xs = axisWeights(width, outW);
  for (let c = 0; c < channels; c++) {
    for (let oy = 0; oy < outH; oy++) {
      const row0 = rowStart(ys.i0[oy]);
      const row1 = rowStart(ys.i1[oy]);
      const wy = ys.frac[oy];
      for (let ox = 0; ox < outW; ox++) {
        const [x0, x1, wx] = [xs.i0[ox], xs.i1[ox], xs.frac[ox]];
        const a = value(row0 + x0, c);
        const top = a + (value(row0 + x1, c) - a) * wx;
        const b = value(row1 + x0, c);
        const bottom = b + (value(row1 + x1, c) - b) * wx;
        out[c * plane + oy * outW + ox] = top + (bottom - top) * wy;
      }
    }
  }
  return out;
}

// Channel c of pixel p in [0, 1]: grey sources have R = G = B, alpha is composited over `background` when
// given (for 1 or 3 channels), one channel is the ITU-R 601 luma (as PIL's convert("L")).
function channelReader(
  rgba: Uint8Array,
  channels: 1 | 3 | 4,
  background?: number,
): (p: number, c: number) => number {
  const composite = channels !== 4 && background !== undefined;
  return (p, c) => {
    const alpha = rgba[4 * p + 3] / 255;
    if (c === 3) return Math.fround(alpha);
    const mix = (v: number): number => (composite ? v * alpha + background * (1 - alpha) : v);
    if (channels === 1) {
      const [r, g, b] = [mix(rgba[4 * p] / 255), mix(rgba[4 * p + 1] / 255), mix(rgba[4 * p + 2] / 255)];
      return Math.fround(0.299 * r + 0.587 * g + 0.114 * b);
    }
    return Math.fround(mix(rgba[4 * p + c] / 255));
  };
}
