// The fused softmax cross-entropy kernels against the js reference kernels (computed in float64): odd
// class counts (1, 3, 10, 1000: SIMD bodies and scalar tails), one-hot, smoothed and soft targets, extreme
// and masked logits, both builds, and identical results with 1 and 2 threads on calls big enough to split.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { softmaxCrossEntropy, softmaxCrossEntropyBackward } from "../../../src/backend/wasm/losses.js";
import { jsBackend } from "../../../src/backend/js/index.js";
import type { WasmRuntime } from "../../../src/backend/wasm/runtime.js";
import { VARIANTS, randomArray, rng, runtime, upload } from "./helpers.js";
import { assertClose } from "../../helpers/close.js";

type Targets = "one-hot" | "smoothed" | "soft";

function makeTargets(
  kind: Targets,
  rows: number,
  classes: number,
  rand: ReturnType<typeof rng>,
): Float32Array {
  const t = new Float32Array(rows * classes);
  for (let r = 0; r < rows; r++) {
    const row = t.subarray(r * classes, (r + 1) * classes);
    if (kind === "soft") {
      const w = randomArray(classes, rand, 0, 1);
      const total = w.reduce((s, v) => s + v, 0);
      w.forEach((v, c) => (row[c] = v / total));
    } else {
      const label = Math.min(classes - 1, Math.floor(rand(0, classes)));
      const eps = kind === "smoothed" ? 0.1 : 0;
      row.fill(eps / classes);
      row[label] += 1 - eps;
    }
  }
  return t;
}

interface Result {
  loss: Float32Array;
  logProbs: Float32Array;
  dx: Float32Array;
}

/** Forward and backward on the wasm kernels. */
function runWasm(
  rt: WasmRuntime,
  x: Float32Array,
  t: Float32Array,
  g: Float32Array,
  rows: number,
  classes: number,
): Result {
  const n = rows * classes;
  const [px, pt, pg] = [upload(rt, x), upload(rt, t), upload(rt, g)];
  const [loss, lp, dx] = [
    rt.mem.alloc(4 * Math.max(1, rows)),
    rt.mem.alloc(4 * Math.max(1, n)),
    rt.mem.alloc(4 * Math.max(1, n)),
  ];
  softmaxCrossEntropy(rt, px, pt, loss, lp, rows, classes);
  softmaxCrossEntropyBackward(rt, lp, pt, pg, dx, rows, classes);
  const out = {
    loss: rt.mem.readF32(loss, rows),
    logProbs: rt.mem.readF32(lp, n),
    dx: rt.mem.readF32(dx, n),
  };
  for (const p of [px, pt, pg, loss, lp, dx]) rt.mem.free(p);
  return out;
}

/** The js reference: forward, and the backward from the wasm log-probabilities (to test it on its own). */
function runJs(
  x: Float32Array,
  t: Float32Array,
  g: Float32Array,
  rows: number,
  classes: number,
  wasmLogProbs: Float32Array,
) {
  const [sx, st, sg] = [x, t, g].map((a) => jsBackend.fromArray(a));
  const { loss, logProbs } = jsBackend.softmaxCrossEntropy(sx, st, rows, classes);
  const dx = jsBackend.softmaxCrossEntropyBackward(jsBackend.fromArray(wasmLogProbs), st, sg, rows, classes);
  return { loss: jsBackend.toArray(loss), logProbs: jsBackend.toArray(logProbs), dx: jsBackend.toArray(dx) };
}

const SHAPES: [number, number][] = [
  [5, 1],
  [7, 3],
  [9, 10],
  [3, 1000],
  [1, 7],
  [0, 10],
];

