// The training loop (fit), evaluation (evaluate) and inference (predict). fit owns the loop: train mode,
// forward, loss (with GoogLeNet-style auxiliary heads), a finiteness check before any weight changes,
// backward, optimizer step, a finiteness check of the new weights (restoring the previous ones),
// scheduler stepping per batch or per epoch, validation in eval mode under noGrad, per-epoch History,
// callbacks and progress events. Browser-safe: files are written by the Node
// callbacks in src/node/.

import { noGrad } from "../autograd/engine.js";
import { scope } from "../backend/registry.js";
import type { Module } from "../nn/module.js";
import { crossEntropy } from "../ops/losses.js";
import { clipGradNormOnDevice_ } from "../nn/clip-grad.js";
import { softmax } from "../ops/softmax.js";
import type { Tensor } from "../tensor/tensor.js";
import { formatShape } from "../tensor/shape.js";
import type { BatchLogs, Callback, OptimizerLike, SchedulerLike, TrainContext } from "./callbacks.js";
import { History, type EpochLogs, type Monitor, monitorValue } from "./history.js";
import { ConfusionMatrix, countTopK, targetLabels } from "./metrics.js";
import { ReduceLROnPlateau } from "../optim/reduce-lr-on-plateau.js";
import { WeightGuard, describeNonFinite, type NonFiniteTensor } from "./weight-guard.js";
import type { ProgressListener } from "./progress.js";

/** One mini-batch: images [N, C, H, W] and targets (int32 labels [N] or probabilities [N, K]). */
export interface Batch {
  x: Tensor;
  y: Tensor;
}

/** Optional extras a loader may offer; src/data's DataLoader provides both. */
export interface LoaderExtras {
  /** Batches per epoch (for the progress bar's ETA). */
  readonly length?: number;
  /**
   * The epoch the next pass will run. The DataLoader derives its shuffle and augmentation from (seed, epoch,
   * batch), so fit() sets it when resuming and the resumed run sees the same batches.
   */
  epoch?: number;
}

/** Anything that yields batches, synchronously or asynchronously (a DataLoader, an array of batches…). */
export type BatchSource = (AsyncIterable<Batch> | Iterable<Batch>) & LoaderExtras;

/** A loss from the model's logits and the batch's targets to a scalar. */
export type LossFn = (logits: Tensor, target: Tensor) => Tensor;

/**
 * Options of `fit`: the data (`train`, optional `val`), `epochs`, the `optimizer` and optional `scheduler`,
 * `loss`, `callbacks`, `onProgress` and the resume position (`initialEpoch` …, as `restoreCheckpoint` returns
 * it). See docs/training.md.
 */
export interface FitOptions {
  train: BatchSource;
  val?: BatchSource;
  /** Total epochs, counting those done before a resume (see initialEpoch). */
  epochs: number;
  optimizer: OptimizerLike;
  scheduler?: SchedulerLike;
  /** When to call scheduler.step(): after every optimizer step or after every epoch (default). */
  schedulerStep?: "batch" | "epoch";
  /**
   * Metric passed to scheduler.step(metric) at each epoch end (ReduceLROnPlateau). Defaults to 'val_loss'
   * (or 'loss' without validation) when the scheduler is a ReduceLROnPlateau.
   */
  schedulerMonitor?: Monitor;
  /** Default: cross-entropy (class indices or soft targets). */
  loss?: LossFn;
  /**
   * Weights of auxiliary heads when forward() returns { logits, auxLogits1, … } in training: the total
   * loss is main + Σ weight·aux. A number applies to every head; default 0.3 (GoogLeNet).
   */
  auxLossWeights?: number | Record<string, number>;
  /**
   * @deprecated Has no effect: top-5 validation accuracy (`valTop5`) is recorded whenever the model has
   * more than 5 classes, as `evaluate` computes it.
   */
  metrics?: readonly "top5"[];
  callbacks?: readonly Callback[];
  onProgress?: ProgressListener;
  /** Epochs already completed (when resuming from a checkpoint). */
  initialEpoch?: number;
  /** Batches of epoch `initialEpoch` already trained (a checkpoint written mid-epoch); they are skipped. */
  initialBatch?: number;
  /** Optimizer steps already taken (when resuming). */
  initialStep?: number;
  /** History of the epochs before a resume, continued by this run. */
  history?: History;
  /**
   * Check after every step that all parameters and buffers are finite (default true). The check copies
   * the state once per step (the copy is kept to restore the weights if the next step breaks them).
   */
  checkFinite?: boolean;
  /** Clip the gradients' total 2-norm to this value between backward and the optimizer step (clipGradNorm_). */
  clipGradNorm?: number;
}

