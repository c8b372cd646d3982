// `striate tune`: searches a model's hyperparameters on a dataset. Each trial trains the model for a
// budget of epochs with sampled settings and is scored by validation accuracy; results.jsonl,
// results.csv and search.{svg,png} go into --out, and the best settings are printed as the `striate train`
// command that reproduces them.

import { join, basename } from "node:path";
import { DataLoader } from "../../data/index.js";
import { manualSeed } from "../../tensor/rng.js";
import { fit } from "../../train/fit.js";
import {
  choice as choiceOf,
  coarseToFine,
  gridSearch,
  logUniform,
  randomSearch,
  successiveHalving,
  uniform,
  type Dimension,
  type Objective,
  type Space,
  type Trial,
  type TuneResult,
} from "../../tune/index.js";
import { writeTuneResults } from "../tune.js";
import { choice, num, parse, str, UsageError, type Values } from "./args.js";
import { build, loadData, resolveArchitecture } from "./resources.js";
import { selectBackend } from "./backend.js";
import { OPTIMIZERS, makeOptimizer, type TrainSettings } from "./train.js";

export const SEARCHES = ["random", "grid", "coarse-to-fine", "halving"] as const;

export const TUNE_USAGE = `Usage: striate tune <model> [options]

Searches hyperparameters of <model>: each trial trains for --budget epochs with sampled settings and is
scored by validation accuracy. Writes results.jsonl, results.csv and search.{svg,png} into --out and
prints the best trial as a 'striate train' command.

<model>  as for 'striate train': a built-in, a zoo name, a JSON spec or a ConvNetJS layer_defs file

Search:
  --search <name>        random (default), grid, coarse-to-fine, halving (successive halving)
  --trials <n>           trials (default 12); per round for coarse-to-fine; at the first rung for halving
  --rounds <n>           coarse-to-fine rounds (default 2)
  --points <n>           grid values per numeric hyperparameter (default 4)
  --budget <epochs>      epochs per trial (default 1); the last rung's epochs for halving
  --min-budget <epochs>  halving: epochs at the first rung (default 1)
Space (ranges are low:high):
  --lr <low:high>            learning rate, log-uniform (default 1e-4:1e-1)
  --weight-decay <low:high>  weight decay, log-uniform (default: not searched, 0)
  --momentum <low:high>      SGD momentum, uniform (default: not searched, 0.9)
  --batch-size <list>        comma-separated choices (default 64)
  --optimizer <name>         sgd, adam (default), adamw, rmsprop, adagrad
Data and output:
  --dataset <name>       mnist (default), fashion-mnist, cifar10, or an image folder
  --data-dir <dir>       folder with the dataset files (fashion-mnist, cifar10)
  --limit <n>            first n training and n validation images (default 2000; 0 = all)
  --seed <n>             seed of the sampler and of each trial (default 0)
  --out <dir>            output directory (default runs/tune-<model>)
  --backend <name>       compute backend
  -h, --help             show this help
`;

const OPTIONS = {
  search: { type: "string" },
  trials: { type: "string" },
  rounds: { type: "string" },
  points: { type: "string" },
  budget: { type: "string" },
  "min-budget": { type: "string" },
  lr: { type: "string" },
  "weight-decay": { type: "string" },
  momentum: { type: "string" },
  "batch-size": { type: "string" },
  optimizer: { type: "string" },
  dataset: { type: "string" },
  "data-dir": { type: "string" },
  limit: { type: "string" },
  seed: { type: "string" },
  out: { type: "string" },
  backend: { type: "string" },
} as const;

/** `low:high` as a range; `log` ranges must be positive. */
function range(values: Values, name: string, log: boolean): Dimension | undefined {
  const text = str(values, name);
  if (text === undefined) return undefined;
  const parts = text.split(":").map(Number);
  if (parts.length !== 2 || !parts.every(Number.isFinite) || parts[0] > parts[1] || (log && parts[0] <= 0))
    throw new UsageError(
      `--${name} must be low:high with ${log ? "0 < " : ""}low <= high, got '${text}'`,
      "tune",
    );
  return log ? logUniform(parts[0], parts[1]) : uniform(parts[0], parts[1]);
}

function batchSizes(values: Values): number[] {
  const text = str(values, "batch-size") ?? "64";
  const sizes = text.split(",").map(Number);
  if (!sizes.every((b) => Number.isInteger(b) && b >= 1))
    throw new UsageError(`--batch-size must be positive integers separated by commas, got '${text}'`, "tune");
  return sizes;
}

function searchSpace(values: Values): Space {
  const space: Space = { lr: range(values, "lr", true) ?? logUniform(1e-4, 1e-1) };
  const weightDecay = range(values, "weight-decay", true);
  const momentum = range(values, "momentum", false);
  if (weightDecay) space.weightDecay = weightDecay;
  if (momentum) space.momentum = momentum;
  space.batchSize = choiceOf(batchSizes(values));
  return space;
}

