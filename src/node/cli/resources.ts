// What the CLI commands share: turning a model argument (built-in name, zoo name, JSON spec file, ConvNetJS
// layer_defs file or checkpoint directory) into a Module with its architecture description, loading a
// dataset by name (mnist, fashion-mnist, cifar10, an image folder) with an optional size limit, and
// decoding single image files for predict.

import { existsSync, statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Module } from "../../nn/module.js";
import { getModel, listModels } from "../../models/index.js";
import { BUILTIN_MODELS, buildArchitecture, type ArchitectureConfig } from "../../spec/builtins.js";
import { isConvNetJsLayerDefs } from "../../spec/convnetjs.js";
import { isModelSpec } from "../../spec/spec.js";
import { subset, randomSplit, type LoaderDataset } from "../../data/index.js";
import { loadMnist } from "../data/mnist.js";
import { loadCifar10 } from "../data/cifar.js";
import { loadImageFolder, readImageFile } from "../data/image-folder.js";
import { isCheckpointDir, loadModel, type CheckpointConfig } from "../checkpoint.js";
import { parseJsonBounded } from "../../io/json.js";
import { UsageError } from "./args.js";

/** Thrown for a missing or unreadable input file (exit status 1, message only). */
export class InputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InputError";
  }
}

export interface ResolvedModel {
  model: Module;
  architecture: ArchitectureConfig;
  /** Set when the argument was a checkpoint directory. */
  checkpoint?: CheckpointConfig;
}

export interface ModelTarget {
  numClasses: number;
  /** [C, H, W] of the data. */
  inputShape: readonly [number, number, number];
}

function looksLikePath(arg: string): boolean {
  return arg.includes("/") || arg.includes("\\") || arg.endsWith(".json") || arg.startsWith(".");
}

/** The architecture named by a model argument (without building it), sized for `target`. */
export async function resolveArchitecture(arg: string, target: ModelTarget): Promise<ArchitectureConfig> {
  if (existsSync(arg) && statSync(arg).isFile()) {
    let parsed: unknown;
    try {
      // Bounded (size and nesting depth): a spec is a few kilobytes and a handful of levels deep.
      parsed = parseJsonBounded(await readFile(arg, "utf8"), arg, { maxBytes: 16 * 1024 * 1024 });
    } catch (error) {
      throw new InputError(`model file ${(error as Error).message}`);
    }
    const defs = (parsed as { layer_defs?: unknown })?.layer_defs ?? parsed;
    if (isConvNetJsLayerDefs(defs)) return { kind: "convnetjs", layerDefs: defs };
    if (isModelSpec(parsed)) return { kind: "spec", spec: parsed };
    throw new InputError(
      `model file ${arg} is neither a model spec ({ "input": [C,H,W], "layers": [...] }) nor ConvNetJS layer_defs ([{ "type": "input", ... }, ...])`,
    );
  }
  const [c, h, w] = target.inputShape;
  if ((BUILTIN_MODELS as readonly string[]).includes(arg)) {
    const options =
      arg === "lenet5"
        ? { numClasses: target.numClasses, inChannels: c }
        : { numClasses: target.numClasses, inChannels: c, inputSize: [h, w] as [number, number] };
    return { kind: "builtin", name: arg, options };
  }
  if (listModels().some((m) => m.name === arg)) {
    return { kind: "zoo", name: arg, options: { numClasses: target.numClasses, inChannels: c } };
  }
  if (looksLikePath(arg)) throw new InputError(`model file not found: ${arg}`);
  throw new UsageError(
    `unknown model '${arg}'; use a built-in (${BUILTIN_MODELS.join(", ")}), a zoo model (${listModels()
      .map((m) => m.name)
      .join(", ")}), a .json spec file or a checkpoint directory`,
  );
}

/** Builds a model from an architecture; zoo models come from models.getModel. */
export function build(architecture: ArchitectureConfig): Module {
  return buildArchitecture(architecture, (name, options) => getModel(name, options));
}

/**
 * The checkpoint directory an argument names: `dir` itself, or a run directory's best/ (else last/).
 * Throws an InputError when there is none.
 */
export async function resolveCheckpointDir(
  dir: string,
  prefer: readonly string[] = ["best", "last"],
): Promise<string> {
  if (!existsSync(dir)) throw new InputError(`checkpoint directory not found: ${dir}`);
  if (statSync(dir).isDirectory() && (await isCheckpointDir(dir))) return dir;
  // A run's output directory holds best/ and last/.
  for (const sub of prefer) if (await isCheckpointDir(join(dir, sub))) return join(dir, sub);
  throw new InputError(
    `${dir} is not a checkpoint directory (no checkpoint in it, nor in ${prefer.join("/ or ")}/)`,
  );
}

