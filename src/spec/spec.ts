// A JSON model format: an input shape plus a list of layers, each a `type` and its options, built into a
// Sequential whose state-dict names ('0.weight', '3.bias', …) match torch.nn.Sequential's. Input channels
// and features are inferred by following the shape through the layers, so a spec only states what the
// user chooses (filters, kernel sizes, widths). Models output logits; the loss or predict() adds softmax.

import type { TensorModule } from "../nn/module.js";
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
import { checkAllocatable, checkNumber, describeValue, suggestion } from "../ops/util.js";

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

// A size option: one integer for both dims or [height, width]; anything else names the layer and key.
function pair(where: string, key: string, v: unknown, fallback: number, min: number): [number, number] {
  if (v === undefined) return [fallback, fallback];
  const ok = (d: unknown): boolean => typeof d === "number" && Number.isSafeInteger(d) && d >= min;
  if (ok(v)) return [v as number, v as number];
  if (Array.isArray(v) && v.length === 2 && v.every(ok)) return [v[0] as number, v[1] as number];
  throw new Error(
    `${where}: ${key} must be an integer >= ${min} or [height, width] of them, got ${describeValue(v)}`,
  );
}

function bool(where: string, key: string, v: unknown, fallback: boolean): boolean {
  if (v === undefined) return fallback;
  if (typeof v !== "boolean")
    throw new Error(`${where}: ${key} must be true or false, got ${describeValue(v)}`);
  return v;
}

// An optional number option: undefined keeps the layer's default.
function optionalNumber(
  where: string,
  key: string,
  v: unknown,
  rule: Parameters<typeof checkNumber>[3] = {},
): number | undefined {
  return v === undefined ? undefined : checkNumber(where, key, v, rule);
}

function poolOut(size: number, kernel: number, stride: number, pad: number, ceil: boolean): number {
  const span = size + 2 * pad - kernel;
  return (ceil ? Math.ceil(span / stride) : Math.floor(span / stride)) + 1;
}

function describe(shape: readonly number[]): string {
  return `[${shape.join(",")}]`;
}

function need(cond: boolean, where: string, message: string): void {
  if (!cond) throw new Error(`${where}: ${message}`);
}

