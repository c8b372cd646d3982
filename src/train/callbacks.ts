// The callback interface of fit() (onTrainBegin … onTrainEnd, each may be async) and the browser-safe
// callbacks: EarlyStopping and LambdaCallback. File-writing callbacks (ModelCheckpoint, CsvLogger,
// JsonlLogger) live in src/node/callbacks.ts. A callback stops training with `context.stop(reason)`; the
// loop finishes the current step first, so weights are never left half-updated.

import type { Module } from "../nn/module.js";
import { tensor, type Tensor } from "../tensor/tensor.js";
import { noGrad } from "../autograd/engine.js";
import { hostValues } from "../ops/util.js";
import { type EpochLogs, type History, type Monitor, lowerIsBetter, monitorValue } from "./history.js";

/** The parts of an optimizer that fit() uses (src/optim's SGD, Adam, … satisfy it). */
export interface OptimizerLike {
  /** Clears the parameters' gradients before a step. */
  zeroGrad(): void;
  /** Updates the parameters from their gradients. */
  step(): void;
  paramGroups: readonly { lr: number }[];
  /** The optimizer's state, saved in checkpoints. */
  stateDict?(): unknown;
  /** Restores `stateDict()`'s result. */
  loadStateDict?(state: never): void;
}

/** A learning-rate scheduler: step() per batch or epoch, or step(metric) for ReduceLROnPlateau. */
export interface SchedulerLike {
  /** Advances the schedule (with the monitored metric for ReduceLROnPlateau). */
  step(metric?: number): void;
  /** The schedule's state, saved in checkpoints. */
  stateDict?(): unknown;
  /** Restores `stateDict()`'s result. */
  loadStateDict?(state: never): void;
}

/** What one training step reports to onBatchEnd. */
export interface BatchLogs {
  /** Index of the batch within its epoch, from 0. */
  batch: number;
  /** Number of images in the batch. */
  size: number;
  loss: number;
  accuracy: number;
  lr: number;
}

/** Live state of a fit() call, handed to every callback. */
export interface TrainContext {
  readonly model: Module;
  readonly optimizer: OptimizerLike;
  readonly scheduler: SchedulerLike | undefined;
  readonly history: History;
  /** Total epochs requested. */
  readonly epochs: number;
  /** Index of the current epoch, from 0. */
  epoch: number;
  /** Batches finished in the current epoch. */
  batch: number;
  /** Optimizer steps taken since the run began (including before a resume). */
  globalStep: number;
  /** True between the last batch of an epoch and the next epoch's first batch. */
  epochComplete: boolean;
  /** Set once a callback or signal asked to stop. */
  readonly stopRequested: boolean;
  /** Asks the loop to stop after the current step. */
  stop(reason: string): void;
  /** Learning rate of the first parameter group. */
  lr(): number;
}

/** What a callback method returns: nothing, or a promise `fit` awaits. */
export type MaybePromise = void | Promise<void>;

/**
 * Hooks into fit(). Every method is optional and may return a promise (fit awaits it).
 * @example fit(model, { …, callbacks: [{ onEpochEnd: (ctx, logs) => console.log(logs.valAccuracy) }] })
 */
export interface Callback {
  /** Before the first epoch (after a resume's position is set). */
  onTrainBegin?(context: TrainContext): MaybePromise;
  /** At the start of every epoch. */
  onEpochBegin?(context: TrainContext): MaybePromise;
  /** After every optimizer step, with the batch's loss and accuracy. */
  onBatchEnd?(context: TrainContext, logs: BatchLogs): MaybePromise;
  /** After every finished epoch, validation included, with the epoch's metrics. */
  onEpochEnd?(context: TrainContext, logs: EpochLogs): MaybePromise;
  /** When training ends for any reason (also after an error such as a NaN loss). */
  onTrainEnd?(context: TrainContext): MaybePromise;
}