/** Thrown by fit() when the loss becomes NaN or infinite; the weights are those before that step. */
export class NonFiniteLossError extends Error {
  constructor(
    message: string,
    readonly history: History,
    readonly epoch: number,
    readonly batch: number,
    readonly lr: number,
  ) {
    super(message);
    this.name = "NonFiniteLossError";
  }
}

/**
 * Thrown by fit() when a step leaves a parameter or buffer NaN or infinite although the loss was finite
 * (e.g. a learning rate that overflows float32). The model holds the weights from before that step.
 */
export class NonFiniteWeightsError extends NonFiniteLossError {
  constructor(
    message: string,
    history: History,
    epoch: number,
    batch: number,
    lr: number,
    /** State-dict name of the first non-finite tensor. */
    readonly tensorName: string,
  ) {
    super(message, history, epoch, batch, lr);
    this.name = "NonFiniteWeightsError";
  }
}

/** A model fit/evaluate/predict can run: forward takes a batch [N, ...] and returns logits or { logits, … }. */
export type ImageModel = Module<[input: Tensor], unknown>;

function isTensorOutput(out: unknown): out is Tensor {
  return typeof out === "object" && out !== null && "shape" in out && "backend" in out;
}

/** Splits a forward() result into the main logits and the auxiliary heads. */
function splitOutput(out: unknown): { logits: Tensor; aux: [string, Tensor][] } {
  if (isTensorOutput(out)) return { logits: out, aux: [] };
  if (typeof out === "object" && out !== null && "logits" in out) {
    const { logits, ...rest } = out as { logits: Tensor } & Record<string, unknown>;
    return { logits, aux: Object.entries(rest).filter((e): e is [string, Tensor] => isTensorOutput(e[1])) };
  }
  throw new Error("fit: model.forward() must return logits or { logits, auxLogits1, … }");
}

function auxWeight(weights: FitOptions["auxLossWeights"], name: string): number {
  if (weights === undefined) return 0.3;
  if (typeof weights === "number") return weights;
  const w = weights[name];
  if (w === undefined) {
    throw new Error(
      `fit: auxLossWeights has no weight for head '${name}'; it has ${Object.keys(weights).join(", ")}`,
    );
  }
  return w;
}

function checkLogits(logits: Tensor, y: Tensor): void {
  if (logits.ndim !== 2 || logits.shape[0] !== y.shape[0]) {
    throw new Error(
      `fit: model output ${formatShape(logits.shape)} does not match targets ${formatShape(y.shape)}; expected logits [N, K] with N = ${y.shape[0]}`,
    );
  }
}

function isPlateauScheduler(s: SchedulerLike | undefined): boolean {
  return s instanceof ReduceLROnPlateau;
}

/**
 * Lets the event loop run (signal handlers, timers, a page's UI, the DataLoader's prefetch) between steps;
 * a loop that only awaits resolved promises would never give them a turn.
 */
export function yieldToEventLoop(): Promise<void> {
  const g = globalThis as { setImmediate?: (fn: () => void) => unknown };
  if (typeof g.setImmediate === "function") return new Promise((resolve) => g.setImmediate!(resolve));
  if (typeof MessageChannel === "function") {
    return new Promise((resolve) => {
      const channel = new MessageChannel();
      channel.port1.onmessage = () => {
        channel.port1.close();
        resolve();
      };
      channel.port2.postMessage(null);
    });
  }
  return new Promise((resolve) => setTimeout(resolve, 0));
}

