// Fuzzing the IDX (MNIST) readers: raw bytes through parseMnist, and gzip files through loadMnist's streamed,
// bounded decompression. A mutated file that still parses must give exactly what its bytes say.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { parseMnist } from "../../src/data/idx.js";
import { loadMnist, mnistFileNames } from "../../src/node/data/index.js";
import { FUZZ_TIMEOUT, assertClean, fuzz, FUZZ_CASES, mutateBytes, type FuzzRng } from "./harness.js";

function idx(magic: number, dims: number[], values: (i: number) => number): Uint8Array {
  const count = dims.reduce((a, b) => a * b, 1);
  const out = new Uint8Array(4 + 4 * dims.length + count);
  const view = new DataView(out.buffer);
  view.setUint32(0, magic, false);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  for (let i = 0; i < count; i++) out[4 + 4 * dims.length + i] = values(i);
  return out;
}

const IMAGES = idx(2051, [6, 5, 4], (i) => (i * 37) % 256);
const LABELS = idx(2049, [6], (i) => i % 10);

/** What the bytes say, read independently of the parser: header dims, pixels/255 and labels. */
function checkAgainstBytes(
  ds: { images: Float32Array; labels: Int32Array; shape: readonly number[] },
  images: Uint8Array,
  labels: Uint8Array,
): void {
  const view = new DataView(images.buffer, images.byteOffset, images.byteLength);
  const [count, rows, cols] = [view.getUint32(4), view.getUint32(8), view.getUint32(12)];
  assert.equal(view.getUint32(0), 2051);
  assert.deepEqual(ds.shape, [1, rows, cols]);
  assert.equal(images.length, 16 + count * rows * cols);
  assert.equal(labels.length, 8 + count);
  for (let i = 0; i < count * rows * cols; i++) assert.equal(ds.images[i], Math.fround(images[16 + i] / 255));
  for (let i = 0; i < count; i++) assert.equal(ds.labels[i], labels[8 + i]);
}

function mutatePair(rng: FuzzRng): { images: Uint8Array; labels: Uint8Array; what: string } {
  if (rng.next() < 0.7) {
    const m = mutateBytes(rng, IMAGES, 16);
    return { images: m.bytes, labels: LABELS, what: `images: ${m.what}` };
  }
  const m = mutateBytes(rng, LABELS, 8);
  return { images: IMAGES, labels: m.bytes, what: `labels: ${m.what}` };
}

test(
  `IDX raw: ${FUZZ_CASES} mutated files give clean errors naming the file or exact values`,
  FUZZ_TIMEOUT,
  async () => {
    const result = await fuzz("IDX raw", FUZZ_CASES, 9001, (rng) => {
      const { images, labels, what } = mutatePair(rng);
      return {
        name: /imgs\.idx|lbls\.idx/,
        what,
        run: () =>
          checkAgainstBytes(
            parseMnist(images, labels, { imagesName: "imgs.idx", labelsName: "lbls.idx" }),
            images,
            labels,
          ),
      };
    });
    assertClean(result);
  },
);

let dir = "";
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "striate-fuzz-idx-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test(
  `IDX gzip: ${FUZZ_CASES} mutated gzip files stop early with clean errors or load exactly`,
  FUZZ_TIMEOUT,
  async () => {
    const [imagesName, labelsName] = mnistFileNames("train");
    const result = await fuzz("IDX gzip", FUZZ_CASES, 9002, (rng) => {
      // Mutate the compressed bytes, or the IDX bytes before compressing (a well-formed gzip of a lying header).
      let gz: Uint8Array;
      let what: string;
      if (rng.next() < 0.5) {
        const m = mutateBytes(rng, gzipSync(IMAGES), 32);
        [gz, what] = [m.bytes, `gzip bytes: ${m.what}`];
      } else {
        const m = mutateBytes(rng, IMAGES, 16);
        [gz, what] = [gzipSync(m.bytes), `IDX bytes then gzip: ${m.what}`];
      }
      return {
        name: /train-images-idx3-ubyte/,
        what,
        run: async () => {
          await writeFile(join(dir, `${imagesName}.gz`), gz);
          await writeFile(join(dir, labelsName), LABELS);
          const ds = await loadMnist({ split: "train", path: dir });
          checkAgainstBytes(ds, new Uint8Array(gunzipSync(gz, { maxOutputLength: 2 ** 24 })), LABELS);
        },
      };
    });
    assertClean(result);
  },
);
