// A JSON model format: an input shape plus a list of layers, each a `type` and its options, built into a
// Sequential whose state-dict names ('0.weight', '3.bias', …) match torch.nn.Sequential's. Input channels
// and features are inferred by following the shape through the layers, so a spec only states what the
// user chooses (filters, kernel sizes, widths). Models output logits; the loss or predict() adds softmax.

import type { Module } from "../nn/module.js";
import { Sequential } from "../nn/containers.js";
import { Flatten, Linear } from "../nn/linear.js";
import { Conv2d } from "../nn/conv.js";
import {
  AdaptiveAvgPool2d,
  AdaptiveMaxPool2d,
  AvgPool2d,
  GlobalAvgPool2d,
  GlobalMaxPool2d,
  MaxPool2d,
} from "../nn/pooling.js";
import {
  ELU,
  GELU,
  Hardsigmoid,
  Hardswish,
  LeakyReLU,
  Maxout,
  Mish,
  ReLU,
  ReLU6,
  SiLU,
  Sigmoid,
  Softplus,
  Tanh,
} from "../nn/activation.js";
import { Dropout, Dropout2d } from "../nn/dropout.js";
import { BatchNorm1d, BatchNorm2d, LocalResponseNorm } from "../nn/normalization.js";
import { noGrad } from "../autograd/engine.js";
import { full } from "../tensor/tensor.js";

type Pair = number | [number, number];

/** One layer of a JSON spec. Input channels/features are inferred; only the layer's own choices appear. */
export type LayerSpec =
  | {
      type: "conv2d";
      outChannels: number;
      kernelSize: Pair;
      stride?: Pair;
      padding?: Pair;
      bias?: boolean;
      biasInit?: number;
    }
  | { type: "linear"; outFeatures: number; bias?: boolean; biasInit?: number }
  | { type: "maxpool2d"; kernelSize: Pair; stride?: Pair; padding?: Pair; ceilMode?: boolean }
  | { type: "avgpool2d"; kernelSize: Pair; stride?: Pair; padding?: Pair; ceilMode?: boolean }
  | { type: "adaptiveavgpool2d" | "adaptivemaxpool2d"; outputSize: Pair }
  | { type: "globalavgpool2d" | "globalmaxpool2d" }
  | { type: "flatten" }
  | { type: "relu" | "relu6" | "sigmoid" | "tanh" | "gelu" | "silu" | "hardswish" | "hardsigmoid" | "mish" }
  | { type: "softplus"; beta?: number; threshold?: number }
  | { type: "leakyrelu"; negativeSlope?: number }
  | { type: "elu"; alpha?: number }
  | { type: "maxout"; pieces: number }
  | { type: "dropout" | "dropout2d"; p?: number }
  | { type: "batchnorm2d" | "batchnorm1d"; eps?: number; momentum?: number }
  | { type: "lrn"; size: number; alpha?: number; beta?: number; k?: number };

/**
 * A model as JSON: the input shape [C, H, W] and the layers in order.
 * @example
 * { "input": [1, 28, 28], "layers": [
 *   { "type": "conv2d", "outChannels": 6, "kernelSize": 5, "padding": 2 }, { "type": "relu" },
 *   { "type": "maxpool2d", "kernelSize": 2 }, { "type": "flatten" }, { "type": "linear", "outFeatures": 10 } ] }
 */
export interface ModelSpec {
  name?: string;
  input: [number, number, number];
  layers: LayerSpec[];
}

/** The shape of one sample flowing through the layers: an image [C, H, W] or a feature vector [F]. */
export type SampleShape = [number, number, number] | [number];

function pair(v: Pair | undefined, fallback: number): [number, number] {
  if (v === undefined) return [fallback, fallback];
  return typeof v === "number" ? [v, v] : [v[0], v[1]];
}

function poolOut(size: number, kernel: number, stride: number, pad: number, ceil: boolean): number {
  const span = size + 2 * pad - kernel;
  return (ceil ? Math.ceil(span / stride) : Math.floor(span / stride)) + 1;
}

function describe(shape: SampleShape): string {
  return `[${shape.join(",")}]`;
}

function need(cond: boolean, where: string, message: string): void {
  if (!cond) throw new Error(`${where}: ${message}`);
}

function positive(where: string, name: string, v: unknown): number {
  need(
    typeof v === "number" && Number.isInteger(v) && v > 0,
    where,
    `${name} must be a positive integer, got ${JSON.stringify(v)}`,
  );
  return v as number;
}

