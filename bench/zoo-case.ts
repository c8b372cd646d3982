// One zoo model measured in this process on the wasm backend, for `npm run bench -- --zoo` (bench/zoo.ts
// starts a fresh process per model and per kind, so every peak-memory figure is that model's alone):
// - "zoo-infer": batch-1 inference latency (eval mode, no grad, logits read back) at 1 thread, then at 2;
// - "zoo-train": one training step at batch 8 (forward, cross-entropy, backward, SGD with momentum).
// The repetition count comes from the first (warm-up) run: as many runs as fit the budget, at least one and
// at most maxReps, reporting the median, so a 2 ms model gets many runs and a 20 s VGG step gets one.

import { F, getNumThreads, initWasm, noGrad, optim, scope, tensor, type Tensor } from "../src/index.js";
import { getModel, listModels, type ModelInfo } from "../src/models/index.js";
import type { Module } from "../src/nn/index.js";
import {
  type CaseResult,
  type CaseSpec,
  LR,
  MOMENTUM,
  median,
  randomFloats,
  randomLabels,
} from "./common.js";

/** Training batch of the zoo's training-step column. */
export const ZOO_TRAIN_BATCH = 8;
/** Threads of the training step (both cores of the machines this was written on). */
export const ZOO_TRAIN_THREADS = 2;
/** Weight of auxiliary heads in the loss (GoogLeNet's 0.3, as fit() uses by default). */
const AUX_WEIGHT = 0.3;
/** The largest memory wasm32 has: VGG's training step needs more than the default 2 GiB. */
const MAX_MEMORY = 2 ** 32;

/** How a zoo case repeats its runs. */
export interface AdaptiveTiming {
  /** Time the timed runs may take together, in ms. */
  budgetMs: number;
  /** Timed runs at most. */
  maxReps: number;
  /** A first run longer than this is the only run (its figure then includes first-run costs). */
  maxRunMs: number;
}

/** Timed runs after a first run of `firstMs`: what fits in the budget, within [1, maxReps]. */
export function repetitions(firstMs: number, timing: AdaptiveTiming): number {
  if (firstMs > timing.maxRunMs) return 0;
  return Math.max(1, Math.min(timing.maxReps, Math.floor(timing.budgetMs / Math.max(firstMs, 1e-3))));
}

/** Runs `fn` once untimed-for-the-figure, then `repetitions()` timed runs; the median ms and the counts. */
async function timeAdaptive(
  fn: () => unknown,
  timing: AdaptiveTiming,
): Promise<{ ms: number; reps: number; firstMs: number }> {
  let t0 = performance.now();
  fn();
  const firstMs = performance.now() - t0;
  const reps = repetitions(firstMs, timing);
  if (reps === 0) return { ms: firstMs, reps: 1, firstMs };
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  return { ms: median(times), reps, firstMs };
}

function infoOf(name: string): ModelInfo {
  const info = listModels().find((m) => m.name === name);
  if (!info) throw new Error(`zoo bench: no zoo model '${name}'`);
  return info;
}

function forwardOf(model: Module): (x: Tensor) => unknown {
  return (x) => (model as unknown as { forward(x: Tensor): unknown }).forward(x);
}

/** The loss of a forward result: cross-entropy of the logits plus 0.3 × each auxiliary head's. */
function lossOf(out: unknown, y: Tensor): Tensor {
  if (out !== null && typeof out === "object" && "logits" in out) {
    const { logits, ...aux } = out as { logits: Tensor } & Record<string, Tensor>;
    let loss = F.crossEntropy(logits, y);
    for (const head of Object.values(aux)) loss = loss.add(F.crossEntropy(head, y).mul(AUX_WEIGHT));
    return loss;
  }
  return F.crossEntropy(out as Tensor, y);
}

