// Saving and loading model directories (Node). A checkpoint holds config.json (architecture,
// hyper-parameters, training position, RNG state, history), model.safetensors (the stateDict under
// torch-style names) and optimizer.json (optimizer and scheduler state), inside an immutable generation
// directory that a pointer file names (checkpoint-store.ts; docs/reliability.md, "Checkpoints"). Saving
// never touches a directory that is not a Striate checkpoint, refuses non-finite weights unless asked, and
// a crash at any instant leaves the last saved checkpoint loadable. Loading only reads, checks every field
// and names the file (and field or tensor) of any problem; other processes may save meanwhile.

import { join } from "node:path";
import type { Module } from "../nn/module.js";
import { Tensor } from "../tensor/tensor.js";
import { globalRng } from "../tensor/rng.js";
import { decodeSafetensors, encodeSafetensors } from "../io/safetensors.js";
import { DEFAULT_JSON_LIMITS, type JsonLimits } from "../io/json.js";
import type { ArchitectureConfig, ZooLookup } from "../spec/builtins.js";
import { buildArchitecture } from "../spec/builtins.js";
import { getModel } from "../models/index.js";
import type { OptimizerLike, SchedulerLike } from "../train/callbacks.js";
import { History, type EpochLogs } from "../train/history.js";
import {
  CHECKPOINT_FORMAT,
  POINTER_FILE,
  abandonGeneration,
  beginGeneration,
  digest,
  inspectForWrite,
  publishGeneration,
  readCheckpointFiles,
  testPause,
  writeDurable,
} from "./checkpoint-store.js";
import {
  type CheckpointConfig,
  decodeState,
  encodeState,
  findNonFiniteTensor,
  validateConfig,
  validateOptimizerFile,
} from "./checkpoint-format.js";

export type { CheckpointConfig } from "./checkpoint-format.js";
export { POINTER_FILE };

/**
 * The file of a checkpoint generation holding the architecture, hyperparameters, position, history and
 * digests.
 */
export const CONFIG_FILE = "config.json";
/** The file of a checkpoint generation holding `model.stateDict()` as safetensors. */
export const WEIGHTS_FILE = "model.safetensors";
/** The file of a checkpoint generation holding the optimizer's and scheduler's state. */
export const OPTIMIZER_FILE = "optimizer.json";

/**
 * JSON limits of the checkpoint files (see src/io/json.ts): config.json 64 MiB and 64 levels deep;
 * optimizer.json (Adam's two moments of a large model, base64) up to 512 MiB, the longest string V8 makes.
 * Raise them with loadCheckpoint's `json` option.
 */
export const CHECKPOINT_JSON_LIMITS: Readonly<Record<"config" | "optimizer", JsonLimits>> = Object.freeze({
  config: { ...DEFAULT_JSON_LIMITS },
  optimizer: { maxBytes: 512 * 1024 * 1024, maxDepth: DEFAULT_JSON_LIMITS.maxDepth },
});

/**
 * What `saveCheckpoint` writes: the model, and optionally its architecture (so `loadModel` can rebuild it),
 * hyperparameters, optimizer and scheduler state, position, history, classes and input shape.
 */
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
  /** Save weights or optimizer state holding NaN or ±Infinity instead of refusing (default false). */
  allowNonFinite?: boolean;
}

function configOf(options: SaveCheckpointOptions, checksums: Record<string, string>): CheckpointConfig {
  const history = options.history instanceof History ? options.history.epochs : (options.history ?? []);
  return {
    format: CHECKPOINT_FORMAT,
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
    hasOptimizerState: OPTIMIZER_FILE in checksums,
    checksums,
    savedAt: new Date().toISOString(),
  };
}

function checkPosition(options: SaveCheckpointOptions): void {
  for (const field of ["epoch", "batch", "globalStep"] as const) {
    const v = options[field];
    if (v !== undefined && !(Number.isSafeInteger(v) && v >= 0))
      throw new Error(`saveCheckpoint: ${field} must be a non-negative integer, got ${String(v)}`);
  }
}

/**
 * Awaits the values of the weights and of the optimizer's state tensors, so that encoding them reads them
 * synchronously on every backend (webgpu keeps what it read on the host).
 */
