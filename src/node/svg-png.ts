// SVG to PNG in Node with resvg (the @resvg/resvg-wasm package: the resvg renderer compiled to WebAssembly,
// no native binary), for the plots that src/viz/plots.ts writes as SVG (training curves, confusion matrix,
// hyperparameter search, embeddings). Text is set in DejaVu Sans Mono, shipped in assets/fonts/ (Bitstream
// Vera licence, assets/fonts/DejaVuSansMono-LICENSE.txt), since resvg-wasm sees no system fonts. In a
// browser, draw the SVG itself (an <img> or a canvas's drawImage) instead.

import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { initWasm, Resvg } from "@resvg/resvg-wasm";

/** The font the plots' `font-family="monospace"` text is set in. */
export const PLOT_FONT_FAMILY = "DejaVu Sans Mono";
const FONT_FILE = fileURLToPath(new URL("../../assets/fonts/DejaVuSansMono.ttf", import.meta.url));

let ready: Promise<Uint8Array> | null = null;

/** Loads resvg's wasm module and the font once; later calls share the same promise. */
function load(): Promise<Uint8Array> {
  ready ??= (async () => {
    const wasm = createRequire(import.meta.url).resolve("@resvg/resvg-wasm/index_bg.wasm");
    await initWasm(await readFile(wasm));
    return new Uint8Array(await readFile(FONT_FILE));
  })().catch((error: unknown) => {
    ready = null;
    throw new Error(`svgToPng: could not load resvg or its font: ${(error as Error).message}`);
  });
  return ready;
}

/**
 * Renders an SVG document to PNG bytes at its own width and height (white where the SVG draws nothing).
 * @example writeFileSync("curves.png", await svgToPng(sceneToSvg(trainingCurvesScene(history.epochs))));
 */
export async function svgToPng(svg: string): Promise<Uint8Array> {
  const font = await load();
  const resvg = new Resvg(svg, {
    background: "#ffffff",
    font: {
      fontBuffers: [font],
      loadSystemFonts: false,
      defaultFontFamily: PLOT_FONT_FAMILY,
      monospaceFamily: PLOT_FONT_FAMILY,
    },
  });
  const image = resvg.render();
  try {
    return image.asPng();
  } finally {
    image.free();
    resvg.free();
  }
}