async function* iterate(source: BatchSource): AsyncGenerator<Batch> {
  if (Symbol.asyncIterator in source) yield* source as AsyncIterable<Batch>;
  else yield* source as Iterable<Batch>;
}

function firstLr(optimizer: OptimizerLike): number {
  const group = optimizer.paramGroups[0];
  if (!group) throw new Error("fit: the optimizer has no parameter groups");
  return group.lr;
}

class Context implements TrainContext {
  epoch = 0;
  batch = 0;
  globalStep = 0;
  epochComplete = false;
  stopReason = "";

  constructor(
    readonly model: Module,
    readonly optimizer: OptimizerLike,
    readonly scheduler: SchedulerLike | undefined,
    readonly history: History,
    readonly epochs: number,
  ) {}

  get stopRequested(): boolean {
    return this.stopReason !== "";
  }

  stop(reason: string): void {
    if (!this.stopRequested) this.stopReason = reason || "stopped by a callback";
  }

  lr(): number {
    return firstLr(this.optimizer);
  }
}

/** Settings of one fit() call, checked and with defaults applied. */
interface Run {
  options: FitOptions;
  ctx: Context;
  schedulerStep: "batch" | "epoch";
  plateauMonitor: Monitor | undefined;
  lossFn: LossFn;
  callbacks: readonly Callback[];
  emit: ProgressListener;
  /** model.forward: its output is checked by splitOutput (logits or { logits, aux… }). */
  forward: (x: Tensor) => unknown;
  guard: WeightGuard | null;
  /** Batches still to skip (resuming mid-epoch). */
  skip: number;
  /** The model is on a backend that reads values asynchronously (webgpu). */
  asyncReads: boolean;
  failure: NonFiniteLossError | null;
}

function prepareRun(model: ImageModel, options: FitOptions): Run {
  const { val, epochs, optimizer, scheduler } = options;
  if (!Number.isInteger(epochs) || epochs < 0)
    throw new Error(`fit: epochs must be a non-negative integer, got ${epochs}`);
  const schedulerStep = options.schedulerStep ?? "epoch";
  if (schedulerStep !== "batch" && schedulerStep !== "epoch")
    throw new Error(`fit: schedulerStep must be 'batch' or 'epoch', got '${schedulerStep as string}'`);
  const { clipGradNorm } = options;
  if (clipGradNorm !== undefined && !(typeof clipGradNorm === "number" && clipGradNorm >= 0))
    throw new Error(`fit: clipGradNorm must be a non-negative number, got ${clipGradNorm}`);
  const history = options.history ?? new History();
  const ctx = new Context(model, optimizer, scheduler, history, epochs);
  ctx.globalStep = options.initialStep ?? 0;
  return {
    options,
    ctx,
    schedulerStep,
    plateauMonitor:
      options.schedulerMonitor ?? (isPlateauScheduler(scheduler) ? (val ? "val_loss" : "loss") : undefined),
    lossFn: options.loss ?? ((logits: Tensor, y: Tensor) => crossEntropy(logits, y)),
    callbacks: options.callbacks ?? [],
    emit: options.onProgress ?? (() => {}),
    forward: (x) => model.forward(x),
    guard: (options.checkFinite ?? true) ? new WeightGuard(model) : null,
    skip: options.initialBatch ?? 0,
    asyncReads: readsAsync(model),
    failure: null,
  };
}

/** Forward and loss of one batch: the main loss plus the weighted auxiliary heads' losses. */
function forwardLoss(run: Run, x: Tensor, y: Tensor): { total: Tensor; logits: Tensor } {
  const { logits, aux } = splitOutput(run.forward(x));
  checkLogits(logits, y);
  let total = run.lossFn(logits, y);
  for (const [name, head] of aux)
    total = total.add(run.lossFn(head, y).mul(auxWeight(run.options.auxLossWeights, name)));
  return { total, logits };
}