/** The `striate train` command that trains the best trial's settings for real. */
function trainCommandFor(model: string, base: TrainSettings, trial: Trial): string {
  const c = trial.config as Record<string, number>;
  const flags = [
    `--optimizer ${base.optimizer}`,
    `--lr ${Number(c.lr.toPrecision(3))}`,
    `--batch-size ${c.batchSize}`,
    c.weightDecay !== undefined ? `--weight-decay ${Number(c.weightDecay.toPrecision(3))}` : "",
    c.momentum !== undefined ? `--momentum ${Number(c.momentum.toPrecision(3))}` : "",
    base.dataset !== "mnist" ? `--dataset ${base.dataset}` : "",
  ];
  return `striate train ${model} ${flags.filter(Boolean).join(" ")}`;
}

export async function tuneCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse("tune", argv, OPTIONS);
  if (values.help) {
    process.stdout.write(TUNE_USAGE);
    return 0;
  }
  if (positionals.length !== 1)
    throw new UsageError(
      positionals.length === 0 ? "missing <model>" : `expected one <model>, got ${positionals.join(" ")}`,
      "tune",
    );
  const model = positionals[0];
  await selectBackend(str(values, "backend"));
  const search = choice(values, "search", SEARCHES, "random");
  const trials = num(values, "trials", 12, { min: 1, integer: true });
  const budget = num(values, "budget", 1, { min: 1, integer: true });
  const seed = num(values, "seed", 0, { min: 0, integer: true });
  const limit = num(values, "limit", 2000, { min: 0, integer: true });
  const space = searchSpace(values);
  const base: TrainSettings = {
    model,
    dataset: str(values, "dataset") ?? "mnist",
    dataDir: str(values, "data-dir"),
    epochs: budget,
    batchSize: 64,
    optimizer: choice(values, "optimizer", OPTIMIZERS, "adam"),
    lr: 1e-3,
    momentum: 0.9,
    weightDecay: 0,
    schedule: "none",
    augment: [],
    seed,
  };
  const data = await loadData(base.dataset, {
    dataDir: base.dataDir,
    limit: limit === 0 ? undefined : limit,
    seed,
  });
  const architecture = await resolveArchitecture(model, {
    numClasses: data.classes.length,
    inputShape: data.shape,
  });
  const out = str(values, "out") ?? join("runs", `tune-${basename(model).replace(/\.json$/, "")}`);

  const objective: Objective<Space> = async (config, context) => {
    const settings = { ...base, ...(config as Partial<TrainSettings>), epochs: context.budget };
    manualSeed(context.seed);
    const net = build(architecture);
    const train = new DataLoader(data.train, {
      batchSize: settings.batchSize,
      shuffle: true,
      seed: context.seed,
    });
    const val = new DataLoader(data.test, { batchSize: 256 });
    const history = await fit(net, {
      train,
      val,
      epochs: context.budget,
      optimizer: makeOptimizer(net, settings),
    });
    return history.epochs.at(-1)?.valAccuracy ?? NaN;
  };
  const onTrial = (t: Trial) => {
    const c = Object.entries(t.config as Record<string, number>)
      .map(([k, v]) => `${k} ${Number(v.toPrecision(3))}`)
      .join(", ");
    const score = t.status === "done" ? `val_acc ${(100 * t.score).toFixed(2)}%` : `failed: ${t.error}`;
    process.stdout.write(
      `trial ${t.trial} (round ${t.round}, ${t.budget} epoch${t.budget === 1 ? "" : "s"}): ${c} -> ${score}\n`,
    );
  };
  const common = { mode: "max" as const, seed, onTrial };
  let result: TuneResult<Space>;
  if (search === "random") result = await randomSearch(objective, space, { ...common, trials, budget });
  else if (search === "grid")
    result = await gridSearch(objective, space, {
      ...common,
      points: num(values, "points", 4, { min: 1, integer: true }),
      budget,
    });
  else if (search === "coarse-to-fine")
    result = await coarseToFine(objective, space, {
      ...common,
      rounds: num(values, "rounds", 2, { min: 1, integer: true }),
      trialsPerRound: trials,
      budget,
    });
  else
    result = await successiveHalving(objective, space, {
      ...common,
      trials,
      minBudget: num(values, "min-budget", 1, { min: 1, integer: true }),
      maxBudget: budget,
    });
  const files = await writeTuneResults(out, result, space);
  const best = result.best;
  process.stdout.write(
    `best: trial ${best.trial}, val_acc ${(100 * best.score).toFixed(2)}% after ${best.budget} epoch${best.budget === 1 ? "" : "s"}\n` +
      `train it: ${trainCommandFor(model, base, best)}\nwrote ${files.join(", ")}\n`,
  );
  return 0;
}
