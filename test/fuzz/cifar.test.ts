// Fuzzing the CIFAR-10/100 binary parsers: record-size and label checks give clean errors naming the file; a
// mutated file that still parses must give exactly the labels and pixels its bytes hold.

import { test } from "node:test";
import assert from "node:assert/strict";
import { parseCifar10, parseCifar100 } from "../../src/data/cifar.js";
import { FUZZ_TIMEOUT, assertClean, fuzz, FUZZ_CASES, mutateBytes } from "./harness.js";

const PIXELS = 3072;

function records(count: number, labelBytes: number, label: (r: number, j: number) => number): Uint8Array {
  const size = labelBytes + PIXELS;
  const out = new Uint8Array(count * size);
  for (let r = 0; r < count; r++) {
    for (let j = 0; j < labelBytes; j++) out[r * size + j] = label(r, j);
    for (let p = 0; p < PIXELS; p++) out[r * size + labelBytes + p] = (r * 31 + p * 7) % 256;
  }
  return out;
}

const CIFAR10 = records(3, 1, (r) => r * 3);
const CIFAR100 = records(3, 2, (r, j) => (j === 0 ? r * 5 : r * 30));

test(
  `CIFAR: ${FUZZ_CASES} mutated batch files give clean errors naming the file or exact values`,
  FUZZ_TIMEOUT,
  async () => {
    const result = await fuzz("CIFAR", FUZZ_CASES, 9003, (rng) => {
      const hundred = rng.next() < 0.4;
      const labelBytes = hundred ? 2 : 1;
      const m = mutateBytes(rng, hundred ? CIFAR100 : CIFAR10, 8);
      const name = hundred ? "train.bin" : "data_batch_1.bin";
      return {
        name,
        what: `${name}: ${m.what}`,
        run: () => {
          const files = [{ name, bytes: m.bytes }];
          const ds = hundred ? parseCifar100(files) : parseCifar10(files);
          const size = labelBytes + PIXELS;
          assert.equal(m.bytes.length % size, 0);
          assert.equal(ds.labels.length, m.bytes.length / size);
          for (let r = 0; r < ds.labels.length; r++) {
            assert.equal(ds.labels[r], m.bytes[r * size + labelBytes - 1]); // fine label: the last label byte
            for (let p = 0; p < PIXELS; p += 97) {
              assert.equal(ds.images[r * PIXELS + p], Math.fround(m.bytes[r * size + labelBytes + p] / 255));
            }
          }
        },
      };
    });
    assertClean(result);
  },
);