/** A checkpoint directory's model with its weights (eval mode). */
export async function loadCheckpointModel(dir: string): Promise<{ model: Module; config: CheckpointConfig }> {
  const checkpointDir = await resolveCheckpointDir(dir);
  const { model, config } = await loadModel(checkpointDir, {
    zoo: (name, options) => getModel(name, options),
  });
  return { model, config };
}

export const DATASETS = ["mnist", "fashion-mnist", "cifar10"] as const;

export interface LoadedData {
  train: LoaderDataset;
  test: LoaderDataset;
  classes: string[];
  shape: [number, number, number];
}

function firstN(dataset: LoaderDataset, n: number | undefined): LoaderDataset {
  if (n === undefined || n >= dataset.length) return dataset;
  return subset(
    dataset,
    Array.from({ length: n }, (_, i) => i),
  );
}

async function loadSplits(
  name: string,
  dataDir: string | undefined,
  seed: number,
): Promise<{ train: LoaderDataset; test: LoaderDataset }> {
  switch (name) {
    case "mnist":
      return {
        train: await loadMnist({ split: "train", path: dataDir }),
        test: await loadMnist({ split: "test", path: dataDir }),
      };
    case "fashion-mnist":
      if (!dataDir)
        throw new UsageError(
          "--dataset fashion-mnist needs --data-dir (a folder with the Fashion-MNIST IDX files)",
        );
      return {
        train: await loadMnist({ split: "train", path: dataDir, kind: "fashion" }),
        test: await loadMnist({ split: "test", path: dataDir, kind: "fashion" }),
      };
    case "cifar10":
      if (!dataDir)
        throw new UsageError(
          "--dataset cifar10 needs --data-dir (the folder of the CIFAR-10 binary batches)",
        );
      return { train: await loadCifar10(dataDir, "train"), test: await loadCifar10(dataDir, "test") };
    default: {
      if (!existsSync(name)) {
        throw new UsageError(
          `unknown dataset '${name}'; use ${DATASETS.join(", ")} or a folder of class sub-folders`,
        );
      }
      // An image folder: train/ and test/ sub-folders if present, else a 90/10 random split.
      if (existsSync(join(name, "train")) && existsSync(join(name, "test"))) {
        const train = await loadImageFolder(join(name, "train"));
        const test = await loadImageFolder(join(name, "test"), { size: [train.shape[1], train.shape[2]] });
        return { train, test };
      }
      const all = await loadImageFolder(name);
      const [train, test] = randomSplit(all, [0.9, 0.1], seed);
      return { train, test };
    }
  }
}

/** Loads a dataset's train and test splits; `limit` keeps the first N images of each. */
export async function loadData(
  name: string,
  options: { dataDir?: string; limit?: number; seed?: number },
): Promise<LoadedData> {
  let splits: { train: LoaderDataset; test: LoaderDataset };
  try {
    splits = await loadSplits(name, options.dataDir, options.seed ?? 0);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new InputError((error as Error).message);
  }
  const shape = splits.train.shape;
  if (!shape) throw new InputError(`dataset ${name} has no image shape`);
  // An empty split would train on nothing or report val_acc NaN% (a tiny folder split 90/10).
  for (const [split, data] of [
    ["train", splits.train],
    ["test", splits.test],
  ] as const) {
    if (data.length === 0)
      throw new InputError(
        `dataset ${name}: the ${split} split has no images (${splits.train.length} train, ${splits.test.length} test); ` +
          `add images, or give the folder train/ and test/ sub-folders`,
      );
  }
  const classes = [...(splits.train.classes ?? [])];
  return {
    train: firstN(splits.train, options.limit),
    test: firstN(splits.test, options.limit),
    classes,
    shape: [shape[0], shape[1], shape[2]],
  };
}

/** Decodes a PNG or JPEG file into a CHW image in [0, 1] with `shape`'s channels and size (bilinear). */
export async function readImage(
  path: string,
  shape: readonly [number, number, number],
): Promise<Float32Array> {
  const [c, h, w] = shape;
  return (await readPicture(path, c, [h, w])).image;
}

/**
 * Decodes a PNG or JPEG file into a CHW image in [0, 1] with `channels` channels, at its own size or
 * resized to `size` (bilinear); errors name the file.
 */
export async function readPicture(
  path: string,
  channels: number,
  size?: readonly [number, number],
): Promise<{ image: Float32Array; width: number; height: number }> {
  if (!existsSync(path)) throw new InputError(`image file not found: ${path}`);
  if (channels !== 1 && channels !== 3)
    throw new InputError(`predict: the model expects ${channels} input channels; images give 1 or 3`);
  try {
    const read = await readImageFile(path, { channels, ...(size ? { size } : {}) });
    return size ? { image: read.image, height: size[0], width: size[1] } : read;
  } catch (error) {
    throw new InputError(`could not read image ${path}: ${(error as Error).message}`);
  }
}
