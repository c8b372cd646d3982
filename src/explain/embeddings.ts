// What the network's last hidden layer makes of a dataset (browser-safe): the penultimate-layer features of
// every image (the input of the final Linear by default, via striate/train's extractFeatures), projected to 2-D with UMAP (McInnes et al. 2018,
// the umap-js package by Google PAIR) and drawn as a scatter plot coloured by class. Well-trained classifiers
// show one tight cluster per class; the confusable classes sit next to each other.

import type { Module } from "../nn/module.js";
import { Tensor } from "../tensor/tensor.js";
import { Rng, globalRng } from "../tensor/rng.js";
import { noGrad } from "../autograd/engine.js";
import type { BatchSource } from "../train/fit.js";
import { extractFeatures } from "../train/finetune.js";
import type { Scene, SceneShape } from "../viz/plots.js";
import { resolveLayer, type LayerRef } from "./layers.js";
import { forwardOf } from "./model-calls.js";

/** Options of {@link datasetFeatures}. */
export interface DatasetFeatureOptions {
  /** Take this layer's output (flattened) instead of the input of the model's last Linear (its head). */
  layer?: LayerRef;
  /** Stop after this many images. */
  limit?: number;
}

/** One feature vector per image of a dataset, with the images' labels. */
export interface DatasetFeatures {
  features: Float32Array[];
  /** Class labels (-1 where the loader gave soft targets). */
  labels: Int32Array;
  /** Where the features came from ("head input", or the layer's name). */
  source: string;
}

/** The flattened output of `layer` for a batch (run without gradients). */
function layerOutput(model: Module, x: Tensor, layer: { name: string; module: Module }): Tensor {
  const hooked: { output?: Tensor } = {};
  const handle = layer.module.registerForwardHook((_m, _inputs, out) => {
    if (out instanceof Tensor) hooked.output = out;
  });
  try {
    noGrad(() => forwardOf(model)(x));
  } finally {
    handle.remove();
  }
  if (!hooked.output)
    throw new Error(`datasetFeatures: layer '${layer.name}' did not run in the model's forward pass`);
  return hooked.output;
}

/**
 * Runs a dataset through the model (eval mode, no gradients) and keeps each image's penultimate-layer
 * features — the input of the last Linear, as striate/train's extractFeatures gives them — or the
 * flattened output of `options.layer`, with the images' labels.
 * @example const { features, labels } = await datasetFeatures(model, testLoader, { limit: 2000 });
 */
export async function datasetFeatures(
  model: Module,
  loader: BatchSource,
  options: DatasetFeatureOptions = {},
): Promise<DatasetFeatures> {
  const layer =
    options.layer === undefined ? undefined : resolveLayer(model, options.layer, "datasetFeatures");
  const limit = options.limit ?? Infinity;
  const features: Float32Array[] = [];
  const labels: number[] = [];
  const wasTraining = model.training;
  model.eval();
  try {
    for await (const { x, y } of loader as AsyncIterable<{ x: Tensor; y: Tensor }>) {
      const out = layer ? layerOutput(model, x, layer) : extractFeatures(model, x);
      const n = x.shape[0];
      const values = out.toArray();
      const d = values.length / n;
      const ys = y.toArray();
      for (let i = 0; i < n && features.length < limit; i++) {
        features.push(Float32Array.from(values.subarray(i * d, (i + 1) * d)));
        labels.push(y.ndim === 1 ? ys[i] : -1);
      }
      if (features.length >= limit) break;
    }
  } finally {
    model.train(wasTraining);
  }
  return { features, labels: Int32Array.from(labels), source: layer ? layer.name : "head input" };
}

/** Options of {@link projectUmap}. */
export interface UmapOptions {
  /** Neighbours that define the local structure. Default 15 (umap-js's default). */
  nNeighbors?: number;
  /** How tightly points may pack. Default 0.1. */
  minDist?: number;
  /** Optimisation epochs; default chosen by umap-js from the data size. */
  nEpochs?: number;
  /** Seed of UMAP's randomness, for reproducible pictures; drawn from the global generator when omitted. */
  seed?: number;
}

