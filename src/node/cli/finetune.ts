// `striate finetune`: transfer learning from the command line. Takes a trained model (a checkpoint, or a
// zoo/built-in model with torchvision-named safetensors weights), replaces its head for the new data's
// classes, freezes what the strategy says and trains the rest (train.prepareFinetune), writing checkpoints
// that `striate eval` / `loadModel` open like any other.

import { readFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { existsSync, statSync } from "node:fs";
import { DataLoader } from "../../data/index.js";
import { decodeSafetensors } from "../../io/safetensors.js";
import { importOnnx } from "../../io/onnx/import.js";
import type { Module } from "../../nn/module.js";
import { Linear } from "../../nn/linear.js";
import type { Tensor } from "../../tensor/tensor.js";
import { Adam } from "../../optim/index.js";
import type { ArchitectureConfig } from "../../spec/builtins.js";
import { manualSeed } from "../../tensor/rng.js";
import { evaluate, fit } from "../../train/fit.js";
import { prepareFinetune, type FinetuneStrategy } from "../../train/finetune.js";
import { CsvLogger, ModelCheckpoint } from "../callbacks.js";
import { loadModel, isCheckpointDir } from "../checkpoint.js";
import { createProgressReporter } from "../progress.js";
import { choice, num, optionalInt, parse, str, UsageError } from "./args.js";
import { build, InputError, loadData, resolveArchitecture } from "./resources.js";
import { selectBackend } from "./backend.js";

export const STRATEGIES = ["linear-probe", "top-k", "full"] as const;

export const FINETUNE_USAGE = `Usage: striate finetune <model|checkpoint> [options]

Transfer learning: replaces the model's classifier head for the dataset's classes, freezes what the
strategy says (frozen batch norms stay in eval mode), trains the rest and writes checkpoints
(<out>/best, <out>/last) and history.csv into --out.

<model|checkpoint>  a checkpoint directory (a trained Striate model), or a zoo/built-in model name
                    with --weights

Options:
  --weights <file>        weights with the model's (torchvision) names, for a model name: a .safetensors
                          file, or an .onnx file (its initializers)
  --dataset <name>        mnist (default), fashion-mnist, cifar10, or an image folder
  --data-dir <dir>        folder with the dataset files (fashion-mnist, cifar10)
  --strategy <name>       linear-probe (head only), top-k (default: head + the top --top-k blocks), full
  --top-k <n>             blocks below the head that top-k trains (default 2)
  --epochs <n>            epochs (default 5)
  --lr <x>                learning rate of the new head (default 0.001)
  --backbone-lr-scale <x> learning rate of trained pretrained blocks, as a fraction of --lr (default 0.1)
  --batch-size <n>        images per batch (default 64)
  --limit <n>             first n training and n test images
  --seed <n>              random seed (default 0)
  --out <dir>             output directory (default runs/finetune-<model>)
  --backend <name>        compute backend
  -h, --help              show this help
`;

const OPTIONS = {
  weights: { type: "string" },
  dataset: { type: "string" },
  "data-dir": { type: "string" },
  strategy: { type: "string" },
  "top-k": { type: "string" },
  epochs: { type: "string" },
  lr: { type: "string" },
  "backbone-lr-scale": { type: "string" },
  "batch-size": { type: "string" },
  limit: { type: "string" },
  seed: { type: "string" },
  out: { type: "string" },
  backend: { type: "string" },
} as const;

/** The architecture of the fine-tuned model: the source's with the new class count. */
function withClasses(
  architecture: ArchitectureConfig,
  numClasses: number,
  source: string,
): ArchitectureConfig {
  if (architecture.kind === "zoo" || architecture.kind === "builtin")
    return { ...architecture, options: { ...architecture.options, numClasses } } as ArchitectureConfig;
  throw new InputError(
    `${source} is built from a ${architecture.kind === "spec" ? "JSON spec" : "ConvNetJS definition"}; ` +
      `finetune needs a zoo or built-in model (edit the spec's last layer to ${numClasses} classes and use 'striate train')`,
  );
}

/** The source model and its architecture: a checkpoint, or a named model with optional weights. */
async function loadSource(
  arg: string,
  weights: string | undefined,
  inputShape: [number, number, number],
  numClasses: number,
): Promise<{ model: Module; architecture: ArchitectureConfig }> {
  if (existsSync(arg) && statSync(arg).isDirectory()) {
    if (weights)
      throw new UsageError("--weights is for a model name; a checkpoint already has its weights", "finetune");
    const dir = (await isCheckpointDir(arg)) ? arg : join(arg, "best");
    const { model, config } = await loadModel(dir);
    if (!config.architecture) throw new InputError(`the checkpoint in ${dir} has no architecture`);
    return { model, architecture: config.architecture };
  }
  // Built for the new classes: the head is replaced anyway, so the weights file's head is not loaded.
  const architecture = await resolveArchitecture(arg, { numClasses, inputShape });
  const model = build(architecture);
  if (!weights) {
    process.stderr.write(
      `striate: no --weights given: ${arg} starts from random weights, which is training, not transfer\n`,
    );
    return { model, architecture };
  }
  let tensors: Map<string, Tensor>;
  try {
    const bytes = new Uint8Array(await readFile(weights));
    // An ONNX file's initializers carry the exporter's (PyTorch's) parameter names.
    tensors = weights.endsWith(".onnx") ? importOnnx(bytes).stateDict() : decodeSafetensors(bytes);
  } catch (error) {
    throw new InputError(`${weights}: ${(error as Error).message}`);
  }
  const linears = model.namedModules().filter(([, m]) => m instanceof Linear);
  const head = linears.length > 0 ? linears[linears.length - 1][0] : "";
  for (const key of [...tensors.keys()]) if (key.startsWith(`${head}.`)) tensors.delete(key);
  try {
    const { missingKeys, unexpectedKeys } = model.loadStateDict(tensors, false);
    const missing = missingKeys.filter((k) => !k.startsWith(`${head}.`));
    if (missing.length > 0 || unexpectedKeys.length > 0)
      throw new Error(
        `missing keys: ${missing.join(", ") || "none"}; unexpected keys: ${unexpectedKeys.join(", ") || "none"}`,
      );
  } catch (error) {
    throw new InputError(`${weights} does not fit ${arg}: ${(error as Error).message}`);
  }
  return { model, architecture };
}

export async function finetuneCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse("finetune", argv, OPTIONS);
  if (values.help) {
    process.stdout.write(FINETUNE_USAGE);
    return 0;
  }
  if (positionals.length !== 1)
    throw new UsageError(
      positionals.length === 0
        ? "missing <model|checkpoint>"
        : `expected one model, got ${positionals.join(" ")}`,
      "finetune",
    );
  const source = positionals[0];
  await selectBackend(str(values, "backend"));
  const strategy: FinetuneStrategy = choice(values, "strategy", STRATEGIES, "top-k");
  const epochs = num(values, "epochs", 5, { min: 1, integer: true });
  const lr = num(values, "lr", 1e-3, { min: 0, exclusiveMin: true });
  const backboneLrScale = num(values, "backbone-lr-scale", 0.1, { min: 0, exclusiveMin: true });
  const seed = num(values, "seed", 0, { min: 0, integer: true });
  const batchSize = num(values, "batch-size", 64, { min: 1, integer: true });
  const dataset = str(values, "dataset") ?? "mnist";
  manualSeed(seed);
  const data = await loadData(dataset, {
    dataDir: str(values, "data-dir"),
    limit: optionalInt(values, "limit"),
    seed,
  });
  const numClasses = data.classes.length;
  const { model, architecture } = await loadSource(source, str(values, "weights"), data.shape, numClasses);
  const setup = prepareFinetune(model, {
    numClasses,
    strategy,
    topK: num(values, "top-k", 2, { min: 0, integer: true }),
    lr,
    backboneLrScale,
  });
  const target = withClasses(architecture, numClasses, source);
  const out = str(values, "out") ?? join("runs", `finetune-${basename(source)}`);
  const checkpoint = new ModelCheckpoint({
    dir: out,
    monitor: "val_loss",
    architecture: target,
    hyperParameters: { source, strategy, epochs, lr, backboneLrScale, batchSize, dataset, seed },
    classes: data.classes,
    inputShape: data.shape,
  });
  const trainable = setup.blocks.filter((b) => b.trainable).map((b) => b.name);
  process.stdout.write(
    `fine-tuning ${source} on ${dataset} (${numClasses} classes, ${data.train.length} train / ${data.test.length} test images), ` +
      `strategy ${strategy}: training ${trainable.join(", ")}; frozen ${setup.blocks.length - trainable.length} blocks → ${out}\n`,
  );
  const train = new DataLoader(data.train, { batchSize, shuffle: true, seed });
  const val = new DataLoader(data.test, { batchSize: Math.max(256, batchSize) });
  await fit(model, {
    train,
    val,
    epochs,
    optimizer: new Adam(setup.paramGroups),
    callbacks: [checkpoint, new CsvLogger(join(out, "history.csv"))],
    onProgress: createProgressReporter(),
  });
  const result = await evaluate(model, val);
  process.stdout.write(
    `test loss ${result.loss.toFixed(4)}  test accuracy ${(100 * result.accuracy).toFixed(2)}% (${result.count} images)\n` +
      `wrote ${checkpoint.bestDir}, ${checkpoint.lastDir}\n`,
  );
  return 0;
}
