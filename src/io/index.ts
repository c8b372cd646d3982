// Model formats over bytes (browser-safe): safetensors weights and ONNX export.

export * from "./safetensors.js";
export * from "./onnx.js";
