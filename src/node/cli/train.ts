// `striate train`: trains a model on a dataset with checkpoints (best/last), history CSV/JSONL, plots and a
// final test evaluation in the output directory. Ctrl-C finishes the current step, saves `<out>/last` and
// exits with status 130; `--resume <dir>` continues such a run exactly where it stopped.

import { basename, dirname, join } from "node:path";
import {
  DataLoader,
  compose,
  cutout,
  mixup,
  randomCrop,
  randomHorizontalFlip,
  randomTranslate,
  type Transform,
} from "../../data/index.js";
import {
  Adagrad,
  Adam,
  AdamW,
  CosineAnnealingLR,
  OneCycleLR,
  ReduceLROnPlateau,
  RMSprop,
  SGD,
  StepLR,
} from "../../optim/index.js";
import type { Module } from "../../nn/module.js";
import { manualSeed } from "../../tensor/rng.js";
import type { ArchitectureConfig } from "../../spec/builtins.js";
import {
  EarlyStopping,
  type Callback,
  type OptimizerLike,
  type SchedulerLike,
  type TrainContext,
} from "../../train/callbacks.js";
import { NonFiniteLossError, evaluate, fit } from "../../train/fit.js";
import type { History } from "../../train/history.js";
import { loadCheckpoint, restoreCheckpoint } from "../checkpoint.js";
import { CsvLogger, JsonlLogger, ModelCheckpoint } from "../callbacks.js";
import { createProgressReporter } from "../progress.js";
import { writePlots } from "../plots.js";
import { choice, list, num, optionalInt, parse, str, UsageError } from "./args.js";
import { build, InputError, loadData, resolveArchitecture, resolveCheckpointDir } from "./resources.js";
import { selectBackend } from "./backend.js";

export const OPTIMIZERS = ["sgd", "adam", "adamw", "rmsprop", "adagrad"] as const;
export const SCHEDULES = ["none", "step", "cosine", "onecycle", "plateau"] as const;
export const AUGMENTATIONS = ["flip", "crop", "translate", "cutout", "mixup"] as const;

export const TRAIN_USAGE = `Usage: striate train <model> [options]

Trains <model> and writes checkpoints (<out>/best, <out>/last), history.csv, history.jsonl,
training-curves.{svg,png} and confusion-matrix.{svg,png} into --out.

<model>  a built-in (lenet5, convnetjs-mnist, convnetjs-cifar10), a zoo name (resnet20_cifar, …),
         a JSON model spec file or a ConvNetJS layer_defs JSON file

Options:
  --dataset <name>       mnist (default, bundled), fashion-mnist, cifar10, or an image folder
  --data-dir <dir>       folder with the dataset files (fashion-mnist, cifar10)
  --epochs <n>           epochs to train (default 10)
  --batch-size <n>       images per batch (default 64)
  --optimizer <name>     sgd, adam (default), adamw, rmsprop, adagrad
  --lr <x>               learning rate (default 0.05 for sgd, 0.01 for adagrad, else 0.001)
  --momentum <x>         SGD momentum (default 0.9)
  --weight-decay <x>     L2 weight decay (default 0)
  --schedule <name>      none (default), step, cosine, onecycle, plateau
  --augment <list>       comma-separated: flip, crop, translate, cutout, mixup
  --patience <n>         stop early after n epochs without val_loss improvement
  --seed <n>             random seed (default 0)
  --limit <n>            use only the first n training and n test images (quick runs)
  --out <dir>            output directory (default runs/<model>)
  --resume <dir>         continue a run from its checkpoint (e.g. runs/lenet5/last) with the
                         settings it was started with; only --epochs (to train longer), --out
                         and --backend may be given with it
  --backend <name>       compute backend (default: the library default)
  -h, --help             show this help
`;

/** Everything that defines a run; saved in config.json so --resume rebuilds the same run. */
export interface TrainSettings {
  model: string;
  dataset: string;
  dataDir?: string;
  epochs: number;
  batchSize: number;
  optimizer: (typeof OPTIMIZERS)[number];
  lr: number;
  momentum: number;
  weightDecay: number;
  schedule: (typeof SCHEDULES)[number];
  augment: (typeof AUGMENTATIONS)[number][];
  patience?: number;
  seed: number;
  limit?: number;
}

const OPTIONS = {
  dataset: { type: "string" },
  "data-dir": { type: "string" },
  epochs: { type: "string" },
  "batch-size": { type: "string" },
  optimizer: { type: "string" },
  lr: { type: "string" },
  momentum: { type: "string" },
  "weight-decay": { type: "string" },
  schedule: { type: "string" },
  augment: { type: "string" },
  patience: { type: "string" },
  seed: { type: "string" },
  limit: { type: "string" },
  out: { type: "string" },
  resume: { type: "string" },
  backend: { type: "string" },
} as const;

function defaultLr(optimizer: TrainSettings["optimizer"]): number {
  return optimizer === "sgd" ? 0.05 : optimizer === "adagrad" ? 0.01 : 1e-3;
}

