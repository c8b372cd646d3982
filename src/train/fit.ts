// The training loop (fit), evaluation (evaluate) and inference (predict). fit owns the loop: train mode,
// forward, loss (with GoogLeNet-style auxiliary heads), a finiteness check before any weight changes,
// backward, optimizer step, scheduler stepping per batch or per epoch, validation in eval mode under
// noGrad, per-epoch History, callbacks and progress events. Browser-safe: files are written by the Node
// callbacks in src/node/.

import { noGrad } from "../autograd/engine.js";
import { scope } from "../backend/registry.js";
import type { Module } from "../nn/module.js";
import { crossEntropy } from "../ops/losses.js";
import { clipGradNorm_ } from "../nn/clip-grad.js";
import { softmax } from "../ops/softmax.js";
import type { Tensor } from "../tensor/tensor.js";
import { formatShape } from "../tensor/shape.js";
import type { BatchLogs, Callback, OptimizerLike, SchedulerLike, TrainContext } from "./callbacks.js";
import { History, type EpochLogs, type Monitor, monitorValue } from "./history.js";
import { ConfusionMatrix, countTopK, targetLabels } from "./metrics.js";
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
  /** Extra validation metrics; 'top5' adds valTop5 (loss and accuracy are always computed). */
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

type ModelOutput = Tensor | ({ logits: Tensor } & Record<string, Tensor>);

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

