// Looking inside a network (browser-safe): capture any layer's output by module or dotted name with forward
// hooks, tile a layer's feature maps into one picture (ConvNetJS's activation grids), draw a convolution's
// filters (first-layer filters as grey or RGB patches, Krizhevsky et al. 2012 figure 3) and summarise each
// layer's activations (mean, std, fraction of zeros — dead ReLUs show up here first).

import type { Module } from "../nn/module.js";
import { Tensor } from "../tensor/tensor.js";
import { formatShape } from "../tensor/shape.js";
import { noGrad } from "../autograd/engine.js";
import { resolveLayer, type LayerRef } from "./layers.js";
import { forwardOf } from "./model-calls.js";
import { canvasGrid, heatmapToCanvas, imageToCanvas, type Canvas } from "./pictures.js";
import { valueRange, type ColormapName } from "./colormap.js";

/**
 * Runs `model` on x once (no gradients) and returns the output of each named layer, keyed by its dotted
 * name. A layer that runs several times in one forward (a shared module) keeps its last output.
 * @param layers modules or dotted names (`"features.4"`, `"layer4.1.conv2"`)
 * @example const acts = captureActivations(model, x, ["conv1", "conv2"]); acts.get("conv1") // [N, 6, 28, 28]
 */
export function captureActivations(
  model: Module,
  x: Tensor,
  layers: LayerRef | readonly LayerRef[],
): Map<string, Tensor> {
  const refs = Array.isArray(layers) ? (layers as readonly LayerRef[]) : [layers as LayerRef];
  if (refs.length === 0) throw new Error("captureActivations: no layers given");
  const resolved = refs.map((ref) => resolveLayer(model, ref, "captureActivations"));
  const captured = new Map<string, Tensor>();
  const handles = resolved.map(({ name, module }) =>
    module.registerForwardHook((_m, _inputs, output) => {
      const tensorOut = output instanceof Tensor ? output : undefined;
      if (!tensorOut)
        throw new Error(`captureActivations: layer '${name}' returned a ${typeof output}, not a Tensor`);
      captured.set(name, tensorOut.detach());
    }),
  );
  try {
    noGrad(() => forwardOf(model)(x));
  } finally {
    for (const h of handles) h.remove();
  }
  const missing = resolved.filter(({ name }) => !captured.has(name)).map(({ name }) => name);
  if (missing.length > 0)
    throw new Error(
      `captureActivations: layer(s) ${missing.join(", ")} did not run in the model's forward pass`,
    );
  return captured;
}

/** Options of {@link featureMapGrid}. */
export interface FeatureMapGridOptions {
  /** Which image of the batch. Default 0. */
  index?: number;
  /** Colour map; default grey (ConvNetJS style); viridis shows small differences better. */
  colormap?: ColormapName;
  /** "map": each map scaled by its own range (default; shows every map's pattern); "layer": one range for all (shows which maps are strong). */
  normalize?: "map" | "layer";
  /** Nearest-neighbour magnification. Default 2. */
  scale?: number;
  /** Maps per row; default ceil(sqrt(C)). */
  columns?: number;
  /** Caption each map with its channel index. Default false. */
  labels?: boolean;
  title?: string;
}

/**
 * One image's feature maps [C, h, w] of a layer output [N, C, h, w] tiled into one picture.
 * @example featureMapGrid(captureActivations(model, x, "conv1").get("conv1")!, { scale: 4 })
 */
export function featureMapGrid(activation: Tensor, options: FeatureMapGridOptions = {}): Canvas {
  if (activation.ndim !== 4)
    throw new Error(
      `featureMapGrid: expected feature maps [N, C, H, W], got ${formatShape(activation.shape)}`,
    );
  const [n, c, h, w] = activation.shape;
  const index = options.index ?? 0;
  if (!(Number.isInteger(index) && index >= 0 && index < n))
    throw new Error(`featureMapGrid: index ${index} is out of range for a batch of ${n}`);
  const all = activation.toArray();
  const maps = Array.from({ length: c }, (_, k) =>
    all.subarray((index * c + k) * h * w, (index * c + k + 1) * h * w),
  );
  const layerRange =
    options.normalize === "layer"
      ? valueRange(all.subarray(index * c * h * w, (index + 1) * c * h * w))
      : undefined;
  const pictures = maps.map((m) =>
    heatmapToCanvas(
      { data: m, shape: [h, w] },
      { colormap: options.colormap ?? "grey", range: layerRange, scale: options.scale ?? 2 },
    ),
  );
  return canvasGrid(pictures, {
    columns: options.columns,
    labels: options.labels ? maps.map((_, k) => String(k)) : undefined,
    title: options.title,
    background: "#ffffff",
  });
}

