// Shared by the ONNX tests and scripts/onnx-zoo.ts: running a file in ONNX Runtime, the README's scaled
// difference, and the zoo check (export -> ONNX Runtime, export -> importOnnx -> same outputs).

import * as ort from "onnxruntime-node";
import { Tensor, noGrad, models, randn, manualSeed } from "../../src/index.js";
import { exportOnnx, importOnnx } from "../../src/io/onnx.js";
import type { Module } from "../../src/nn/module.js";
import { BatchNorm1d, BatchNorm2d } from "../../src/nn/normalization.js";

/** Runs an ONNX file on one float input in ONNX Runtime. */
export async function runOrt(
  model: Uint8Array,
  x: Tensor,
): Promise<{ data: Float32Array; dims: readonly number[] }> {
  const session = await ort.InferenceSession.create(model);
  try {
    const feeds = {
      [session.inputNames[0]]: new ort.Tensor("float32", Float32Array.from(x.toArray()), [...x.shape]),
    };
    const out = (await session.run(feeds))[session.outputNames[0]];
    return { data: out.data as Float32Array, dims: out.dims };
  } finally {
    await session.release();
  }
}

/** max|a - b| / max(1, max|b|): the fixtures README's tolerance is 1e-4 on this. */
export function maxScaledDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let diff = 0;
  let scale = 1;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return diff / scale;
}

/** Small inputs per zoo model: enough for every stride of the architecture, quick to run. */
export const ZOO_INPUT: Record<string, number[]> = {
  lenet5: [2, 1, 28, 28],
  lenet5_classic: [2, 1, 32, 32],
  alexnet: [2, 3, 64, 64],
  alexnet_2012: [2, 3, 67, 67],
  zfnet: [2, 3, 64, 64],
  googlenet: [2, 3, 64, 64],
  squeezenet1_1: [2, 3, 64, 64],
  resnet20_cifar: [2, 3, 32, 32],
  resnet56_cifar: [2, 3, 32, 32],
  resnet110_cifar: [2, 3, 32, 32],
};
/** The table's input, else a batch of 2 at 32x32 with the model's own channel count. */
export function zooInput(name: string): number[] {
  const channels = models.listModels().find((m) => m.name === name)?.inputSize[0] ?? 3;
  return ZOO_INPUT[name] ?? [2, channels, 32, 32];
}

export interface ZooResult {
  name: string;
  input: number[];
  parameters: number;
  /** Largest |output| of Striate's forward (so that a vanishing output is seen). */
  outputScale: number;
  /** max|ORT - Striate| / max|Striate| (relative to the output's scale) on the export and Striate's forward. */
  ortDiff: number;
  /** Scaled difference between importOnnx(export) and Striate's forward. */
  roundTripDiff: number;
  /**
   * When ONNX Runtime and Striate differ by more than 1e-4: each one's difference from Striate's float64
   * forward of the same weights (the true value up to float64 rounding), to tell rounding from a bug.
   */
  float64?: { ort: number; striate: number };
  bytes: number;
  nodes: number;
  seconds: number;
}

/**
 * Sets every batch norm's running statistics to those of one training-mode batch, so that a freshly
 * initialised model's eval outputs are of order one instead of vanishing through 50 layers (a comparison
 * of near-zero outputs would prove nothing).
 */
export function calibrateBatchNorm(model: Module, x: Tensor): void {
  const norms = model
    .modules()
    .filter((m): m is BatchNorm2d => m instanceof BatchNorm2d || m instanceof BatchNorm1d);
  // momentum is readonly on the layer: one batch with momentum 1 is what it would take.
  const writable = norms as unknown as { momentum: number | null }[];
  const saved = writable.map((m) => m.momentum);
  writable.forEach((m) => (m.momentum = 1));
  model.train();
  noGrad(() => models.call(model, x));
  writable.forEach((m, i) => (m.momentum = saved[i]));
  model.eval();
}

/** max|a - b| / max|b|: relative to the output's own scale, however small. */
export function relativeDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let scale = 0;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]));
  return (maxScaledDiff(a, b) * Math.max(1, scale)) / (scale || 1);
}

/** Exports a zoo model (eval mode, 10 classes), runs it in ONNX Runtime and re-imports it. */
export async function checkZooModel(name: string): Promise<ZooResult> {
  const started = performance.now();
  manualSeed(7);
  const model: Module = models.getModel(name, { numClasses: 10 });
  const shape = zooInput(name);
  const x = randn(shape);
  // A batch of 8 for the statistics: with 2 images at 1x1 a channel's variance can be ~0, and dividing by
  // sqrt(eps) then magnifies float rounding past any tolerance.
  calibrateBatchNorm(model, randn([8, ...shape.slice(1)]));
  const onnx = exportOnnx(model, x);
  const want = noGrad(() => models.call(model, x)).toArray();
  const got = await runOrt(onnx, x);
  const imported = importOnnx(onnx).eval();
  const again = noGrad(() => imported.forward(x)).toArray();
  const ortDiff = relativeDiff(got.data, want);
  const float64 = ortDiff > 1e-4 ? float64Reference(name, model, x, got.data, want) : undefined;
  return {
    name,
    input: shape,
    float64,
    parameters: model.numParameters(),
    outputScale: Math.max(...Array.from(want, Math.abs)),
    ortDiff,
    roundTripDiff: relativeDiff(again, want),
    bytes: onnx.length,
    nodes: countNodes(onnx),
    seconds: (performance.now() - started) / 1000,
  };
}

function float64Reference(
  name: string,
  model: Module,
  x: Tensor,
  ort: ArrayLike<number>,
  striate: ArrayLike<number>,
): { ort: number; striate: number } {
  const m64 = models.getModel(name, { numClasses: 10, dtype: "float64" }).eval();
  const state = new Map(
    [...model.stateDict()].map(([k, t]) => [k, t.dtype === "int32" ? t : t.to("float64")]),
  );
  m64.loadStateDict(state);
  const truth = noGrad(() => models.call(m64, x.to("float64"))).toArray();
  return { ort: relativeDiff(ort, truth), striate: relativeDiff(striate, truth) };
}

function countNodes(onnx: Uint8Array): number {
  return importOnnx(onnx).nodeTypes.length;
}
