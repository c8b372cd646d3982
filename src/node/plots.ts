// Writes a run's plots into its output directory (Node): training curves and the confusion matrix, each as
// SVG and as PNG (that SVG rendered by resvg: svg-png.ts), each replaced atomically. encodePng turns the
// explain pictures' pixel canvases into PNG (pngjs).

import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { PNG } from "pngjs";
import type { Canvas } from "../viz/raster.js";
import { confusionMatrixScene, sceneToSvg, trainingCurvesScene, type Scene } from "../viz/plots.js";
import { svgToPng } from "./svg-png.js";
import type { EpochLogs } from "../train/history.js";
import { writeFileAtomic } from "./safe-write.js";

/** Encodes an RGBA canvas as PNG bytes. */
export function encodePng(canvas: Canvas): Buffer {
  const png = new PNG({ width: canvas.width, height: canvas.height });
  png.data = Buffer.from(canvas.data.buffer, canvas.data.byteOffset, canvas.data.byteLength);
  return PNG.sync.write(png);
}

async function writeScene(dir: string, name: string, scene: Scene): Promise<string[]> {
  const svg = join(dir, `${name}.svg`);
  const png = join(dir, `${name}.png`);
  // Atomic replacement (temporary file + rename): a symlink at the target is replaced, not written through.
  const text = sceneToSvg(scene);
  const pixels = await svgToPng(text);
  writeFileAtomic(svg, text);
  writeFileAtomic(png, pixels);
  return [svg, png];
}

/** What `writePlots` draws: the training curves from `history`, the confusion matrix with its `classes`. */
export interface PlotInputs {
  history?: readonly EpochLogs[];
  confusionMatrix?: readonly (readonly number[])[];
  classes?: readonly string[];
}

/**
 * Writes training-curves.{svg,png} (when there is history) and confusion-matrix.{svg,png} (when there is a
 * matrix) into `dir`; returns the paths written.
 * @example await writePlots("runs/lenet", { history: history.epochs, confusionMatrix: cm.matrix })
 */
export async function writePlots(dir: string, inputs: PlotInputs): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const written: string[] = [];
  if (inputs.history && inputs.history.length > 0) {
    written.push(...(await writeScene(dir, "training-curves", trainingCurvesScene(inputs.history))));
  }
  if (inputs.confusionMatrix) {
    written.push(
      ...(await writeScene(
        dir,
        "confusion-matrix",
        confusionMatrixScene(inputs.confusionMatrix, inputs.classes),
      )),
    );
  }
  return written;
}
