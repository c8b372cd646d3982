// The functional API `F`: camelCase counterparts of torch.nn.functional, plus tensor maths.

export * from "./elementwise.js";
export * from "./reduce.js";
export * from "./movement.js";
export * from "./matmul.js";
export * from "./conv.js";
export * from "./pool.js";
export * from "./activations.js";
export * from "./softmax.js";
export * from "./losses.js";
export * from "./normalization.js";
export * from "./dropout.js";
export * from "./detection.js";
export * from "./indexing.js";
export * from "./interpolate.js";