function asImage(where: string, shape: SampleShape): [number, number, number] {
  need(
    shape.length === 3,
    where,
    `needs an image input [C, H, W], got ${describe(shape)}; put it before 'flatten'`,
  );
  return shape as [number, number, number];
}

function fillBias(layer: Conv2d | Linear, value: number | undefined): void {
  if (value === undefined || !layer.bias) return;
  const bias = layer.bias;
  noGrad(() => bias.assign(full(bias.shape, value, { dtype: bias.dtype, backend: bias.backend.name })));
}

/** Builds one layer for an input of `shape`; returns the layer (null for no-op) and the output shape. */
export function buildLayer(
  spec: LayerSpec,
  shape: SampleShape,
  where: string,
): { layer: Module | null; shape: SampleShape } {
  switch (spec.type) {
    case "conv2d": {
      const [c, h, w] = asImage(where, shape);
      const [kh, kw] = pair(spec.kernelSize, 0);
      const [sh, sw] = pair(spec.stride, 1);
      const [ph, pw] = pair(spec.padding, 0);
      const out = positive(where, "outChannels", spec.outChannels);
      const oh = poolOut(h, kh, sh, ph, false);
      const ow = poolOut(w, kw, sw, pw, false);
      need(
        oh > 0 && ow > 0,
        where,
        `kernel ${kh}x${kw} does not fit input ${describe(shape)} with padding ${ph},${pw}`,
      );
      const layer = new Conv2d(c, out, [kh, kw], {
        stride: [sh, sw],
        padding: [ph, pw],
        bias: spec.bias ?? true,
      });
      fillBias(layer, spec.biasInit);
      return { layer, shape: [out, oh, ow] };
    }
    case "linear": {
      need(
        shape.length === 1,
        where,
        `needs a flat input [F], got ${describe(shape)}; add { "type": "flatten" } first`,
      );
      const out = positive(where, "outFeatures", spec.outFeatures);
      const layer = new Linear(shape[0], out, { bias: spec.bias ?? true });
      fillBias(layer, spec.biasInit);
      return { layer, shape: [out] };
    }
    case "maxpool2d":
    case "avgpool2d": {
      const [c, h, w] = asImage(where, shape);
      const [kh, kw] = pair(spec.kernelSize, 0);
      const [sh, sw] = pair(spec.stride, kh);
      const [ph, pw] = pair(spec.padding, 0);
      const ceil = spec.ceilMode ?? false;
      const oh = poolOut(h, kh, sh, ph, ceil);
      const ow = poolOut(w, kw, sw, pw, ceil);
      need(oh > 0 && ow > 0, where, `window ${kh}x${kw} does not fit input ${describe(shape)}`);
      const opts = {
        stride: [sh, sw] as [number, number],
        padding: [ph, pw] as [number, number],
        ceilMode: ceil,
      };
      const layer = spec.type === "maxpool2d" ? new MaxPool2d([kh, kw], opts) : new AvgPool2d([kh, kw], opts);
      return { layer, shape: [c, oh, ow] };
    }
    case "adaptiveavgpool2d":
    case "adaptivemaxpool2d": {
      const [c] = asImage(where, shape);
      const [oh, ow] = pair(spec.outputSize, 1);
      const Pool = spec.type === "adaptiveavgpool2d" ? AdaptiveAvgPool2d : AdaptiveMaxPool2d;
      return { layer: new Pool([oh, ow]), shape: [c, oh, ow] };
    }
    case "globalavgpool2d":
    case "globalmaxpool2d": {
      const [c] = asImage(where, shape);
      const Pool = spec.type === "globalavgpool2d" ? GlobalAvgPool2d : GlobalMaxPool2d;
      return { layer: new Pool({ flatten: true }), shape: [c] };
    }
    case "flatten":
      return { layer: new Flatten(), shape: [shape.reduce((a, b) => a * b, 1)] };
    case "relu":
      return { layer: new ReLU(), shape };
    case "relu6":
      return { layer: new ReLU6(), shape };
    case "sigmoid":
      return { layer: new Sigmoid(), shape };
    case "tanh":
      return { layer: new Tanh(), shape };
    case "gelu":
      return { layer: new GELU(), shape };
    case "silu":
      return { layer: new SiLU(), shape };
    case "hardswish":
      return { layer: new Hardswish(), shape };
    case "hardsigmoid":
      return { layer: new Hardsigmoid(), shape };
    case "mish":
      return { layer: new Mish(), shape };
    case "softplus":
      return { layer: new Softplus({ beta: spec.beta, threshold: spec.threshold }), shape };
    case "leakyrelu":
      return { layer: new LeakyReLU(spec.negativeSlope ?? 0.01), shape };
    case "elu":
      return { layer: new ELU(spec.alpha ?? 1), shape };
    case "maxout": {
      const pieces = positive(where, "pieces", spec.pieces);
      need(
        shape[0] % pieces === 0,
        where,
        `pieces=${pieces} must divide the ${shape[0]} channels of input ${describe(shape)}`,
      );
      const out: SampleShape =
        shape.length === 3 ? [shape[0] / pieces, shape[1], shape[2]] : [shape[0] / pieces];
      return { layer: new Maxout(pieces), shape: out };
    }
    case "dropout":
      return { layer: new Dropout(spec.p ?? 0.5), shape };
    case "dropout2d":
      asImage(where, shape);
      return { layer: new Dropout2d(spec.p ?? 0.5), shape };
    case "batchnorm2d": {
      const [c] = asImage(where, shape);
      return { layer: new BatchNorm2d(c, { eps: spec.eps, momentum: spec.momentum }), shape };
    }
    case "batchnorm1d":
      need(shape.length === 1, where, `needs a flat input [F], got ${describe(shape)}`);
      return { layer: new BatchNorm1d(shape[0], { eps: spec.eps, momentum: spec.momentum }), shape };
    case "lrn":
      asImage(where, shape);
      return {
        layer: new LocalResponseNorm(positive(where, "size", spec.size), {
          alpha: spec.alpha,
          beta: spec.beta,
          k: spec.k,
        }),
        shape,
      };
    default:
      throw new Error(
        `${where}: unknown layer type '${(spec as { type: unknown }).type}'; known: ${LAYER_TYPES.join(", ")}`,
      );
  }
}