function positive(where: string, name: string, v: unknown): number {
  need(
    typeof v === "number" && Number.isInteger(v) && v > 0, // too large a size is caught by checkAllocatable
    where,
    `${name} must be a positive integer, got ${describeValue(v)}`,
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

function fillBias(where: string, layer: Conv2d | Linear, raw: unknown): void {
  const value = optionalNumber(where, "biasInit", raw);
  if (value === undefined || !layer.bias) return;
  const bias = layer.bias;
  noGrad(() => bias.assign(full(bias.shape, value, { dtype: bias.dtype, backend: bias.backend.name })));
}

/** Builds one layer for an input of `shape`; returns the layer (null for no-op) and the output shape. */
export function buildLayer(
  spec: LayerSpec,
  shape: SampleShape,
  where: string,
): { layer: TensorModule | null; shape: SampleShape } {
  switch (spec.type) {
    case "conv2d": {
      const [c, h, w] = asImage(where, shape);
      need(spec.kernelSize !== undefined, where, "kernelSize is required");
      const [kh, kw] = pair(where, "kernelSize", spec.kernelSize, 0, 1);
      const [sh, sw] = pair(where, "stride", spec.stride, 1, 1);
      const [ph, pw] = pair(where, "padding", spec.padding, 0, 0);
      const out = positive(where, "outChannels", spec.outChannels);
      checkAllocatable(where, "weight", [out, c, kh, kw]);
      const oh = poolOut(h, kh, sh, ph, false);
      const ow = poolOut(w, kw, sw, pw, false);
      need(
        oh > 0 && ow > 0,
        where,
        `kernel ${kh}x${kw} does not fit input ${describe(shape)} with padding ${ph},${pw}`,
      );
      checkAllocatable(where, "output sample", [out, oh, ow]);
      const layer = new Conv2d(c, out, [kh, kw], {
        stride: [sh, sw],
        padding: [ph, pw],
        bias: bool(where, "bias", spec.bias, true),
      });
      fillBias(where, layer, spec.biasInit);
      return { layer, shape: [out, oh, ow] };
    }
    case "linear": {
      need(
        shape.length === 1,
        where,
        `needs a flat input [F], got ${describe(shape)}; add { "type": "flatten" } first`,
      );
      const out = positive(where, "outFeatures", spec.outFeatures);
      checkAllocatable(where, "weight", [out, shape[0]]);
      const layer = new Linear(shape[0], out, { bias: bool(where, "bias", spec.bias, true) });
      fillBias(where, layer, spec.biasInit);
      return { layer, shape: [out] };
    }
    case "maxpool2d":
    case "avgpool2d": {
      const [c, h, w] = asImage(where, shape);
      need(spec.kernelSize !== undefined, where, "kernelSize is required");
      const [kh, kw] = pair(where, "kernelSize", spec.kernelSize, 0, 1);
      const [sh, sw] = spec.stride === undefined ? [kh, kw] : pair(where, "stride", spec.stride, 1, 1);
      const [ph, pw] = pair(where, "padding", spec.padding, 0, 0);
      need(
        2 * ph <= kh && 2 * pw <= kw,
        where,
        `padding ${ph},${pw} must be at most half the window ${kh}x${kw}`,
      );
      const ceil = bool(where, "ceilMode", spec.ceilMode, false);
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
      need(spec.outputSize !== undefined, where, "outputSize is required");
      const [oh, ow] = pair(where, "outputSize", spec.outputSize, 1, 1);
      checkAllocatable(where, "output sample", [c, oh, ow]);
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
      return {
        layer: new Softplus({
          beta: optionalNumber(where, "beta", spec.beta),
          threshold: optionalNumber(where, "threshold", spec.threshold),
        }),
        shape,
      };
    case "leakyrelu":
      return {
        layer: new LeakyReLU(optionalNumber(where, "negativeSlope", spec.negativeSlope) ?? 0.01),
        shape,
      };
    case "elu":
      return { layer: new ELU(optionalNumber(where, "alpha", spec.alpha) ?? 1), shape };
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
    case "dropout2d": {
      if (spec.type === "dropout2d") asImage(where, shape);
      const p = optionalNumber(where, "p", spec.p, { min: 0, max: 1 }) ?? 0.5;
      return { layer: spec.type === "dropout" ? new Dropout(p) : new Dropout2d(p), shape };
    }
    case "batchnorm2d":
    case "batchnorm1d": {
      const options = {
        eps: optionalNumber(where, "eps", spec.eps, { min: 0, minExclusive: true }),
        momentum: optionalNumber(where, "momentum", spec.momentum, { min: 0, max: 1 }),
      };
      if (spec.type === "batchnorm2d")
        return { layer: new BatchNorm2d(asImage(where, shape)[0], options), shape };
      need(shape.length === 1, where, `needs a flat input [F], got ${describe(shape)}`);
      return { layer: new BatchNorm1d(shape[0], options), shape };
    }
    case "lrn":
      asImage(where, shape);
      return {
        layer: new LocalResponseNorm(positive(where, "size", spec.size), {
          alpha: optionalNumber(where, "alpha", spec.alpha),
          beta: optionalNumber(where, "beta", spec.beta),
          k: optionalNumber(where, "k", spec.k),
        }),
        shape,
      };
    default: {
      const type = String((spec as { type: unknown }).type);
      throw new Error(`${where}: unknown layer type '${type}'${suggestion(type, LAYER_TYPES)}`);
    }
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

const POOL_KEYS = ["kernelSize", "stride", "padding", "ceilMode"];

/** The option keys each layer type takes (besides `type`): any other key is an error with a suggestion. */
export const LAYER_KEYS: Record<(typeof LAYER_TYPES)[number], readonly string[]> = {
  conv2d: ["outChannels", "kernelSize", "stride", "padding", "bias", "biasInit"],
  linear: ["outFeatures", "bias", "biasInit"],
  maxpool2d: POOL_KEYS,
  avgpool2d: POOL_KEYS,
  adaptiveavgpool2d: ["outputSize"],
  adaptivemaxpool2d: ["outputSize"],
  globalavgpool2d: [],
  globalmaxpool2d: [],
  hardswish: [],
  hardsigmoid: [],
  mish: [],
  softplus: ["beta", "threshold"],
  flatten: [],
  relu: [],
  relu6: [],
  sigmoid: [],
  tanh: [],
  gelu: [],
  silu: [],
  leakyrelu: ["negativeSlope"],
  elu: ["alpha"],
  maxout: ["pieces"],
  dropout: ["p"],
  dropout2d: ["p"],
  batchnorm2d: ["eps", "momentum"],
  batchnorm1d: ["eps", "momentum"],
  lrn: ["size", "alpha", "beta", "k"],
};

const SPEC_KEYS = ["name", "input", "layers"];

function checkKeys(name: string, object: object, valid: readonly string[], place: string): void {
  for (const key of Object.keys(object)) {
    if (!valid.includes(key))
      throw new Error(`${name}: unknown key '${key}' in ${place}${suggestion(key, valid)}`);
  }
}

/** A built spec: the model plus every layer's output shape (for summaries and error messages). */
export interface BuiltSpec {
  model: Sequential;
  shapes: SampleShape[];
}

function checkInput(where: string, input: unknown): [number, number, number] {
  need(
    Array.isArray(input) && input.length === 3 && input.every((d) => Number.isSafeInteger(d) && d > 0),
    where,
    `'input' must be [C, H, W] with positive integers, got ${describeValue(input)}`,
  );
  checkAllocatable(where, "input sample", input as number[]);
  return input as [number, number, number];
}

/**
 * Builds a Sequential from a JSON spec, inferring every layer's input size.
 * @example const { model } = buildFromSpec(JSON.parse(text)); model.forward(x) // x [N, ...spec.input]
 */
export function buildFromSpec(spec: ModelSpec): BuiltSpec {
  const rawName: unknown = (spec as { name?: unknown } | null)?.name;
  const name = `model spec${typeof rawName === "string" ? ` '${rawName.slice(0, 80)}'` : ""}`;
  need(
    typeof spec === "object" && spec !== null && !Array.isArray(spec) && Array.isArray(spec.layers),
    name,
    "expected { input: [C, H, W], layers: [...] }",
  );
  checkKeys(name, spec, SPEC_KEYS, "the spec");
  need(
    rawName === undefined || typeof rawName === "string",
    name,
    `name must be a string, got ${describeValue(rawName)}`,
  );
  let shape: SampleShape = checkInput(name, spec.input);
  const model = new Sequential();
  const shapes: SampleShape[] = [];
  spec.layers.forEach((layerSpec, i) => {
    const rawType: unknown = (layerSpec as { type?: unknown } | null)?.type;
    const label = typeof rawType === "string" ? rawType.slice(0, 40) : "no type";
    const where = `${name}, layer ${i} (${label})`;
    need(
      typeof layerSpec === "object" &&
        layerSpec !== null &&
        !Array.isArray(layerSpec) &&
        typeof rawType === "string",
      where,
      "each layer needs a string 'type'",
    );
    const valid = Object.hasOwn(LAYER_KEYS, rawType as string)
      ? LAYER_KEYS[rawType as keyof typeof LAYER_KEYS]
      : null;
    if (valid) checkKeys(name, layerSpec, ["type", ...valid], `layer ${i} (${label})`);
    const built = buildInContext(layerSpec, shape, where);
    shape = built.shape;
    if (built.layer) {
      model.append(built.layer);
      shapes.push(shape);
    }
  });
  return { model, shapes };
}

// A layer constructor's own error (e.g. `LocalResponseNorm: size must be …`) gets the spec and layer in front.
function buildInContext(spec: LayerSpec, shape: SampleShape, where: string): ReturnType<typeof buildLayer> {
  try {
    return buildLayer(spec, shape, where);
  } catch (error) {
    const message = (error as Error).message;
    if (message.startsWith(where) || message.startsWith("model spec")) throw error;
    throw new Error(`${where}: ${message}`);
  }
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
