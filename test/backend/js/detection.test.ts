// The RoI kernels (js/detection.ts, which the wasm backend runs on copies) on cases a hand count checks:
// RoI Align of a linear ramp (bilinear sampling reproduces it exactly), RoI pooling's argmax positions and
// gradient routing, RoIs that name no image, and the wasm backend giving the js results.
import { test } from "node:test";
import assert from "node:assert/strict";
import { jsBackend as js } from "../../../src/backend/js/index.js";
import { initWasm } from "../../../src/backend/wasm/index.js";
import type { Backend, RoiAlignGeometry, RoiGeometry } from "../../../src/backend/backend.js";

const values = (b: Backend, s: Parameters<Backend["toArray"]>[0]) => Array.from(b.toArray(s));

// One image, one channel, 4×5, value = 10·row + column.
const ramp = Float32Array.from({ length: 20 }, (_, i) => 10 * Math.floor(i / 5) + (i % 5));
const geometry: RoiGeometry = {
  batch: 1,
  channels: 1,
  height: 4,
  width: 5,
  numRois: 2,
  pooledH: 1,
  pooledW: 2,
  spatialScale: 1,
};
// The second RoI names image 3 of 1: it contributes nothing.
const rois = Float32Array.of(0, 1, 1, 3, 2, 3, 0, 0, 2, 2);

test("roiAlign samples a linear ramp exactly and skips a RoI that names no image", () => {
  const g: RoiAlignGeometry = { ...geometry, samplingRatio: 2, aligned: false };
  const y = values(js, js.roiAlign(js.fromArray(ramp), js.fromArray(rois), g));
  // Bins x ∈ [1, 2] and [2, 3], y ∈ [1, 2]: the mean of a ramp over a bin is its value at the bin's centre.
  assert.deepEqual(y, [10 * 1.5 + 1.5, 10 * 1.5 + 2.5, 0, 0]);
  const dx = values(
    js,
    js.roiAlignBackward(js.fromArray(Float32Array.of(1, 1, 5, 5)), js.fromArray(rois), g),
  );
  // Each bin spreads weight 1 over the pixels its samples touch; the skipped RoI's gradient goes nowhere.
  assert.ok(Math.abs(dx.reduce((a, b) => a + b, 0) - 2) < 1e-6);
});

test("roiPool takes each bin's maximum, records its position in the plane and routes the gradient there", () => {
  const { y, argmax } = js.roiPool(js.fromArray(ramp), js.fromArray(rois), geometry);
  // RoI (1,1)-(3,2) rounds to columns 1..3, rows 1..2: bins columns [1, 3) and [2, 4) → maxima at (2,2), (2,3).
  assert.deepEqual(values(js, y), [22, 23, 0, 0]);
  assert.deepEqual(values(js, argmax), [12, 13, -1, -1]);
  const dx = values(
    js,
    js.roiPoolBackward(js.fromArray(Float32Array.of(1, 2, 7, 7)), argmax, js.fromArray(rois), geometry),
  );
  const expected = new Array<number>(20).fill(0);
  expected[12] = 1;
  expected[13] = 2;
  assert.deepEqual(dx, expected);
});

test("the wasm backend's RoI kernels give the js results", async () => {
  const wasm = await initWasm({ setDefault: false });
  const x = Float32Array.from({ length: 2 * 3 * 6 * 7 }, (_, i) => Math.sin(i * 0.7));
  const r = Float32Array.of(1, 0.5, 1, 5.5, 4, 0, -1, 2, 3, 7.5, 0, 2, 2, 2.5, 2.5);
  const g = { ...geometry, batch: 2, channels: 3, height: 6, width: 7, numRois: 3, pooledH: 2, pooledW: 3 };
  const align = { ...g, samplingRatio: -1, aligned: true, spatialScale: 0.75 };
  const gy = Float32Array.from({ length: 3 * 3 * 2 * 3 }, (_, i) => Math.cos(i));
  const run = (b: Backend) => {
    const [xs, rs, gs] = [x, r, gy].map((a) => b.fromArray(a));
    const pool = b.roiPool(xs, rs, g);
    return [
      b.roiAlign(xs, rs, align),
      b.roiAlignBackward(gs, rs, align),
      pool.y,
      pool.argmax,
      b.roiPoolBackward(gs, pool.argmax, rs, g),
    ].map((s) => values(b, s));
  };
  assert.deepEqual(run(wasm), run(js));
});
