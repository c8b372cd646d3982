// ONNX in and out (browser-safe): importOnnx reads a file into a trainable Module (src/io/onnx/import.ts,
// op table in ops.ts), exportOnnx writes a traced model (export.ts); both encode ModelProto with protobufjs
// against onnx.proto (proto.ts, schema.ts).

export { importOnnx, OnnxModel, SUPPORTED_OPSETS } from "./onnx/import.js";
export { exportOnnx, EXPORT_OPSET } from "./onnx/export.js";
export type { OnnxExportOptions } from "./onnx/export.js";