/** Random labels shaped like the model's output: [N] for classifiers, [N, H, W] for segmentation. */
function labels(info: ModelInfo, batch: number): Tensor {
  const [, h, w] = info.inputSize;
  const shape = info.task === "segmentation" ? [batch, h, w] : [batch];
  const count = shape.reduce((a, b) => a * b, 1);
  return tensor(randomLabels(count, info.numClasses), shape, { dtype: "int32" });
}

function randomInput(info: ModelInfo, batch: number): Tensor {
  const [c, h, w] = info.inputSize;
  return tensor(randomFloats(batch * c * h * w), [batch, c, h, w]);
}

/** The wasm heap's high-water mark, the linear memory's size and the process's peak RSS, in bytes. */
function memoryFigures(wasm: Awaited<ReturnType<typeof initWasm>>): Record<string, number> {
  const stats = wasm.runtime.mem.stats();
  return {
    heapPeakBytes: stats.heapTop,
    wasmMemoryBytes: stats.memoryBytes,
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
  };
}

function timingOf(spec: CaseSpec): AdaptiveTiming {
  return { budgetMs: spec.budgetMs, maxReps: spec.maxReps ?? spec.minReps, maxRunMs: spec.maxRunMs };
}

async function inference(spec: CaseSpec, info: ModelInfo): Promise<CaseResult> {
  const wasm = await initWasm({ threads: 1, maximumBytes: MAX_MEMORY });
  const model = getModel(info.name, { numClasses: info.numClasses }).eval();
  const forward = forwardOf(model);
  const x = randomInput(info, 1);
  const run = () => noGrad(() => (forward(x) as Tensor).toArray());
  const values: Record<string, number> = {};
  const notes: string[] = [];
  for (const threads of [1, 2]) {
    await wasm.runtime.setNumThreads(threads);
    if (getNumThreads() !== threads) {
      notes.push(`${threads} threads unavailable (no shared memory)`);
      continue;
    }
    const { ms, reps, firstMs } = await timeAdaptive(run, timingOf(spec));
    Object.assign(values, {
      [`latency${threads}Ms`]: ms,
      [`reps${threads}`]: reps,
      [`first${threads}Ms`]: firstMs,
    });
  }
  Object.assign(values, memoryFigures(wasm));
  return { values, unit: "ms", value: values.latency1Ms, note: notes.join("; ") || undefined };
}

async function trainingStep(spec: CaseSpec, info: ModelInfo): Promise<CaseResult> {
  const wasm = await initWasm({ threads: ZOO_TRAIN_THREADS, maximumBytes: MAX_MEMORY });
  // The class count listModels() reports (getModel("unet") alone builds 2 classes, its info says 4).
  const model = getModel(info.name, { numClasses: info.numClasses }).train();
  const optimizer = new optim.SGD(model.parameters(), { lr: LR, momentum: MOMENTUM });
  const forward = forwardOf(model);
  const x = randomInput(info, ZOO_TRAIN_BATCH);
  const y = labels(info, ZOO_TRAIN_BATCH);
  let lastLoss = Number.NaN;
  // scope() frees the step's intermediates at once, as fit() does.
  const step = () =>
    scope(() => {
      optimizer.zeroGrad();
      const loss = lossOf(forward(x), y);
      loss.backward();
      optimizer.step();
      lastLoss = loss.item();
    });
  const { ms, reps, firstMs } = await timeAdaptive(step, timingOf(spec));
  if (!Number.isFinite(lastLoss)) return { skip: `the training step's loss is ${lastLoss}` };
  return {
    value: ms,
    unit: "ms",
    reps,
    actualThreads: getNumThreads(),
    values: { trainMs: ms, trainReps: reps, trainFirstMs: firstMs, ...memoryFigures(wasm) },
  };
}

/** Runs one zoo case ("zoo-infer" or "zoo-train" on `spec.model`) in this process. */
export async function runZooCase(spec: CaseSpec): Promise<CaseResult> {
  const info = infoOf(spec.model ?? "");
  return spec.task === "zoo-train" ? trainingStep(spec, info) : inference(spec, info);
}