/**
 * Projects feature vectors to 2-D with UMAP (umap-js). umap-js is loaded on the first call (a dynamic
 * import), so a page that loads striate as plain ES modules needs it only when it projects.
 * @returns one [x, y] per vector
 */
export async function projectUmap(
  features: readonly ArrayLike<number>[],
  options: UmapOptions = {},
): Promise<[number, number][]> {
  if (features.length < 3) throw new Error(`projectUmap: needs at least 3 vectors, got ${features.length}`);
  const d = features[0].length;
  features.forEach((f, i) => {
    if (f.length !== d)
      throw new Error(`projectUmap: vector ${i} has ${f.length} values, the first has ${d}`);
  });
  const rng = new Rng(options.seed ?? Math.floor(globalRng.uniform() * 2 ** 31));
  const { UMAP } = await import("umap-js");
  const umap = new UMAP({
    nComponents: 2,
    nNeighbors: Math.min(options.nNeighbors ?? 15, features.length - 1),
    minDist: options.minDist ?? 0.1,
    nEpochs: options.nEpochs,
    random: () => rng.uniform(),
  });
  return umap.fit(features.map((f) => Array.from(f))).map(([x, y]) => [x, y]);
}

// Matplotlib's tab10, one colour per class.
const CLASS_COLORS = [
  "#1f77b4",
  "#ff7f0e",
  "#2ca02c",
  "#d62728",
  "#9467bd",
  "#8c564b",
  "#e377c2",
  "#7f7f7f",
  "#bcbd22",
  "#17becf",
];

/**
 * A scatter plot of 2-D points coloured by label, with a legend: sceneToSvg writes it as SVG, and in Node
 * striate/node's svgToPng renders that to PNG.
 * @example writeFileSync("umap.png", await svgToPng(sceneToSvg(scatterScene(points, labels, { classes }))))
 */
export function scatterScene(
  points: readonly (readonly [number, number])[],
  labels: ArrayLike<number>,
  options: {
    classes?: readonly string[];
    title?: string;
    width?: number;
    height?: number;
    radius?: number;
  } = {},
): Scene {
  if (labels.length !== points.length)
    throw new Error(`scatterScene: ${labels.length} labels for ${points.length} points`);
  const width = options.width ?? 640;
  const height = options.height ?? 520;
  const [left, top, right, bottom] = [20, 36, width - 110, height - 20];
  const xs = points.map((p) => p[0]);
  const ys = points.map((p) => p[1]);
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const sx = (v: number) => left + ((v - x0) / (x1 - x0 || 1)) * (right - left);
  const sy = (v: number) => bottom - ((v - y0) / (y1 - y0 || 1)) * (bottom - top);
  const color = (label: number) => (label < 0 ? "#999999" : CLASS_COLORS[label % CLASS_COLORS.length]);
  const shapes: SceneShape[] = [
    { kind: "rect", x: left - 6, y: top - 6, w: right - left + 12, h: bottom - top + 12, stroke: "#cccccc" },
  ];
  points.forEach(([x, y], i) =>
    shapes.push({ kind: "circle", cx: sx(x), cy: sy(y), r: options.radius ?? 2, fill: color(labels[i]) }),
  );
  const present = [...new Set(Array.from(labels))].filter((l) => l >= 0).sort((a, b) => a - b);
  present.forEach((label, i) => {
    const y = top + i * 16;
    shapes.push({ kind: "circle", cx: right + 24, cy: y + 5, r: 4, fill: color(label) });
    shapes.push({
      kind: "text",
      x: right + 34,
      y,
      text: options.classes?.[label] ?? String(label),
      scale: 1,
      anchor: "start",
      fill: "#222222",
    });
  });
  const title = options.title ?? "UMAP of penultimate-layer features";
  shapes.push({
    kind: "text",
    x: width / 2,
    y: 10,
    text: title,
    scale: 1.5,
    anchor: "middle",
    fill: "#222222",
  });
  return { width, height, title, shapes };
}
