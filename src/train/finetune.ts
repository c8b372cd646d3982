// Transfer learning as the notes present it: a network trained on one task becomes the starting point of
// another. Depending on how much data the new task has and how similar it is, train only a new linear
// classifier on top (linear probe), fine-tune the top few blocks, or fine-tune everything with smaller
// learning rates for the early layers. prepareFinetune() does the surgery (new head, frozen blocks, frozen
// batch norms, parameter groups); extractFeatures() gives the penultimate features for a linear probe.

import { noGrad } from "../autograd/engine.js";
import { scope } from "../backend/registry.js";
import { Module } from "../nn/module.js";
import { Linear } from "../nn/linear.js";
import { ModuleDict, ModuleList, Sequential } from "../nn/containers.js";
import { BatchNorm1d, BatchNorm2d } from "../nn/normalization.js";
import type { Parameter } from "../nn/parameter.js";
import type { ParamGroupInput } from "../optim/optimizer.js";
import { concat } from "../ops/movement.js";
import type { Tensor } from "../tensor/tensor.js";
import { formatShape } from "../tensor/shape.js";
import { NamedSequential } from "../models/common.js";

/** Which parameters a fine-tune trains: the new head only, the head and the top `topK` blocks, or all. */
export type FinetuneStrategy = "linear-probe" | "top-k" | "full";

export interface FinetuneOptions {
  /** Classes of the new task: the head is replaced by a fresh Linear(features, numClasses). */
  numClasses: number;
  strategy: FinetuneStrategy;
  /** Blocks below the head that "top-k" trains (default 1). */
  topK?: number;
  /** Learning rate of the new head (default 1e-3). */
  lr?: number;
  /**
   * Learning rate of the pretrained blocks that train, as a fraction of `lr` (default 0.1): early layers
   * hold generic features that a small new data set should only nudge.
   */
  backboneLrScale?: number;
  /** Name of the head to replace (dotted); default: the last Linear layer. */
  head?: string;
}

export interface FinetuneSetup {
  /** The name of the replaced head and the new Linear in its place. */
  headName: string;
  head: Linear;
  /** The blocks (units that own parameters) in forward order, with whether each trains. */
  blocks: { name: string; trainable: boolean }[];
  /** Parameter groups for any optimizer: the head at `lr`, trainable blocks at `lr · backboneLrScale`. */
  paramGroups: ParamGroupInput[];
}

/** Containers are looked through: their children are the blocks. */
const isContainer = (m: Module) =>
  m instanceof Sequential ||
  m instanceof ModuleList ||
  m instanceof ModuleDict ||
  m instanceof NamedSequential;

/** The model's blocks: the children (through containers) that own parameters, in definition order. */
export function parameterBlocks(model: Module, prefix = ""): [string, Module][] {
  return model.namedChildren().flatMap(([name, child]): [string, Module][] => {
    const path = prefix ? `${prefix}.${name}` : name;
    if (isContainer(child)) return parameterBlocks(child, path);
    return child.parameters().length > 0 ? [[path, child]] : [];
  });
}

function lastLinear(model: Module): string {
  const linears = model.namedModules().filter(([, m]) => m instanceof Linear);
  if (linears.length === 0)
    throw new Error(
      `prepareFinetune: ${model.constructor.name} has no Linear layer to replace; name the head with { head } or replace it with model.setSubmodule(name, layer)`,
    );
  return linears[linears.length - 1][0];
}

/**
 * Keeps a batch norm in evaluation mode whatever train() later sets: a frozen block must use its running
 * statistics, or the new task's batches would shift them (torchvision's FrozenBatchNorm2d does the same).
 */
function pinEvalMode(module: Module): void {
  Object.defineProperty(module, "training", { get: () => false, set: () => {}, configurable: true });
}

