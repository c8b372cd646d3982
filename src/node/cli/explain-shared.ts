// What `striate explain`, `visualize` and `attack` share: the model argument (a checkpoint directory, or a
// built-in/zoo name with optional --weights), its input shape and class names, layer names checked with
// the valid ones listed, input images as a batch, and pictures written into --out without overwriting a
// user's files unless --overwrite.

import { existsSync, statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Module } from "../../nn/module.js";
import { tensor, type Tensor } from "../../tensor/tensor.js";
import { loadWeights } from "../../io/safetensors.js";
import { resolveLayer, type LayerRef } from "../../explain/layers.js";
import type { Canvas } from "../../viz/raster.js";
import { writeImagePng } from "../pictures.js";
import { UsageError } from "./args.js";
import { build, InputError, loadCheckpointModel, readImage, resolveArchitecture } from "./resources.js";

/** A model ready to explain, with what the pictures need to know about it. */
export interface LoadedModel {
  model: Module;
  /** [C, H, W] */
  inputShape: [number, number, number];
  classes?: string[];
  /** The dataset it was trained on, when recorded. */
  dataset?: string;
  dataDir?: string;
}

/** Input shape and class count a named (untrained) model is built for. */
function namedModelTarget(name: string): { numClasses: number; inputShape: [number, number, number] } {
  if (name === "lenet5" || name === "convnetjs-mnist") return { numClasses: 10, inputShape: [1, 28, 28] };
  if (name === "convnetjs-cifar10") return { numClasses: 10, inputShape: [3, 32, 32] };
  return { numClasses: 1000, inputShape: [3, 224, 224] };
}

/**
 * A checkpoint directory's model, or a built-in/zoo model by name with weights from a safetensors file
 * (without --weights its weights are random, which only makes sense to try the command).
 */
export async function loadModelArgument(arg: string, weights: string | undefined): Promise<LoadedModel> {
  if (existsSync(arg) && statSync(arg).isDirectory()) {
    const { model, config } = await loadCheckpointModel(arg);
    const shape = config.inputShape;
    if (!shape || shape.length !== 3)
      throw new InputError(`${join(arg, "config.json")} does not record the input shape [C, H, W]`);
    const saved = config.hyperParameters as { dataset?: string; dataDir?: string };
    return {
      model,
      inputShape: [shape[0], shape[1], shape[2]],
      classes: config.classes,
      dataset: saved.dataset,
      dataDir: saved.dataDir,
    };
  }
  const target = namedModelTarget(arg);
  const model = build(await resolveArchitecture(arg, target));
  if (weights) {
    if (!existsSync(weights)) throw new InputError(`weights file not found: ${weights}`);
    try {
      loadWeights(model, new Uint8Array(await readFile(weights)));
    } catch (error) {
      throw new InputError(`could not load ${weights} into ${arg}: ${(error as Error).message}`);
    }
  } else {
    process.stderr.write(
      `striate: ${arg} has random weights (pass --weights <file.safetensors> or a checkpoint)\n`,
    );
  }
  return { model: model.eval(), inputShape: target.inputShape };
}

/** The layer `name` of `model`, or a usage error listing the valid names. */
export function checkLayer(model: Module, name: string, command: string): LayerRef {
  try {
    return resolveLayer(model, name, `--layer`).name;
  } catch (error) {
    throw new UsageError((error as Error).message, command);
  }
}

/** The first (or last) Conv2d of the model, by dotted name. */
export function convLayerName(model: Module, which: "first" | "last"): string {
  const convs = model.namedModules().filter(([, m]) => m.constructor.name.includes("Conv2d"));
  if (convs.length === 0)
    throw new InputError(`${model.constructor.name} has no convolution layer; name one with --layer`);
  return (which === "first" ? convs[0] : convs[convs.length - 1])[0];
}

/** Image files decoded, converted and resized to the model's input, as one batch [N, C, H, W]. */
export async function readImageBatch(
  files: readonly string[],
  shape: [number, number, number],
): Promise<Tensor> {
  const images = await Promise.all(files.map((f) => readImage(f, shape)));
  const size = shape[0] * shape[1] * shape[2];
  const batch = new Float32Array(images.length * size);
  images.forEach((im, i) => batch.set(im, i * size));
  return tensor(batch, [images.length, ...shape]);
}

/** Writes a picture into `dir`; an existing file is an input error unless `overwrite`. */
export async function writePicture(
  dir: string,
  name: string,
  canvas: Canvas,
  overwrite: boolean,
): Promise<string> {
  const path = join(dir, name);
  if (!overwrite && existsSync(path)) throw new InputError(`${path} exists; pass --overwrite to replace it`);
  await writeImagePng(path, canvas, { overwrite: true });
  process.stdout.write(`wrote ${path}\n`);
  return path;
}

/** Runs a library call whose errors are the user's mistakes (a class out of range): usage errors. */
export function asUsage<T>(command: string, fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    if (error instanceof UsageError || error instanceof InputError) throw error;
    throw new UsageError((error as Error).message, command);
  }
}
