// The record of a training run: one row of metrics per epoch (train and validation loss and accuracy,
// learning rate, throughput, wall time), plus why the run stopped. Callbacks, loggers and plots read it.

/** Metrics of one finished epoch. Epochs are numbered from 1. */
export interface EpochLogs {
  epoch: number;
  loss: number;
  accuracy: number;
  valLoss?: number;
  valAccuracy?: number;
  /** Top-5 validation accuracy, when the model has more than 5 classes. */
  valTop5?: number;
  /** Learning rate of the first parameter group at the end of the epoch. */
  lr: number;
  /** Training images per second (validation time excluded). */
  imagesPerSec: number;
  /** Wall time of the epoch including validation, in seconds. */
  timeSec: number;
}

/** Names a metric the way Keras does, for EarlyStopping, ModelCheckpoint and ReduceLROnPlateau. */
export type Monitor = "loss" | "accuracy" | "val_loss" | "val_accuracy";

const monitorFields: Record<Monitor, keyof EpochLogs> = {
  loss: "loss",
  accuracy: "accuracy",
  val_loss: "valLoss",
  val_accuracy: "valAccuracy",
};

/** The value of `monitor` in `logs`; throws if the run does not produce it (e.g. val_loss without val). */
export function monitorValue(logs: EpochLogs, monitor: Monitor): number {
  const field = monitorFields[monitor];
  if (!field)
    throw new Error(`monitor: unknown metric '${monitor}'; use ${Object.keys(monitorFields).join(", ")}`);
  const value = logs[field];
  if (value === undefined) {
    throw new Error(
      `monitor: '${monitor}' is not available in epoch ${logs.epoch}; pass a validation loader`,
    );
  }
  return value;
}

/** Whether a smaller value is better for this metric. */
export function lowerIsBetter(monitor: Monitor): boolean {
  return monitor.endsWith("loss");
}

/**
 * Why `fit` stopped: all epochs done, a callback's `ctx.stop()`, an interrupt (Ctrl-C in the CLI), a
 * NaN/infinite loss or weights.
 */
export type StopReason = "completed" | "callback" | "interrupted" | "non-finite-loss" | "non-finite-weights";

/**
 * Per-epoch metrics of a fit() call.
 * @example history.get("valAccuracy") // [0.95, 0.97, …]
 */
export class History {
  readonly epochs: EpochLogs[] = [];
  stopReason: StopReason = "completed";
  /** Human-readable reason when the run stopped early. */
  stopMessage = "";

  constructor(epochs: readonly EpochLogs[] = []) {
    this.epochs.push(...epochs.map((e) => ({ ...e })));
  }

  /** One metric across epochs (missing values become NaN so arrays stay aligned with epochs). */
  get(key: keyof EpochLogs): number[] {
    return this.epochs.map((e) => e[key] ?? Number.NaN);
  }

  /** The last finished epoch's logs (undefined before the first). */
  get last(): EpochLogs | undefined {
    return this.epochs[this.epochs.length - 1];
  }

  /** The plain object `JSON.stringify` writes: epochs, stop reason and message. */
  toJSON(): { epochs: EpochLogs[]; stopReason: StopReason; stopMessage: string } {
    return { epochs: this.epochs, stopReason: this.stopReason, stopMessage: this.stopMessage };
  }
}
