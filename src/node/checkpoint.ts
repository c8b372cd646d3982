// Saving and loading model directories (Node). A checkpoint is a directory holding config.json
// (architecture, hyper-parameters, training position, RNG state, history), model.safetensors (the
// stateDict under torch-style names) and optimizer.json (optimizer and scheduler state). Saving is atomic
// for the directory as a whole: every file is written and fsynced inside `<dir>.tmp-XXXX` (config.json
// last), then the previous directory is renamed aside to `<dir>.old-XXXX`, the new one renamed into place
// and the old one removed. A process killed at any point leaves either the previous or the new checkpoint
// complete; loading repairs the one window where `<dir>` is briefly missing by renaming `.old` back.

import { closeSync, fsyncSync, openSync, writeSync } from "node:fs";
import { mkdir, readFile, readdir, rename, rm, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { randomBytes } from "node:crypto";
import type { Module } from "../nn/module.js";
import type { Tensor } from "../tensor/tensor.js";
import { globalRng } from "../tensor/rng.js";
import { decodeSafetensors, encodeSafetensors } from "../io/safetensors.js";
import type { ArchitectureConfig, ZooLookup } from "../spec/builtins.js";
import { buildArchitecture } from "../spec/builtins.js";
import type { OptimizerLike, SchedulerLike } from "../train/callbacks.js";
import { History, type EpochLogs } from "../train/history.js";

export const CONFIG_FILE = "config.json";
export const WEIGHTS_FILE = "model.safetensors";
export const OPTIMIZER_FILE = "optimizer.json";
const FORMAT = "striate-checkpoint";

/** The contents of config.json. */
export interface CheckpointConfig {
  format: typeof FORMAT;
  version: 1;
  /** How to rebuild the model; null when the caller builds it. */
  architecture: ArchitectureConfig | null;
  /** Training settings (optimizer, lr, batch size, augmentation, seed, …) for the record and for resuming. */
  hyperParameters: Record<string, unknown>;
  /** Epochs completed. */
  epoch: number;
  /** Batches already trained in epoch `epoch` (non-zero for a checkpoint written mid-epoch, e.g. on Ctrl-C). */
  batch: number;
  /** Optimizer steps taken. */
  globalStep: number;
  /** State of the global random generator (dropout, initialisation). */
  rng: { global: (number | null)[] };
  history: EpochLogs[];
  /** Class names of the dataset, when known (predict prints them). */
  classes?: string[];
  /** Input shape [C, H, W] the model was trained on. */
  inputShape?: number[];
  /** Metrics at save time (e.g. the monitored value of a best checkpoint). */
  metrics?: Record<string, number>;
  optimizer?: string;
  scheduler?: string;
  savedAt: string;
}

export interface SaveCheckpointOptions {
  model: Module;
  architecture?: ArchitectureConfig | null;
  hyperParameters?: Record<string, unknown>;
  optimizer?: OptimizerLike;
  scheduler?: SchedulerLike;
  epoch?: number;
  batch?: number;
  globalStep?: number;
  history?: History | readonly EpochLogs[];
  classes?: readonly string[];
  inputShape?: readonly number[];
  metrics?: Record<string, number>;
}

/** Writes `bytes` to `path` and flushes it to disk before returning. */
function writeDurable(path: string, bytes: Uint8Array | string): void {
  const fd = openSync(path, "w");
  try {
    const data = typeof bytes === "string" ? Buffer.from(bytes, "utf8") : bytes;
    let offset = 0;
    while (offset < data.length) offset += writeSync(fd, data, offset, data.length - offset);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Flushes a directory entry (so a rename survives a crash); not possible on every platform. */
function fsyncDir(path: string): void {
  try {
    const fd = openSync(path, "r");
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Windows cannot open directories for fsync; renames there are already durable enough.
  }
}

// A test hook: STRIATE_CHECKPOINT_TEST_PAUSE=<stage> freezes the process at that stage of a save so a test
// can kill it there. The thread blocks (Atomics.wait) so nothing else runs meanwhile.
function testPause(stage: string): void {
  if (process.env.STRIATE_CHECKPOINT_TEST_PAUSE !== stage) return;
  process.stderr.write(`checkpoint-paused:${stage}\n`);
  const cell = new Int32Array(new SharedArrayBuffer(4));
  for (;;) Atomics.wait(cell, 0, 0, 1000);
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

async function siblings(dir: string, marker: "tmp" | "old"): Promise<string[]> {
  const parent = dirname(dir);
  const prefix = `${basename(dir)}.${marker}-`;
  let names: string[];
  try {
    names = await readdir(parent);
  } catch {
    return [];
  }
  return names.filter((n) => n.startsWith(prefix)).map((n) => join(parent, n));
}

/**
 * Brings a checkpoint directory back to a consistent state after an interrupted save: if `dir` has no
 * config.json but a complete `<dir>.old-XXXX` exists (the process died between the two renames), that one
 * is renamed back. Leftover temporary directories are removed. Returns whether `dir` holds a checkpoint.
 */
export async function recoverCheckpoint(dir: string): Promise<boolean> {
  if (!(await exists(join(dir, CONFIG_FILE)))) {
    for (const old of await siblings(dir, "old")) {
      if (!(await exists(join(old, CONFIG_FILE)))) continue;
      if (await exists(dir)) await rm(dir, { recursive: true, force: true });
      await rename(old, dir);
      fsyncDir(dirname(dir));
      break;
    }
  }
  const complete = await exists(join(dir, CONFIG_FILE));
  for (const stale of [...(await siblings(dir, "tmp")), ...(complete ? await siblings(dir, "old") : [])]) {
    await rm(stale, { recursive: true, force: true });
  }
  return complete;
}

/** JSON with non-finite numbers and state tensors ({ shape, dtype, data }) encoded compactly and exactly. */
function encodeState(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === "number" && !Number.isFinite(v)) return { $number: String(v) };
    if (isSerializedTensor(v)) {
      const typed =
        v.dtype === "float64"
          ? Float64Array.from(v.data)
          : v.dtype === "int32"
            ? Int32Array.from(v.data)
            : Float32Array.from(v.data);
      return {
        $tensor: { shape: v.shape, dtype: v.dtype, base64: Buffer.from(typed.buffer).toString("base64") },
      };
    }
    return v;
  });
}

function decodeState(text: string): unknown {
  return JSON.parse(text, (_key, v: unknown) => {
    if (v && typeof v === "object" && "$number" in v) return Number((v as { $number: string }).$number);
    if (v && typeof v === "object" && "$tensor" in v) {
      const t = (v as { $tensor: { shape: number[]; dtype: string; base64: string } }).$tensor;
      const bytes = Buffer.from(t.base64, "base64");
      const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
      const typed =
        t.dtype === "float64"
          ? new Float64Array(buffer)
          : t.dtype === "int32"
            ? new Int32Array(buffer)
            : new Float32Array(buffer);
      return { shape: t.shape, dtype: t.dtype, data: Array.from(typed) };
    }
    return v;
  });
}

function isSerializedTensor(v: unknown): v is { shape: number[]; dtype: string; data: number[] } {
  return (
    typeof v === "object" &&
    v !== null &&
    Array.isArray((v as { shape?: unknown }).shape) &&
    typeof (v as { dtype?: unknown }).dtype === "string" &&
    Array.isArray((v as { data?: unknown }).data)
  );
}

/**
 * Saves a model (and optionally its optimizer, scheduler and training position) into the directory `dir`,
 * atomically: a crash during the save leaves the previous checkpoint in `dir` intact.
 * @example await saveCheckpoint("runs/lenet/last", { model, optimizer, architecture: { kind: "builtin", name: "lenet5" }, epoch: 3 })
 */
export async function saveCheckpoint(dir: string, options: SaveCheckpointOptions): Promise<CheckpointConfig> {
  await mkdir(dirname(dir), { recursive: true });
  await recoverCheckpoint(dir);
  const tmp = `${dir}.tmp-${randomBytes(4).toString("hex")}`;
  await mkdir(tmp);
  const history = options.history instanceof History ? options.history.epochs : (options.history ?? []);
  const config: CheckpointConfig = {
    format: FORMAT,
    version: 1,
    architecture: options.architecture ?? null,
    hyperParameters: options.hyperParameters ?? {},
    epoch: options.epoch ?? 0,
    batch: options.batch ?? 0,
    globalStep: options.globalStep ?? 0,
    rng: { global: globalRng.getState() },
    history: history.map((e) => ({ ...e })),
    ...(options.classes ? { classes: [...options.classes] } : {}),
    ...(options.inputShape ? { inputShape: [...options.inputShape] } : {}),
    ...(options.metrics ? { metrics: { ...options.metrics } } : {}),
    ...(options.optimizer ? { optimizer: options.optimizer.constructor.name } : {}),
    ...(options.scheduler ? { scheduler: options.scheduler.constructor.name } : {}),
    savedAt: new Date().toISOString(),
  };
  try {
    writeDurable(join(tmp, WEIGHTS_FILE), encodeSafetensors(options.model.stateDict()));
    testPause("weights");
    if (options.optimizer?.stateDict) {
      const state = {
        optimizer: options.optimizer.stateDict(),
        scheduler: options.scheduler?.stateDict ? options.scheduler.stateDict() : null,
      };
      writeDurable(join(tmp, OPTIMIZER_FILE), encodeState(state));
    }
    // config.json last: a directory with a config is complete.
    writeDurable(join(tmp, CONFIG_FILE), encodeState(config));
    fsyncDir(tmp);
  } catch (error) {
    await rm(tmp, { recursive: true, force: true });
    throw error;
  }
  let old: string | null = null;
  if (await exists(dir)) {
    old = `${dir}.old-${randomBytes(4).toString("hex")}`;
    await rename(dir, old);
  }
  testPause("swap");
  await rename(tmp, dir);
  fsyncDir(dirname(dir));
  if (old) await rm(old, { recursive: true, force: true });
  return config;
}

/** A checkpoint read from disk. */
export interface LoadedCheckpoint {
  config: CheckpointConfig;
  weights: Map<string, Tensor>;
  /** optimizer.stateDict() as saved, or undefined without optimizer.json. */
  optimizerState: unknown;
  schedulerState: unknown;
}

/** Reads a checkpoint directory (after repairing an interrupted save). */
export async function loadCheckpoint(dir: string): Promise<LoadedCheckpoint> {
  if (!(await recoverCheckpoint(dir))) {
    throw new Error(`loadCheckpoint: '${dir}' is not a checkpoint directory (no ${CONFIG_FILE})`);
  }
  const config = decodeState(await readFile(join(dir, CONFIG_FILE), "utf8")) as CheckpointConfig;
  if (config?.format !== FORMAT) {
    throw new Error(
      `loadCheckpoint: ${join(dir, CONFIG_FILE)} is not a Striate checkpoint (format '${String(config?.format)}')`,
    );
  }
  const weights = decodeSafetensors(new Uint8Array(await readFile(join(dir, WEIGHTS_FILE))));
  let optimizerState: unknown;
  let schedulerState: unknown;
  if (await exists(join(dir, OPTIMIZER_FILE))) {
    const state = decodeState(await readFile(join(dir, OPTIMIZER_FILE), "utf8")) as {
      optimizer: unknown;
      scheduler: unknown;
    };
    optimizerState = state.optimizer;
    schedulerState = state.scheduler ?? undefined;
  }
  return { config, weights, optimizerState, schedulerState };
}

export interface LoadModelOptions {
  /** models.getModel, needed for zoo architectures. */
  zoo?: ZooLookup;
}

/**
 * Rebuilds a saved model from its config and loads its weights (eval mode). Predictions equal the saved
 * model's.
 * @example const { model, config } = await loadModel("runs/lenet/best");
 */
export async function loadModel(
  dir: string,
  options: LoadModelOptions = {},
): Promise<{ model: Module; config: CheckpointConfig; checkpoint: LoadedCheckpoint }> {
  const checkpoint = await loadCheckpoint(dir);
  const { config } = checkpoint;
  if (!config.architecture) {
    throw new Error(
      `loadModel: ${join(dir, CONFIG_FILE)} has no architecture; build the model and use loadCheckpoint`,
    );
  }
  const model = buildArchitecture(config.architecture, options.zoo);
  model.loadStateDict(checkpoint.weights);
  model.eval();
  return { model, config, checkpoint };
}

export interface RestoreOptions {
  model: Module;
  optimizer?: OptimizerLike;
  scheduler?: SchedulerLike;
  /** Restore the global random generator (default true), so dropout continues the saved stream. */
  restoreRng?: boolean;
}

/** Where fit() should continue; spread it into fit's options. */
export interface ResumePoint {
  initialEpoch: number;
  initialBatch: number;
  initialStep: number;
  history: History;
}

/**
 * Loads weights, optimizer and scheduler state and the RNG from a checkpoint, and returns the options that
 * make fit() continue where the saved run stopped (same subsequent losses as an uninterrupted run).
 * @example const resume = await restoreCheckpoint("runs/x/last", { model, optimizer }); await fit(model, { ...opts, ...resume })
 */
export async function restoreCheckpoint(
  dir: string,
  options: RestoreOptions,
): Promise<ResumePoint & { config: CheckpointConfig }> {
  const checkpoint = await loadCheckpoint(dir);
  const { config } = checkpoint;
  options.model.loadStateDict(checkpoint.weights);
  if (options.optimizer?.loadStateDict && checkpoint.optimizerState !== undefined) {
    options.optimizer.loadStateDict(checkpoint.optimizerState as never);
  }
  if (options.scheduler?.loadStateDict && checkpoint.schedulerState !== undefined) {
    options.scheduler.loadStateDict(checkpoint.schedulerState as never);
  }
  if (options.restoreRng ?? true) globalRng.setState(config.rng.global);
  return {
    config,
    initialEpoch: config.epoch,
    initialBatch: config.batch,
    initialStep: config.globalStep,
    history: new History(config.history),
  };
}