/** Backward, gradient clipping, optimizer step and (per batch) scheduler step. */
function backwardAndStep(run: Run, total: Tensor): void {
  const { optimizer, scheduler, clipGradNorm } = run.options;
  total.backward();
  // Clipped as tensor ops, without reading the norm back: the same step on webgpu as on js and wasm.
  if (clipGradNorm !== undefined) clipGradNormOnDevice_(run.ctx.model.parameters(), clipGradNorm);
  optimizer.step();
  if (scheduler && run.schedulerStep === "batch" && !run.plateauMonitor) scheduler.step();
}

/** One optimizer step in a memory scope; returns the loss and the number of correct predictions. */
function trainStep(run: Run, x: Tensor, y: Tensor): { loss: number; correct: number } {
  // Everything the step allocates and does not keep (weights, gradients, optimizer state stay) is freed
  // on backends that manage memory (wasm).
  return scope(() => {
    run.options.optimizer.zeroGrad();
    const { total, logits } = forwardLoss(run, x, y);
    const loss = total.item();
    if (!Number.isFinite(loss)) return { loss, correct: 0 };
    backwardAndStep(run, total);
    return { loss, correct: countTopK(logits, targetLabels(y, logits.shape[1]), 1) };
  });
}

// Backends whose values can only be read asynchronously (webgpu: `syncReads: false`) take the same steps
// with `await tensor.data()` where the loop reads a value; afterwards the synchronous reads (item(),
// countTopK, the weight check) find the values on the host (docs/webgpu.md, "Reading values").

/** Whether the model's parameters live on a backend that reads values asynchronously (webgpu). */
function readsAsync(model: Module): boolean {
  return model.parameters()[0]?.backend.syncReads === false;
}

/** Reads every parameter and buffer of the model once, so the weight check can read them synchronously. */
async function fetchState(model: Module): Promise<void> {
  await Promise.all([...model.stateDict().values()].map((t) => t.data()));
}

/**
 * trainStep with asynchronous reads: the loss, logits and targets are read between the forward and the
 * backward (outside a scope, since scopes are synchronous: backward frees the forward's intermediates and
 * the backend's collector the rest), and the new state after the step for the weight check.
 */
async function trainStepAsync(run: Run, x: Tensor, y: Tensor): Promise<{ loss: number; correct: number }> {
  run.options.optimizer.zeroGrad();
  const { total, logits } = forwardLoss(run, x, y);
  const [lossValues] = await Promise.all([total.data(), logits.data(), y.data()]);
  const loss = lossValues[0];
  if (!Number.isFinite(loss)) return { loss, correct: 0 };
  const correct = countTopK(logits, targetLabels(y, logits.shape[1]), 1);
  scope(() => backwardAndStep(run, total));
  if (run.guard) await fetchState(run.ctx.model);
  return { loss, correct };
}

/** Records why training stops after a step that produced a non-finite loss or weights. */
function stopOnNonFinite(
  run: Run,
  epoch: number,
  lr: number,
  loss: number,
  badTensor: NonFiniteTensor | null,
): void {
  const { ctx } = run;
  const where = `at epoch ${epoch + 1}, batch ${ctx.batch + 1} (lr ${lr})`;
  const history = ctx.history;
  if (badTensor === null) {
    const message =
      `fit: loss is ${loss} ${where}; training stopped before this step changed the weights. ` +
      `Earlier checkpoints are kept. Try a lower learning rate.`;
    history.stopReason = "non-finite-loss";
    history.stopMessage = message;
    run.failure = new NonFiniteLossError(message, history, epoch + 1, ctx.batch + 1, lr);
    return;
  }
  const message =
    `fit: parameter ${describeNonFinite(badTensor)} after the step ${where} although the loss was finite (${loss}); ` +
    `training stopped and ${restoredWeights(run.guard!.stepsBehind)} were restored. Earlier checkpoints are kept. ` +
    `Try a lower learning rate.`;
  history.stopReason = "non-finite-weights";
  history.stopMessage = message;
  run.failure = new NonFiniteWeightsError(message, history, epoch + 1, ctx.batch + 1, lr, badTensor.name);
}