/** Options of {@link filterGrid}. */
export interface FilterGridOptions {
  /** Nearest-neighbour magnification. Default 8. */
  scale?: number;
  /** Filters per row. */
  columns?: number;
  title?: string;
}

/**
 * A convolution's filters as pictures, each scaled to [0, 1] by its own range: RGB patches when the layer
 * reads 3 channels (first layers of ImageNet/CIFAR nets), grey patches when it reads 1, and for deeper
 * layers one grey patch per (output, input) channel pair, a row per output channel.
 * @param weight a conv weight [O, I, kh, kw], or the model and the conv layer's name
 * @example filterGrid(model.conv1.weight) // LeNet-5: 6 grey 5×5 filters
 */
export function filterGrid(weight: Tensor, options: FilterGridOptions = {}): Canvas {
  if (weight.ndim !== 4)
    throw new Error(
      `filterGrid: expected a convolution weight [O, I, kh, kw], got ${formatShape(weight.shape)}`,
    );
  const [o, i, kh, kw] = weight.shape;
  const all = weight.toArray();
  const scale = options.scale ?? 8;
  if (i === 1 || i === 3) {
    const pictures = Array.from({ length: o }, (_, k) =>
      imageToCanvas(
        { data: all.subarray(k * i * kh * kw, (k + 1) * i * kh * kw), shape: [i, kh, kw] },
        { normalize: true, scale },
      ),
    );
    return canvasGrid(pictures, { columns: options.columns, title: options.title });
  }
  const pictures = Array.from({ length: o * i }, (_, k) =>
    imageToCanvas(
      { data: all.subarray(k * kh * kw, (k + 1) * kh * kw), shape: [1, kh, kw] },
      { normalize: true, scale },
    ),
  );
  return canvasGrid(pictures, { columns: options.columns ?? i, title: options.title });
}

/** Summary of one layer's output over a batch; see {@link activationStatistics}. */
export interface LayerStatistics {
  name: string;
  type: string;
  shape: number[];
  mean: number;
  std: number;
  min: number;
  max: number;
  /** Fraction of exact zeros (after a ReLU: inactive units; near 1 means dead). */
  zeroFraction: number;
}

/**
 * Mean, std, min, max and fraction of zeros of each layer's output on x. Default layers: every leaf module
 * (one without children) that returns a Tensor.
 * @example console.table(activationStatistics(model, x))
 */
export function activationStatistics(
  model: Module,
  x: Tensor,
  layers?: readonly LayerRef[],
): LayerStatistics[] {
  const refs =
    layers ??
    model
      .namedModules()
      .filter(([name, m]) => name !== "" && m.children().length === 0)
      .map(([name]) => name);
  const byName = new Map(model.namedModules());
  const acts = captureActivations(model, x, refs);
  return [...acts.entries()].map(([name, t]) => {
    const v = t.toArray();
    let sum = 0;
    let sq = 0;
    let zeros = 0;
    let min = Infinity;
    let max = -Infinity;
    for (let k = 0; k < v.length; k++) {
      sum += v[k];
      sq += v[k] * v[k];
      if (v[k] === 0) zeros++;
      if (v[k] < min) min = v[k];
      if (v[k] > max) max = v[k];
    }
    const mean = sum / v.length;
    return {
      name,
      type: byName.get(name)?.constructor.name ?? "",
      shape: [...t.shape],
      mean,
      std: Math.sqrt(Math.max(0, sq / v.length - mean * mean)),
      min,
      max,
      zeroFraction: zeros / v.length,
    };
  });
}
