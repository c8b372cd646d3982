// Built-in architectures by name, for the CLI and saved configs: the ConvNetJS MNIST and CIFAR-10 demo nets
// (their layer_defs verbatim) and LeNet-5 from the model zoo. A saved model's config names its
// architecture with `ArchitectureConfig`, and buildArchitecture() rebuilds it.

import type { Module } from "../nn/module.js";
import { LeNet5 } from "../models/lenet.js";
import { fromConvNetJs, type ConvNetJsLayerDef } from "./convnetjs.js";
import { buildFromSpec, type ModelSpec } from "./spec.js";

/**
 * The ConvNetJS MNIST demo (cs.stanford.edu/people/karpathy/convnetjs/demo/mnist.html). The demo feeds 24x24
 * random crops; the same layers take 28x28 images and have the same 5,994 parameters (both reach 4x4x16
 * before the classifier).
 */
export const CONVNETJS_MNIST_LAYER_DEFS: readonly ConvNetJsLayerDef[] = [
  { type: "input", out_sx: 24, out_sy: 24, out_depth: 1 },
  { type: "conv", sx: 5, filters: 8, stride: 1, pad: 2, activation: "relu" },
  { type: "pool", sx: 2, stride: 2 },
  { type: "conv", sx: 5, filters: 16, stride: 1, pad: 2, activation: "relu" },
  { type: "pool", sx: 3, stride: 3 },
  { type: "softmax", num_classes: 10 },
];

/** The ConvNetJS CIFAR-10 demo net (32x32x3 input, three conv-pool stages, 22,466 parameters). */
export const CONVNETJS_CIFAR10_LAYER_DEFS: readonly ConvNetJsLayerDef[] = [
  { type: "input", out_sx: 32, out_sy: 32, out_depth: 3 },
  { type: "conv", sx: 5, filters: 16, stride: 1, pad: 2, activation: "relu" },
  { type: "pool", sx: 2, stride: 2 },
  { type: "conv", sx: 5, filters: 20, stride: 1, pad: 2, activation: "relu" },
  { type: "pool", sx: 2, stride: 2 },
  { type: "conv", sx: 5, filters: 20, stride: 1, pad: 2, activation: "relu" },
  { type: "pool", sx: 2, stride: 2 },
  { type: "softmax", num_classes: 10 },
];

/** Names accepted by buildBuiltin(). */
export const BUILTIN_MODELS = ["lenet5", "convnetjs-mnist", "convnetjs-cifar10"] as const;
/** A name `buildBuiltin` accepts: "lenet5", "convnetjs-mnist" or "convnetjs-cifar10". */
export type BuiltinModelName = (typeof BUILTIN_MODELS)[number];

/**
 * Options of `buildBuiltin`: `numClasses` and `inChannels` (default: the net's own, 10 classes and 1 or 3
 * channels) and the ConvNetJS nets' `inputSize`.
 */
export interface BuiltinOptions {
  numClasses?: number;
  inChannels?: number;
  /** Image [height, width] for the ConvNetJS nets (LeNet-5 takes 28x28). */
  inputSize?: [number, number];
}

/** Builds a built-in architecture by name. */
export function buildBuiltin(name: string, options: BuiltinOptions = {}): Module {
  switch (name) {
    case "lenet5":
      return new LeNet5({ numClasses: options.numClasses, inChannels: options.inChannels });
    case "convnetjs-mnist":
      return fromConvNetJs(withClassifier(CONVNETJS_MNIST_LAYER_DEFS, options)).model;
    case "convnetjs-cifar10":
      return fromConvNetJs(withClassifier(CONVNETJS_CIFAR10_LAYER_DEFS, options)).model;
    default:
      throw new Error(`unknown built-in model '${name}'; built-ins: ${BUILTIN_MODELS.join(", ")}`);
  }
}

function withClassifier(defs: readonly ConvNetJsLayerDef[], options: BuiltinOptions): ConvNetJsLayerDef[] {
  return defs.map((d) => {
    if (d.type === "softmax" && options.numClasses !== undefined)
      return { ...d, num_classes: options.numClasses };
    if (d.type === "input" && options.inChannels !== undefined)
      return { ...d, out_depth: options.inChannels };
    return { ...d };
  });
}

/** How a saved model names its architecture in config.json. */
export type ArchitectureConfig =
  | { kind: "builtin"; name: string; options?: BuiltinOptions }
  | { kind: "zoo"; name: string; options?: Record<string, unknown> }
  | { kind: "spec"; spec: ModelSpec }
  | { kind: "convnetjs"; layerDefs: ConvNetJsLayerDef[] };

/** A zoo lookup (models.getModel); passed in so this module does not import the whole zoo. */
export type ZooLookup = (name: string, options?: Record<string, unknown>) => Module;

/** Rebuilds a model from its saved architecture description (weights are loaded separately). */
export function buildArchitecture(arch: ArchitectureConfig, zoo?: ZooLookup): Module {
  switch (arch.kind) {
    case "builtin":
      return buildBuiltin(arch.name, arch.options);
    case "zoo":
      if (!zoo)
        throw new Error(`buildArchitecture: zoo model '${arch.name}' needs a zoo lookup (models.getModel)`);
      return zoo(arch.name, arch.options);
    case "spec":
      return buildFromSpec(arch.spec).model;
    case "convnetjs":
      return fromConvNetJs(arch.layerDefs).model;
    default:
      throw new Error(`buildArchitecture: unknown architecture kind '${(arch as { kind: unknown }).kind}'`);
  }
}