async function readToHost(options: SaveCheckpointOptions): Promise<void> {
  const tensors = [...options.model.stateDict().values()];
  const state = (options.optimizer as { state?: unknown } | undefined)?.state;
  if (state instanceof Map)
    for (const entry of state.values() as Iterable<Record<string, unknown>>)
      for (const value of Object.values(entry)) if (value instanceof Tensor) tensors.push(value);
  await Promise.all(tensors.map((t) => t.data()));
}

/**
 * Saves a model (and optionally its optimizer, scheduler and training position) as the new checkpoint in
 * `dir`. `dir` must not exist, be empty or be a Striate checkpoint: anything else is an error and nothing
 * is written. The save is atomic (a crash leaves the previous checkpoint loadable), and processes loading
 * `dir` meanwhile see the previous or the new checkpoint, whole. Weights or optimizer state holding NaN or
 * ±Infinity are refused unless `allowNonFinite`.
 * @example await saveCheckpoint("runs/lenet/last", { model, optimizer, architecture: { kind: "builtin", name: "lenet5" }, epoch: 3 })
 */
export async function saveCheckpoint(dir: string, options: SaveCheckpointOptions): Promise<CheckpointConfig> {
  checkPosition(options);
  await readToHost(options);
  const weights = options.model.stateDict();
  if (!options.allowNonFinite) {
    const bad = findNonFiniteTensor(weights);
    if (bad)
      throw new Error(
        `saveCheckpoint: tensor ${bad}; refusing to save non-finite weights into ${dir} (pass allowNonFinite: true to save them anyway)`,
      );
  }
  const weightBytes = encodeSafetensors(weights);
  const optimizerText = options.optimizer?.stateDict
    ? encodeState(
        {
          optimizer: options.optimizer.stateDict(),
          scheduler: options.scheduler?.stateDict ? options.scheduler.stateDict() : null,
        },
        `saveCheckpoint (${OPTIMIZER_FILE})`,
        options.allowNonFinite ?? false,
      )
    : null;
  const checksums: Record<string, string> = { [WEIGHTS_FILE]: digest(weightBytes) };
  if (optimizerText !== null) checksums[OPTIMIZER_FILE] = digest(optimizerText);
  const config = configOf(options, checksums);
  const configText = encodeState(config, "saveCheckpoint");
  const found = await inspectForWrite(dir, "saveCheckpoint");
  const generation = await beginGeneration(dir, found);
  try {
    writeDurable(join(generation.path, WEIGHTS_FILE), weightBytes);
    testPause("weights");
    if (optimizerText !== null) writeDurable(join(generation.path, OPTIMIZER_FILE), optimizerText);
    writeDurable(join(generation.path, CONFIG_FILE), configText);
  } catch (error) {
    await abandonGeneration(generation);
    throw error;
  }
  await publishGeneration(dir, generation, digest(configText));
  return config;
}

/**
 * Throws (touching nothing) unless saveCheckpoint may write into `dir`: it does not exist, is empty, or is
 * a Striate checkpoint. ModelCheckpoint calls it before training starts.
 */
export async function assertCheckpointWritable(dir: string): Promise<void> {
  await inspectForWrite(dir, "saveCheckpoint");
}

/**
 * Whether `dir` holds a checkpoint (a pointer file, or a version-1 config.json). Reads only.
 * @example if (await isCheckpointDir("runs/x/last")) …
 */
export async function isCheckpointDir(dir: string): Promise<boolean> {
  try {
    return (await readCheckpointFiles(dir, [CONFIG_FILE], [CONFIG_FILE])) !== null;
  } catch {
    // A broken pointer or a missing weights file: meant to be a checkpoint; loading says what is wrong.
    return true;
  }
}

/** A checkpoint read from disk. */
export interface LoadedCheckpoint {
  config: CheckpointConfig;
  weights: Map<string, Tensor>;
  /** optimizer.stateDict() as saved; undefined without optimizer.json or when not asked for. */
  optimizerState: unknown;
  schedulerState: unknown;
  /** The directory the files were read from (the current generation of `dir`). */
  location: string;
}

