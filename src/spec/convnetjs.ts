// ConvNetJS's `layer_defs` (Karpathy's in-browser deep learning library) converted to a Striate model, so
// ConvNetJS users can bring their nets over. The conversion follows ConvNetJS's own desugaring: a conv or
// fc layer's `activation` becomes a separate layer, `drop_prob` adds a dropout layer, and a final
// 'softmax'/'svm' layer becomes a fully connected layer to `num_classes` logits (the softmax lives in the
// loss and in predict()). Biases start at ConvNetJS's `bias_pref` (0.1 before a ReLU, else 0).

import { buildFromSpec, type BuiltSpec, type LayerSpec, type ModelSpec } from "./spec.js";

/** One entry of a ConvNetJS `layer_defs` array (only the fields ConvNetJS reads). */
export interface ConvNetJsLayerDef {
  type: string;
  out_sx?: number;
  out_sy?: number;
  out_depth?: number;
  sx?: number;
  sy?: number;
  filters?: number;
  stride?: number;
  pad?: number;
  num_neurons?: number;
  num_classes?: number;
  activation?: string;
  group_size?: number;
  drop_prob?: number;
  bias_pref?: number;
  k?: number;
  n?: number;
  alpha?: number;
  beta?: number;
}

const UNSUPPORTED: Record<string, string> = {
  regression: "a regression head needs a regression loss; build it with a JSON spec and a custom loss",
  quadtransform: "ConvNetJS's quadtransform layer has no Striate equivalent",
};

function fail(i: number, def: ConvNetJsLayerDef, message: string): never {
  throw new Error(`convnetjs layer_defs[${i}] (type '${def.type}'): ${message}`);
}

function int(i: number, def: ConvNetJsLayerDef, field: keyof ConvNetJsLayerDef, fallback?: number): number {
  const v = def[field] ?? fallback;
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0)
    fail(i, def, `'${field}' must be a non-negative integer, got ${JSON.stringify(v)}`);
  return v;
}

function activationLayers(i: number, def: ConvNetJsLayerDef): LayerSpec[] {
  switch (def.activation) {
    case undefined:
      return [];
    case "relu":
    case "sigmoid":
    case "tanh":
      return [{ type: def.activation }];
    case "maxout":
      return [{ type: "maxout", pieces: def.group_size ?? 2 }];
    default:
      return fail(i, def, `unsupported activation '${def.activation}'; use relu, sigmoid, tanh or maxout`);
  }
}

/**
 * Translates ConvNetJS `layer_defs` into a JSON ModelSpec (input shape [out_depth, out_sy, out_sx]).
 * @example convnetJsToSpec([{ type: "input", out_sx: 28, out_sy: 28, out_depth: 1 }, { type: "softmax", num_classes: 10 }])
 */
export function convnetJsToSpec(defs: readonly ConvNetJsLayerDef[]): ModelSpec {
  if (!Array.isArray(defs) || defs.length === 0)
    throw new Error("convnetjs layer_defs: expected a non-empty array");
  const first = defs[0];
  if (first?.type !== "input") {
    throw new Error(
      `convnetjs layer_defs[0]: the first layer must be { type: 'input', out_sx, out_sy, out_depth }, got type '${first?.type}'`,
    );
  }
  const input: [number, number, number] = [
    int(0, first, "out_depth"),
    int(0, first, "out_sy"),
    int(0, first, "out_sx"),
  ];
  const layers: LayerSpec[] = [];
  let flat = false;
  const flatten = () => {
    if (!flat) layers.push({ type: "flatten" });
    flat = true;
  };
  defs.slice(1).forEach((def, j) => {
    const i = j + 1;
    if (typeof def !== "object" || def === null || typeof def.type !== "string")
      throw new Error(`convnetjs layer_defs[${i}]: each layer needs a string 'type'`);
    const biasInit = def.bias_pref ?? (def.activation === "relu" ? 0.1 : 0);
    switch (def.type) {
      case "input":
        return fail(i, def, "only the first layer can be an input layer");
      case "conv": {
        if (flat) fail(i, def, "a conv layer cannot follow a fully connected layer");
        const sx = int(i, def, "sx");
        layers.push({
          type: "conv2d",
          outChannels: int(i, def, "filters"),
          kernelSize: [int(i, def, "sy", sx), sx],
          stride: int(i, def, "stride", 1),
          padding: int(i, def, "pad", 0),
          biasInit,
        });
        break;
      }
      case "pool": {
        if (flat) fail(i, def, "a pool layer cannot follow a fully connected layer");
        const sx = int(i, def, "sx");
        layers.push({
          type: "maxpool2d",
          kernelSize: [int(i, def, "sy", sx), sx],
          stride: int(i, def, "stride", 2),
          padding: int(i, def, "pad", 0),
        });
        break;
      }
      case "fc":
        flatten();
        layers.push({ type: "linear", outFeatures: int(i, def, "num_neurons"), biasInit });
        break;
      case "softmax":
      case "svm":
        if (i !== defs.length - 1) fail(i, def, "the classifier layer must be the last one");
        flatten();
        layers.push({
          type: "linear",
          outFeatures: int(i, def, "num_classes"),
          biasInit: def.bias_pref ?? 0,
        });
        break;
      case "relu":
      case "sigmoid":
      case "tanh":
        layers.push({ type: def.type });
        break;
      case "maxout":
        layers.push({ type: "maxout", pieces: int(i, def, "group_size", 2) });
        break;
      case "dropout":
        layers.push({ type: "dropout", p: def.drop_prob ?? 0.5 });
        break;
      case "lrn":
        if (flat) fail(i, def, "an lrn layer needs image input");
        layers.push({
          type: "lrn",
          size: int(i, def, "n", 5),
          alpha: def.alpha ?? 1e-4,
          beta: def.beta ?? 0.75,
          k: def.k ?? 1,
        });
        break;
      default:
        fail(
          i,
          def,
          UNSUPPORTED[def.type] ??
            "unknown layer type; ConvNetJS types are input, conv, pool, fc, relu, sigmoid, tanh, maxout, dropout, lrn, softmax, svm",
        );
    }
    if (def.type === "conv" || def.type === "fc") layers.push(...activationLayers(i, def));
    if (def.drop_prob !== undefined && def.type !== "dropout")
      layers.push({ type: "dropout", p: def.drop_prob });
  });
  return { name: "convnetjs", input, layers };
}

/**
 * Builds a model from ConvNetJS `layer_defs` (see convnetJsToSpec for the translation).
 * @example
 * const { model } = fromConvNetJs(layer_defs); // the ConvNetJS MNIST demo net: 5,994 parameters
 */
export function fromConvNetJs(defs: readonly ConvNetJsLayerDef[]): BuiltSpec {
  return buildFromSpec(convnetJsToSpec(defs));
}

/** True for a value that looks like ConvNetJS layer_defs (an array starting with an input layer). */
export function isConvNetJsLayerDefs(value: unknown): value is ConvNetJsLayerDef[] {
  return Array.isArray(value) && (value[0] as { type?: unknown } | undefined)?.type === "input";
}