/** Which weights WeightGuard.restore() brought back, for messages. */
function restoredWeights(stepsBehind: number): string {
  if (stepsBehind === 0) return "the weights from before this step";
  // Large models are copied to the host every few steps only (weight-guard.ts).
  return `the last weights kept, from ${stepsBehind + 1} steps before,`;
}

/** Running sums of one epoch's training batches. */
interface EpochTotals {
  seen: number;
  lossSum: number;
  correct: number;
  lastLr: number;
  trainMs: number;
  interrupted: boolean;
}

function emitBatchProgress(run: Run, epoch: number, totals: EpochTotals): void {
  const { ctx } = run;
  const batchesPerEpoch = run.options.train.length;
  run.emit({
    type: "batch",
    epoch: epoch + 1,
    epochs: ctx.epochs,
    batch: ctx.batch,
    batchesPerEpoch,
    loss: totals.lossSum / totals.seen,
    accuracy: totals.correct / totals.seen,
    imagesPerSec: totals.seen / Math.max(totals.trainMs / 1000, 1e-9),
    etaSec:
      batchesPerEpoch === undefined
        ? undefined
        : ((batchesPerEpoch - ctx.batch) * totals.trainMs) / 1000 / Math.max(1, ctx.batch),
    lr: totals.lastLr,
  });
}

/** Trains the batches of one epoch; stops early on a failure or a stop request. */
async function trainEpoch(run: Run, epoch: number): Promise<EpochTotals> {
  const { ctx } = run;
  const totals: EpochTotals = {
    seen: 0,
    lossSum: 0,
    correct: 0,
    lastLr: ctx.lr(),
    trainMs: 0,
    interrupted: false,
  };
  for await (const { x, y } of iterate(run.options.train)) {
    if (run.skip > 0) {
      // Resuming mid-epoch: these batches were trained before the checkpoint.
      run.skip--;
      ctx.batch++;
      continue;
    }
    const stepStart = performance.now();
    totals.lastLr = ctx.lr();
    const step = run.asyncReads ? await trainStepAsync(run, x, y) : trainStep(run, x, y);
    const badTensor = Number.isFinite(step.loss) && run.guard ? run.guard.checkAndKeep() : null;
    if (!Number.isFinite(step.loss) || badTensor !== null) {
      if (badTensor !== null) run.guard!.restore();
      stopOnNonFinite(run, epoch, totals.lastLr, step.loss, badTensor);
      break;
    }
    const n = y.shape[0];
    totals.seen += n;
    totals.lossSum += step.loss * n;
    totals.correct += step.correct;
    ctx.batch++;
    ctx.globalStep++;
    totals.trainMs += performance.now() - stepStart;
    const logs: BatchLogs = {
      batch: ctx.batch - 1,
      size: n,
      loss: step.loss,
      accuracy: step.correct / n,
      lr: totals.lastLr,
    };
    for (const cb of run.callbacks) await cb.onBatchEnd?.(ctx, logs);
    await yieldToEventLoop();
    emitBatchProgress(run, epoch, totals);
    if (ctx.stopRequested) {
      // A stop on the epoch's last batch still completes the epoch (validation, scheduler, history).
      const batchesPerEpoch = run.options.train.length;
      totals.interrupted = batchesPerEpoch === undefined || ctx.batch < batchesPerEpoch;
      break;
    }
  }
  run.skip = 0;
  return totals;
}

