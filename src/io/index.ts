/**
 * Model formats over bytes (browser-safe): safetensors weights, ONNX import and export, bounded JSON parsing.
 *
 * @module striate/io
 */

export * from "./safetensors.js";
export * from "./onnx.js";
export * from "./json.js";