export function makeOptimizer(model: Module, s: TrainSettings): OptimizerLike {
  const params = model.parameters();
  const common = { lr: s.lr, weightDecay: s.weightDecay };
  switch (s.optimizer) {
    case "sgd":
      return new SGD(params, { ...common, momentum: s.momentum });
    case "adam":
      return new Adam(params, common);
    case "adamw":
      return new AdamW(params, common);
    case "rmsprop":
      return new RMSprop(params, common);
    case "adagrad":
      return new Adagrad(params, common);
  }
}

export function makeScheduler(
  optimizer: OptimizerLike,
  s: TrainSettings,
  batchesPerEpoch: number,
): { scheduler?: SchedulerLike; schedulerStep: "batch" | "epoch" } {
  const opt = optimizer as SGD;
  switch (s.schedule) {
    case "none":
      return { schedulerStep: "epoch" };
    case "step":
      return {
        scheduler: new StepLR(opt, { stepSize: Math.max(1, Math.floor(s.epochs / 3)), gamma: 0.1 }),
        schedulerStep: "epoch",
      };
    case "cosine":
      return {
        scheduler: new CosineAnnealingLR(opt, { tMax: Math.max(1, s.epochs) }),
        schedulerStep: "epoch",
      };
    case "onecycle":
      return {
        scheduler: new OneCycleLR(opt, { maxLr: s.lr, totalSteps: Math.max(1, s.epochs * batchesPerEpoch) }),
        schedulerStep: "batch",
      };
    case "plateau":
      return { scheduler: new ReduceLROnPlateau(opt, { factor: 0.1, patience: 2 }), schedulerStep: "epoch" };
  }
}

/** The batch augmentation for --augment, scaled to the image size (mixup last: it mixes finished images). */
export function makeAugmentation(
  names: readonly string[],
  shape: readonly number[],
  numClasses: number,
): Transform | undefined {
  const [, h, w] = shape;
  const steps: Transform[] = [];
  if (names.includes("crop")) steps.push(randomCrop([h, w], { padding: Math.max(2, Math.round(h / 8)) }));
  if (names.includes("translate")) steps.push(randomTranslate(Math.max(1, Math.round(h / 14))));
  if (names.includes("flip")) steps.push(randomHorizontalFlip());
  if (names.includes("cutout")) steps.push(cutout(Math.max(2, Math.round(h / 4))));
  if (names.includes("mixup")) steps.push(mixup(0.2, { numClasses }));
  return steps.length === 0 ? undefined : steps.length === 1 ? steps[0] : compose(steps);
}

function settingsFromFlags(
  model: string,
  values: Record<string, string | boolean | undefined>,
): TrainSettings {
  const optimizer = choice(values, "optimizer", OPTIMIZERS, "adam");
  return {
    model,
    dataset: str(values, "dataset") ?? "mnist",
    dataDir: str(values, "data-dir"),
    epochs: num(values, "epochs", 10, { min: 1, integer: true }),
    batchSize: num(values, "batch-size", 64, { min: 1, integer: true }),
    optimizer,
    lr: num(values, "lr", defaultLr(optimizer), { min: 0, exclusiveMin: true }),
    momentum: num(values, "momentum", 0.9, { min: 0, max: 1 }),
    weightDecay: num(values, "weight-decay", 0, { min: 0 }),
    schedule: choice(values, "schedule", SCHEDULES, "none"),
    augment: list(values, "augment", AUGMENTATIONS),
    patience: optionalInt(values, "patience", 0),
    seed: num(values, "seed", 0, { min: 0, integer: true }),
    limit: optionalInt(values, "limit", 1),
  };
}

/** Flags --resume accepts; every other setting is the saved run's (it is what makes the resume exact). */
const RESUME_FLAGS = new Set(["resume", "epochs", "out", "backend", "help"]);

/** Rejects flags a resume would otherwise silently ignore. */
function checkResumeFlags(values: Record<string, string | boolean | undefined>, positionals: string[]): void {
  const ignored = Object.keys(values).filter((k) => values[k] !== undefined && !RESUME_FLAGS.has(k));
  if (positionals.length > 0)
    throw new UsageError(
      `--resume continues the saved run's model; remove '${positionals.join(" ")}'`,
      "train",
    );
  if (ignored.length > 0) {
    throw new UsageError(
      `--resume keeps the settings the run was started with; ${ignored.map((k) => `--${k}`).join(", ")} ` +
        `cannot be changed (only --epochs, --out and --backend can be given with --resume)`,
      "train",
    );
  }
}