/** Options of `loadCheckpoint`. */
export interface LoadCheckpointOptions {
  /** Read optimizer.json too (default true); loadModel skips it, so a damaged one cannot stop inference. */
  optimizerState?: boolean;
  /** Raise the JSON limits (CHECKPOINT_JSON_LIMITS) for config.json and optimizer.json. */
  json?: Partial<JsonLimits>;
  /**
   * Check the SHA-256 digests recorded in checkpoint.json and config.json (default true). Turn it off to
   * load a checkpoint whose config.json was edited by hand.
   */
  verifyChecksums?: boolean;
}

/** An error while reading a checkpoint: the message names the file (and field or tensor). */
export class CheckpointLoadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CheckpointLoadError";
  }
}

/** Throws unless `bytes` has the digest `expected` that `recordedIn` holds for `file`. */
function checkDigest(bytes: Uint8Array, expected: string, file: string, recordedIn: string): void {
  const found = digest(bytes);
  if (found !== expected) {
    throw new CheckpointLoadError(
      `loadCheckpoint: ${file}: the file is damaged or was modified after saving (its SHA-256 is ${found.slice(7, 19)}…, ` +
        `${recordedIn} records ${expected.slice(7, 19)}…); pass verifyChecksums: false to load it anyway`,
    );
  }
}

/** Runs `fn`, turning any error into a CheckpointLoadError prefixed with `where` and, unless named, `file`. */
function naming<T>(where: string, file: string, fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    const message = (error as Error).message ?? String(error);
    throw new CheckpointLoadError(`${where}: ${message.includes(file) ? message : `${file}: ${message}`}`);
  }
}

/**
 * Reads a checkpoint directory: config.json and model.safetensors (and optimizer.json unless
 * `optimizerState: false`), all from the same generation, every value checked. Never writes; safe while
 * another process saves into `dir`. Errors name the file, the field or tensor and what was expected.
 * @example const { config, weights } = await loadCheckpoint("runs/lenet/last")
 */
export async function loadCheckpoint(
  dir: string,
  options: LoadCheckpointOptions = {},
): Promise<LoadedCheckpoint> {
  const where = "loadCheckpoint";
  const withOptimizer = options.optimizerState ?? true;
  const configLimits = { ...CHECKPOINT_JSON_LIMITS.config, ...options.json };
  const optimizerLimits = { ...CHECKPOINT_JSON_LIMITS.optimizer, ...options.json };
  const names = withOptimizer ? [CONFIG_FILE, WEIGHTS_FILE, OPTIMIZER_FILE] : [CONFIG_FILE, WEIGHTS_FILE];
  let read;
  try {
    read = await readCheckpointFiles(dir, names, [CONFIG_FILE, WEIGHTS_FILE], {
      [CONFIG_FILE]: configLimits.maxBytes,
      [OPTIMIZER_FILE]: optimizerLimits.maxBytes,
    });
  } catch (error) {
    throw new CheckpointLoadError(`${where}: ${(error as Error).message}`);
  }
  if (!read)
    throw new CheckpointLoadError(
      `${where}: '${dir}' is not a checkpoint directory (it has no ${POINTER_FILE}, nor the ${CONFIG_FILE} of a version-1 checkpoint)`,
    );
  const { location, files } = read;
  const path = (name: string) => join(location, name);
  const verify = options.verifyChecksums ?? true;
  if (verify && read.configDigest) {
    checkDigest(files.get(CONFIG_FILE)!, read.configDigest, path(CONFIG_FILE), join(dir, POINTER_FILE));
  }
  const config = naming(where, path(CONFIG_FILE), () =>
    validateConfig(decodeState(files.get(CONFIG_FILE)!, path(CONFIG_FILE), configLimits), path(CONFIG_FILE)),
  );
  if (verify) {
    for (const [name, bytes] of files) {
      const expected = config.checksums?.[name];
      if (expected !== undefined) checkDigest(bytes, expected, path(name), path(CONFIG_FILE));
    }
  }
  const weights = naming(where, path(WEIGHTS_FILE), () =>
    decodeSafetensors(new Uint8Array(files.get(WEIGHTS_FILE)!)),
  );
  let optimizerState: unknown;
  let schedulerState: unknown;
  const optimizerBytes = files.get(OPTIMIZER_FILE);
  if (withOptimizer && config.hasOptimizerState && !optimizerBytes)
    throw new CheckpointLoadError(
      `${where}: ${path(OPTIMIZER_FILE)}: missing (config.json says it was saved)`,
    );
  if (optimizerBytes) {
    const state = naming(where, path(OPTIMIZER_FILE), () =>
      validateOptimizerFile(
        decodeState(optimizerBytes, path(OPTIMIZER_FILE), optimizerLimits),
        path(OPTIMIZER_FILE),
      ),
    );
    optimizerState = state.optimizer;
    schedulerState = state.scheduler;
  }
  return { config, weights, optimizerState, schedulerState, location };
}

