// CIFAR-10/100 readers on files written here in the published binary format: a record is the label byte(s) then
// the 1024 red values row by row, the 1024 green, the 1024 blue. The checks read pixels back at [n, c, y, x] so
// an interleaved (HWC) or transposed reading would fail.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile, mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CIFAR10_CLASSES,
  CIFAR100_FINE_CLASSES,
  CIFAR100_COARSE_CLASSES,
  parseCifar10,
} from "../../src/data/index.js";
import { loadCifar10, loadCifar100, cifar10FileNames } from "../../src/node/data/index.js";

// The byte a record stores for channel c at (y, x): distinct per channel and position, varied per record.
function pixelByte(record: number, c: number, y: number, x: number): number {
  return (record * 7 + c * 85 + y * 3 + x * 5) % 256;
}

function record(labels: number[], index: number): Uint8Array {
  const out = new Uint8Array(labels.length + 3072);
  out.set(labels);
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < 32; y++) {
      for (let x = 0; x < 32; x++) out[labels.length + c * 1024 + y * 32 + x] = pixelByte(index, c, y, x);
    }
  }
  return out;
}

function file(records: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(records.reduce((n, r) => n + r.length, 0));
  let offset = 0;
  for (const r of records) {
    out.set(r, offset);
    offset += r.length;
  }
  return out;
}

let dir = "";
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "striate-cifar-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function checkPixels(images: Float32Array, n: number, recordIndex: number): void {
  for (const [c, y, x] of [
    [0, 0, 0],
    [0, 0, 31],
    [1, 5, 2],
    [2, 31, 0],
    [2, 17, 29],
  ]) {
    const got = images[((n * 3 + c) * 32 + y) * 32 + x];
    assert.equal(
      got,
      Math.fround(pixelByte(recordIndex, c, y, x) / 255),
      `image ${n} channel ${c} (${y},${x})`,
    );
  }
}

test("CIFAR-10 test_batch.bin: 10,000 records, channel-major R, G, B planes, labels and class names", async () => {
  const folder = join(dir, "c10");
  await mkdir(folder);
  const labels = Array.from({ length: 10000 }, (_, i) => (i * 3) % 10);
  await writeFile(join(folder, "test_batch.bin"), file(labels.map((l, i) => record([l], i))));
  const ds = await loadCifar10(folder, "test");
  assert.equal(ds.length, 10000);
  assert.deepEqual(ds.shape, [3, 32, 32]);
  assert.deepEqual([...ds.labels.subarray(0, 4)], [0, 3, 6, 9]);
  assert.equal(ds.labels[9999], labels[9999]);
  assert.equal(ds.classes[3], "cat");
  assert.deepEqual(ds.classes, CIFAR10_CLASSES);
  checkPixels(ds.images, 0, 0);
  checkPixels(ds.images, 9999, 9999);
});

test("CIFAR-10 train split concatenates data_batch_1..5 in order; the archive's sub-folder is found", async () => {
  const folder = join(dir, "parent", "cifar-10-batches-bin");
  await mkdir(folder, { recursive: true });
  for (const [b, name] of cifar10FileNames("train").entries()) {
    await writeFile(join(folder, name), file([record([b], 10 * b), record([9 - b], 10 * b + 1)]));
  }
  const ds = await loadCifar10(join(dir, "parent"), "train");
  assert.equal(ds.length, 10);
  assert.deepEqual([...ds.labels], [0, 9, 1, 8, 2, 7, 3, 6, 4, 5]);
  checkPixels(ds.images, 5, 21);
  checkPixels(ds.images, 9, 41);
});

test("CIFAR-100: two label bytes (coarse, fine), fine by default, coarse on request", async () => {
  const folder = join(dir, "c100");
  await mkdir(folder);
  await writeFile(
    join(folder, "train.bin"),
    file([record([4, 0], 0), record([19, 99], 1), record([11, 3], 2)]),
  );
  const fine = await loadCifar100(folder, "train");
  assert.deepEqual([...fine.labels], [0, 99, 3]);
  assert.equal(fine.classes.length, 100);
  assert.deepEqual([fine.classes[0], fine.classes[3], fine.classes[99]], ["apple", "bear", "worm"]);
  assert.deepEqual(CIFAR100_FINE_CLASSES, [...CIFAR100_FINE_CLASSES].sort());
  checkPixels(fine.images, 1, 1);
  const coarse = await loadCifar100(folder, "train", { label: "coarse" });
  assert.deepEqual([...coarse.labels], [4, 19, 11]);
  assert.equal(coarse.classes.length, 20);
  assert.deepEqual(coarse.classes, CIFAR100_COARSE_CLASSES);
  checkPixels(coarse.images, 2, 2);
});

test("missing CIFAR folders and files list the expected names; partial records are rejected", async () => {
  await assert.rejects(loadCifar10(join(dir, "absent"), "train"), (error: Error) => {
    assert.match(error.message, /loadCifar10: folder .*absent does not exist/);
    assert.match(
      error.message,
      /data_batch_1\.bin, data_batch_2\.bin, data_batch_3\.bin, data_batch_4\.bin, data_batch_5\.bin/,
    );
    return true;
  });
  await assert.rejects(
    loadCifar100(join(dir, "c100"), "test"),
    /is missing test\.bin; expected files: test\.bin/,
  );
  assert.throws(
    () => parseCifar10([{ name: "data_batch_1.bin", bytes: new Uint8Array(3073 + 100) }]),
    /data_batch_1\.bin: 3173 bytes is not a whole number of 3073-byte records \(1 label byte \+ 3072 pixels\)/,
  );
  assert.throws(
    () => parseCifar10([{ name: "b.bin", bytes: record([10], 0) }]),
    /b\.bin: record 0 has label 10, expected 0\.\.9/,
  );
});