function checkOptions(options: FinetuneOptions): Required<Omit<FinetuneOptions, "head">> {
  const { numClasses, strategy, topK = 1, lr = 1e-3, backboneLrScale = 0.1 } = options;
  if (!Number.isInteger(numClasses) || numClasses < 1)
    throw new Error(`prepareFinetune: numClasses must be a positive integer, got ${numClasses}`);
  if (!["linear-probe", "top-k", "full"].includes(strategy))
    throw new Error(`prepareFinetune: strategy must be 'linear-probe', 'top-k' or 'full', got '${strategy}'`);
  if (!Number.isInteger(topK) || topK < 0)
    throw new Error(`prepareFinetune: topK must be a non-negative integer, got ${topK}`);
  for (const [name, v] of [
    ["lr", lr],
    ["backboneLrScale", backboneLrScale],
  ] as const)
    if (!(Number.isFinite(v) && v > 0))
      throw new Error(`prepareFinetune: ${name} must be a positive number, got ${v}`);
  return { numClasses, strategy, topK, lr, backboneLrScale };
}

/**
 * Prepares a trained model for a new task, in place: replaces the head with a fresh Linear for
 * `numClasses`, freezes the blocks the strategy does not train (requiresGrad false, their batch norms kept
 * in eval mode) and returns parameter groups for the optimizer.
 * @example
 * const setup = prepareFinetune(model, { numClasses: 5, strategy: "top-k", topK: 2, lr: 1e-3 });
 * const optimizer = new optim.Adam(setup.paramGroups);
 * await fit(model, { train, epochs: 5, optimizer });
 */
export function prepareFinetune(model: Module, options: FinetuneOptions): FinetuneSetup {
  const { numClasses, strategy, topK, lr, backboneLrScale } = checkOptions(options);
  const headName = options.head ?? lastLinear(model);
  const old = model.getSubmodule(headName);
  if (!(old instanceof Linear))
    throw new Error(
      `prepareFinetune: the head '${headName}' is a ${old.constructor.name}, not a Linear layer`,
    );
  const { weight } = old;
  const head = new Linear(old.inFeatures, numClasses, {
    bias: old.bias !== null,
    dtype: weight.dtype,
    backend: weight.backend.name,
  });
  model.setSubmodule(headName, head);
  const body = parameterBlocks(model).filter(([name]) => name !== headName);
  const trainsFrom =
    strategy === "full" ? 0 : strategy === "top-k" ? Math.max(0, body.length - topK) : body.length;
  const blocks = body.map(([name, module], i) => {
    const trainable = i >= trainsFrom;
    module.requiresGrad_(trainable);
    if (!trainable)
      for (const m of module.modules())
        if (m instanceof BatchNorm2d || m instanceof BatchNorm1d) pinEvalMode(m);
    return { name, trainable };
  });
  const backbone: Parameter[] = body.filter((_, i) => i >= trainsFrom).flatMap(([, m]) => m.parameters());
  const paramGroups: ParamGroupInput[] = [{ params: head.parameters(), lr }];
  if (backbone.length > 0) paramGroups.push({ params: backbone, lr: lr * backboneLrScale });
  return { headName, head, blocks: [...blocks, { name: headName, trainable: true }], paramGroups };
}

/**
 * The features a model's head sees (its penultimate layer), for a linear probe or an embedding plot:
 * runs the model in eval mode without gradients, batch by batch.
 * @param images `[N, C, H, W]`
 * @returns `[N, F]`, F = the head's inFeatures
 */
export function extractFeatures(
  model: Module<[images: Tensor], unknown>,
  images: Tensor,
  options: { head?: string; batchSize?: number } = {},
): Tensor {
  const headName = options.head ?? lastLinear(model);
  const head = model.getSubmodule(headName);
  const batchSize = options.batchSize ?? 256;
  if (images.ndim < 2)
    throw new Error(`extractFeatures: images must be batched, got ${formatShape(images.shape)}`);
  const wasTraining = model.training;
  model.eval();
  let captured: Tensor | null = null;
  const handle = head.registerForwardHook((_m, inputs) => {
    captured = (inputs[0] as Tensor).keep();
  });
  try {
    const chunks: Tensor[] = [];
    for (let i = 0; i < images.shape[0]; i += batchSize) {
      scope(() => noGrad(() => void model.forward(images.slice(0, i, i + batchSize))));
      chunks.push(captured!);
    }
    return chunks.length === 1 ? chunks[0] : concat(chunks, 0);
  } finally {
    handle.remove();
    model.train(wasTraining);
  }
}
