// Model formats over bytes (browser-safe): safetensors weights, ONNX import and export.

export * from "./safetensors.js";
export * from "./onnx.js";
