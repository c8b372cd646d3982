// The README example's training step in a hand-written loop (no scope(), no dispose), written once for
// Node and the browser: the memory test runs it on a plain Chromium page (test/browser/memory-loop.test.ts)
// and `npm run bench -- --only loop` times it against fit() in Node and in Chromium (bench/loop.ts). Only type
// imports, so the page (served transpiled by server.ts) gets no import to resolve.
import type * as Striate from "../../src/index.js";

export type StriateApi = typeof Striate;

/** Live storages and wasm memory size after a step, as the loop left them (no collection forced). */
export interface LoopMark {
  step: number;
  storages: number;
  memoryBytes: number;
}

export interface LoopResult {
  marks: LoopMark[];
  /** Milliseconds of the timed steps (those after `warmup`). */
  ms: number;
  images: number;
  loss: number;
}

/** The README's model (a LeNet-5 for 1x28x28 inputs) and optimizer. */
export function readmeModel(S: StriateApi) {
  S.manualSeed(0);
  const { nn, optim } = S;
  // prettier-ignore
  const model = new nn.Sequential(
    new nn.Conv2d(1, 6, 5, { padding: 2 }), new nn.ReLU(), new nn.MaxPool2d(2),
    new nn.Conv2d(6, 16, 5), new nn.ReLU(), new nn.MaxPool2d(2),
    new nn.Flatten(), new nn.Linear(400, 120), new nn.ReLU(), new nn.Linear(120, 10),
  );
  const optimizer = new optim.SGD(model.parameters(), { lr: 0.05, momentum: 0.9 });
  return { model, optimizer };
}

/** MNIST-shaped batches: random images [batch, 1, 28, 28] and labels, as plain arrays. */
export function mnistShapedBatches(count: number, batch: number, seed = 1) {
  let s = seed >>> 0;
  const next = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  return Array.from({ length: count }, () => ({
    x: Float32Array.from({ length: batch * 784 }, () => next() * 2 - 1),
    y: Int32Array.from({ length: batch }, () => Math.floor(next() * 10)),
  }));
}

/**
 * `steps` steps of the README example, a batch made from arrays each step (as a DataLoader hands them out),
 * marking memory at `marks`; the first `warmup` steps are not timed.
 */
export function runReadmeLoop(
  S: StriateApi,
  batches: { x: Float32Array; y: Int32Array }[],
  steps: number,
  marks: readonly number[],
  warmup = 0,
): LoopResult {
  const { F } = S;
  const { model, optimizer } = readmeModel(S);
  const batch = batches[0].y.length;
  const out: LoopMark[] = [];
  let started = performance.now();
  let loss = Number.NaN;
  for (let step = 1; step <= steps; step++) {
    if (step === warmup + 1) started = performance.now();
    const b = batches[step % batches.length];
    const images = S.tensor(b.x, [batch, 1, 28, 28]); // a batch in NCHW layout
    const labels = S.tensor(b.y, [batch], { dtype: "int32" }); // int32 class indices
    const l = F.crossEntropy(model.forward(images), labels);
    optimizer.zeroGrad();
    l.backward();
    optimizer.step();
    if (marks.includes(step)) {
      const m = S.memory("wasm");
      out.push({ step, storages: m.storages, memoryBytes: m.memoryBytes ?? Number.NaN });
      loss = l.item();
    }
  }
  return { marks: out, ms: performance.now() - started, images: (steps - warmup) * batch, loss };
}
