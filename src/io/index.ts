// Model formats over bytes (browser-safe): safetensors weights, ONNX export and bounded JSON parsing.

export * from "./safetensors.js";
export * from "./onnx.js";
export * from "./json.js";