/** Runs `striate train`; returns the exit status. */
export async function trainCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse("train", argv, OPTIONS);
  if (values.help) {
    process.stdout.write(TRAIN_USAGE);
    return 0;
  }
  await selectBackend(str(values, "backend"));
  const resumeDir = str(values, "resume");
  let settings: TrainSettings;
  let architecture: ArchitectureConfig | undefined;
  let checkpointDir: string | undefined;
  if (resumeDir) {
    checkResumeFlags(values, positionals);
    checkpointDir = await resolveCheckpointDir(resumeDir, ["last"]);
    const { config } = await loadCheckpoint(checkpointDir);
    if (!config.architecture)
      throw new InputError(`--resume: the checkpoint in ${checkpointDir} has no architecture`);
    architecture = config.architecture;
    settings = { ...(config.hyperParameters as unknown as TrainSettings) };
    if (str(values, "epochs") !== undefined)
      settings.epochs = num(values, "epochs", settings.epochs, { min: 1, integer: true });
  } else {
    if (positionals.length !== 1)
      throw new UsageError(
        positionals.length === 0 ? "missing <model>" : `expected one <model>, got ${positionals.join(" ")}`,
        "train",
      );
    settings = settingsFromFlags(positionals[0], values);
  }
  const out =
    str(values, "out") ??
    (checkpointDir ? dirname(checkpointDir) : join("runs", basename(settings.model).replace(/\.json$/, "")));

  manualSeed(settings.seed);
  const data = await loadData(settings.dataset, {
    dataDir: settings.dataDir,
    limit: settings.limit,
    seed: settings.seed,
  });
  const numClasses = data.classes.length;
  architecture ??= await resolveArchitecture(settings.model, { numClasses, inputShape: data.shape });
  const model = build(architecture);

  const train = new DataLoader(data.train, {
    batchSize: settings.batchSize,
    shuffle: true,
    seed: settings.seed,
    transform: makeAugmentation(settings.augment, data.shape, numClasses),
  });
  const val = new DataLoader(data.test, { batchSize: Math.max(256, settings.batchSize) });
  const optimizer = makeOptimizer(model, settings);
  const { scheduler, schedulerStep } = makeScheduler(optimizer, settings, train.length);
  const resume = checkpointDir
    ? await restoreCheckpoint(checkpointDir, { model, optimizer, scheduler })
    : undefined;

  let context: TrainContext | null = null;
  const interrupt: Callback = { onTrainBegin: (ctx) => void (context = ctx) };
  const onSigint = () => {
    if (!context || context.stopRequested) {
      process.stderr.write("\nstriate: second interrupt, exiting without saving\n");
      process.exit(130);
    }
    context.stop("interrupted by SIGINT (Ctrl-C)");
    process.stderr.write(
      "\nstriate: interrupt received; finishing the current step and saving a checkpoint…\n",
    );
  };
  process.on("SIGINT", onSigint);

  const checkpoint = new ModelCheckpoint({
    dir: out,
    monitor: "val_loss",
    architecture,
    hyperParameters: settings as unknown as Record<string, unknown>,
    classes: data.classes,
    inputShape: data.shape,
  });
  const callbacks: Callback[] = [
    interrupt,
    checkpoint,
    new CsvLogger(join(out, "history.csv"), { append: Boolean(resume) }),
    new JsonlLogger(join(out, "history.jsonl"), { append: Boolean(resume) }),
  ];
  if (settings.patience !== undefined)
    callbacks.push(new EarlyStopping({ monitor: "val_loss", patience: settings.patience }));

  process.stdout.write(
    `training ${settings.model} on ${settings.dataset} (${data.train.length} train / ${data.test.length} test images, ` +
      `${model.numParameters().toLocaleString("en-US")} parameters) → ${out}\n`,
  );
  let history: History;
  try {
    history = await fit(model, {
      train,
      val,
      epochs: settings.epochs,
      optimizer,
      scheduler,
      schedulerStep,
      callbacks,
      onProgress: createProgressReporter(),
      ...(resume
        ? {
            initialEpoch: resume.initialEpoch,
            initialBatch: resume.initialBatch,
            initialStep: resume.initialStep,
            history: resume.history,
          }
        : {}),
    });
  } catch (error) {
    if (!(error instanceof NonFiniteLossError)) throw error;
    process.stderr.write(`striate: ${error.message}\n`);
    // Checkpoints are only written with finite weights (saveCheckpoint refuses others), so what was
    // written before the failure is good.
    if (checkpoint.written.length > 0)
      process.stderr.write(`striate: the last good checkpoint is ${checkpoint.lastDir}\n`);
    else
      process.stderr.write(
        `striate: no checkpoint was written (the failure came before the first epoch ended)\n`,
      );
    return 1;
  } finally {
    process.off("SIGINT", onSigint);
  }

  if (history.stopReason === "interrupted") {
    const ctx = context as TrainContext | null;
    process.stdout.write(
      `interrupted at epoch ${(ctx?.epoch ?? 0) + 1}, batch ${ctx?.batch ?? 0}; checkpoint saved to ${checkpoint.lastDir}\n` +
        `resume with: striate train --resume ${checkpoint.lastDir}\n`,
    );
    return 130;
  }
  const result = await evaluate(model, val, { confusionMatrix: true });
  const plots = await writePlots(out, {
    history: history.epochs,
    confusionMatrix: result.confusionMatrix?.matrix,
    classes: data.classes,
  });
  process.stdout.write(
    `test loss ${result.loss.toFixed(4)}  test accuracy ${(100 * result.accuracy).toFixed(2)}%` +
      `${result.top5 !== undefined ? `  top-5 ${(100 * result.top5).toFixed(2)}%` : ""} (${result.count} images)\n` +
      `wrote ${[checkpoint.bestDir, checkpoint.lastDir, ...plots].join(", ")}\n`,
  );
  return 0;
}