describe("wasm softmaxCrossEntropy against the js reference", () => {
  for (const v of VARIANTS) {
    it(`${v.name}: odd class counts, every target kind`, async () => {
      const rt = await runtime(v.relaxed);
      const rand = rng(7);
      for (const [rows, classes] of SHAPES) {
        for (const kind of ["one-hot", "smoothed", "soft"] as Targets[]) {
          const x = randomArray(rows * classes, rand, -6, 6);
          const t = makeTargets(kind, rows, classes, rand);
          const g = randomArray(rows, rand);
          const w = runWasm(rt, x, t, g, rows, classes);
          const j = runJs(x, t, g, rows, classes, w.logProbs);
          const what = `${v.name} [${rows}, ${classes}] ${kind}`;
          assertClose(w.logProbs, j.logProbs, 1e-6, `${what}: logProbs`);
          assertClose(w.loss, j.loss, 1e-5, `${what}: loss`);
          assertClose(w.dx, j.dx, 1e-6, `${what}: dx`);
        }
      }
    });

    it(`${v.name}: logits of ±1e4 and masked (−inf) logits give finite loss and gradient`, async () => {
      const rt = await runtime(v.relaxed);
      const classes = 6;
      // Row 0: huge spread; row 1: the label's logit far below the others; row 2: −inf on non-label classes.
      const x = new Float32Array([
        1e4,
        -1e4,
        0,
        5e3,
        -5e3,
        1,
        -1e4,
        1e4,
        1e4,
        0,
        0,
        0,
        2,
        -Infinity,
        1,
        -Infinity,
        0,
        -Infinity,
      ]);
      const t = new Float32Array(3 * classes);
      t[0] = 1;
      t[classes + 0] = 1;
      t[2 * classes + 2] = 1;
      const g = new Float32Array([1, 1, 1]);
      const w = runWasm(rt, x, t, g, 3, classes);
      const j = runJs(x, t, g, 3, classes, w.logProbs);
      for (const [name, a] of Object.entries({ loss: w.loss, dx: w.dx })) {
        assert.ok(a.every(Number.isFinite), `${v.name}: ${name} has non-finite values: ${Array.from(a)}`);
      }
      assertClose(w.loss, j.loss, 1e-6, `${v.name}: extreme loss`);
      // Two logits tie at 1e4, 2e4 above the label's: loss = 2e4 + log 2.
      const want = 2e4 + Math.LN2;
      assert.ok(Math.abs(w.loss[1] - want) / want < 1e-6, `loss ${w.loss[1]}, expected ${want}`);
      assertClose(w.dx, j.dx, 1e-6, `${v.name}: extreme dx`);
    });

    it(`${v.name}: a NaN logit makes its row's loss NaN`, async () => {
      const rt = await runtime(v.relaxed);
      const x = new Float32Array([0, NaN, 1, 0, 1, 2, 3, 4, 5, NaN]);
      const t = new Float32Array([1, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
      const w = runWasm(rt, x, t, new Float32Array([1, 1]), 2, 5);
      assert.ok(Number.isNaN(w.loss[0]) && Number.isNaN(w.loss[1]), `got ${Array.from(w.loss)}`);
    });
  }
});

describe("wasm softmaxCrossEntropy with 1 and 2 threads", () => {
  for (const [rows, classes] of [
    [151, 1000],
    [15001, 10],
  ] as [number, number][]) {
    it(`[${rows}, ${classes}]: the split call gives the same bits as one thread`, async () => {
      const [rt1, rt2] = [await runtime(true, 1), await runtime(true, 2)];
      // Far above the threshold: the call really splits (16 multiply-adds per element is the elementwise weight).
      assert.equal(rt2.threadsFor(rows * classes * 16, rows), 2);
      const rand = rng(rows);
      const x = randomArray(rows * classes, rand, -4, 4);
      const t = makeTargets("smoothed", rows, classes, rand);
      const g = randomArray(rows, rand);
      const one = runWasm(rt1, x, t, g, rows, classes);
      const two = runWasm(rt2, x, t, g, rows, classes);
      assert.deepEqual(two, one);
      const j = runJs(x, t, g, rows, classes, two.logProbs);
      assertClose(two.loss, j.loss, 1e-5, "2 threads: loss");
      assertClose(two.dx, j.dx, 1e-6, "2 threads: dx");
    });
  }
});
