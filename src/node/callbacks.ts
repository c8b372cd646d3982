// fit() callbacks that write files (Node): ModelCheckpoint (atomic best/last checkpoints, including a
// mid-epoch one when training is interrupted) and the history writers CsvLogger and JsonlLogger, which
// replace their file atomically after every epoch (temporary file + rename, never through a symlink).

import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Callback, TrainContext } from "../train/callbacks.js";
import { type EpochLogs, type Monitor, lowerIsBetter, monitorValue } from "../train/history.js";
import type { ArchitectureConfig } from "../spec/builtins.js";
import { assertCheckpointWritable, readCheckpointConfig, saveCheckpoint } from "./checkpoint.js";
import { writeFileAtomic } from "./safe-write.js";

/** Options of `ModelCheckpoint` (like Keras' ModelCheckpoint, writing checkpoint directories). */
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

  /** `<dir>/last`: the checkpoint of the latest epoch. */
  get lastDir(): string {
    return join(this.dir, "last");
  }

  /** `<dir>/best`: the checkpoint of the best epoch by `monitor`. */
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

  async onTrainBegin(ctx: TrainContext): Promise<void> {
    this.best = Number.NaN;
    // Fail before the first epoch, not after it, when best/ or last/ is somebody else's directory.
    if (this.saveLast) await assertCheckpointWritable(this.lastDir);
    if (this.saveBest) await assertCheckpointWritable(this.bestDir);
    // A resumed run (history already has epochs) keeps competing with the best checkpoint it left.
    if (ctx.history.epochs.length === 0 || !this.saveBest) return;
    try {
      const saved = await readCheckpointConfig(this.bestDir);
      const value = saved?.metrics?.[this.monitor] ?? saved?.metrics?.[this.monitor.replace(/^val_/, "")];
      if (typeof value === "number" && Number.isFinite(value)) this.best = value;
    } catch {
      // An unreadable best checkpoint is simply replaced by the next best epoch.
    }
  }

  async onEpochEnd(ctx: TrainContext, logs: EpochLogs): Promise<void> {
    if (this.saveLast) await this.save(this.lastDir, ctx, logs.epoch, 0);
    if (!this.saveBest) return;
    const { name, value } = this.monitored(logs);
    // A NaN or infinite metric is never the best.
    const better =
      Number.isFinite(value) &&
      (Number.isNaN(this.best) || (lowerIsBetter(name) ? value < this.best : value > this.best));
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

/** Options of `CsvLogger` and `JsonlLogger`. */
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
  private text = "";

  constructor(
    readonly path: string,
    private readonly options: LoggerOptions = {},
  ) {}

  onTrainBegin(): void {
    // When appending (a resumed run), an existing file keeps its header and rows.
    this.text =
      this.options.append && existsSync(this.path)
        ? readFileSync(this.path, "utf8")
        : `${CSV_COLUMNS.map(([name]) => name).join(",")}\n`;
    writeFileAtomic(this.path, this.text);
  }

  onEpochEnd(_ctx: TrainContext, logs: EpochLogs): void {
    const cells = CSV_COLUMNS.map(([, key]) => (logs[key] === undefined ? "" : String(logs[key])));
    this.text += `${cells.join(",")}\n`;
    writeFileAtomic(this.path, this.text);
  }
}

/**
 * Writes one JSON object per line per epoch (the EpochLogs fields), then a final line with the stop reason.
 * @example new JsonlLogger("runs/lenet/history.jsonl")
 */
export class JsonlLogger implements Callback {
  private text = "";

  constructor(
    readonly path: string,
    private readonly options: LoggerOptions = {},
  ) {}

  onTrainBegin(): void {
    this.text = this.options.append && existsSync(this.path) ? readFileSync(this.path, "utf8") : "";
    writeFileAtomic(this.path, this.text);
  }

  onEpochEnd(_ctx: TrainContext, logs: EpochLogs): void {
    this.text += `${JSON.stringify(logs)}\n`;
    writeFileAtomic(this.path, this.text);
  }

  onTrainEnd(ctx: TrainContext): void {
    const { stopReason, stopMessage } = ctx.history;
    this.text += `${JSON.stringify({ event: "trainEnd", stopReason, stopMessage })}\n`;
    writeFileAtomic(this.path, this.text);
  }
}
