// DataLoader: batch shapes and dtypes, length with and without dropLast, every index exactly once per epoch,
// seeded shuffles that replay and differ across epochs, transforms independent of prefetch timing, soft
// targets after mixup, and prefetching that really builds batch k+1 while the consumer still works on batch k.

import { test } from "node:test";
import assert from "node:assert/strict";
import {
  DataLoader,
  TensorDataset,
  compose,
  mixup,
  randomHorizontalFlip,
  type Transform,
} from "../../src/data/index.js";

function toyDataset(n: number, c = 1, h = 2, w = 3): TensorDataset {
  const size = c * h * w;
  // Every pixel of sample i holds i + p/100, so a batch row identifies its sample.
  const images = Float32Array.from({ length: n * size }, (_, k) => Math.floor(k / size) + (k % size) / 100);
  const labels = Int32Array.from({ length: n }, (_, i) => i % 3);
  return new TensorDataset(images, labels, { shape: [c, h, w], classes: ["a", "b", "c"] });
}

async function collect(
  loader: DataLoader,
): Promise<{ shapes: number[][]; indices: number[][]; x: number[][] }> {
  const out = { shapes: [] as number[][], indices: [] as number[][], x: [] as number[][] };
  for await (const batch of loader) {
    out.shapes.push([...batch.x.shape]);
    out.indices.push([...batch.indices]);
    out.x.push([...batch.x.toArray()]);
  }
  return out;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test("batch shapes, dtypes, labels and length with and without dropLast", async () => {
  const ds = toyDataset(10);
  const loader = new DataLoader(ds, { batchSize: 4 });
  assert.equal(loader.length, 3);
  const batches = [];
  for await (const batch of loader) batches.push(batch);
  assert.deepEqual(
    batches.map((b) => b.x.shape),
    [
      [4, 1, 2, 3],
      [4, 1, 2, 3],
      [2, 1, 2, 3],
    ],
  );
  assert.equal(batches[0].x.dtype, "float32");
  assert.equal(batches[0].y.dtype, "int32");
  assert.deepEqual(batches[2].y.shape, [2]);
  assert.deepEqual([...batches[1].y.toArray()], [1, 2, 0, 1]);
  assert.deepEqual([...batches[2].indices], [8, 9]);
  // Row 1 of batch 1 is sample 5.
  assert.deepEqual(
    [...batches[1].x.toArray().subarray(6, 12)].map((v) => Math.round(v * 100) / 100),
    [5, 5.01, 5.02, 5.03, 5.04, 5.05],
  );

  const dropping = new DataLoader(ds, { batchSize: 4, dropLast: true });
  assert.equal(dropping.length, 2);
  const dropped = await collect(dropping);
  assert.deepEqual(dropped.shapes, [
    [4, 1, 2, 3],
    [4, 1, 2, 3],
  ]);
  assert.equal(new DataLoader(ds, { batchSize: 11, dropLast: true }).length, 0);
  assert.deepEqual((await collect(new DataLoader(ds, { batchSize: 11, dropLast: true }))).shapes, []);
});

test("shuffled epochs visit every index exactly once, differ from each other and replay from the seed", async () => {
  const ds = toyDataset(50);
  const loader = new DataLoader(ds, { batchSize: 8, shuffle: true, seed: 123 });
  const epochs: number[][] = [];
  for (let e = 0; e < 3; e++) epochs.push((await collect(loader)).indices.flat());
  for (const order of epochs) {
    assert.deepEqual(
      [...order].sort((a, b) => a - b),
      Array.from({ length: 50 }, (_, i) => i),
    );
  }
  assert.notDeepEqual(epochs[0], epochs[1]);
  assert.notDeepEqual(epochs[1], epochs[2]);
  assert.notDeepEqual(
    epochs[0],
    Array.from({ length: 50 }, (_, i) => i),
    "shuffled, not in order",
  );

  const replay = new DataLoader(ds, { batchSize: 8, shuffle: true, seed: 123 });
  for (let e = 0; e < 3; e++) assert.deepEqual((await collect(replay)).indices.flat(), epochs[e]);
  const resumed = new DataLoader(ds, { batchSize: 8, shuffle: true, seed: 123 });
  resumed.epoch = 2;
  assert.deepEqual((await collect(resumed)).indices.flat(), epochs[2]);
  const otherSeed = new DataLoader(ds, { batchSize: 8, shuffle: true, seed: 124 });
  assert.notDeepEqual((await collect(otherSeed)).indices.flat(), epochs[0]);
  // The images follow the indices.
  const first = await collect(new DataLoader(ds, { batchSize: 8, shuffle: true, seed: 9 }));
  first.indices.forEach((idx, b) =>
    idx.forEach((i, row) => assert.equal(Math.round(first.x[b][row * 6]), i)),
  );
});

test("synchronous batches() and async iteration give the same batches; prefetch does not change them", async () => {
  const ds = toyDataset(30);
  const augment = compose([randomHorizontalFlip(0.5), mixup(0.4)]);
  const options = { batchSize: 7, shuffle: true, seed: 5, transform: augment };
  const withPrefetch = await collect(new DataLoader(ds, { ...options, prefetch: true }));
  const without = await collect(new DataLoader(ds, { ...options, prefetch: false }));
  assert.deepEqual(withPrefetch, without);
  const sync = new DataLoader(ds, options);
  const syncX = [...sync.batches()].map((b) => [...b.x.toArray()]);
  assert.deepEqual(syncX, withPrefetch.x);
  // A mixed-up batch yields soft targets [B, K] whose rows sum to 1.
  const soft = [...new DataLoader(ds, options).batches()][0].y;
  assert.equal(soft.dtype, "float32");
  assert.deepEqual(soft.shape, [7, 3]);
  const rows = soft.toArray();
  for (let r = 0; r < 7; r++) assert.ok(Math.abs(rows[3 * r] + rows[3 * r + 1] + rows[3 * r + 2] - 1) < 1e-6);
});

test("prefetch builds batch k+1 while the consumer awaits work on batch k", async () => {
  async function timeline(prefetch: boolean): Promise<string[]> {
    const events: string[] = [];
    let built = 0;
    const record: Transform = (batch) => {
      events.push(`built ${built++}`);
      return batch;
    };
    const loader = new DataLoader(toyDataset(12), { batchSize: 3, transform: record, prefetch });
    let k = 0;
    for await (const batch of loader) {
      assert.equal(batch.x.shape[0], 3);
      events.push(`got ${k}`);
      await sleep(5); // the training step: awaiting kernels, I/O, a worker …
      events.push(`done ${k++}`);
    }
    return events;
  }
  const overlapped = await timeline(true);
  for (let k = 0; k < 3; k++) {
    const builtNext = overlapped.indexOf(`built ${k + 1}`);
    assert.ok(
      builtNext > overlapped.indexOf(`got ${k}`),
      `batch ${k + 1} built after batch ${k} was handed out`,
    );
    assert.ok(
      builtNext < overlapped.indexOf(`done ${k}`),
      `batch ${k + 1} built before work on ${k} ended: ${overlapped}`,
    );
  }
  // Without prefetch each batch is built only when asked for, after the previous step ended.
  const serial = await timeline(false);
  for (let k = 0; k < 3; k++) assert.ok(serial.indexOf(`built ${k + 1}`) > serial.indexOf(`done ${k}`));
});

test("breaking out of an epoch is clean, errors surface in the loop, bad options are rejected", async () => {
  const loader = new DataLoader(toyDataset(20), { batchSize: 4, shuffle: true, seed: 1 });
  for await (const batch of loader) {
    assert.equal(batch.indices.length, 4);
    break;
  }
  assert.equal(loader.epoch, 1);
  let seen = 0;
  const failing: Transform = (batch) => {
    if (seen++ === 1) throw new Error("augmentation failed on batch 1");
    return batch;
  };
  const broken = new DataLoader(toyDataset(20), { batchSize: 4, transform: failing });
  await assert.rejects(async () => {
    for await (const batch of broken) await sleep(batch.indices.length);
  }, /augmentation failed on batch 1/);
  assert.throws(
    () => new DataLoader(toyDataset(4), { batchSize: 0 }),
    /batchSize must be a positive integer, got 0/,
  );
  assert.throws(
    () => new DataLoader({ length: 1, get: () => ({ x: new Float32Array(1), y: 0 }) }),
    /the dataset has no image shape \[C, H, W\]/,
  );
});
