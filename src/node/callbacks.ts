// fit() callbacks that write files (Node): ModelCheckpoint (atomic best/last checkpoints, including a
// mid-epoch one when training is interrupted) and the history writers CsvLogger and JsonlLogger.

import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { Callback, TrainContext } from "../train/callbacks.js";
import { type EpochLogs, type Monitor, lowerIsBetter, monitorValue } from "../train/history.js";
import type { ArchitectureConfig } from "../spec/builtins.js";
import { saveCheckpoint } from "./checkpoint.js";

export interface ModelCheckpointOptions {
  /** Output directory; checkpoints go to `<dir>/best` and `<dir>/last`. */
  dir: string;
  /** Keep the checkpoint of the best epoch by `monitor` (default true). */
  saveBest?: boolean;
  /** Keep the checkpoint of the latest epoch, and of the stopping point when interrupted (default true). */
  saveLast?: boolean;
  /** Metric deciding "best" (default 'val_loss'; falls back to 'loss' when there is no validation). */
  monitor?: Monitor;
  /** Written to config.json so loadModel() can rebuild the model. */
  architecture?: ArchitectureConfig;
  hyperParameters?: Record<string, unknown>;
  classes?: readonly string[];
  inputShape?: readonly number[];
}

/**
 * Saves checkpoints during fit(): `<dir>/last` after every epoch (and where training stopped, if a signal
 * interrupted it mid-epoch) and `<dir>/best` whenever the monitored metric improves. Writes are atomic;
 * after a NaN/infinite loss nothing is written, so the last good checkpoints stay.
 * @example new ModelCheckpoint({ dir: "runs/lenet", monitor: "val_accuracy", architecture: { kind: "builtin", name: "lenet5" } })
 */
export class ModelCheckpoint implements Callback {
  readonly dir: string;
  readonly saveBest: boolean;
  readonly saveLast: boolean;
  readonly monitor: Monitor;
  best = Number.NaN;
  /** Paths written so far, in order (for logs and tests). */
  readonly written: string[] = [];

  constructor(private readonly options: ModelCheckpointOptions) {
    this.dir = options.dir;
    this.saveBest = options.saveBest ?? true;
    this.saveLast = options.saveLast ?? true;
    this.monitor = options.monitor ?? "val_loss";
  }

  get lastDir(): string {
    return join(this.dir, "last");
  }

  get bestDir(): string {
    return join(this.dir, "best");
  }

  private async save(
    path: string,
    ctx: TrainContext,
    epoch: number,
    batch: number,
    metrics?: Record<string, number>,
  ) {
    await saveCheckpoint(path, {
      model: ctx.model,
      optimizer: ctx.optimizer,
      scheduler: ctx.scheduler,
      architecture: this.options.architecture,
      hyperParameters: this.options.hyperParameters,
      classes: this.options.classes,
      inputShape: this.options.inputShape,
      epoch,
      batch,
      globalStep: ctx.globalStep,
      history: ctx.history,
      metrics,
    });
    this.written.push(path);
  }

  private monitored(logs: EpochLogs): { name: Monitor; value: number } {
    // Without a validation loader, val_* metrics do not exist; judge by the training metric instead.
    const name =
      this.monitor.startsWith("val_") && logs.valLoss === undefined
        ? (this.monitor.slice(4) as Monitor)
        : this.monitor;
    return { name, value: monitorValue(logs, name) };
  }

  onTrainBegin(ctx: TrainContext): void {
    this.best = Number.NaN;
    // A resumed run (history already has epochs) keeps competing with the best checkpoint it left.
    if (ctx.history.epochs.length === 0 || !existsSync(join(this.bestDir, "config.json"))) return;
    try {
      const saved = JSON.parse(readFileSync(join(this.bestDir, "config.json"), "utf8")) as {
        metrics?: Record<string, number>;
      };
      const value = saved.metrics?.[this.monitor] ?? saved.metrics?.[this.monitor.replace(/^val_/, "")];
      if (typeof value === "number") this.best = value;
    } catch {
      // An unreadable best checkpoint is simply replaced by the next best epoch.
    }
  }

  async onEpochEnd(ctx: TrainContext, logs: EpochLogs): Promise<void> {
    if (this.saveLast) await this.save(this.lastDir, ctx, logs.epoch, 0);
    if (!this.saveBest) return;
    const { name, value } = this.monitored(logs);
    const better = Number.isNaN(this.best) || (lowerIsBetter(name) ? value < this.best : value > this.best);
    if (better) {
      this.best = value;
      await this.save(this.bestDir, ctx, logs.epoch, 0, { [name]: value });
    }
  }

  async onTrainEnd(ctx: TrainContext): Promise<void> {
    if (this.saveLast && ctx.history.stopReason === "interrupted") {
      await this.save(this.lastDir, ctx, ctx.epoch, ctx.batch);
    }
  }
}

const CSV_COLUMNS: [string, keyof EpochLogs][] = [
  ["epoch", "epoch"],
  ["loss", "loss"],
  ["accuracy", "accuracy"],
  ["val_loss", "valLoss"],
  ["val_accuracy", "valAccuracy"],
  ["val_top5", "valTop5"],
  ["lr", "lr"],
  ["images_per_sec", "imagesPerSec"],
  ["time_sec", "timeSec"],
];

export interface LoggerOptions {
  /** Keep existing rows (when resuming) instead of starting a new file; default false. */
  append?: boolean;
}

/**
 * Writes one CSV row per epoch (epoch, loss, accuracy, val_loss, val_accuracy, val_top5, lr,
 * images_per_sec, time_sec); a missing value is an empty cell. Rows are flushed as epochs end.
 * @example new CsvLogger("runs/lenet/history.csv")
 */
export class CsvLogger implements Callback {
  constructor(
    readonly path: string,
    private readonly options: LoggerOptions = {},
  ) {}

  onTrainBegin(): void {
    mkdirSync(dirname(this.path), { recursive: true });
    // When appending (a resumed run), an existing file keeps its header and rows.
    if (this.options.append && existsSync(this.path)) return;
    writeFileSync(this.path, `${CSV_COLUMNS.map(([name]) => name).join(",")}\n`);
  }

  onEpochEnd(_ctx: TrainContext, logs: EpochLogs): void {
    const cells = CSV_COLUMNS.map(([, key]) => (logs[key] === undefined ? "" : String(logs[key])));
    appendFileSync(this.path, `${cells.join(",")}\n`);
  }
}

/**
 * Writes one JSON object per line per epoch (the EpochLogs fields), then a final line with the stop reason.
 * @example new JsonlLogger("runs/lenet/history.jsonl")
 */
export class JsonlLogger implements Callback {
  constructor(
    readonly path: string,
    private readonly options: LoggerOptions = {},
  ) {}

  onTrainBegin(): void {
    mkdirSync(dirname(this.path), { recursive: true });
    if (!this.options.append) writeFileSync(this.path, "");
  }

  onEpochEnd(_ctx: TrainContext, logs: EpochLogs): void {
    appendFileSync(this.path, `${JSON.stringify(logs)}\n`);
  }

  onTrainEnd(ctx: TrainContext): void {
    const { stopReason, stopMessage } = ctx.history;
    appendFileSync(this.path, `${JSON.stringify({ event: "trainEnd", stopReason, stopMessage })}\n`);
  }
}
