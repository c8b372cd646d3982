// Images on disk as a classification dataset (torchvision ImageFolder, Node): one sub-folder per class, PNG
// files decoded with pngjs and JPEG files with jpeg-js. Both decoders hand back 8-bit RGBA, so the conversion to
// the requested channel count is done here, explicitly: grey sources have R = G = B, alpha is dropped unless a
// background to composite over is given, and one-channel output uses the ITU-R 601 luma (as PIL's convert("L")).

import { readdir, readFile } from "node:fs/promises";
import { extname, join } from "node:path";
import { PNG } from "pngjs";
import jpeg from "jpeg-js";
import { TensorDataset } from "../../data/dataset.js";
import { resizeBilinear } from "../../data/resize.js";
import { isDirectory } from "./files.js";

export interface ImageFolderOptions {
  /** Resize every image to this size (one number for a square, or [height, width]); bilinear. */
  size?: number | readonly [number, number];
  /** 3: RGB (default), 1: grey, 4: RGBA. */
  channels?: 1 | 3 | 4;
  /** Composite transparent pixels over this grey level in [0, 1] (for 1 or 3 channels); ignored alpha otherwise. */
  background?: number;
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
 * `size` when given. Used by loadImageFolder and by the CLI's `predict`.
 */
export async function readImageFile(
  path: string,
  options: { channels?: 1 | 3 | 4; size?: readonly [number, number]; background?: number } = {},
): Promise<{ image: Float32Array; width: number; height: number }> {
  const channels = options.channels ?? 3;
  const { width, height, rgba } = decode(path, new Uint8Array(await readFile(path)));
  const chw = toChannels(rgba, width * height, channels, options.background);
  const size = options.size;
  if (!size || (size[0] === height && size[1] === width)) return { image: chw, width, height };
  return { image: resizeBilinear(chw, channels, height, width, size[0], size[1]), width, height };
}

function decode(path: string, bytes: Uint8Array): { width: number; height: number; rgba: Uint8Array } {
  const ext = extname(path).toLowerCase();
  if (!EXTENSIONS.has(ext)) {
    throw new Error(`${path}: only .png, .jpg and .jpeg images are supported, not '${ext || "(none)"}'`);
  }
  try {
    if (ext === ".png") {
      const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      return { width: png.width, height: png.height, rgba: new Uint8Array(png.data) };
    }
    const image = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true });
    return { width: image.width, height: image.height, rgba: image.data };
  } catch (error) {
    throw new Error(
      `${path} could not be decoded as ${ext.slice(1).toUpperCase()} (${(error as Error).message})`,
    );
  }
}

// RGBA bytes (pixel-interleaved) to a CHW float image in [0, 1].
function toChannels(
  rgba: Uint8Array,
  pixels: number,
  channels: 1 | 3 | 4,
  background?: number,
): Float32Array {
  const out = new Float32Array(channels * pixels);
  const composite = channels !== 4 && background !== undefined;
  for (let p = 0; p < pixels; p++) {
    const alpha = rgba[4 * p + 3] / 255;
    let r = rgba[4 * p] / 255;
    let g = rgba[4 * p + 1] / 255;
    let b = rgba[4 * p + 2] / 255;
    if (composite) {
      r = r * alpha + background * (1 - alpha);
      g = g * alpha + background * (1 - alpha);
      b = b * alpha + background * (1 - alpha);
    }
    if (channels === 1) {
      out[p] = 0.299 * r + 0.587 * g + 0.114 * b;
      continue;
    }
    out[p] = r;
    out[pixels + p] = g;
    out[2 * pixels + p] = b;
    if (channels === 4) out[3 * pixels + p] = alpha;
  }
  return out;
}
