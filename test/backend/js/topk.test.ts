// The topk kernels (js/topk.ts, which the wasm backend runs on copies): torch.topk's order — largest or
// smallest first, ties by position, NaN above every number — and the backward placing gradients back.
import { test } from "node:test";
import assert from "node:assert/strict";
import { jsBackend as js } from "../../../src/backend/js/index.js";
import { initWasm } from "../../../src/backend/wasm/index.js";
import type { Backend } from "../../../src/backend/backend.js";

const row = Float32Array.of(2, Number.NaN, -1, 2, Number.NEGATIVE_INFINITY, 5, -1);

test("topk orders NaN above every number and keeps ties in position order", () => {
  const largest = js.topk(js.fromArray(row), { rows: 1, size: 7, k: 4, largest: true });
  assert.deepEqual(Array.from(js.toArray(largest.values)), [Number.NaN, 5, 2, 2]);
  assert.deepEqual(Array.from(js.toArray(largest.indices)), [1, 5, 0, 3]);
  const smallest = js.topk(js.fromArray(row), { rows: 1, size: 7, k: 7, largest: false });
  assert.deepEqual(Array.from(js.toArray(smallest.indices)), [4, 2, 6, 0, 3, 5, 1]);
});

test("topkBackward places each row's gradients at their indices", () => {
  const g = { rows: 2, size: 3, k: 2, largest: true };
  const { indices } = js.topk(js.fromArray(Float32Array.of(1, 3, 2, 9, 8, 7)), g);
  const dx = js.topkBackward(js.fromArray(Float32Array.of(10, 20, 30, 40)), indices, g);
  assert.deepEqual(Array.from(js.toArray(dx)), [0, 10, 20, 30, 40, 0]);
});

test("the wasm backend's topk gives the js results", async () => {
  const wasm = await initWasm({ setDefault: false });
  const x = Float32Array.from({ length: 4 * 50 }, (_, i) => Math.round(Math.sin(i * 1.3) * 4));
  const g = { rows: 4, size: 50, k: 7, largest: false };
  const run = (b: Backend) => {
    const { values, indices } = b.topk(b.fromArray(x), g);
    const dx = b.topkBackward(b.fromArray(Float32Array.from({ length: 28 }, (_, i) => i)), indices, g);
    return [values, indices, dx].map((s) => Array.from(b.toArray(s)));
  };
  assert.deepEqual(run(wasm), run(js));
});