/** Validation, scheduler and history at the end of a completed epoch. */
async function finishEpoch(run: Run, epoch: number, totals: EpochTotals, started: number): Promise<void> {
  const { ctx, options } = run;
  const logs: EpochLogs = {
    epoch: epoch + 1,
    loss: totals.seen > 0 ? totals.lossSum / totals.seen : Number.NaN,
    accuracy: totals.seen > 0 ? totals.correct / totals.seen : Number.NaN,
    lr: totals.lastLr,
    imagesPerSec: totals.seen / Math.max(totals.trainMs / 1000, 1e-9),
    timeSec: 0,
  };
  if (options.val) {
    run.emit({ type: "validationBegin", epoch: epoch + 1, epochs: ctx.epochs });
    const result = await evaluate(ctx.model, options.val, { loss: run.lossFn });
    logs.valLoss = result.loss;
    logs.valAccuracy = result.accuracy;
    if (result.top5 !== undefined) logs.valTop5 = result.top5;
  }
  logs.timeSec = (performance.now() - started) / 1000;
  const { scheduler } = options;
  if (scheduler && run.plateauMonitor) scheduler.step(monitorValue(logs, run.plateauMonitor));
  else if (scheduler && run.schedulerStep === "epoch") scheduler.step();
  ctx.history.epochs.push(logs);
  for (const cb of run.callbacks) await cb.onEpochEnd?.(ctx, logs);
  run.emit({ type: "epochEnd", epochs: ctx.epochs, logs });
}

/** Runs one epoch; returns false when training must not continue (failure or interruption). */
async function runEpoch(run: Run, epoch: number): Promise<boolean> {
  const { ctx, options } = run;
  ctx.epoch = epoch;
  ctx.batch = 0;
  ctx.epochComplete = false;
  const initialEpoch = options.initialEpoch ?? 0;
  if (epoch === initialEpoch && options.initialEpoch !== undefined && typeof options.train.epoch === "number")
    options.train.epoch = epoch;
  for (const cb of run.callbacks) await cb.onEpochBegin?.(ctx);
  ctx.model.train();
  const started = performance.now();
  const totals = await trainEpoch(run, epoch);
  if (run.failure || totals.interrupted) return false;
  ctx.epochComplete = true;
  await finishEpoch(run, epoch, totals, started);
  return true;
}

/**
 * Trains `model` and returns its per-epoch History. Train mode during training, eval mode (and noGrad)
 * during validation. A NaN or infinite loss stops training before the weights change and throws a
 * NonFiniteLossError naming the epoch, batch and learning rate; a step that leaves a parameter non-finite
 * (checked after every step unless `checkFinite: false`) restores the previous weights and throws a
 * NonFiniteWeightsError naming the parameter.
 * @example
 * const optimizer = new SGD(model.parameters(), { lr: 0.05, momentum: 0.9 });
 * const history = await fit(model, { train: trainLoader, val: testLoader, epochs: 5, optimizer,
 *   scheduler: new StepLR(optimizer, { stepSize: 2 }), callbacks: [new EarlyStopping({ patience: 2 })] });
 */
export async function fit(model: ImageModel, options: FitOptions): Promise<History> {
  if (readsAsync(model)) await fetchState(model); // the weight check's first read
  const run = prepareRun(model, options);
  const { ctx } = run;
  const initialEpoch = options.initialEpoch ?? 0;
  run.emit({ type: "trainBegin", epochs: ctx.epochs, initialEpoch, batchesPerEpoch: options.train.length });
  for (const cb of run.callbacks) await cb.onTrainBegin?.(ctx);
  for (let epoch = initialEpoch; epoch < ctx.epochs && !ctx.stopRequested; epoch++) {
    if (!(await runEpoch(run, epoch))) break;
  }
  const { history } = ctx;
  if (!run.failure && ctx.stopRequested) {
    history.stopReason = ctx.epochComplete ? "callback" : "interrupted";
    history.stopMessage = ctx.stopReason;
  }
  for (const cb of run.callbacks) await cb.onTrainEnd?.(ctx);
  run.emit({ type: "trainEnd", reason: history.stopReason, message: history.stopMessage });
  if (run.failure) throw run.failure;
  return history;
}