/**
 * Reads and checks only config.json of the checkpoint in `dir` (null when `dir` is not a checkpoint).
 * @example (await readCheckpointConfig("runs/x/best"))?.metrics
 */
export async function readCheckpointConfig(dir: string): Promise<CheckpointConfig | null> {
  let read;
  try {
    read = await readCheckpointFiles(dir, [CONFIG_FILE], [CONFIG_FILE], {
      [CONFIG_FILE]: CHECKPOINT_JSON_LIMITS.config.maxBytes,
    });
  } catch (error) {
    throw new CheckpointLoadError(`readCheckpointConfig: ${(error as Error).message}`);
  }
  if (!read) return null;
  const file = join(read.location, CONFIG_FILE);
  if (read.configDigest)
    checkDigest(read.files.get(CONFIG_FILE)!, read.configDigest, file, join(dir, POINTER_FILE));
  return naming("readCheckpointConfig", file, () =>
    validateConfig(decodeState(read.files.get(CONFIG_FILE)!, file, CHECKPOINT_JSON_LIMITS.config), file),
  );
}

/** Options of `loadModel`. */
export interface LoadModelOptions {
  /** Builds zoo architectures; default models.getModel. */
  zoo?: ZooLookup;
  /** Raise the JSON limits of config.json (CHECKPOINT_JSON_LIMITS). */
  json?: Partial<JsonLimits>;
  /** Check the recorded SHA-256 digests (default true); see LoadCheckpointOptions. */
  verifyChecksums?: boolean;
}

/**
 * Rebuilds a saved model from its config and loads its weights (eval mode). Predictions equal the saved
 * model's. Reads only config.json and model.safetensors: a damaged optimizer.json does not matter here.
 * @example const { model, config } = await loadModel("runs/lenet/best");
 */
export async function loadModel(
  dir: string,
  options: LoadModelOptions = {},
): Promise<{ model: Module; config: CheckpointConfig; checkpoint: LoadedCheckpoint }> {
  const checkpoint = await loadCheckpoint(dir, {
    optimizerState: false,
    json: options.json,
    verifyChecksums: options.verifyChecksums,
  });
  const { config, location } = checkpoint;
  const configFile = join(location, CONFIG_FILE);
  if (!config.architecture) {
    throw new CheckpointLoadError(
      `loadModel: ${configFile} has no architecture; build the model and use loadCheckpoint`,
    );
  }
  const architecture = config.architecture;
  const model = naming("loadModel", configFile, () =>
    buildArchitecture(architecture, options.zoo ?? ((name, o) => getModel(name, o))),
  );
  naming("loadModel", join(location, WEIGHTS_FILE), () => model.loadStateDict(checkpoint.weights));
  model.eval();
  return { model, config, checkpoint };
}

/**
 * What `restoreCheckpoint` loads the saved state into: the model, and optionally the optimizer and scheduler.
 */
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
  const { config, location } = checkpoint;
  const where = "restoreCheckpoint";
  naming(where, join(location, WEIGHTS_FILE), () => options.model.loadStateDict(checkpoint.weights));
  const optimizerFile = join(location, OPTIMIZER_FILE);
  if (options.optimizer?.loadStateDict && checkpoint.optimizerState !== undefined) {
    const optimizer = options.optimizer;
    naming(where, optimizerFile, () => optimizer.loadStateDict!(checkpoint.optimizerState as never));
  }
  if (options.scheduler?.loadStateDict && checkpoint.schedulerState !== undefined) {
    const scheduler = options.scheduler;
    naming(where, optimizerFile, () => scheduler.loadStateDict!(checkpoint.schedulerState as never));
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
