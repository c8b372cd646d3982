/**
 * Data pipeline (browser-safe): datasets, the DataLoader, batch transforms and parsers of the MNIST and CIFAR
 * file formats over bytes. Reading files from disk lives in src/node/data/.
 *
 * @module striate/data
 */

export * from "./dataset.js";
export { DataLoader, type Batch, type DataLoaderOptions, type LoaderDataset } from "./loader.js";
export { compose, withImages, type RawBatch, type Transform, type Size2 } from "./transforms.js";
export * from "./normalize.js";
export * from "./geometric.js";
export * from "./erasing.js";
export * from "./mixup.js";
export * from "./color-jitter.js";
export * from "./test-time.js";
export * from "./distributions.js";
export * from "./resize.js";
export * from "./idx.js";
export * from "./cifar.js";
export * from "./shapes.js";
export { prepareImage, resizeArea, letterbox, mnistLayout, borderMean } from "./prepare-image.js";
export type { InvertMode, PrepareImageOptions, PreparedImage } from "./prepare-image.js";