/** Options of `evaluate`. */
export interface EvaluateOptions {
  /** Default: cross-entropy. */
  loss?: LossFn;
  /** Also accumulate a confusion matrix (the number of classes is taken from the logits). */
  confusionMatrix?: boolean;
}

/**
 * What `evaluate` measured over the whole loader: mean loss, accuracy (top-1, in [0, 1]), top-5 accuracy
 * (more than 5 classes), the sample count and, when asked for, the confusion matrix.
 */
export interface EvaluationResult {
  /** Mean loss over all samples. */
  loss: number;
  accuracy: number;
  /** Top-5 accuracy; undefined with 5 classes or fewer. */
  top5: number | undefined;
  /** Number of samples evaluated. */
  count: number;
  confusionMatrix: ConfusionMatrix | undefined;
}

/**
 * Loss, accuracy, top-5 accuracy and (optionally) the confusion matrix of `model` over a loader, in eval
 * mode and without recording gradients. The model's previous mode is restored.
 * @example const { accuracy, confusionMatrix } = await evaluate(model, testLoader, { confusionMatrix: true })
 */
export async function evaluate(
  model: ImageModel,
  loader: BatchSource,
  options: EvaluateOptions = {},
): Promise<EvaluationResult> {
  const lossFn = options.loss ?? ((logits: Tensor, y: Tensor) => crossEntropy(logits, y));
  const wasTraining = model.training;
  const forward = (x: Tensor): unknown => model.forward(x);
  model.eval();
  let count = 0;
  let lossSum = 0;
  let correct = 0;
  let correct5 = 0;
  let classes = 0;
  let cm: ConfusionMatrix | undefined;
  try {
    const asyncReads = readsAsync(model);
    const logitsAndLoss = (x: Tensor, y: Tensor) => {
      const logits = splitOutput(forward(x)).logits;
      checkLogits(logits, y);
      return { logits, loss: lossFn(logits, y) };
    };
    const measure = (logits: Tensor, loss: Tensor, y: Tensor) => {
      const k = logits.shape[1];
      const labels = targetLabels(y, k);
      if (options.confusionMatrix) {
        cm ??= new ConfusionMatrix(k);
        cm.update(logits, y);
      }
      return {
        loss: loss.item(),
        classes: k,
        correct: countTopK(logits, labels, 1),
        correct5: k > 5 ? countTopK(logits, labels, 5) : 0,
      };
    };
    for await (const { x, y } of iterate(loader)) {
      let batch: ReturnType<typeof measure>;
      if (asyncReads) {
        const { logits, loss } = noGrad(() => logitsAndLoss(x, y));
        await Promise.all([logits.data(), loss.data(), y.data()]);
        batch = measure(logits, loss, y);
      } else {
        batch = scope(() =>
          noGrad(() => {
            const { logits, loss } = logitsAndLoss(x, y);
            return measure(logits, loss, y);
          }),
        );
      }
      const n = y.shape[0];
      classes = batch.classes;
      count += n;
      lossSum += batch.loss * n;
      correct += batch.correct;
      correct5 += batch.correct5;
    }
  } finally {
    model.train(wasTraining);
  }
  return {
    loss: count > 0 ? lossSum / count : Number.NaN,
    accuracy: count > 0 ? correct / count : Number.NaN,
    top5: classes > 5 && count > 0 ? correct5 / count : undefined,
    count,
    confusionMatrix: cm,
  };
}

/**
 * Class probabilities [N, K] for images x: eval mode, no gradients, softmax over the logits. The model's
 * previous mode is restored.
 * @example predict(model, images).argmax(1) // predicted classes
 */
export function predict(model: ImageModel, x: Tensor): Tensor {
  const wasTraining = model.training;
  model.eval();
  try {
    return scope(() => noGrad(() => softmax(splitOutput(model.forward(x)).logits, 1)));
  } finally {
    model.train(wasTraining);
  }
}
