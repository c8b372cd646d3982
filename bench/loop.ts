// The "hand-written loop" section of `npm run bench` (`--only loop`): the README example's training step in
// a plain loop (test/browser/readme-loop.ts: no scope(), no dispose) against fit() on the same work, in
// Node at 1 and 2 threads, and the same loop in Chromium (a plain page, 1 thread) against Node's loop at
// 1 thread measured in the same process just before. Batches are MNIST-shaped (64 x 1x28x28, made from
// arrays each step, as a DataLoader hands them out). The loop and fit() run in alternating chunks of a
// quarter of the steps each (a fresh model per chunk, its first steps not timed), so that load on the
// shared machine hits both alike; each figure is its total images over its total time.

import * as S from "../src/index.js";
import { fit } from "../src/train/index.js";
import type { Batch } from "../src/data/index.js";
import { type CaseResult, type CaseSpec } from "./common.js";
import {
  mnistShapedBatches,
  readmeModel,
  runReadmeLoop,
  type LoopResult,
} from "../test/browser/readme-loop.js";

const BATCHES = 16;
const WARMUP = 100;

function steps(spec: CaseSpec): number {
  return spec.quick ? 300 : 2000;
}

/** fit() over `count` batches built from the same arrays the loop uses; timed after `warmup` steps. */
async function fitRun(
  batches: ReturnType<typeof mnistShapedBatches>,
  count: number,
  warmup: number,
): Promise<{ ms: number; images: number }> {
  const { model, optimizer } = readmeModel(S);
  const batch = batches[0].y.length;
  let started = performance.now();
  const source: Iterable<Batch> & { length: number } = {
    length: count,
    *[Symbol.iterator]() {
      for (let k = 0; k < count; k++) {
        if (k === warmup) started = performance.now();
        const b = batches[k % batches.length];
        yield {
          x: S.tensor(b.x, [batch, 1, 28, 28]),
          y: S.tensor(b.y, [batch], { dtype: "int32" }),
          indices: new Int32Array(0),
        };
      }
    },
  };
  await fit(model, { train: source, epochs: 1, optimizer });
  return { ms: performance.now() - started, images: (count - warmup) * batch };
}

function loopImagesPerSecond(r: { ms: number; images: number }): number {
  return r.images / (r.ms / 1000);
}

const CHUNKS = 4;
const CHUNK_WARMUP = 25;

/** Node: the loop and fit() at spec.threads, in alternating chunks. */
export async function runLoopCase(spec: CaseSpec): Promise<CaseResult> {
  await S.initWasm({ threads: spec.threads });
  const chunk = steps(spec) / CHUNKS;
  const batches = mnistShapedBatches(BATCHES, spec.batch);
  const loopTotal = { ms: 0, images: 0 };
  const fitTotal = { ms: 0, images: 0 };
  let marks: LoopResult["marks"] = [];
  for (let c = 0; c < CHUNKS; c++) {
    const r = runReadmeLoop(S, batches, chunk, [chunk / 2, chunk], CHUNK_WARMUP);
    loopTotal.ms += r.ms;
    loopTotal.images += r.images;
    marks = r.marks;
    const f = await fitRun(batches, chunk, CHUNK_WARMUP);
    fitTotal.ms += f.ms;
    fitTotal.images += f.images;
  }
  const loop = loopImagesPerSecond(loopTotal);
  const fitted = loopImagesPerSecond(fitTotal);
  return {
    value: loop,
    unit: "img/s",
    reps: CHUNKS,
    actualThreads: S.getNumThreads(),
    values: { loop, fit: fitted, ratio: loop / fitted },
    note:
      `fit ${fitted.toFixed(0)} img/s, loop ÷ fit ${(loop / fitted).toFixed(2)}×; ` +
      `live storages at steps ${marks.map((x) => x.step).join("/")} of a chunk: ${marks.map((x) => x.storages).join("/")}, ` +
      `forced collections ${S.memory("wasm").forcedCollections}`,
  };
}

/** Chromium (plain page, 1 thread) against Node's loop at 1 thread, run here just before. */
export async function runChromiumLoopCase(spec: CaseSpec): Promise<CaseResult> {
  const { openChromium } = await import("../test/browser/chromium.js");
  await S.initWasm({ threads: 1 });
  const n = steps(spec);
  const marks = [n / 2, n];
  const node = loopImagesPerSecond(
    runReadmeLoop(S, mnistShapedBatches(BATCHES, spec.batch), n, marks, WARMUP),
  );
  const chromium = await openChromium();
  try {
    const r = await chromium.evaluate<LoopResult>(
      "open",
      `import("./loop-page.js").then((m) => m.run(${n}, ${JSON.stringify(marks)}, ${spec.batch}, ${WARMUP}))`,
      600_000,
    );
    const inBrowser = loopImagesPerSecond(r);
    const mib = (b: number) => (b / 2 ** 20).toFixed(0);
    return {
      value: inBrowser,
      unit: "img/s",
      reps: 1,
      actualThreads: 1,
      values: { chromium: inBrowser, node, ratio: inBrowser / node },
      note:
        `Node's loop ${node.toFixed(0)} img/s, Chromium ÷ Node ${(inBrowser / node).toFixed(2)}×; ` +
        `wasm memory at steps ${r.marks.map((x) => x.step).join("/")}: ${r.marks.map((x) => mib(x.memoryBytes)).join("/")} MiB, ` +
        `live storages ${r.marks.map((x) => x.storages).join("/")}`,
    };
  } finally {
    await chromium.close();
  }
}
