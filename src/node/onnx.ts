// ONNX files on disk (Node): loadOnnx reads a .onnx file into a trainable Module, saveOnnx writes one.

import { readFileSync, writeFileSync } from "node:fs";
import { importOnnx, exportOnnx, type OnnxModel, type OnnxExportOptions } from "../io/onnx.js";
import type { Module } from "../nn/module.js";
import type { Tensor } from "../tensor/tensor.js";

/**
 * Reads an ONNX file into a Module (see importOnnx); errors name the file.
 * @example const model = loadOnnx("resnet18.onnx").eval(); model.forward(x);
 */
export function loadOnnx(path: string): OnnxModel {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new Error(`loadOnnx: cannot read '${path}': ${(e as Error).message}`);
  }
  try {
    return importOnnx(bytes);
  } catch (e) {
    throw new Error(`loadOnnx('${path}'): ${(e as Error).message}`);
  }
}

/** Traces `model` on `example` and writes the ONNX file (see exportOnnx). */
export function saveOnnx(
  model: Module,
  example: Tensor,
  path: string,
  options: OnnxExportOptions = {},
): void {
  writeFileSync(path, exportOnnx(model, example, options));
}