function forwardOf(model: Module): (x: Tensor) => ModelOutput {
  return (x) => (model as unknown as { forward(x: Tensor): ModelOutput }).forward(x);
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
  return s?.constructor.name === "ReduceLROnPlateau";
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

/**
 * Trains `model` and returns its per-epoch History. Train mode during training, eval mode (and noGrad)
 * during validation. A NaN or infinite loss stops training before the weights change and throws a
 * NonFiniteLossError naming the epoch, batch and learning rate.
 * @example
 * const history = await fit(model, { train: trainLoader, val: testLoader, epochs: 5,
 *   optimizer: new SGD(model.parameters(), { lr: 0.05, momentum: 0.9 }),
 *   scheduler: new StepLR(opt, { stepSize: 2 }), callbacks: [new EarlyStopping({ patience: 2 })] });
 */
export async function fit(model: Module, options: FitOptions): Promise<History> {
  const { train, val, epochs, optimizer, scheduler } = options;
  if (!Number.isInteger(epochs) || epochs < 0)
    throw new Error(`fit: epochs must be a non-negative integer, got ${epochs}`);
  const schedulerStep = options.schedulerStep ?? "epoch";
  if (schedulerStep !== "batch" && schedulerStep !== "epoch")
    throw new Error(`fit: schedulerStep must be 'batch' or 'epoch', got '${schedulerStep as string}'`);
  const { clipGradNorm } = options;
  if (clipGradNorm !== undefined && !(typeof clipGradNorm === "number" && clipGradNorm >= 0))
    throw new Error(`fit: clipGradNorm must be a non-negative number, got ${clipGradNorm}`);
  const plateauMonitor =
    options.schedulerMonitor ?? (isPlateauScheduler(scheduler) ? (val ? "val_loss" : "loss") : undefined);
  const lossFn = options.loss ?? ((logits: Tensor, y: Tensor) => crossEntropy(logits, y));
  const callbacks = options.callbacks ?? [];
  const emit = options.onProgress ?? (() => {});
  const history = options.history ?? new History();
  const ctx = new Context(model, optimizer, scheduler, history, epochs);
  const initialEpoch = options.initialEpoch ?? 0;
  let skip = options.initialBatch ?? 0;
  ctx.globalStep = options.initialStep ?? 0;
  const forward = forwardOf(model);
  const batchesPerEpoch = train.length;

  emit({ type: "trainBegin", epochs, initialEpoch, batchesPerEpoch });
  for (const cb of callbacks) await cb.onTrainBegin?.(ctx);

  let failure: NonFiniteLossError | null = null;
  for (let epoch = initialEpoch; epoch < epochs && !ctx.stopRequested && !failure; epoch++) {
    ctx.epoch = epoch;
    ctx.batch = 0;
    ctx.epochComplete = false;
    if (epoch === initialEpoch && options.initialEpoch !== undefined && typeof train.epoch === "number")
      train.epoch = epoch;
    for (const cb of callbacks) await cb.onEpochBegin?.(ctx);
    model.train();
    const started = performance.now();
    let seen = 0;
    let lossSum = 0;
    let correct = 0;
    let lastLr = ctx.lr();
    let trainMs = 0;
    let interrupted = false;
    for await (const { x, y } of iterate(train)) {
      if (skip > 0) {
        // Resuming mid-epoch: these batches were trained before the checkpoint.
        skip--;
        ctx.batch++;
        continue;
      }
      const stepStart = performance.now();
      lastLr = ctx.lr();
      // One step in a memory scope: everything it allocates that is not kept (weights, gradients,
      // optimizer state) is freed on backends that manage memory (wasm).
      const step = scope(() => {
        optimizer.zeroGrad();
        const { logits, aux } = splitOutput(forward(x));
        checkLogits(logits, y);
        let total = lossFn(logits, y);
        for (const [name, head] of aux)
          total = total.add(lossFn(head, y).mul(auxWeight(options.auxLossWeights, name)));
        const loss = total.item();
        if (!Number.isFinite(loss)) return { loss, correct: 0 };
        total.backward();
        if (clipGradNorm !== undefined) clipGradNorm_(model.parameters(), clipGradNorm);
        optimizer.step();
        if (scheduler && schedulerStep === "batch" && !plateauMonitor) scheduler.step();
        return { loss, correct: countTopK(logits, targetLabels(y, logits.shape[1]), 1) };
      });
      const lossValue = step.loss;
      if (!Number.isFinite(lossValue)) {
        const message =
          `fit: loss is ${lossValue} at epoch ${epoch + 1}, batch ${ctx.batch + 1} (lr ${lastLr}); training stopped ` +
          `before this step changed the weights. Earlier checkpoints are kept. Try a lower learning rate.`;
        history.stopReason = "non-finite-loss";
        history.stopMessage = message;
        failure = new NonFiniteLossError(message, history, epoch + 1, ctx.batch + 1, lastLr);
        break;
      }
      const n = y.shape[0];
      const batchCorrect = step.correct;
      seen += n;
      lossSum += lossValue * n;
      correct += batchCorrect;
      ctx.batch++;
      ctx.globalStep++;
      trainMs += performance.now() - stepStart;
      const logs: BatchLogs = {
        batch: ctx.batch - 1,
        size: n,
        loss: lossValue,
        accuracy: batchCorrect / n,
        lr: lastLr,
      };
      for (const cb of callbacks) await cb.onBatchEnd?.(ctx, logs);
      await yieldToEventLoop();
      const imagesPerSec = seen / Math.max(trainMs / 1000, 1e-9);
      emit({
        type: "batch",
        epoch: epoch + 1,
        epochs,
        batch: ctx.batch,
        batchesPerEpoch,
        loss: lossSum / seen,
        accuracy: correct / seen,
        imagesPerSec,
        etaSec:
          batchesPerEpoch === undefined
            ? undefined
            : ((batchesPerEpoch - ctx.batch) * trainMs) / 1000 / Math.max(1, ctx.batch),
        lr: lastLr,
      });
      if (ctx.stopRequested) {
        // A stop on the epoch's last batch still completes the epoch (validation, scheduler, history).
        interrupted = batchesPerEpoch === undefined || ctx.batch < batchesPerEpoch;
        break;
      }
    }
    skip = 0;
    if (failure || interrupted) break;
    ctx.epochComplete = true;

    const logs: EpochLogs = {
      epoch: epoch + 1,
      loss: seen > 0 ? lossSum / seen : Number.NaN,
      accuracy: seen > 0 ? correct / seen : Number.NaN,
      lr: lastLr,
      imagesPerSec: seen / Math.max(trainMs / 1000, 1e-9),
      timeSec: 0,
    };
    if (val) {
      emit({ type: "validationBegin", epoch: epoch + 1, epochs });
      const result = await evaluate(model, val, { loss: lossFn });
      logs.valLoss = result.loss;
      logs.valAccuracy = result.accuracy;
      if (options.metrics?.includes("top5") && result.top5 !== undefined) logs.valTop5 = result.top5;
    }
    logs.timeSec = (performance.now() - started) / 1000;
    if (scheduler && plateauMonitor) scheduler.step(monitorValue(logs, plateauMonitor));
    else if (scheduler && schedulerStep === "epoch") scheduler.step();
    history.epochs.push(logs);
    for (const cb of callbacks) await cb.onEpochEnd?.(ctx, logs);
    emit({ type: "epochEnd", epochs, logs });
  }

  if (!failure && ctx.stopRequested) {
    history.stopReason = ctx.epochComplete ? "callback" : "interrupted";
    history.stopMessage = ctx.stopReason;
  }
  for (const cb of callbacks) await cb.onTrainEnd?.(ctx);
  emit({ type: "trainEnd", reason: history.stopReason, message: history.stopMessage });
  if (failure) throw failure;
  return history;
}

export interface EvaluateOptions {
  /** Default: cross-entropy. */
  loss?: LossFn;
  /** Also accumulate a confusion matrix (the number of classes is taken from the logits). */
  confusionMatrix?: boolean;
}

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
  model: Module,
  loader: BatchSource,
  options: EvaluateOptions = {},
): Promise<EvaluationResult> {
  const lossFn = options.loss ?? ((logits: Tensor, y: Tensor) => crossEntropy(logits, y));
  const wasTraining = model.training;
  const forward = forwardOf(model);
  model.eval();
  let count = 0;
  let lossSum = 0;
  let correct = 0;
  let correct5 = 0;
  let classes = 0;
  let cm: ConfusionMatrix | undefined;
  try {
    for await (const { x, y } of iterate(loader)) {
      const batch = scope(() =>
        noGrad(() => {
          const logits = splitOutput(forward(x)).logits;
          checkLogits(logits, y);
          const k = logits.shape[1];
          const labels = targetLabels(y, k);
          if (options.confusionMatrix) {
            cm ??= new ConfusionMatrix(k);
            cm.update(logits, y);
          }
          return {
            loss: lossFn(logits, y).item(),
            classes: k,
            correct: countTopK(logits, labels, 1),
            correct5: k > 5 ? countTopK(logits, labels, 5) : 0,
          };
        }),
      );
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
export function predict(model: Module, x: Tensor): Tensor {
  const wasTraining = model.training;
  model.eval();
  try {
    return scope(() => noGrad(() => softmax(splitOutput(forwardOf(model)(x)).logits, 1)));
  } finally {
    model.train(wasTraining);
  }
}
