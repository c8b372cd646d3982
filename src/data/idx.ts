// Parser for the IDX format of MNIST and Fashion-MNIST (browser-safe: bytes in, arrays out). An IDX file is a
// 4-byte magic (two zero bytes, a type code, the number of dimensions), one big-endian uint32 per dimension and
// the values. Images are magic 2051 (0x00000803: unsigned bytes, 3 dims), labels 2049 (0x00000801, 1 dim).
// Every check names the file and what was expected, since a truncated download is the usual failure.

import type { ImageDataset } from "./dataset.js";

/** The magic number of an IDX file of unsigned-byte images (MNIST's `*-images-idx3-ubyte`). */
export const IDX_IMAGES_MAGIC = 2051;
/** The magic number of an IDX file of unsigned-byte labels (MNIST's `*-labels-idx1-ubyte`). */
export const IDX_LABELS_MAGIC = 2049;

/** Class names of Fashion-MNIST, indexed by label. */
export const FASHION_MNIST_CLASSES = [
  "T-shirt/top",
  "Trouser",
  "Pullover",
  "Dress",
  "Coat",
  "Sandal",
  "Shirt",
  "Sneaker",
  "Bag",
  "Ankle boot",
];

/** Class names of MNIST: the digits. */
export const MNIST_CLASSES = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

/** Raw images from an IDX file: `pixels` holds count·rows·cols bytes. */
export interface IdxImages {
  count: number;
  rows: number;
  cols: number;
  pixels: Uint8Array;
}

/**
 * Parses an IDX image file (magic 2051). `name` is used in error messages.
 *
 * @example const { count, rows, cols, pixels } = parseIdxImages(bytes, "train-images-idx3-ubyte");
 */
export function parseIdxImages(bytes: Uint8Array, name = "IDX images"): IdxImages {
  const dims = readHeader(bytes, name, IDX_IMAGES_MAGIC, 3);
  const [count, rows, cols] = dims;
  checkLength(bytes, name, dims, `${count} images of ${rows}×${cols}`);
  return { count, rows, cols, pixels: bytes.subarray(16, 16 + count * rows * cols) };
}

/** Parses an IDX label file (magic 2049) into one byte per label. */
export function parseIdxLabels(bytes: Uint8Array, name = "IDX labels"): Uint8Array {
  const dims = readHeader(bytes, name, IDX_LABELS_MAGIC, 1);
  checkLength(bytes, name, dims, `${dims[0]} labels`);
  return bytes.subarray(8, 8 + dims[0]);
}

/** Options of `parseMnist`. */
export interface MnistParseOptions {
  /** Names of the two files, for error messages. */
  imagesName?: string;
  labelsName?: string;
  /** Chooses the class names; 'mnist' by default. */
  kind?: "mnist" | "fashion";
}

/**
 * Builds an image dataset [N,1,28,28] from a pair of IDX files, pixels scaled to [0, 1].
 *
 * @example const ds = TensorDataset.fromImages(parseMnist(imageBytes, labelBytes));
 */
export function parseMnist(
  images: Uint8Array,
  labels: Uint8Array,
  options: MnistParseOptions = {},
): ImageDataset {
  const imagesName = options.imagesName ?? "IDX images";
  const labelsName = options.labelsName ?? "IDX labels";
  const parsed = parseIdxImages(images, imagesName);
  const rawLabels = parseIdxLabels(labels, labelsName);
  if (rawLabels.length !== parsed.count) {
    throw new Error(
      `${imagesName} holds ${parsed.count} images but ${labelsName} holds ${rawLabels.length} labels`,
    );
  }
  const classes = options.kind === "fashion" ? FASHION_MNIST_CLASSES : MNIST_CLASSES;
  const out = new Int32Array(rawLabels.length);
  for (let i = 0; i < rawLabels.length; i++) {
    if (rawLabels[i] >= classes.length) {
      throw new Error(
        `${labelsName}: label ${rawLabels[i]} at index ${i} is not a class 0..${classes.length - 1}`,
      );
    }
    out[i] = rawLabels[i];
  }
  return {
    images: bytesToUnit(parsed.pixels),
    labels: out,
    shape: [1, parsed.rows, parsed.cols],
    classes: [...classes],
  };
}

/** Scales bytes 0..255 to floats in [0, 1]. */
export function bytesToUnit(bytes: Uint8Array): Float32Array {
  const out = new Float32Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = bytes[i] / 255;
  return out;
}

function readHeader(bytes: Uint8Array, name: string, magic: number, ndim: number): number[] {
  const headerBytes = 4 + 4 * ndim;
  if (isGzip(bytes)) {
    throw new Error(
      `${name}: the data is gzip-compressed; decompress it first (DecompressionStream or node:zlib)`,
    );
  }
  const short = (): Error =>
    new Error(`${name}: file is ${bytes.length} bytes, shorter than the ${headerBytes}-byte IDX header`);
  if (bytes.length < 4) throw short();
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // The magic first: a labels file given for images is then reported as such, even though it is short.
  const found = view.getUint32(0, false);
  if (found !== magic) {
    const kind = magic === IDX_IMAGES_MAGIC ? "images" : "labels";
    throw new Error(
      `${name}: bad magic number ${found} (0x${hex(found)}), expected ${magic} (0x${hex(magic)}) for IDX ${kind}`,
    );
  }
  if (bytes.length < headerBytes) throw short();
  return Array.from({ length: ndim }, (_, i) => view.getUint32(4 + 4 * i, false));
}

function checkLength(bytes: Uint8Array, name: string, dims: number[], what: string): void {
  const header = 4 + 4 * dims.length;
  const expected = header + dims.reduce((a, b) => a * b, 1);
  if (bytes.length !== expected) {
    const problem = bytes.length < expected ? "truncated" : "has trailing bytes";
    throw new Error(
      `${name}: ${problem}: expected ${expected} bytes (${header}-byte header + ${what}), got ${bytes.length}`,
    );
  }
}

/** IDX element type codes (the magic's third byte) and their sizes in bytes. */
const IDX_TYPE_BYTES: Record<number, number> = { 0x08: 1, 0x09: 1, 0x0b: 2, 0x0c: 4, 0x0d: 4, 0x0e: 8 };

/**
 * The total file size an IDX header declares (header + values), or null while `head` is too short to tell.
 * Lets a streaming reader stop decompressing as soon as the data runs past what the header promised.
 * Throws (naming `name`) when the first bytes cannot start an IDX file.
 */
export function idxDeclaredLength(head: Uint8Array, name: string): number | null {
  if (head.length < 4) return null;
  const type = head[2];
  const ndim = head[3];
  if (head[0] !== 0 || head[1] !== 0 || !(type in IDX_TYPE_BYTES) || ndim === 0) {
    const found = new DataView(head.buffer, head.byteOffset, 4).getUint32(0, false);
    throw new Error(
      `${name}: bad magic number ${found} (0x${hex(found)}); an IDX file starts with 00 00, a type code and the number of dimensions (MNIST images: 2051, labels: 2049)`,
    );
  }
  const headerBytes = 4 + 4 * ndim;
  if (head.length < headerBytes) return null;
  const view = new DataView(head.buffer, head.byteOffset, headerBytes);
  let values = 1;
  for (let i = 0; i < ndim; i++) values *= view.getUint32(4 + 4 * i, false);
  return headerBytes + values * IDX_TYPE_BYTES[type];
}

/** True when the bytes start with the gzip signature 1f 8b. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

function hex(v: number): string {
  return v.toString(16).padStart(8, "0");
}
