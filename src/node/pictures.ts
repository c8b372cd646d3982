// Writes striate/explain's pictures (an RGBA Canvas: heat maps, overlays, feature-map and filter grids) as
// PNG files, with the pngjs encoder the training plots use. Refuses to overwrite unless asked.

import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import type { Canvas } from "../viz/raster.js";
import { encodePng } from "./plots.js";

/**
 * Writes `canvas` to `path` as PNG, creating the folder. An existing file is an error unless
 * `overwrite: true`.
 * @example await writeImagePng("out/gradcam.png", overlayHeatmap(image, cam, { scale: 8 }))
 */
export async function writeImagePng(
  path: string,
  canvas: Canvas,
  options: { overwrite?: boolean } = {},
): Promise<string> {
  if (!options.overwrite && existsSync(path))
    throw new Error(`writeImagePng: ${path} exists; pass { overwrite: true } to replace it`);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, encodePng(canvas));
  return path;
}