export const LAYER_TYPES = [
  "conv2d",
  "linear",
  "maxpool2d",
  "avgpool2d",
  "adaptiveavgpool2d",
  "adaptivemaxpool2d",
  "globalavgpool2d",
  "globalmaxpool2d",
  "flatten",
  "relu",
  "relu6",
  "sigmoid",
  "tanh",
  "gelu",
  "silu",
  "hardswish",
  "hardsigmoid",
  "mish",
  "softplus",
  "leakyrelu",
  "elu",
  "maxout",
  "dropout",
  "dropout2d",
  "batchnorm2d",
  "batchnorm1d",
  "lrn",
] as const;

/** A built spec: the model plus every layer's output shape (for summaries and error messages). */
export interface BuiltSpec {
  model: Sequential;
  shapes: SampleShape[];
}

function checkInput(where: string, input: unknown): [number, number, number] {
  need(
    Array.isArray(input) && input.length === 3 && input.every((d) => Number.isInteger(d) && d > 0),
    where,
    `'input' must be [C, H, W] with positive integers, got ${JSON.stringify(input)}`,
  );
  return input as [number, number, number];
}

/**
 * Builds a Sequential from a JSON spec, inferring every layer's input size.
 * @example const { model } = buildFromSpec(JSON.parse(text)); model.forward(x) // x [N, ...spec.input]
 */
export function buildFromSpec(spec: ModelSpec): BuiltSpec {
  const name = `model spec${spec?.name ? ` '${spec.name}'` : ""}`;
  need(
    typeof spec === "object" && spec !== null && Array.isArray(spec.layers),
    name,
    "expected { input: [C, H, W], layers: [...] }",
  );
  let shape: SampleShape = checkInput(name, spec.input);
  const model = new Sequential();
  const shapes: SampleShape[] = [];
  spec.layers.forEach((layerSpec, i) => {
    const where = `${name}, layer ${i} (${(layerSpec as { type?: unknown })?.type ?? "no type"})`;
    need(
      typeof layerSpec === "object" && layerSpec !== null && typeof layerSpec.type === "string",
      where,
      "each layer needs a string 'type'",
    );
    const built = buildLayer(layerSpec, shape, where);
    shape = built.shape;
    if (built.layer) {
      model.append(built.layer);
      shapes.push(shape);
    }
  });
  return { model, shapes };
}

/** True for an object that looks like a ModelSpec (used to tell specs from ConvNetJS layer_defs). */
export function isModelSpec(value: unknown): value is ModelSpec {
  return (
    typeof value === "object" &&
    value !== null &&
    !Array.isArray(value) &&
    "layers" in value &&
    "input" in value
  );
}