/** Wraps plain functions as a callback. */
export class LambdaCallback implements Callback {
  constructor(hooks: Callback) {
    Object.assign(this, hooks);
  }
}

/**
 * A deep copy of a model's state (tensors copied, so later in-place kernel updates cannot alter it): from
 * the host values where they are there, else (webgpu, values only on the GPU) by a copy on the device.
 */
export function snapshotState(model: Module): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  for (const [name, t] of model.stateDict()) {
    const values = hostValues(t);
    const copy = values
      ? tensor(values, t.shape, { dtype: t.dtype, backend: t.backend.name })
      : noGrad(() => t.mul(1));
    out.set(name, copy);
  }
  return out;
}

/**
 * Options of `EarlyStopping` (Keras' EarlyStopping: `monitor`, `patience`, `min_delta`,
 * `restore_best_weights`).
 */
export interface EarlyStoppingOptions {
  /** Metric to watch; default 'val_loss'. */
  monitor?: Monitor;
  /** Stop after this many epochs without improvement (0 and 1 both stop at the first); default 0. */
  patience?: number;
  /** Smallest change that counts as an improvement; default 0. */
  minDelta?: number;
  /** Load the best epoch's weights back into the model when training ends; default false. */
  restoreBestWeights?: boolean;
}

/**
 * Stops training when `monitor` has not improved by more than `minDelta` for `patience` epochs
 * (Keras' EarlyStopping). With `restoreBestWeights`, the model ends with its best epoch's weights.
 * @example new EarlyStopping({ monitor: "val_accuracy", patience: 3, restoreBestWeights: true })
 */
export class EarlyStopping implements Callback {
  readonly monitor: Monitor;
  readonly patience: number;
  readonly minDelta: number;
  readonly restoreBestWeights: boolean;
  best = Number.NaN;
  bestEpoch = 0;
  /** Epoch (from 1) at which training was stopped, 0 if it was not. */
  stoppedEpoch = 0;
  private wait = 0;
  private bestState: Map<string, Tensor> | null = null;

  constructor(options: EarlyStoppingOptions = {}) {
    this.monitor = options.monitor ?? "val_loss";
    this.patience = options.patience ?? 0;
    this.minDelta = Math.abs(options.minDelta ?? 0);
    this.restoreBestWeights = options.restoreBestWeights ?? false;
    if (!Number.isInteger(this.patience) || this.patience < 0)
      throw new Error(`EarlyStopping: patience must be a non-negative integer, got ${this.patience}`);
  }

  onTrainBegin(): void {
    this.best = Number.NaN;
    this.bestEpoch = 0;
    this.stoppedEpoch = 0;
    this.wait = 0;
    this.bestState = null;
  }

  private improved(value: number): boolean {
    // A NaN or infinite metric is never an improvement (nor the best epoch to restore).
    if (!Number.isFinite(value)) return false;
    if (Number.isNaN(this.best)) return true;
    return lowerIsBetter(this.monitor)
      ? value < this.best - this.minDelta
      : value > this.best + this.minDelta;
  }

  onEpochEnd(context: TrainContext, logs: EpochLogs): void {
    const value = monitorValue(logs, this.monitor);
    if (this.improved(value)) {
      this.best = value;
      this.bestEpoch = logs.epoch;
      this.wait = 0;
      if (this.restoreBestWeights) this.bestState = snapshotState(context.model);
      return;
    }
    this.wait++;
    if (this.wait >= this.patience) {
      this.stoppedEpoch = logs.epoch;
      context.stop(
        `EarlyStopping: ${this.monitor} has not improved on ${this.best.toPrecision(5)} (epoch ${this.bestEpoch}) ` +
          `for ${this.wait} epoch${this.wait === 1 ? "" : "s"}`,
      );
    }
  }

  onTrainEnd(context: TrainContext): void {
    if (this.restoreBestWeights && this.bestState && this.bestEpoch !== context.history.last?.epoch) {
      context.model.loadStateDict(this.bestState);
    }
  }
}
